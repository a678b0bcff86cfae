"""Axonal, dendritic and synaptic delays and their buffer costs (docs/snn.md#delay-buffers).

Bouhadjar & Neftci, "Sparse axonal and dendritic delays enable competitive SNNs for keyword
classification", arXiv 2602.09746:

* axonal: ``s~_i[t] = s_i[t - d_i]`` then the synaptic matrix (``N_pre`` delays);
* dendritic: ``I_j[t] = (W s)_j[t - d_j]`` (``N_post`` delays);
* synaptic: ``I_j[t] = sum_i W_ij s_i[t - d_ij]`` (``N_pre N_post`` delays).

Buffer memory (§4.3, with ``D`` the maximum delay in steps and ``b_I`` the current width):
axonal ``D N_pre`` bits of spike history, dendritic ``D N_post b_I`` bits of current history,
synaptic ``D N_pre`` bits of history plus ``N_pre N_post ceil(log2(D+1))`` bits of delay indices.
"""

from __future__ import annotations

import math

import numpy as np

from aimc_sim.errors import ConfigError

DELAY_KINDS = ("axonal", "dendritic", "synaptic")


def check_delays(kind: str, delays: np.ndarray, n_pre: int, n_post: int, path: str = "delays") -> np.ndarray:
    """Validate integer delays (steps) for ``kind``; returns them as an int array."""
    if kind not in DELAY_KINDS:
        raise ConfigError(f"{path}.kind", f"must be one of {DELAY_KINDS}, got {kind!r}")
    d = np.asarray(delays)
    want = {"axonal": (n_pre,), "dendritic": (n_post,), "synaptic": (n_pre, n_post)}[kind]
    if d.shape != want:
        raise ConfigError(path, f"inconsistent shapes: {kind} delays need shape {want}, got {d.shape}")
    if d.size and (not np.all(np.isfinite(d)) or np.any(d < 0) or np.any(d != np.round(d))):
        raise ConfigError(path, f"must be integers >= 0 (steps), got min {np.min(d)!r}")
    return d.astype(np.int64)


class DelayLine:
    """Ring buffer of the last ``depth`` vectors; ``push(x)`` stores x[t], ``read(d)`` gives x[t - d]."""

    def __init__(self, depth: int, batch: int, width: int):
        self.depth = depth + 1
        self.buf = np.zeros((self.depth, batch, width))
        self.t = -1
        self.cols = np.arange(width)

    def push(self, x: np.ndarray) -> None:
        self.t += 1
        self.buf[self.t % self.depth] = x

    def read(self, d: np.ndarray) -> np.ndarray:
        """Per-column delays ``d`` (width,): returns ``(batch, width)``."""
        return self.buf[(self.t - d) % self.depth, :, self.cols].T

    def read_all(self, d: int) -> np.ndarray:
        """All columns delayed by the same ``d``."""
        return self.buf[(self.t - d) % self.depth]


def buffer_cost(
    kind: str, n_pre: int, n_post: int, delays: np.ndarray, current_bits: int = 16, active: np.ndarray | None = None
) -> dict[str, float]:
    """Memory (bits) and per-step traffic of a layer's delay buffers (docs/snn.md#delay-buffers).

    ``active`` (bool mask of the delayed neurons/synapses) models sparse delays: only active
    entries need history (axonal/dendritic) ``D * active`` instead of ``D * N``.
    """
    d = np.asarray(delays)
    d_max = int(d.max()) if d.size else 0
    idx_bits = math.ceil(math.log2(d_max + 1)) if d_max > 0 else 0
    n_act = int(np.count_nonzero(active)) if active is not None else None
    if kind == "axonal":
        n = n_pre if n_act is None else n_act
        hist, index, words = d_max * n, n * idx_bits, n
        reads = writes = n
    elif kind == "dendritic":
        n = n_post if n_act is None else n_act
        hist, index, words = d_max * n * current_bits, n * idx_bits, n
        reads = writes = n
    elif kind == "synaptic":
        hist, index, words = d_max * n_pre, n_pre * n_post * idx_bits, n_pre
        writes, reads = n_pre, n_pre * n_post
    else:
        raise ConfigError("kind", f"must be one of {DELAY_KINDS}, got {kind!r}")
    return {
        "max_delay_steps": d_max,
        "history_bits": float(hist),
        "index_bits": float(index),
        "total_bits": float(hist + index),
        "buffer_lines": float(words),
        "writes_per_step": float(writes),
        "reads_per_step": float(reads),
    }
