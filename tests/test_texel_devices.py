"""TEXEL checklist 8–10: differential normaliser read (F4b), compatibility map (F4c/d), write cycling (F5)."""

import numpy as np
import pytest

from aimc_sim.errors import ConfigError
from chip_models.texel import SpikeInput, TexelChip, TexelConfig
from chip_models.texel import experiments as E
from chip_models.texel.readout import epsc_charge, rc_mean_current, read_fraction

READ0 = TexelConfig.default(read={"i_floor": 0.0}).read


def test_rc_branch_current_reference_values():
    """Normaliser read [derived]: Ī_on = 0.801·V/R_on (τ = 100 µs), Ī_off = 0.0246·V/R_off (τ = 10 ms)."""
    assert rc_mean_current(1.0, 1e9, 100e-15, 500e-6) == pytest.approx(0.801e-9, abs=0.0005e-9)
    assert rc_mean_current(1.0, 100e9, 100e-15, 500e-6) == pytest.approx(0.0246 / 100e9, rel=2e-3)
    assert rc_mean_current(0.2, 1e9, 0.0, 500e-6) == 0.2 / 1e9
    assert read_fraction(1e9, 100e9, 100e-15, READ0) == pytest.approx(0.9994, abs=5e-5)


def test_checklist8_differential_read_sweep():
    """TEXEL-8 (F4b): 0 for R_neg ≤ R_pos, monotonic rise above; exact (G_pos − G_neg)/(G_pos + G_neg)
    at C = 0; the §4 table."""
    d = E.read_sweep()
    r = d["r_neg"]
    assert np.all(d["ratio"][:, r <= 1e9] == 0.0)
    assert np.all(np.diff(d["ratio"][:, r > 1e9], axis=1) > 0)
    gp, gn = 1e-9, 1.0 / r
    np.testing.assert_allclose(d["ratio"][0], np.maximum(0, (gp - gn) / (gp + gn)), rtol=1e-14, atol=0)
    table = {0.0: [0, 0, 0.048, 0.333, 0.818, 0.980], 100e-15: [0, 0, 0.060, 0.434, 0.948, 0.999]}
    for c, row in table.items():
        got = read_fraction(1e9, np.array([0.5, 1.0, 1.1, 2.0, 10.0, 100.0]) * 1e9, c, READ0)
        np.testing.assert_allclose(got, row, atol=6e-4)
    assert np.array_equal(d["hard"], (r > 1e9).astype(float))


def test_checklist9_compatibility_map():
    """TEXEL-9 (F4c/d): output collapses as G_on/G_off → 1 and as R·C grows past T_read; the F4
    reference device works."""
    d = E.compatibility_map()
    c, ratio, out = d["c_dev"], d["on_off"], d["out"]
    i_ref = np.argmin(abs(np.log(c / 100e-15)))
    j_ref = np.argmin(abs(np.log(ratio / 100.0)))
    assert out[i_ref, j_ref] > 0.95
    assert np.all(out[:, 0] == 0.0)  # ratio 1: no differential signal
    assert np.all(np.diff(out[i_ref, :]) > 0)  # more on/off, more output
    slow = c * 1e9 >= d["t_read"]  # R_on·C ≥ T_read
    assert np.all(np.diff(out[slow, j_ref]) < 0)
    assert out[-1, j_ref] < 0.4 * out[i_ref, j_ref]  # R·C = 200·T_read: collapsed


def test_checklist10_write_cycling_bimodal(rng):
    """TEXEL-10 (F5): ≥ 100 POT/DEP cycles with reads between: bimodal EPSC charge, spread grows with σ_C2C,
    modes separate at the default σ = 0.3."""
    d = E.write_cycling(rng, n_cycles=100, sigmas=(0.3, 1.0))
    qh, ql = d["q_high"], d["q_low"]
    assert qh.shape == (2, 100) and ql.shape == (2, 100)
    assert qh[0].min() > ql[0].max()
    assert np.median(qh[0]) > 0.9 * epsc_charge(1.0, 1e-9, 100.0, 500e-6)
    assert np.all(ql >= 0) and np.median(ql[0]) < 0.01 * np.median(qh[0])
    assert np.std(qh[1]) > 2 * np.std(qh[0])
    assert d["writes"][0] == 2 * 2 * 100


def test_device_read_spike_drives_the_dpi(rng):
    """A presynaptic read spike adds (I_gain/I_tau)·I_norm·(1 − e^(−T_read/τ_syn)) to I_syn (docs/texel.md §3)."""
    cfg = E._cfg(devices={"kind": "binary"}, learning={"plastic_enable": False})
    chip = TexelChip(cfg, rng)
    chip.set_rho(np.array([[1.0]]))
    chip.parallel_write()
    frac = chip.device_read()[0, 0]
    from chip_models.texel.chip import Probes

    res = chip.run(
        SpikeInput(np.array([0.01]), np.array([0]), np.array([0]), np.array([0])), 0.02, Probes(np.array([0.01]), 0)
    )
    jump = res.probes["i_exc"][0]
    assert jump == pytest.approx(100.0 * frac * 1e-9 * -np.expm1(-500e-6 / 10e-3), rel=1e-12)


def test_write_on_flip_writes_the_devices(rng):
    """write_on_flip: a learning flip of the binary weight triggers a POT write right after the event."""
    cfg = E._cfg(devices={"kind": "binary", "write_trigger": "write_on_flip"}, learning={"alpha": 0.0, "beta": 0.0})
    chip = TexelChip(cfg, rng)
    chip.set_rho(np.array([[0.48]]))
    assert chip.device_read()[0, 0] == 0.0
    # pre shortly before an EPSC-evoked post spike: causal LTP +0.08 flips 0.48 -> 0.56
    t_post = (
        TexelChip(cfg, rng)
        .run(SpikeInput(np.array([0.1]), np.array([0]), np.array([0]), np.array([1])), 0.3)
        .spike_t[0]
    )
    ev = SpikeInput(np.array([0.1, t_post - 1e-4]), np.array([0, 0]), np.array([0, 0]), np.array([1, 0]))
    chip.run(ev, 0.3)
    assert chip.weights()[0, 0]
    assert chip.device_read()[0, 0] > 0.9
    assert chip.ledger.total("device_write") == 2


def test_device_type_per_core_rram_and_fefet(rng):
    """Each core's synapse array carries its own device: 2-terminal RRAM SET/RESET on core 0, 3-terminal
    FeFET gate pulses on core 1 (device_models presets); POT/DEP writes are read back correctly."""
    cfg = TexelConfig.default(
        inventory={"cores": 2, "neurons_per_core": 1, "plastic_per_neuron": 6, "static_per_neuron": 1},
        synapse={"static_weights": [0.0]},
        devices={"kind": "rram-binary"},
        devices_per_core=[{"kind": "rram-binary"}, E.FEFET_4V],
    )
    chip = TexelChip(cfg, rng)
    assert [type(p.model).__name__ for p in chip.sockets.parts] == ["BinaryRRAMModel", "FeFETModel"]
    for k in range(4):
        w = rng.random((2, 6)) < 0.5
        chip.set_rho(w.astype(float))
        assert chip.parallel_write() == 12
        frac = chip.device_read()
        assert np.all(frac[w] > 0.5) and np.all(frac[~w] == 0.0), k
    with pytest.raises(ConfigError, match=r"devices_per_core: must have one entry per core \(2\), got 1"):
        TexelConfig.default(devices={"kind": "binary"}, devices_per_core=[{"kind": "binary"}])


def test_write_cycling_with_device_model_presets(rng):
    """F5 with the device_models presets: both states separate for RRAM and for 4 V FeFET pulses."""
    d = E.write_cycling(rng, n_cycles=20, sigmas=())
    for name, qh, ql in zip(d["preset_labels"], d["q_preset_high"], d["q_preset_low"]):
        assert qh.min() > ql.max(), name
