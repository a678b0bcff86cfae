"""PCM tiles through device_models: output-referred read noise (XB-1), drift compensation (§8, XB-3)."""

from __future__ import annotations

import numpy as np
import pytest

from aimc_sim.crossbar import AnalogTile, load_tile_config
from device_models.pcm import read_noise_sigma


def _pcm(**over):
    base = dict(
        rows=64,
        cols=32,
        dac={"bits": None},
        adc={"bits": None},
        noise={"programming": False, "read": True, "out_noise": 0.0},
        management={"noise": "none"},
        drift_compensation={"mode": "none"},
    )
    base.update(over)
    return load_tile_config("pcm-default", **base)


def test_xb1_output_referred_noise_equivalence():
    """XB-1 (docs/crossbar.md, pipeline step 5): per-output variance = sum_i x_i^2 sigma_ij^2, for the tile's
    output-referred draws and for per-weight sampling of the device model, both within the chi^2 3-sigma tolerance
    and the tile's within 3 %; the means agree within 3 sigma / sqrt(n)."""
    rng = np.random.default_rng(2024)
    R, C, t = 64, 16, 3600.0
    W = rng.choice([-1, 1], (R, C)) * rng.uniform(0.3, 1.0, (R, C))
    W[0] = 1.0
    x = rng.uniform(-1, 1, R)
    tile = AnalogTile(_pcm(), W, rng)
    dev, st = tile.device, tile.state
    # independent theory from the device physics: sigma_ij = |G_D| sigma_rd(G_P, t) (docs/devices.md#pcm step 4)
    gd = dev.conductance(st, t, None)
    sd = np.abs(gd) * read_noise_sigma(st.g0, t, dev.config)
    scale = tile.w_max / (dev.g_max - dev.g_min)
    var_theory = (x**2 @ (sd[:, 0::2] ** 2 + sd[:, 1::2] ** 2)) * scale**2
    mean_theory = (x @ (gd[:, 0::2] - gd[:, 1::2])) * scale

    n_out = 40_000
    y = tile.mvm(np.tile(x, (n_out, 1)), t=t)
    n_pw = 20_000
    ys = []
    for _ in range(n_pw // 2000):  # per-weight sampling: fresh device reads
        g = np.stack([dev.conductance(st, t, rng) for _ in range(2000)])
        ys.append(np.einsum("i,kij->kj", x, g[:, :, 0::2] - g[:, :, 1::2]) * scale)
    y_pw = np.concatenate(ys)
    for yy, n in ((y, n_out), (y_pw, n_pw)):
        ratio = yy.var(axis=0, ddof=1) / var_theory
        assert np.all(np.abs(ratio - 1) < 3 * np.sqrt(2 / (n - 1))), ratio
        assert np.all(np.abs(yy.mean(axis=0) - mean_theory) < 3 * np.sqrt(var_theory / n))
    assert np.all(np.abs(y.var(axis=0, ddof=1) / var_theory - 1) < 0.03)


def _drift_setup(mode: str, per_tensor: bool, seed: int = 5, **over):
    rng = np.random.default_rng(seed)
    R, C = 128, 32
    W = rng.standard_normal((R, C))
    if per_tensor:  # columns differ in mean conductance: low-G columns drift faster (docs/devices.md#pcm step 2)
        W *= np.where(np.arange(C) % 2 == 0, 1.0, 0.05)
    cfg = load_tile_config(
        "pcm-default",
        rows=R,
        cols=2 * C,
        drift_compensation={"mode": mode},
        mapping={"weight_scaling": "per_tensor" if per_tensor else "per_column"},
        **over,
    )
    tile = AnalogTile(cfg, W, rng)
    x = rng.uniform(-1, 1, (512, R))
    return tile, x, W


def test_drift_compensation_restores_mean_output_at_one_day():
    """Global compensation brings the mean |output| at t = 1 day back within 1 % of t = 0 (full PCM model,
    8-bit DAC/ADC, output noise); without it the output has drifted by ~1/3."""
    day = 86_400.0
    tile, x, _ = _drift_setup("global", False)
    m0 = np.abs(tile.mvm(x, t=0.0)).mean()
    m1 = np.abs(tile.mvm(x, t=day)).mean()
    assert abs(m1 / m0 - 1) < 0.01
    raw, _, _ = _drift_setup("none", False)
    r1 = np.abs(raw.mvm(x, t=day)).mean() / np.abs(raw.mvm(x, t=0.0)).mean()
    assert 0.6 < r1 < 0.75  # (86420/20)^-0.049 = 0.66 for mid/high states


def test_xb3_per_column_compensation_no_worse_than_global():
    """XB-3: at 1 day, with the full PCM device model (programming noise, drift spread, read noise), the
    per-column compensated output is no worse than the global one on a matrix whose columns differ in mean
    conductance (odd columns at g/g_max ~ 0.04-0.1 drift faster, docs/devices.md#pcm step 2). Error: mean over
    columns of |g_j - 1|, g_j the least-squares gain of column j against the t = 0 programmed weights.
    Ideal ADC and no output noise, so that the identity readout resolves the small columns."""
    day = 86_400.0
    rng = np.random.default_rng(9)
    R, C = 128, 32
    mag = np.where(np.arange(C) % 2 == 0, rng.uniform(0.5, 1.0, (R, C)), rng.uniform(0.04, 0.1, (R, C)))
    W = rng.choice([-1.0, 1.0], (R, C)) * mag
    W[0, 0] = 1.0
    x = rng.uniform(-1, 1, (512, R))
    errs = {}
    for mode in ("global", "per_column"):
        cfg = load_tile_config(
            "pcm-default",
            rows=R,
            cols=2 * C,
            drift_compensation={"mode": mode},
            mapping={"weight_scaling": "per_tensor"},
            adc={"bits": None},  # one-hot readouts of small weights are below one 8-bit LSB at bound 12
            noise={"out_noise": 0.0},
        )
        tile = AnalogTile(cfg, W, np.random.default_rng(3))
        ref = x @ tile.weights_at(0.0)
        y = tile.mvm(x, t=day)
        gain = (y * ref).sum(axis=0) / (ref * ref).sum(axis=0)
        errs[mode] = np.mean(np.abs(gain - 1))
    assert errs["per_column"] <= errs["global"]
    assert errs["per_column"] < 0.5 * errs["global"]


def test_drift_compensation_readouts_counted():
    from aimc_sim.cost import Ledger

    led = Ledger()
    rng = np.random.default_rng(0)
    cfg = load_tile_config("pcm-default", rows=32, cols=32)
    tile = AnalogTile(cfg, rng.standard_normal((32, 16)), rng, led)
    tile.mvm(rng.standard_normal((4, 32)), t=3600.0)
    tile.mvm(rng.standard_normal((4, 32)), t=3600.0)  # alpha cached for the same t
    assert led.total("drift_calibration_readout") == 2 * 32  # r0 and r(t), 32 one-hot vectors each
    assert led.total("mvm") == 8
    alpha = tile.drift_alpha(3600.0)
    assert alpha.shape == (16,) and np.all(alpha > 1.0)


@pytest.mark.parametrize("preset", ["pcm-default", "rram-default"])
def test_presets_run_and_approximate(preset):
    rng = np.random.default_rng(1)
    cfg = load_tile_config(preset, rows=64, cols=128)
    W = rng.standard_normal((64, 64))
    x = rng.standard_normal((32, 64))
    y = AnalogTile(cfg, W, rng).mvm(x, t=3600.0)
    ref = x @ W
    assert np.linalg.norm(y - ref) / np.linalg.norm(ref) < 0.25


def test_drift_recalibration_interval():
    """With recalibrate_every, alpha is reused until the read time passes the interval.

    See docs/crossbar.md#drift-compensation."""
    from aimc_sim.cost import Ledger

    rng = np.random.default_rng(0)
    led = Ledger()
    cfg = load_tile_config("pcm-default", rows=16, cols=16, drift_compensation={"recalibrate_every": 3600.0})
    tile = AnalogTile(cfg, rng.standard_normal((16, 8)), rng, led)
    a1 = tile.drift_alpha(100.0)
    assert np.array_equal(tile.drift_alpha(3000.0), a1)
    a2 = tile.drift_alpha(5000.0)
    assert not np.array_equal(a2, a1)
    assert led.total("drift_calibration_readout") == 3 * 16


def _sparse_gain(x, W, noise, drift_compensation, seeds=3):
    """Least-squares gain of the compensated 1-day output of a 17 x 17 PCM tile (per-column calibrated 8-bit ADC)
    against x @ W, mean over ``seeds`` programmings."""
    day = 86_400.0
    cfg = load_tile_config(
        "pcm-default",
        rows=W.shape[0],
        cols=2 * W.shape[1],
        adc={"range": "per_column"},
        noise=noise,
        drift_compensation=drift_compensation,
    )
    ref = x @ W
    gains = []
    for s in range(seeds):
        tile = AnalogTile(cfg, W, np.random.default_rng(s))
        tile.calibrate_adc(x, day)
        gains.append(float((tile.mvm(x, t=day) * ref).sum() / (ref * ref).sum()))
    return float(np.mean(gains))


def _sparse_block(rng):
    """A 17 x 17 matrix with ~20 % non-zero cells and a 0.9 diagonal (like the fused S4D recurrence blocks)."""
    W = np.where(rng.random((17, 17)) < 0.2, rng.uniform(-1, 1, (17, 17)), 0.0)
    np.fill_diagonal(W, 0.9)
    return W


def test_signed_readout_removes_the_noise_bias_of_sparse_blocks():
    """mean |y| of the identity readout counts the read and output noise of the zero cells, which does not drift:
    on a sparse block the 1-day output stays ~6 % low; the sign-weighted readout restores it within 2 %."""
    rng = np.random.default_rng(5)
    W = _sparse_block(rng)
    x = rng.uniform(-1, 1, (512, 17))
    noise = {"programming": False}  # mean drift, its device-to-device spread, read and 4 % output noise
    assert _sparse_gain(x, W, noise, {}) < 0.95
    assert abs(_sparse_gain(x, W, noise, {"readout_statistic": "signed_mean"}) - 1) < 0.02


def test_full_scale_readout_is_not_clipped_by_calibrated_adc_ranges():
    """Outputs far below one full-scale cell calibrate narrow ADC ranges (~0.3) that clip the identity readout
    of the 0.9 cells at t = 0 but less at 1 day: under-compensated by ~30 %; read at one full-scale cell, exact."""
    rng = np.random.default_rng(5)
    W = _sparse_block(rng)
    W[0] = 0.0
    x = rng.uniform(-0.2, 0.2, (512, 17))
    x[:, 0] = 1.0  # abs-max input scale 1, small outputs
    quiet = {"programming": False, "read": False, "out_noise": 0.0}
    signed = {"readout_statistic": "signed_mean"}
    assert _sparse_gain(x, W, quiet, signed, seeds=1) < 0.8
    assert abs(_sparse_gain(x, W, quiet, signed | {"readout_range": "full_scale"}, seeds=1) - 1) < 0.01


@pytest.mark.parametrize(
    "over",
    [
        {},  # pcm-default: 8-bit signed DAC, abs-max management, global compensation
        {"dac": {"bits": 7, "encoding": "pwm"}, "drift_compensation": {"mode": "per_column"}},
        {"dac": {"bits": None}, "management": {"noise": "constant", "constant_scale": 1.0}},
        {"dac": {"bits": 6, "signed": False}},
        {"dac": {"bits": 4, "bit_serial": True}},
    ],
)
def test_drift_readout_identity_shortcut_same_bits(over):
    """The drift readout tells the pipeline its inputs are the identity (DAC pass and identity check skipped):
    outputs, ADC row scales, compensation factors and ledger events equal the general path's bit for bit, which
    here runs on the same identity inputs with the shortcut turned off."""
    from aimc_sim.cost.ledger import Ledger
    from aimc_sim.crossbar.periphery import TileStack

    cfg = load_tile_config("pcm-default", rows=64, cols=64, **over)
    W = np.random.default_rng(5).uniform(-1, 1, (64, 32))
    x = np.random.default_rng(6).uniform(-1, 1, (8, 64))
    runs = []
    for shortcut in (True, False):
        tile = AnalogTile(cfg, W, np.random.default_rng(7), ledger=Ledger())
        if not shortcut:
            stack = tile.stack

            def general(*a, identity=False, stack=stack, **k):
                return TileStack.forward(stack, *a, **k)

            stack.forward = general
        runs.append((tile.mvm(x, t=3600.0), tile.drift_alpha(3600.0), tile.ledger.to_dict()))
    (y1, a1, l1), (y2, a2, l2) = runs
    assert np.array_equal(y1, y2) and np.array_equal(a1, a2)
    assert l1 == l2
