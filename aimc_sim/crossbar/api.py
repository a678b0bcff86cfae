"""The interface every analog array implements: :class:`AnalogArray`.

:class:`~aimc_sim.crossbar.tile.AnalogTile` (one tile), :class:`~aimc_sim.crossbar.matrix.AnalogMatrix` (a
matrix of any size over tiles) and :class:`~aimc_sim.crossbar.blockdiag.BlockDiagonalMatrix` (blocks packed on
tile diagonals) all implement it, so workloads call them without knowing which one they hold.

Shapes: ``shape`` is the weight shape, (n_in, n_out) for a matrix and (n_blocks, n_in, n_out) for blocks. One
input vector has shape ``shape[:-1]`` and one output vector ``shape[:-2] + shape[-1:]``; ``mvm`` takes a batch
of them (batch first).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from aimc_sim.config import require_finite
from aimc_sim.errors import ConfigError

__all__ = ["AnalogArray", "BlockView", "feedback_loop"]


@runtime_checkable
class AnalogArray(Protocol):
    """An analog array computing batched MVMs with its non-idealities and cost."""

    @property
    def shape(self) -> tuple[int, ...]:
        """The weight shape: (n_in, n_out), or (n_blocks, n_in, n_out)."""
        ...

    @property
    def n_tiles(self) -> int:
        """Number of physical tiles used."""
        ...

    @property
    def utilisation(self) -> float:
        """Programmed cells over the cells of all tiles used."""
        ...

    def mvm(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Outputs (batch, *out) of inputs (batch, *in), read ``t`` s after programming."""
        ...

    def run_feedback(self, u: np.ndarray, n_state: int, t: float = 0.0) -> np.ndarray:
        """A recurrence whose first ``n_state`` outputs feed back as the first inputs of the next step."""
        ...

    def calibrate_adc(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Calibrate the ADC ranges on inputs ``x``; returns the range behind each output (shape of one output)."""
        ...

    def weights_at(self, t: float = 0.0) -> np.ndarray:
        """The noise-free effective weights at time t (``shape``), without periphery."""
        ...


def check_feedback_input(array: AnalogArray, u: np.ndarray, n_state: int) -> np.ndarray:
    """Validate ``n_state`` and ``u`` (L, batch, *in[:-1], n_in - n_state) of :meth:`AnalogArray.run_feedback`."""
    *lead, r, c = array.shape
    if isinstance(n_state, bool) or not isinstance(n_state, int) or not 0 <= n_state <= min(r, c):
        raise ConfigError("n_state", f"must be an integer in 0..{min(r, c)}, got {n_state!r}")
    a = require_finite("u", u)
    want = (*lead, r - n_state)
    if a.ndim != 2 + len(want) or a.shape[2:] != want:
        raise ConfigError("u", f"must have shape (L, batch, {', '.join(map(str, want))}), got {np.shape(u)}")
    return a


def feedback_loop(array: AnalogArray, u: np.ndarray, n_state: int, t: float = 0.0) -> np.ndarray:
    """A recurrence with state feedback through ADC -> DAC (docs/s4d.md#fused-mapping), one :meth:`mvm` per step: step l
    reads [s(l-1), u[l]] on the last input axis and outputs [s(l), y[l]], s being the first ``n_state``
    outputs (s(-1) = 0). u: (L, batch, *in[:-1], n_in - n_state) -> y: (L, batch, *out[:-1], n_out - n_state)."""
    a = check_feedback_input(array, u, n_state)
    *lead, r, c = array.shape
    L, B = a.shape[:2]
    x = np.zeros((B, *lead, r), np.float32)
    ys = np.empty((L, B, *lead, c - n_state), np.float32)
    for step in range(L):
        x[..., n_state:] = a[step]
        y = array.mvm(x, t)
        x[..., :n_state] = y[..., :n_state]
        ys[step] = y[..., n_state:]
    return ys


class BlockView:
    """A 2-D :class:`AnalogArray` holding a block-diagonal matrix (n_blocks blocks of r x c), seen as an array of
    shape (n_blocks, r, c) like :class:`~aimc_sim.crossbar.blockdiag.BlockDiagonalMatrix`: the dense reference
    path of block-diagonal packing, behind the same interface."""

    def __init__(self, array: AnalogArray, n_blocks: int):
        n_in, n_out = array.shape
        if isinstance(n_blocks, bool) or not isinstance(n_blocks, int) or n_blocks < 1 or n_in % n_blocks:
            raise ConfigError("n_blocks", f"must be an integer >= 1 dividing n_in = {n_in}, got {n_blocks!r}")
        if n_out % n_blocks:
            raise ConfigError("n_blocks", f"must divide n_out = {n_out}, got {n_blocks}")
        self.array, self.n_blocks = array, n_blocks
        self.n_in, self.n_out = n_in // n_blocks, n_out // n_blocks

    def __getattr__(self, name: str):
        return getattr(self.array, name)  # config, ledger, tiles, ... of the dense array

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.n_blocks, self.n_in, self.n_out

    @property
    def n_tiles(self) -> int:
        return self.array.n_tiles

    @property
    def utilisation(self) -> float:
        return self.array.utilisation

    def mvm(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        a = np.asarray(x)
        if a.ndim != 3 or a.shape[1:] != self.shape[:2]:
            raise ConfigError("x", f"must have shape (batch, {self.n_blocks}, {self.n_in}), got {np.shape(x)}")
        return self.array.mvm(a.reshape(a.shape[0], -1), t).reshape(a.shape[0], self.n_blocks, self.n_out)

    def run_feedback(self, u: np.ndarray, n_state: int, t: float = 0.0) -> np.ndarray:
        return feedback_loop(self, u, n_state, t)

    def calibrate_adc(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        a = np.asarray(x)
        if a.ndim != 3 or a.shape[1:] != self.shape[:2]:
            raise ConfigError("x", f"must have shape (batch, {self.n_blocks}, {self.n_in}), got {np.shape(x)}")
        return self.array.calibrate_adc(a.reshape(a.shape[0], -1), t).reshape(self.n_blocks, self.n_out)

    def weights_at(self, t: float = 0.0) -> np.ndarray:
        W = self.array.weights_at(t).reshape(self.n_blocks, self.n_in, self.n_blocks, self.n_out)
        return np.stack([W[q, :, q] for q in range(self.n_blocks)])
