"""Learning through the devices (device mode): the same task on chips whose synapses are real devices.

In device mode (docs/texel.md §3) every presynaptic spike at a plastic synapse is a read spike: the
two devices are read through the differential normaliser and the DPI integrates I_norm over
T_read, so the devices set the post-synaptic activity that drives learning. Every flip of a
synapse's binary state is a POT or DEP event (``write_on_flip``) that writes both devices with
pulses through their device model. What the chip learns is what its devices store.

The task is the set association of checklist 12 (``experiments.vsa``): two populations, two
sets of sparse k-hot items over the 54 plastic inputs, a teacher on the population of the
presented item's set; test with learning off, a presentation being correct when exactly the
population of the item's set responds (none for the out-of-set probe).
"""

from __future__ import annotations

import numpy as np

from chip_models.texel.config import TexelConfig
from chip_models.texel.experiments import vsa
from chip_models.texel.readout import read_fraction

# the F4 reference device [paper]: R_on 1 GΩ, G_on/G_off 100, C_dev 100 fF (σ: texel.yaml [proposal])
REFERENCE_DEVICE = {"kind": "binary", "write_trigger": "write_on_flip"}
# very poor devices (issue 19): on/off 2, σ_C2C 2, σ_D2D 1
POOR_DEVICE = {**REFERENCE_DEVICE, "r_off": 2e9, "sigma_c2c": 2.0, "sigma_d2d": 1.0}
# device_models presets in device mode; analog devices take a pulse train per POT/DEP event
PRESET_DEVICES = {
    "rram-binary": {"kind": "rram-binary"},
    "fefet": {"kind": "fefet", "set_amplitude": 4.0, "reset_amplitude": 4.0},
    "rram (100 pulses)": {"kind": "rram", "pulses_per_write": 100},
    "pcm (20 pulses)": {"kind": "pcm", "pulses_per_write": 20},
    "ecram (300 pulses)": {"kind": "ecram", "pulses_per_write": 300},
}


def device_learning(rng_seed: int, per_pop: int = 8, n_test: int = 3, presets: bool = True) -> dict:
    """The association task in CMOS mode, in device mode with the reference device, with very poor
    devices and (``presets``) with ``device_models`` presets; every run draws the same items.

    ``learned_weights_differ``: fraction of plastic synapses whose learned binary state (the
    devices' [I_pos > I_neg]) differs between the reference and the poor devices."""
    runs = {"CMOS (capacitor)": None, "reference device": REFERENCE_DEVICE, "poor device": POOR_DEVICE}
    if presets:
        runs.update({name: {**d, "write_trigger": "write_on_flip"} for name, d in PRESET_DEVICES.items()})
    out = {
        name: vsa(np.random.default_rng(rng_seed), per_pop=per_pop, devices=dev, n_test=n_test)
        for name, dev in runs.items()
    }
    ref, poor = out["reference device"], out["poor device"]
    return {
        "runs": out,
        "learned_weights_differ": float(np.mean(ref["weights"] != poor["weights"])),
        "rho_differ": float(np.mean(ref["rho_weights"] != poor["rho_weights"])),
        "accuracy_reference": ref["accuracy"],
        "accuracy_poor": poor["accuracy"],
    }


def compat_map(
    rng_seed: int,
    c_devs: tuple[float, ...] = (1e-15, 10e-15, 100e-15, 1e-12, 10e-12, 100e-12, 1e-9),
    on_off: tuple[float, ...] = (1.02, 1.2, 2.0, 5.0, 10.0, 100.0, 1000.0),
    per_pop: int = 4,
    n_test: int = 2,
) -> dict:
    """F4c/d as a learning outcome: task accuracy after on-chip learning in device mode, over the
    device capacitance × G_on/G_off at R_on = 1 GΩ (reference σ_D2D, σ_C2C), next to the
    normaliser's high-state read output of a nominal pair (the read-only map)."""
    read_cfg = TexelConfig.default().read
    acc = np.zeros((len(c_devs), len(on_off)))
    for i, c in enumerate(c_devs):
        for j, ratio in enumerate(on_off):
            dev = {**REFERENCE_DEVICE, "r_on": 1e9, "r_off": 1e9 * ratio, "c_dev": c}
            acc[i, j] = vsa(np.random.default_rng(rng_seed), per_pop=per_pop, devices=dev, n_test=n_test)["accuracy"]
    cc, rr = np.meshgrid(np.array(c_devs), np.array(on_off), indexing="ij")
    return {
        "c_dev": np.array(c_devs),
        "on_off": np.array(on_off),
        "accuracy": acc,
        "read_out": read_fraction(1e9, 1e9 * rr, cc, read_cfg),
        "t_read": read_cfg.t_read,
        "ref": (100e-15, 100.0),
    }
