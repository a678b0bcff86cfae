"""AnalogTile: the all-off pipeline, each non-ideality alone against its equation, bad input (docs/crossbar.md)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from aimc_sim.cost import Ledger
from aimc_sim.crossbar import AnalogTile, TileConfig, load_tile_config
from aimc_sim.crossbar.devices import IdealDevice
from aimc_sim.crossbar.quantise import n_steps
from aimc_sim.errors import ConfigError, SimulationError


def _ideal(**over) -> TileConfig:
    return load_tile_config("ideal", rows=64, cols=128, **over)


def test_all_off_equals_matmul_to_float32_rounding(rng):
    W = rng.standard_normal((48, 40))
    x = rng.standard_normal((17, 48)).astype(np.float32)
    tile = AnalogTile(_ideal(), W, rng)
    y = tile.mvm(x)
    ref = x.astype(np.float64) @ W
    assert y.shape == (17, 40)
    # float32 products of 48 terms: rounding error <= a few ulp of sum |x||w|
    bound = 8 * np.finfo(np.float32).eps * (np.abs(x) @ np.abs(W))
    assert np.all(np.abs(y - ref) <= bound)


@pytest.mark.parametrize(
    "over",
    [
        {"mapping": {"scheme": "offset"}},
        {"mapping": {"scheme": "offset", "reference": "column"}},
        {"mapping": {"subtract": "digital"}},
        {"mapping": {"variant": "symmetric", "weight_scaling": "per_tensor"}},
    ],
)
def test_all_off_mapping_variants(rng, over):
    W = rng.standard_normal((32, 20))
    x = rng.standard_normal((9, 32))
    y = AnalogTile(_ideal(**over), W, rng).mvm(x)
    np.testing.assert_allclose(y, x @ W, rtol=0, atol=1e-4 * np.abs(x).sum(axis=1).max() * np.abs(W).max())


def test_weight_bit_slicing_with_significance(rng):
    """Two 2-bit slices hold a 4-bit weight: the output equals x @ Q4(W) exactly (docs/crossbar.md, pipeline step 3)."""
    W = rng.uniform(-1, 1, (32, 10))
    W[0, :] = 1.0  # per-column w_max = 1
    cfg = _ideal(mapping={"slices": 2, "slice_bits": 2})
    x = rng.standard_normal((5, 32))
    y = AnalogTile(cfg, W, rng).mvm(x)
    Wq = np.sign(W) * np.rint(np.abs(W) * 15) / 15
    np.testing.assert_allclose(y, x @ Wq, atol=1e-4)


def test_dac_and_adc_error_at_most_half_lsb_inside_range(rng):
    """With b-bit DAC off and a b-bit ADC, the error per output is <= LSB/2 when inside the range."""
    W = rng.uniform(-1, 1, (32, 16))
    W[0] = 1.0
    bits, bound = 6, 8.0
    cfg = _ideal(adc={"bits": bits, "range": "fixed", "bound": bound}, management={"noise": "none"})
    x = rng.uniform(-1, 1, (200, 32))
    y = AnalogTile(cfg, W, rng).mvm(x)
    ref = x @ W
    lsb = 2 * bound / n_steps(bits)
    inside = np.abs(ref) < bound
    assert inside.mean() > 0.9
    err = np.abs(y - ref)[inside]
    assert err.max() <= lsb / 2 * (1 + 1e-5)
    assert err.max() > lsb / 4  # the quantiser is really on
    assert np.all(np.abs(y) <= bound * (1 + 1e-6))  # saturates outside


def test_dac_error_at_most_half_lsb(rng):
    W = np.eye(16)
    bits = 5
    cfg = _ideal(dac={"bits": bits}, management={"noise": "none"})
    x = rng.uniform(-1, 1, (100, 16))
    y = AnalogTile(cfg, W, rng).mvm(x)
    lsb = 2.0 / n_steps(bits)
    assert np.abs(y - x).max() <= lsb / 2 * (1 + 1e-5)
    assert np.abs(y - x).max() > lsb / 4


def test_bit_serial_dac_equals_quantised_input(rng):
    W = rng.standard_normal((16, 8))
    x = rng.uniform(-1, 1, (10, 16))
    led = Ledger()
    a = AnalogTile(_ideal(dac={"bits": 6}), W, rng).mvm(x)
    b = AnalogTile(_ideal(dac={"bits": 6, "bit_serial": True}), W, rng, led).mvm(x)
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert led.total("dac_conversion@1b") == 10 * 16 * 5  # 5 magnitude bits per input


def test_bound_management_recovers_saturated_rows(rng):
    W = np.ones((32, 4))
    x = np.ones((3, 32))
    cfg = _ideal(adc={"bits": 8, "bound": 10.0}, management={"bound": "iterative"})
    led = Ledger()
    y = AnalogTile(cfg, W, rng, led).mvm(x)
    np.testing.assert_allclose(y, 32.0, rtol=0.02)
    assert led.total("bound_management_rerun") >= 3


def test_bound_management_warns_when_noise_alone_saturates(rng):
    """A range the output noise alone exceeds cannot be cleared by doubling the input scale: warned once, naming
    the field; a saturation that the doublings clear (the test above) gives no warning."""
    W = rng.uniform(-1, 1, (32, 4))
    x = rng.uniform(-1, 1, (50, 32))
    cfg = _ideal(adc={"bits": 8, "bound": 0.05}, management={"bound": "iterative"}, noise={"out_noise": 0.5})
    tile = AnalogTile(cfg, W, rng)
    with pytest.warns(RuntimeWarning, match="max_bound_iterations = 5 doublings"):
        tile.mvm(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tile.mvm(x)  # once per tile
        cleared = _ideal(adc={"bits": 8, "bound": 10.0}, management={"bound": "iterative"})
        AnalogTile(cleared, np.ones((32, 4)), rng).mvm(np.ones((3, 32)))


def test_adc_calibration_per_column(rng):
    W = rng.standard_normal((32, 6)) * np.array([1, 1, 1, 10, 10, 10])
    cfg = _ideal(adc={"bits": 8, "range": "per_column", "percentile": 100.0})
    tile = AnalogTile(cfg, W, rng)
    x = rng.standard_normal((50, 32))
    with pytest.raises(SimulationError, match="calibrate_adc"):
        tile.mvm(x)
    b = tile.calibrate_adc(x)
    assert b.shape == (6,)
    y = tile.mvm(x)
    lsb = 2 * b / n_steps(8) * tile.w_max * np.abs(x).max(axis=1)[:, None]
    assert np.all(np.abs(y - x @ W) <= lsb / 2 * (1 + 1e-4))


def test_ledger_counts_and_array_energy(rng):
    """Events per MVM, and E_array = sum V^2 G t_read (docs/cost.md#array-read-energy)."""
    W = rng.uniform(-1, 1, (16, 8))
    W[0] = 1.0
    cfg = _ideal(adc={"bits": 8}, dac={"bits": 8}, management={"noise": "none"})
    led = Ledger()
    tile = AnalogTile(cfg, W, rng, led, name="fc1")
    x = np.full((4, 16), 0.5)
    tile.mvm(x)
    assert led.counts[("fc1", "dac_conversion@8b")] == 4 * 16
    assert led.counts[("fc1", "adc_conversion@8b")] == 4 * 8
    xq = np.rint(0.5 * 127) / 127
    G = tile.state.g0  # programmed without noise: the targets (the tile keeps no separate copy)
    expect = 4 * np.sum((xq * cfg.v_read) ** 2 * G) * cfg.t_read
    assert led.energy_j[("fc1", "array_read")] == pytest.approx(expect, rel=1e-9)


def test_reproducible_from_seed():
    """Same seed and call sequence -> same numbers; another seed -> different numbers."""
    cfg = load_tile_config("pcm-default", rows=32, cols=64)
    W = np.random.default_rng(1).standard_normal((32, 16))
    x = np.random.default_rng(2).standard_normal((5, 32))

    def run(seed):
        tile = AnalogTile(cfg, W, np.random.default_rng(seed))
        return np.stack([tile.mvm(x, t=0.0), tile.mvm(x, t=3600.0), tile.mvm(x, t=3600.0)])

    a, b, c = run(7), run(7), run(8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[1], a[2])  # fresh read noise at every call
    assert not np.array_equal(a, c)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_bad_weights_nonfinite(rng, bad):
    W = np.ones((4, 4))
    W[1, 2] = bad
    with pytest.raises(ConfigError, match=r"weights: must be finite.*\(1, 2\)"):
        AnalogTile(_ideal(), W, rng)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_bad_inputs_nonfinite(rng, bad):
    tile = AnalogTile(_ideal(), np.ones((4, 4)), rng)
    x = np.ones((2, 4))
    x[1, 3] = bad
    with pytest.raises(ConfigError, match="x: must be finite"):
        tile.mvm(x)


def test_bad_shapes(rng):
    with pytest.raises(ConfigError, match="does not fit the tile"):
        AnalogTile(_ideal(), np.ones((65, 4)), rng)
    with pytest.raises(ConfigError, match="non-empty 2-D"):
        AnalogTile(_ideal(), np.ones((0, 4)), rng)
    tile = AnalogTile(_ideal(), np.ones((4, 3)), rng)
    with pytest.raises(ConfigError, match=r"x: must have shape \(batch, 4\)"):
        tile.mvm(np.ones((2, 5)))
    with pytest.raises(ConfigError, match="t: must be a finite time"):
        tile.mvm(np.ones((2, 4)), t=-1.0)


@pytest.mark.parametrize(
    "field,value,msg",
    [
        ("adc__bits", 0, r"tile.adc.bits: must be an integer in 2..16, got 0"),
        ("adc__bits", 1, r"tile.adc.bits: must be an integer in 2..16, got 1"),
        ("dac__bits", -3, r"tile.dac.bits: must be an integer in 1..16, got -3"),
        ("dac__bits", 1, r"tile.dac.bits: a signed DAC needs 2..16 bits"),
        ("mapping__cell_bits", 0, r"tile.mapping.cell_bits: must be an integer in 1..16, got 0"),
        ("adc__bound", 0.0, r"tile.adc.bound: must be a finite number in \(0, inf\]"),
        ("dac__bound", -1.0, r"tile.dac.bound: must be a finite number in \(0, inf\]"),
        ("adc__percentile", 0.0, r"tile.adc.percentile"),
        ("rows", 0, r"tile.rows: must be an integer"),
    ],
)
def test_bad_config_values(field, value, msg):
    with pytest.raises(ConfigError, match=msg):
        load_tile_config("ideal", **{field: value})


def test_bad_preset_and_device():
    with pytest.raises(ConfigError, match="unknown tile preset"):
        load_tile_config("nope")
    with pytest.raises(ConfigError, match="tile.device"):
        AnalogTile(load_tile_config("ideal", device="no-such-device"), np.ones((2, 2)), np.random.default_rng(0))


def test_ideal_device_holds_no_physics(rng):
    d = IdealDevice()
    s = d.program(np.array([1e-6, 3e-5]), rng)
    np.testing.assert_array_equal(d.conductance(s, 1e6, rng), [1e-6, 25e-6])


def test_adc_gain_and_offset_mismatch_frozen_per_column(rng):
    """v = v * gain_j + offset_j with per-ADC draws frozen at tile creation (docs/crossbar.md, pipeline step 6)."""
    W = rng.uniform(-1, 1, (16, 6))
    cfg = _ideal(adc={"bits": None, "gain_std": 0.05, "offset_std": 0.02}, management={"noise": "none"})
    tile = AnalogTile(cfg, W, rng)
    x = rng.uniform(-1, 1, (50, 16))
    gain, off = tile.adc_state[0].gain, tile.adc_state[0].offset
    expect = (x @ (W / tile.w_max) * gain + off) * tile.w_max
    np.testing.assert_allclose(tile.mvm(x), expect, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(tile.mvm(x), tile.mvm(x))  # frozen, not redrawn
    assert np.std(gain) > 0.01


def test_stuck_devices_from_device_faults(rng):
    """Stuck devices come from the device model's fault options, passed through tile.device_options."""
    cfg = load_tile_config(
        "pcm-default",
        rows=32,
        cols=64,
        noise={"read": False, "out_noise": 0.0},
        device_options={"faults": {"p_stuck_max": 0.2}},
        drift_compensation={"mode": "none"},
    )
    W = np.zeros((32, 32))
    W[0] = 1.0
    tile = AnalogTile(cfg, W, rng)
    G = tile.device.conductance(tile.state, 0.0, None)
    frac = np.mean(G[1:] == tile.device.g_max)
    assert 0.15 < frac < 0.25
    held = tile.weights_at(0.0)[1:]
    assert np.mean(np.abs(held) > 0.5) > 0.2  # zero weights read as +-1 where a device is stuck at g_max


def test_pulse_width_encoding_energy(rng):
    """PWM: E = sum |x| V^2 G t_read (pulse length proportional to |x|) vs amplitude sum x^2 V^2 G t_read."""
    W = np.ones((8, 2))
    x = np.full((1, 8), 0.5)
    e = {}
    for enc in ("amplitude", "pwm"):
        led = Ledger()
        cfg = _ideal(dac={"bits": 8, "encoding": enc}, management={"noise": "none"})
        AnalogTile(cfg, W, rng, led).mvm(x)
        e[enc] = led.energy_j[("", "array_read")]
    xq = np.rint(0.5 * 127) / 127
    assert e["pwm"] / e["amplitude"] == pytest.approx(xq / xq**2)


def test_access_resistance_1t1r(rng):
    """g_eff = 1 / (1/g + R_access) (docs/crossbar.md, pipeline step 4): a full-scale weight reads 1 / (1 + g_max R)."""
    R_acc = 15e3
    cfg = _ideal(access_resistance=R_acc, management={"noise": "none"})
    W = np.eye(4)
    y = AnalogTile(cfg, W, rng).mvm(np.eye(4))
    np.testing.assert_allclose(np.diag(y), 1 / (1 + 25e-6 * R_acc), rtol=1e-6)


def test_sar_capacitor_mismatch_adds_nonlinearity(rng):
    """SAR unit-capacitor mismatch (docs/crossbar.md, pipeline step 6): codes move beyond LSB/2; 0 mismatch is ideal."""
    W = rng.uniform(-1, 1, (32, 16))
    W[0] = 1.0
    x = rng.uniform(-1, 1, (300, 32))
    ref = x @ W
    lsb = 2 * 8.0 / n_steps(6)
    errs = {}
    for cm in (0.0, 0.3):
        cfg = _ideal(adc={"bits": 6, "bound": 8.0, "cap_mismatch": cm}, management={"noise": "none"})
        y = AnalogTile(cfg, W, np.random.default_rng(3)).mvm(x)
        inside = np.abs(ref) < 7.5
        errs[cm] = np.abs(y - ref)[inside]
    assert errs[0.0].max() <= lsb / 2 * (1 + 1e-5)
    assert errs[0.3].max() > lsb / 2 * 1.2


def test_empty_ranges_rejected(rng):
    """Empty ranges: a quantiser bound <= 0, bits <= 0, an empty calibration set; all-zero calibration
    outputs (a pruned block) fall back to the fixed adc.bound with a warning."""
    from aimc_sim.crossbar.quantise import uniform_quantise

    with pytest.raises(ConfigError, match=r"bound: must be finite and > 0"):
        uniform_quantise(np.ones(3), 0.0, 8)
    with pytest.raises(ConfigError, match=r"bound: must be finite and > 0"):
        uniform_quantise(np.ones(3), np.array([]), 8)
    with pytest.raises(ConfigError, match=r"bits: must be an integer in 2..16, got 0"):
        uniform_quantise(np.ones(3), 1.0, 0)
    tile = AnalogTile(_ideal(adc={"bits": 8, "range": "calibrated"}), rng.standard_normal((8, 4)), rng)
    with pytest.raises(ConfigError, match="empty ADC range"):
        tile.calibrate_adc(np.zeros((0, 8)))
    with pytest.warns(RuntimeWarning, match="all zero"):
        np.testing.assert_array_equal(tile.calibrate_adc(np.zeros((10, 8))), 12.0)  # falls back to adc.bound
    with pytest.raises(ConfigError, match="calibrate_adc needs"):
        AnalogTile(_ideal(), np.ones((2, 2)), rng).calibrate_adc(np.ones((1, 2)))


def test_average_abs_max_noise_management(rng):
    """AVERAGE_ABS_MAX: one scale, the running mean of max|x| over all vectors seen (docs/crossbar.md, step 1)."""
    W = np.eye(4)
    tile = AnalogTile(_ideal(management={"noise": "average_abs_max"}, dac={"bits": 8}), W, rng)
    x1 = np.array([[0.5, 0, 0, 0], [0, 1.0, 0, 0]])
    np.testing.assert_allclose(tile.mvm(x1), [[0.5, 0, 0, 0], [0, 0.75, 0, 0]], atol=0.01)  # scale 0.75: clips
    assert tile.stack._avg_abs_max[0] == pytest.approx(0.75)
    x2 = np.array([[4.5, 0, 0, 0]])
    y2 = tile.mvm(x2)  # scale (0.5 + 1 + 4.5) / 3 = 2: the input clips at the DAC bound
    assert tile.stack._avg_abs_max[0] == pytest.approx(2.0)
    np.testing.assert_allclose(y2, [[2.0, 0, 0, 0]], atol=0.02)
