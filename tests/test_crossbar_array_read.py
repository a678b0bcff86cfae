"""The array-read stage: the device's fused pass gives the same ArrayRead as the steps one after the other."""

import numpy as np
import pytest

from aimc_sim.cost.ledger import Ledger
from aimc_sim.crossbar import load_tile_config
from aimc_sim.crossbar.blockdiag import BlockDiagonalMatrix
from aimc_sim.crossbar.tile import AnalogTile


class _Device:
    """The tile's device with its fused pass (``fused``: its answers recorded) or without (``read_pairs``
    declines); everything else delegated."""

    def __init__(self, device, fused: bool):
        self._device, self.fused, self.answers = device, fused, []

    def read_pairs(self, *args) -> bool:
        self.answers.append(self.fused and self._device.read_pairs(*args))
        return self.answers[-1]

    def __getattr__(self, name):
        return getattr(self._device, name)


def _reads_agree(stack, t: float) -> None:
    """The fused read equals the steps: with a ledger (row sums in the fused pass) and without (row sums read when
    first asked)."""
    device, ledger = stack.device, stack.ledger
    for stack.ledger in (Ledger(), None):
        stack.device = spy = _Device(device, True)
        fused = stack.read(t, store=False)
        assert spy.answers and all(spy.answers)  # the fused pass made this read
        assert (fused.row_sums is None) == (stack.ledger is None)
        stack.device = _Device(device, False)
        steps = stack.read(t, store=False)
        stack.device = device
        for a, b in zip(fused.mats + fused.vars, steps.mats + steps.vars):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(fused.gsum, steps.gsum)
    stack.ledger = ledger


@pytest.mark.parametrize(
    "over",
    [
        {},
        {"mapping": {"variant": "symmetric"}, "access_resistance": 15e3},
        {"mapping": {"scheme": "offset", "reference": "column"}},
        {"mapping": {"subtract": "digital", "slices": 2}},
        {"ir_drop": {"mode": "approx", "approx_limit": 100.0}},
    ],
)
def test_fused_read_equals_read_in_steps(rng, over):
    cfg = load_tile_config("pcm-default", rows=48, cols=64, **over)
    W = rng.uniform(-1, 1, (40, cfg.max_outputs - 3))
    tile = AnalogTile(cfg, W, rng)
    for t in (0.0, 3600.0, 1e7):
        _reads_agree(tile.stack, t)


def test_fused_read_equals_read_in_steps_block_diagonal(rng):
    """k blocks per tile and a partly filled last tile (padding slots read 0 on both paths)."""
    cfg = load_tile_config("pcm-default", rows=32, cols=40)
    arr = BlockDiagonalMatrix(cfg, rng.uniform(-1, 1, (7, 6, 5)), rng)
    _reads_agree(arr.stack, 86400.0)


def test_ledger_attached_after_a_cached_read_charges_the_same_energy(rng):
    """A read cached without a ledger (no row sums) gives, once a ledger is attached, the array read energy of a
    tile that had the ledger all along: same seed, same calls (drift readout and MVM at t = 1 h)."""
    cfg = load_tile_config("pcm-default", rows=48, cols=64)
    W = rng.uniform(-1, 1, (40, 30))
    x = rng.uniform(-1, 1, (9, 40))
    late, early = AnalogTile(cfg, W, np.random.default_rng(3)), AnalogTile(cfg, W, np.random.default_rng(3))
    early.ledger = Ledger()
    late.mvm(x, 3600.0)
    early.mvm(x, 3600.0)
    assert late.stack.read(3600.0).row_sums is None  # cached without them
    late.ledger, early.ledger = Ledger(), Ledger()
    np.testing.assert_array_equal(late.mvm(x, 3600.0), early.mvm(x, 3600.0))
    charged = late.ledger.to_dict()
    assert charged == early.ledger.to_dict() and charged["energy_j"]["/array_read"] > 0
