"""``management.scope: block``: one noise-management scale per packed block of a BlockDiagonalMatrix."""

import numpy as np
import pytest

from aimc_sim.crossbar import AnalogTile, BlockDiagonalMatrix, load_tile_config

N, R, C = 6, 5, 4  # 6 blocks of 5 x 4 on 16 x 16 tiles: 2 blocks per tile


def _cfg(scope, noise_management="abs_max", **kw):
    management = {"scope": scope, "noise": noise_management}
    return load_tile_config("pcm-default", rows=16, cols=16, management=management, **kw)


@pytest.fixture
def data(rng):
    W = rng.standard_normal((N, R, C))
    x = rng.standard_normal((40, N, R))
    x[:, 1::2] *= 0.01  # every second block sees inputs 100x smaller than its tile neighbour
    return W, x


def test_block_scope_equals_one_block_per_tile_noise_off(data):
    """Noise off: per-block scaling on shared tiles = each block alone on its own tile (same DAC/ADC codes)."""
    W, x = data
    quiet = {"programming": False, "read": False, "out_noise": 0.0}
    packed = BlockDiagonalMatrix(_cfg("block", noise=quiet), W, np.random.default_rng(1))
    alone = BlockDiagonalMatrix(_cfg("tile", noise=quiet), W, np.random.default_rng(1), per_tile=1)
    assert packed.n_tiles == 3 and alone.n_tiles == 6
    np.testing.assert_allclose(packed.mvm(x), alone.mvm(x), rtol=1e-6, atol=0)


@pytest.mark.parametrize("noise", ["abs_max", "average_abs_max"])
def test_block_scope_rescues_small_blocks_from_output_noise(data, noise):
    """With output noise, the small blocks' error shrinks by about their input ratio (100x) under block scope;
    tile scope refers the noise back with the large neighbour's scale."""
    W, x = data
    exact = np.einsum("bnr,nrc->bnc", x, W)
    err = {}
    for scope in ("tile", "block"):
        cfg = _cfg(scope, noise, noise={"programming": False, "read": False, "out_noise": 0.05})
        y = BlockDiagonalMatrix(cfg, W, np.random.default_rng(2)).mvm(x)
        err[scope] = np.sqrt(np.mean((y - exact)[:, 1::2] ** 2)) / np.sqrt(np.mean(exact[:, 1::2] ** 2))
    assert err["block"] < err["tile"] / 20, err
    if noise == "abs_max":  # (average abs-max also clips the larger vectors)
        assert err["block"] < 0.1


def test_block_scope_is_tile_scope_on_a_dense_tile(rng):
    W, x = rng.standard_normal((12, 7)), rng.standard_normal((9, 12))
    ys = [AnalogTile(_cfg(s), W, np.random.default_rng(3)).mvm(x, 60.0) for s in ("tile", "block")]
    np.testing.assert_array_equal(*ys)
