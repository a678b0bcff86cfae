"""The array-read stage: the device's fused pass gives the same ArrayRead as the steps one after the other."""

import numpy as np
import pytest

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
    device = stack.device
    stack.device = spy = _Device(device, True)
    fused = stack.read(t, store=False)
    assert spy.answers and all(spy.answers)  # the fused pass made this read
    stack.device = _Device(device, False)
    steps = stack.read(t, store=False)
    stack.device = device
    for a, b in zip(fused.mats + fused.vars, steps.mats + steps.vars):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(fused.gsum, steps.gsum)


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
