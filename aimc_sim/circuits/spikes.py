"""Spike trains as index/time arrays, and the driver loop of the resumable run kernels."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

MAX_BUFFER_ENTRIES = 2**22
"""Spike-buffer entries per round of :func:`collect_spikes` (64 MB of times and unit indices)."""


class SpikeTrain(NamedTuple):
    """Spikes of a population: ``index[k]`` fired at ``time[k]`` [s], sorted by time then index."""

    index: np.ndarray
    time: np.ndarray

    def counts(self, n: int) -> np.ndarray:
        """Spike count per neuron (length n)."""
        return np.bincount(self.index, minlength=n)

    def of(self, i: int) -> np.ndarray:
        """Spike times of neuron i."""
        return self.time[self.index == i]


def empty_train() -> SpikeTrain:
    return SpikeTrain(np.zeros(0, dtype=np.int64), np.zeros(0))


def sorted_train(index: np.ndarray, time: np.ndarray) -> SpikeTrain:
    """A SpikeTrain sorted by (time, index)."""
    order = np.lexsort((index, time))
    return SpikeTrain(index[order].astype(np.int64), time[order].astype(np.float64))


def collect_spikes(
    n: int | np.ndarray,
    run_chunk: Callable[..., None],
    finished: Callable[[np.ndarray], np.ndarray],
    cap: int = 32,
    *,
    unit_buffers: bool = False,
) -> SpikeTrain:
    """Drive a resumable kernel over n items (or the item indices n) until all are done; gather spikes.

    ``run_chunk(sel, buf_t, buf_n)`` advances items ``sel`` and writes the spike times of
    ``sel[j]`` to ``buf_t[j, :buf_n[j]]``, stopping an item early when its buffer is full. With
    ``unit_buffers`` the items are blocks of units: ``run_chunk(sel, buf_t, buf_u, buf_n)`` also
    writes the unit index of each spike to ``buf_u``. ``finished(sel)`` says which of ``sel``
    reached the end. Stragglers are rerun (resuming exactly where they stopped) with buffers up to
    twice as large, as long as a round stays within MAX_BUFFER_ENTRIES; no spike is ever dropped.
    """
    sel = np.arange(n, dtype=np.int64) if np.ndim(n) == 0 else np.asarray(n, dtype=np.int64)
    idx_parts, t_parts = [], []
    while sel.size:
        buf_t = np.empty((sel.size, cap))
        buf_n = np.zeros(sel.size, dtype=np.int64)
        if unit_buffers:
            buf_u = np.empty((sel.size, cap), dtype=np.int64)
            run_chunk(sel, buf_t, buf_u, buf_n)
        else:
            run_chunk(sel, buf_t, buf_n)
        keep = np.arange(cap)[None, :] < buf_n[:, None]
        idx_parts.append(buf_u[keep] if unit_buffers else np.repeat(sel, buf_n))
        t_parts.append(buf_t[keep])
        sel = sel[~finished(sel)]
        cap = max(cap, min(2 * cap, MAX_BUFFER_ENTRIES // max(sel.size, 1)))
    if len(idx_parts) == 1:
        return sorted_train(idx_parts[0], t_parts[0])
    return sorted_train(np.concatenate(idx_parts), np.concatenate(t_parts))
