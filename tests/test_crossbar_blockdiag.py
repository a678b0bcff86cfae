"""BlockDiagonalMatrix (block-wise fast path) against the dense reference: one AnalogMatrix per tile holding
the dense block-diagonal matrix (docs/crossbar.md, pipeline, docs/s4d.md#packing)."""

import numpy as np
import pytest

from aimc_sim.cost.ledger import Ledger
from aimc_sim.crossbar import AnalogMatrix, BlockDiagonalMatrix, load_tile_config
from aimc_sim.errors import ConfigError

N, R, C = 7, 5, 4  # 7 blocks of 5 x 4 on 16 x 16 tiles: 2 blocks per tile, the last tile holds 1

QUIET = {"programming": False, "read": False, "out_noise": 0.0}


def _cfg(**kw):
    return load_tile_config("pcm-default", rows=16, cols=16, **kw)


def _dense(cfg, W, x, seed, t=0.0, ledger=None, k=2, cal=None):
    """The reference: tile g is an AnalogMatrix of its dense block-diagonal matrix, built in tile order."""
    rng = np.random.default_rng(seed)
    ys = []
    for g in range(-(-len(W) // k)):
        blk = W[g * k : (g + 1) * k]
        kg = len(blk)
        D = np.zeros((kg * R, kg * C))
        for q in range(kg):
            D[q * R : (q + 1) * R, q * C : (q + 1) * C] = blk[q]
        M = AnalogMatrix(cfg, D, rng, ledger)
        if cal is not None:
            M.calibrate_adc(cal[:, g * k : g * k + kg].reshape(len(cal), -1))
        ys.append(M.mvm(x[:, g * k : g * k + kg].reshape(len(x), -1), t).reshape(len(x), kg, C))
    return np.concatenate(ys, axis=1)


@pytest.fixture
def data(rng):
    return rng.standard_normal((N, R, C)), rng.standard_normal((10, N, R)).astype(np.float32)


@pytest.mark.parametrize("adc", [{}, {"range": "max"}, {"range": "per_column"}, {"range": "calibrated"}])
def test_fast_path_equals_dense_noise_off(data, adc):
    """Noise off: off-block cells carry no current in either path, so the outputs are identical (8-bit DAC/ADC,
    every ADC range mode; a different ADC level would differ by one LSB, far above the tolerance)."""
    W, x = data
    cfg = _cfg(noise=QUIET, adc=adc)
    bank = BlockDiagonalMatrix(cfg, W, np.random.default_rng(1))
    cal = x * 1.1 if adc.get("range") in ("per_column", "calibrated") else None
    if cal is not None:
        bank.calibrate_adc(cal)
    assert bank.blocks_per_tile == [2, 2, 2, 1]
    # calibrated ranges: the percentile of float32 products summed in another order may differ by 1 ulp
    np.testing.assert_allclose(bank.mvm(x), _dense(cfg, W, x, 1, cal=cal), rtol=1e-6, atol=0)
    np.testing.assert_allclose(bank.weights_at(), W, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", ["global", "per_column"])
def test_fast_path_equals_dense_with_read_output_noise_and_drift(data, mode):
    """PCM read noise, output noise, drift and drift compensation (t = 1 h), programming noise off: the off-block
    PCM cells sit at g_min = 0 S with zero read noise in both paths, and the per-tile noise streams are the
    same, so the outputs are identical."""
    W, x = data
    cfg = _cfg(noise={"programming": False, "read": True, "out_noise": 0.04}, drift_compensation={"mode": mode})
    bank = BlockDiagonalMatrix(cfg, W, np.random.default_rng(2))
    np.testing.assert_array_equal(bank.mvm(x, 3600.0), _dense(cfg, W, x, 2, t=3600.0))


@pytest.mark.parametrize("threaded", [False, True])
def test_tiles_on_threads_equal_dense_and_serial(data, threaded, monkeypatch):
    """The tiles of one step run on threads (forced here for small tiles): each tile keeps its own generator and
    output slices, so noisy outputs and the ledger equal the dense tiles (and hence the serial run) exactly."""
    from aimc_sim.crossbar import periphery

    monkeypatch.setattr(periphery, "_MIN_THREADED_OUTPUTS", 0 if threaded else 10**12)
    W, x = data
    cfg = _cfg(noise={"programming": False, "read": True, "out_noise": 0.04})
    la, lb = Ledger(), Ledger()
    bank = BlockDiagonalMatrix(cfg, W, np.random.default_rng(3), la)
    np.testing.assert_array_equal(bank.mvm(x), _dense(cfg, W, x, 3, ledger=lb))
    assert la.counts == lb.counts
    u = np.random.default_rng(4).standard_normal((5, 10, N, 1)).astype(np.float32)
    ya = bank.run_feedback(u, R - 1)
    bank2 = BlockDiagonalMatrix(cfg, W, np.random.default_rng(3))
    bank2.mvm(x)
    monkeypatch.setattr(periphery, "_MIN_THREADED_OUTPUTS", 10**12 if threaded else 0)
    np.testing.assert_array_equal(ya, bank2.run_feedback(u, R - 1))


def test_tile_threads_setting(data):
    """set_tile_threads(1) runs the tiles in turn with the same results; bad values are refused."""
    from aimc_sim.crossbar import set_tile_threads
    from aimc_sim.crossbar.threads import tile_threads

    W, x = data
    cfg = _cfg(noise={"programming": False, "read": True, "out_noise": 0.04})
    n0 = tile_threads()
    y0 = BlockDiagonalMatrix(cfg, W, np.random.default_rng(3)).mvm(x)
    set_tile_threads(1)
    try:
        np.testing.assert_array_equal(BlockDiagonalMatrix(cfg, W, np.random.default_rng(3)).mvm(x), y0)
        for bad in (0, 1.5, True):
            with pytest.raises(ConfigError, match=f"tile_threads: must be an integer >= 1, got {bad!r}"):
                set_tile_threads(bad)
    finally:
        set_tile_threads(n0)


def test_fast_path_noise_statistics_match_dense(rng):
    """Independent seeds: per-output mean and std of 400 noisy MVMs of one input agree within their standard
    errors (5 sigma) between the fast and the dense path (read + output noise)."""
    W = rng.standard_normal((4, R, C))
    x = np.repeat(rng.standard_normal((1, 4, R)).astype(np.float32), 400, axis=0)
    cfg = _cfg(noise={"programming": False, "read": True, "out_noise": 0.04}, adc={"bits": None})
    a = BlockDiagonalMatrix(cfg, W, np.random.default_rng(3)).mvm(x).reshape(400, -1)
    b = _dense(cfg, W, x, 4).reshape(400, -1)
    sa, sb = a.std(axis=0), b.std(axis=0)
    se_mean = np.sqrt((sa**2 + sb**2) / 400)
    assert np.all(np.abs(a.mean(axis=0) - b.mean(axis=0)) < 5 * se_mean)
    se_std = np.sqrt((sa**2 + sb**2) / (2 * 399))
    assert np.all(np.abs(sa - sb) < 5 * se_std)
    assert sa.min() > 0.01  # the noise is really there


def test_programming_noise_fast_path_close_to_dense_mean(data):
    """PCM programming noise on: the paths differ only by the noise of the off-block cells (programmed to 0 S in
    the dense path, unprogrammed here); over 20 programmings the mean outputs agree within 5 standard errors."""
    W, x = data
    cfg = _cfg(noise={"programming": True, "read": False, "out_noise": 0.0}, adc={"bits": None})
    a = np.stack([BlockDiagonalMatrix(cfg, W, np.random.default_rng(s)).mvm(x) for s in range(20)])
    b = np.stack([_dense(cfg, W, x, 100 + s) for s in range(20)])
    se = np.sqrt((a.var(axis=0) + b.var(axis=0)) / 20) + 1e-6
    assert np.all(np.abs(a.mean(axis=0) - b.mean(axis=0)) < 5 * se)
    assert b.std(axis=0).mean() >= a.std(axis=0).mean() * 0.9  # dense adds the off-block noise on top


def test_ledger_matches_dense_tiles(data):
    """Same events and energies as the physical tiles (docs/crossbar.md, pipeline, ledger names of docs/cost.md)."""
    W, x = data
    cfg = _cfg(noise=QUIET)
    la, lb = Ledger(), Ledger()
    bank = BlockDiagonalMatrix(cfg, W, np.random.default_rng(1), la)
    bank.mvm(x)
    _dense(cfg, W, x, 1, ledger=lb)
    assert set(la.counts) == set(lb.counts)
    for key, v in lb.counts.items():
        assert la.counts[key] == pytest.approx(v, rel=1e-9), key
    for key, v in lb.energy_j.items():
        assert la.energy_j[key] == pytest.approx(v, rel=1e-5), key
    assert bank.n_tiles == 4
    assert bank.utilisation == pytest.approx(N * R * C * 2 / (4 * 16 * 16))  # in-block cells only (docs/s4d.md#packing)


def test_per_tile_cap_and_layout(data):
    W, x = data
    bank = BlockDiagonalMatrix(_cfg(noise=QUIET), W, np.random.default_rng(0), per_tile=1)
    assert bank.n_tiles == 7 and bank.blocks_per_tile == [1] * 7
    y = bank.mvm(x)
    assert y.shape == (10, N, C) and y.dtype == np.float32


@pytest.mark.parametrize(
    "kw,field",
    [
        ({"ir_drop": {"mode": "exact"}}, "tile.ir_drop.mode"),
        ({"mapping": {"scheme": "offset"}}, "tile.mapping.scheme"),
    ],
)
def test_unsupported_configs_refused(data, kw, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        BlockDiagonalMatrix(_cfg(**kw), data[0], np.random.default_rng(0))


def test_bad_input(data):
    W, x = data
    bank = BlockDiagonalMatrix(_cfg(noise=QUIET), W, np.random.default_rng(0))
    with pytest.raises(ConfigError, match=r"x: must have shape \(batch, 7, 5\)"):
        bank.mvm(x[:, :3])
    with pytest.raises(ConfigError, match="blocks"):
        BlockDiagonalMatrix(_cfg(), np.zeros((2, 17, 4)), np.random.default_rng(0))
    with pytest.raises(ConfigError, match="blocks"):
        BlockDiagonalMatrix(_cfg(), np.zeros((4, 4)), np.random.default_rng(0))
    with pytest.raises(ConfigError, match="per_tile"):
        BlockDiagonalMatrix(_cfg(), W, np.random.default_rng(0), per_tile=0)
    x = x.copy()
    x[0, 1, 2] = np.nan
    with pytest.raises(ConfigError, match="x"):
        bank.mvm(x)


@pytest.mark.parametrize("noise", ["average_abs_max", "abs_max"])
def test_run_feedback_equals_step_by_step_mvm(rng, noise):
    """run_feedback = a loop of mvm with the first n_state outputs fed back as inputs (same draws and ledger)."""
    W = rng.standard_normal((N, R, R)) * 0.4
    u = rng.standard_normal((6, 3, N, 2)).astype(np.float32)
    cfg = _cfg(management={"noise": noise}, drift_compensation={"mode": "global"})
    la, lb = Ledger(), Ledger()
    a = BlockDiagonalMatrix(cfg, W, np.random.default_rng(5), la)
    b = BlockDiagonalMatrix(cfg, W, np.random.default_rng(5), lb)
    ya = a.run_feedback(u, R - 2, t=60.0)
    v = np.zeros((3, N, R), np.float32)
    for step in range(6):
        v[:, :, R - 2 :] = u[step]
        out = b.mvm(v, t=60.0)
        v[:, :, : R - 2] = out[:, :, : R - 2]
        np.testing.assert_array_equal(ya[step], out[:, :, R - 2 :])
    assert la.counts == lb.counts
    with pytest.raises(ConfigError, match="n_state"):
        a.run_feedback(u, R + 1)
    with pytest.raises(ConfigError, match=r"u: must have shape \(L, batch, 7, 3\)"):
        a.run_feedback(u, R - 3)
