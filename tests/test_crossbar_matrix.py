"""AnalogMatrix: tiling (docs/crossbar.md#analogmatrix), digital partial sums, utilisation."""

from __future__ import annotations

import numpy as np
import pytest

from aimc_sim.cost import Ledger
from aimc_sim.crossbar import AnalogMatrix, load_tile_config
from aimc_sim.errors import ConfigError


def test_tiling_counts_and_exact_sum(rng):
    cfg = load_tile_config("ideal", rows=16, cols=16)  # 16 inputs x 8 weights per tile
    W = rng.standard_normal((40, 20))
    led = Ledger()
    m = AnalogMatrix(cfg, W, rng, led, name="fc")
    assert m.n_tiles == 3 * 3  # ceil(40/16) * ceil(2*20/16)
    assert m.utilisation == pytest.approx(40 * 20 * 2 / (9 * 256))
    x = rng.standard_normal((6, 40))
    np.testing.assert_allclose(m.mvm(x), x @ W, rtol=1e-5, atol=1e-5)
    assert led.counts[("fc", "int32_add")] >= 6 * 20 * 2  # two extra row-block partial sums per output
    assert m.mvm(x[0]).shape == (20,)


def test_partial_sums_quantised_per_tile(rng):
    """Each tile converts its own partial sum: with an ADC the error grows with the number of row blocks."""
    W = rng.uniform(-1, 1, (64, 4))
    x = rng.uniform(-1, 1, (400, 64))
    err = []
    for rows in (64, 16):
        cfg = load_tile_config("ideal", rows=rows, cols=8, adc={"bits": 6, "bound": 8.0})
        y = AnalogMatrix(cfg, W, np.random.default_rng(0)).mvm(x)
        err.append(np.std(y - x @ W))
    assert err[1] > err[0]


def test_matrix_bad_input(rng):
    cfg = load_tile_config("ideal", rows=8, cols=8)
    with pytest.raises(ConfigError, match="weights: must be finite"):
        AnalogMatrix(cfg, np.full((3, 3), np.nan), rng)
    m = AnalogMatrix(cfg, np.ones((10, 3)), rng)
    with pytest.raises(ConfigError, match=r"x: must have shape \(batch, 10\)"):
        m.mvm(np.ones((2, 9)))
    with pytest.raises(ConfigError, match="x: must be finite"):
        m.mvm(np.array([[np.inf] * 10]))


def test_mvm_blas_thread_policy_restored(rng):
    """The MVM path limits BLAS threads (default 1) and restores the previous setting afterwards."""
    from threadpoolctl import threadpool_info

    from aimc_sim.crossbar import set_mvm_blas_threads
    from aimc_sim.crossbar.threads import mvm_blas_threads

    def blas_threads():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    before = blas_threads()
    m = AnalogMatrix(load_tile_config("ideal", rows=8, cols=8), rng.standard_normal((10, 3)), rng)
    m.mvm(rng.standard_normal((2, 10)))
    assert blas_threads() == before
    assert mvm_blas_threads() == 1
    with pytest.raises(ConfigError, match="mvm_blas_threads: must be an integer >= 1 or None, got 0"):
        set_mvm_blas_threads(0)
    set_mvm_blas_threads(None)
    try:
        np.testing.assert_allclose(m.mvm(np.ones((1, 10))), np.ones((1, 10)) @ m.weights_at(), atol=1e-5)
    finally:
        set_mvm_blas_threads(1)


def test_blas_limit_changes_and_restores_only_libraries_off_the_limit():
    """blas_limit sets every BLAS library to the policy (1) inside, re-entrantly, and gives back each one's own
    setting on exit, whether it was at the limit already or not."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from aimc_sim.crossbar.threads import blas_limit

    def blas_threads():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    for outside in (2, 1):
        with threadpool_limits(outside, user_api="blas"):
            before = blas_threads()
            with blas_limit():
                assert blas_threads() == [1] * len(before)
                with blas_limit():
                    assert blas_threads() == [1] * len(before)
                assert blas_threads() == [1] * len(before)
            assert blas_threads() == before
