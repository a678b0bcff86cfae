"""The AnalogArray protocol: one interface for the tile, the matrix, the block-diagonal array and BlockView."""

import numpy as np
import pytest

from aimc_sim.crossbar import (
    AnalogArray,
    AnalogMatrix,
    AnalogTile,
    BlockDiagonalMatrix,
    BlockView,
    load_tile_config,
)
from aimc_sim.errors import ConfigError

QUIET = {"programming": False, "read": False, "out_noise": 0.0}


def _arrays(rng, adc_range="fixed"):
    cfg = load_tile_config("pcm-default", rows=16, cols=16, adc={"range": adc_range})
    W, Wb = rng.standard_normal((12, 6)), rng.standard_normal((5, 4, 3))
    dense = np.zeros((20, 15))
    for q in range(5):
        dense[q * 4 : (q + 1) * 4, q * 3 : (q + 1) * 3] = Wb[q]
    return {
        "tile": AnalogTile(cfg, W, np.random.default_rng(1)),
        "matrix": AnalogMatrix(cfg, np.vstack([W, W]), np.random.default_rng(1)),
        "blocks": BlockDiagonalMatrix(cfg, Wb, np.random.default_rng(1)),
        "view": BlockView(AnalogMatrix(cfg, dense, np.random.default_rng(1)), 5),
    }


def test_every_array_is_an_analog_array(rng):
    for name, a in _arrays(rng).items():
        assert isinstance(a, AnalogArray), name
        x = rng.standard_normal((3,) + a.shape[:-1])
        assert a.mvm(x, 10.0).shape == (3,) + a.shape[:-2] + a.shape[-1:], name
        assert a.weights_at(10.0).shape == a.shape, name
        assert a.n_tiles >= 1 and 0 < a.utilisation <= 1, name


def test_calibrate_adc_returns_the_range_behind_each_output(rng):
    for name, a in _arrays(rng, "per_column").items():
        b = a.calibrate_adc(rng.standard_normal((20,) + a.shape[:-1]))
        assert b.shape == a.shape[:-2] + a.shape[-1:], name
        assert np.all(b > 0), name


@pytest.mark.parametrize("name", ["tile", "blocks", "view"])
def test_run_feedback_is_a_loop_of_mvm(rng, name):
    """Step l reads [s(l-1), u[l]] and outputs [s(l), y[l]] (s(-1) = 0), with the same draws as mvm calls."""
    a, b = _arrays(np.random.default_rng(7))[name], _arrays(np.random.default_rng(7))[name]
    n_state = 2
    lead = a.shape[:-2]
    u = rng.standard_normal((4, 3, *lead, a.shape[-2] - n_state)).astype(np.float32)
    y = a.run_feedback(u, n_state, 5.0)
    x = np.zeros((3, *lead, a.shape[-2]), np.float32)
    for step in range(4):
        x[..., n_state:] = u[step]
        out = b.mvm(x, 5.0)
        x[..., :n_state] = out[..., :n_state]
        np.testing.assert_array_equal(y[step], out[..., n_state:])
    with pytest.raises(ConfigError, match="n_state"):
        a.run_feedback(u, 99)


def test_block_view_equals_block_diagonal_noise_off(rng):
    cfg = load_tile_config("pcm-default", rows=20, cols=30, noise=QUIET)
    Wb = rng.standard_normal((5, 4, 3))
    dense = np.zeros((20, 15))
    for q in range(5):
        dense[q * 4 : (q + 1) * 4, q * 3 : (q + 1) * 3] = Wb[q]
    view = BlockView(AnalogMatrix(cfg, dense, np.random.default_rng(1)), 5)
    blocks = BlockDiagonalMatrix(cfg, Wb, np.random.default_rng(1))
    assert blocks.n_tiles == 1
    x = rng.standard_normal((8, 5, 4))
    np.testing.assert_allclose(view.mvm(x), blocks.mvm(x), rtol=1e-6, atol=0)
    np.testing.assert_allclose(view.weights_at(), blocks.weights_at(), rtol=1e-6, atol=1e-9)
