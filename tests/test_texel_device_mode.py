"""Device mode of the TEXEL chip: synapses read through the normaliser, POT/DEP written with pulses
through the device models, and device quality changing what the chip learns."""

from __future__ import annotations

import numpy as np
import pytest

from chip_models.texel import TexelChip, TexelConfig, poisson_input
from chip_models.texel.device_learning import POOR_DEVICE, REFERENCE_DEVICE
from chip_models.texel.experiments import vsa
from chip_models.texel.readout import read_fraction


def _chip(devices: dict, seed: int = 0) -> TexelChip:
    cfg = TexelConfig.default(
        inventory={"cores": 2, "neurons_per_core": 3, "plastic_per_neuron": 8},
        devices={**devices, "write_trigger": "write_on_flip"},
    )
    return TexelChip(cfg, np.random.default_rng(seed))


@pytest.mark.parametrize(
    "devices",
    [
        {"kind": "binary"},
        {"kind": "rram-binary"},
        {"kind": "fefet", "set_amplitude": 4.0, "reset_amplitude": 4.0},
        {"kind": "rram", "pulses_per_write": 100},
        {"kind": "pcm", "pulses_per_write": 20},
        {"kind": "ecram", "pulses_per_write": 50},
    ],
)
def test_flips_write_devices_with_pulses_and_reads_set_efficacy(devices):
    """Every flip of a binary weight is written to the two devices with ``2·pulses_per_write``
    pulses, and the efficacy of each read spike equals the normaliser output of the devices."""
    chip = _chip(devices)
    rng = np.random.default_rng(1)
    chip.set_rho(rng.uniform(0, 1, (6, 8)))
    chip.run(poisson_input(60.0, 0.4, 0.0, chip.config.inventory, rng), 0.4)
    per_write = 2 * chip.config.devices.pulses_per_write
    writes = chip.ledger.total("device_write")
    assert writes > 0 and writes % per_write == 0
    r_pos, r_neg = chip.sockets.resistances()
    frac = read_fraction(r_pos, r_neg, chip.config.devices.c_dev, chip.config.read)
    np.testing.assert_allclose(chip.jump_dev, frac * chip.config.read.norm_bias * chip.read_gain, rtol=1e-12)
    # the devices hold what was last written: the binary state of every synapse at its last write
    assert np.array_equal(chip._written, chip.rho > chip.config.learning.theta_rho)


def test_partial_write_touches_only_the_written_devices():
    """A POT/DEP of some synapses leaves every other device's state unchanged."""
    chip = _chip({"kind": "fefet", "set_amplitude": 4.0, "reset_amplitude": 4.0})
    before = [s.per_device["s"].copy() for s in chip.sockets.parts[0].states]
    idx = np.array([2, 5])
    chip.sockets.write(idx, np.array([True, True]), np.random.default_rng(3))
    after = [s.per_device["s"] for s in chip.sockets.parts[0].states]
    other = np.setdiff1d(np.arange(before[0].shape[0]), idx)
    for b, a in zip(before, after):
        assert np.array_equal(a[other], b[other])
        assert not np.array_equal(a[idx], b[idx])
    assert np.all(chip.device_read()[0, [2, 5]] > 0.5)


def test_device_quality_changes_what_is_learned():
    """The same association task learned on the F4 reference device and on very poor devices
    (on/off 2, σ_C2C 2, σ_D2D 1): the learned device states differ and accuracy drops."""
    ref = vsa(np.random.default_rng(4), per_pop=4, devices=REFERENCE_DEVICE)
    poor = vsa(np.random.default_rng(4), per_pop=4, devices=POOR_DEVICE)
    cmos = vsa(np.random.default_rng(4), per_pop=4)
    assert ref["accuracy"] == 1.0 and cmos["accuracy"] == 1.0
    assert poor["accuracy"] <= 0.5
    assert np.mean(ref["weights"] != poor["weights"]) > 0.1
    # with the reference device, the devices store what the capacitors learned
    assert np.array_equal(ref["weights"], ref["rho_weights"])
