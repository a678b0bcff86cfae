"""Abar held on a k-level grid where the hardware holds it (docs/s4d.md#quantised-abar-on-k-levels).

With the recurrence analog the entries a_r, a_i of every mode's rotation [[a_r, -a_i], [a_i, a_r]] are cells of the
channel's fused matrix on the tile; with the recurrence digital they are coefficients in near-memory SRAM.
Either way a k-level memory holds each real entry on a uniform grid: per channel h (one scale per channel, the
per-column scaling of the tile),

    levels_j = -m_h + j * 2 m_h / (k - 1),  j = 0..k-1,  m_h = max over the channel's modes of |a_r|, |a_i|,

and every entry goes to the nearest level (k odd contains 0; k = 3 is ternary Abar). A mode whose quantised
|Abar| exceeds 1 - eps would grow; it is stepped back *on the grid*: its larger component moves one level
towards zero until |Abar| <= 1 - eps, so the result still holds exactly k levels per channel (the
:func:`workloads.s4d.quant.quantise_abar` clamp rescales off the grid instead). The stepped modes are counted.
"""

from __future__ import annotations

import numpy as np

from aimc_sim.errors import ConfigError
from workloads.s4d.model import S4DModel, _compact
from workloads.s4d.qs4d_prune import apply_pruning
from workloads.s4d.ssm import fused_matrix


def abar_grid(dA: np.ndarray, k: int) -> np.ndarray:
    """The k levels of every channel of ``dA`` (H, P): (H, k), ascending."""
    if not isinstance(k, (int, np.integer)) or k < 2:
        raise ConfigError("k", f"must be an integer number of levels >= 2, got {k!r}")
    m = np.maximum(np.abs(dA.real), np.abs(dA.imag)).max(axis=1)
    return m[:, None] * np.linspace(-1.0, 1.0, int(k))[None, :]


def quantise_abar_levels(dA: np.ndarray, k: int, eps: float = 1e-4) -> tuple[np.ndarray, int]:
    """Abar (H, P) with a_r and a_i on the per-channel k-level grid, |Abar| <= 1 - eps kept on the grid.

    Returns (quantised Abar, number of modes stepped back for stability)."""
    grid = abar_grid(dA, k)
    step = grid[:, 1] - grid[:, 0]
    m = grid[:, -1]

    def index(x: np.ndarray) -> np.ndarray:  # nearest level
        scale = np.where(step > 0, step, 1.0)[:, None]
        return np.clip(np.rint((x + m[:, None]) / scale), 0, k - 1).astype(int)

    jr, ji = index(dA.real), index(dA.imag)
    centre = (k - 1) / 2.0
    stepped = np.zeros(dA.shape, dtype=bool)
    for _ in range(k):
        q = np.take_along_axis(grid, jr, 1) + 1j * np.take_along_axis(grid, ji, 1)
        bad = np.abs(q) > 1.0 - eps
        if not bad.any():
            return q, int(stepped.sum())
        stepped |= bad
        real_larger = np.abs(jr - centre) >= np.abs(ji - centre)
        move_r, move_i = bad & real_larger, bad & ~real_larger
        jr = np.where(move_r, jr - np.sign(jr - centre).astype(int), jr)
        ji = np.where(move_i, ji - np.sign(ji - centre).astype(int), ji)
    raise RuntimeError("stability stepping did not converge")  # unreachable: k steps reach the centre


def with_abar_levels(model: S4DModel, k: int | None) -> tuple[S4DModel, int]:
    """A copy of ``model`` whose deployed Abar (every layer) is on the k-level grid (None: unchanged), with the
    fused matrices rebuilt; returns (model, modes stepped back for stability)."""
    out = apply_pruning(S4DModel(model.config, model.weights, {**model.metadata, "abar_levels": k}))
    if k is None:
        return out, 0
    n_stepped = 0
    for lay in out.layers:
        lay.dA, n = quantise_abar_levels(lay.dA, k, model.config.clamp_eps)
        n_stepped += n
        lay.M = fused_matrix(*_compact(lay.dA, lay.dB, lay.C, lay.mode_mask), lay.D)
    return out, n_stepped
