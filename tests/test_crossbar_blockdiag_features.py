"""Iterative bound management, bit-serial and stochastic-rounding DACs on the block-diagonal path (k blocks per
tile) against the dense reference (docs/crossbar.md, BlockDiagonalMatrix).

Bound management acts per input scale: with ``scope: tile`` the tile vector is one DAC drive, "saturated" when any
ADC output of the tile (any of its k blocks) reaches its range, and re-run with its scale doubled, as a dense tile
holding the block-diagonal matrix does; with ``scope: block`` only the saturated blocks are re-driven.
"""

import numpy as np
import pytest
from test_crossbar_blockdiag import QUIET, C, N, R, _cfg, _dense

from aimc_sim.cost import events as ev
from aimc_sim.cost.ledger import Ledger
from aimc_sim.crossbar import BlockDiagonalMatrix

FEATURES = {
    "bound": {"management": {"bound": "iterative"}, "adc": {"bound": 0.6}},  # a narrow range: many reruns
    "bit_serial": {"dac": {"bit_serial": True, "bits": 4}},
    "stochastic_dac": {"dac": {"stochastic_rounding": True, "bits": 4}},
    "stochastic_adc": {"adc": {"stochastic_rounding": True, "bits": 4}},  # (never refused; checked here too)
}
NOISY = {"programming": False, "read": True, "out_noise": 0.04}


@pytest.fixture
def data(rng):
    return rng.standard_normal((N, R, C)), rng.standard_normal((10, N, R)).astype(np.float32)


@pytest.mark.parametrize("feature", FEATURES)
@pytest.mark.parametrize("noise", ["off", "read_out"])
def test_feature_equals_dense_tiles(data, feature, noise):
    """Programming noise off: the packed tiles equal the dense block-diagonal tiles exactly, noise-free and with
    PCM read and output noise (the off-block cells at 0 S add neither current nor noise, and each tile draws its
    DAC dither and ADC noise from the same stream in the same order); the ledger events are the same."""
    W, x = data
    cfg = _cfg(noise=QUIET if noise == "off" else NOISY, **FEATURES[feature])
    la, lb = Ledger(), Ledger()
    bank = BlockDiagonalMatrix(cfg, W, np.random.default_rng(7), la)
    assert bank.blocks_per_tile == [2, 2, 2, 1]
    np.testing.assert_array_equal(bank.mvm(x, 60.0), _dense(cfg, W, x, 7, t=60.0, ledger=lb))
    assert la.counts == lb.counts
    for key, v in lb.energy_j.items():
        assert la.energy_j[key] == pytest.approx(v, rel=1e-5), key
    if feature == "bound":  # the narrow range really saturates: reruns happened
        assert la.total(ev.BOUND_MANAGEMENT_RERUN) > 0


@pytest.mark.parametrize("feature", FEATURES)
@pytest.mark.parametrize("adc_range", ["calibrated", "per_column"])
def test_feature_with_calibrated_ranges_and_drift_equals_dense(data, feature, adc_range):
    """Calibrated ADC ranges (per tile or per column), per-column drift compensation at t = 1 h, read and output
    noise: equal to the dense tiles up to float32 rounding (a calibration percentile of float32 products summed
    in another order may differ by 1 ulp)."""
    W, x = data
    kw = FEATURES[feature]
    cfg = _cfg(
        noise=NOISY,
        drift_compensation={"mode": "per_column"},
        **{**kw, "adc": {**kw.get("adc", {}), "range": adc_range}},
    )
    bank = BlockDiagonalMatrix(cfg, W, np.random.default_rng(1))
    cal = x * 1.1
    bank.calibrate_adc(cal)
    np.testing.assert_allclose(bank.mvm(x, 3600.0), _dense(cfg, W, x, 1, t=3600.0, cal=cal), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("feature", FEATURES)
def test_feature_noise_statistics_match_dense(rng, feature):
    """Independent seeds, read and output noise: over 400 noisy MVMs of one input, the per-output means and
    standard deviations of the packed and the dense tiles agree within 3 standard errors on average (the mean and
    mean square of the standardised differences), and every output within 5."""
    W = rng.standard_normal((4, R, C))
    reps = 400
    x = np.repeat(rng.standard_normal((1, 4, R)).astype(np.float32), reps, axis=0)
    cfg = _cfg(noise=NOISY, **FEATURES[feature])
    a = BlockDiagonalMatrix(cfg, W, np.random.default_rng(3)).mvm(x).reshape(reps, -1)
    b = _dense(cfg, W, x, 4).reshape(reps, -1)
    sa, sb = a.std(axis=0), b.std(axis=0)
    assert sa.min() > 0.01  # the noise is really there
    m = sa.size
    z_mean = (a.mean(axis=0) - b.mean(axis=0)) / np.sqrt((sa**2 + sb**2) / reps)
    z_std = (sa - sb) / np.sqrt((sa**2 + sb**2) / (2 * (reps - 1)))
    for z in (z_mean, z_std):
        assert abs(z.mean()) < 3 / np.sqrt(m), z
        assert (z**2).mean() < 1 + 3 * np.sqrt(2 / m), z  # chi-square with m degrees of freedom, over m
        assert np.abs(z).max() < 5, z


@pytest.mark.parametrize("scope", ["tile", "block"])
def test_stochastic_dac_is_unbiased(rng, scope):
    """Stochastic rounding of a 4-bit DAC (7 levels per sign) on packed tiles, noise and ADC quantisation off: the
    mean output over 4000 draws equals the unquantised output within 3 standard errors (pooled over the outputs,
    every output within 5); deterministic rounding of the same DAC is biased far beyond that."""
    W = rng.standard_normal((N, R, C))
    reps = 4000
    x = np.repeat(rng.standard_normal((1, N, R)).astype(np.float32), reps, axis=0)
    x[:, 1::2] *= 0.1  # a small neighbour: its own scale under block scope

    def run(dac):
        cfg = _cfg(noise=QUIET, adc={"bits": None}, dac=dac, management={"scope": scope})
        return BlockDiagonalMatrix(cfg, W, np.random.default_rng(9)).mvm(x).reshape(reps, -1).astype(np.float64)

    exact = run({"bits": None})[0]
    sto = run({"bits": 4, "stochastic_rounding": True})
    se = sto.std(axis=0) / np.sqrt(reps)
    assert se.min() > 0  # every output is really dithered
    z = (sto.mean(axis=0) - exact) / se
    m = z.size
    assert abs(z.mean()) < 3 / np.sqrt(m) and (z**2).mean() < 1 + 3 * np.sqrt(2 / m) and np.abs(z).max() < 5, z
    bias = run({"bits": 4})[0] - exact
    assert np.abs(bias).max() > 20 * se.max()  # the test would see a rounding bias


@pytest.mark.parametrize("dac", [{}, {"bit_serial": True, "bits": 4}])
def test_block_scope_with_a_partly_filled_tile_equals_one_block_per_tile(data, dac):
    """Block scope, 7 blocks on tiles of 2 (the last tile holds one): each block keeps its own input scale and
    equals the block alone on its own tile, bit-serial DAC included."""
    W, x = data
    x = x.copy()
    x[:, 1::2] *= 0.01
    packed = BlockDiagonalMatrix(_cfg(noise=QUIET, dac=dac, management={"scope": "block"}), W, np.random.default_rng(1))
    alone = BlockDiagonalMatrix(_cfg(noise=QUIET, dac=dac), W, np.random.default_rng(1), per_tile=1)
    assert packed.blocks_per_tile == [2, 2, 2, 1]
    np.testing.assert_allclose(packed.mvm(x), alone.mvm(x), rtol=1e-6, atol=0)


def test_bound_management_under_block_scope_is_per_block(data):
    """Block scope: each block has its own input scale, so bound management doubles only the saturated blocks'
    scales and re-drives only them; noise off, the packed tiles then equal each block alone on its own tile
    (a partly filled last tile included), and the re-runs bring the outputs much closer to x @ W."""
    W, x = data
    x = x.copy()
    x[:, 1::2] *= 0.2  # the small neighbours saturate less often
    exact = np.einsum("bnr,nrc->bnc", x, W)
    ys, reruns = {}, {}
    for bound, scope, per_tile in (("iterative", "block", None), ("iterative", "tile", 1), ("none", "block", None)):
        led = Ledger()
        cfg = _cfg(noise=QUIET, adc={"bound": 0.6}, management={"scope": scope, "bound": bound})
        bank = BlockDiagonalMatrix(cfg, W, np.random.default_rng(1), led, per_tile=per_tile)
        ys[bound, per_tile] = bank.mvm(x)
        reruns[bound, per_tile] = led.total(ev.BOUND_MANAGEMENT_RERUN)
    np.testing.assert_allclose(ys["iterative", None], ys["iterative", 1], rtol=1e-6, atol=0)
    assert reruns["none", None] == 0 and 0 < reruns["iterative", None] < reruns["iterative", 1]  # shared re-reads

    def err(y):
        return np.sqrt(np.mean((y - exact) ** 2) / np.mean(exact**2))

    assert err(ys["iterative", None]) < err(ys["none", None]) / 5
