"""Non-dominated (Pareto-optimal) sets of design points."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aimc_sim.errors import ConfigError

__all__ = ["pareto_mask"]


def pareto_mask(values: np.ndarray, maximize: Sequence[bool]) -> np.ndarray:
    """Boolean mask of the rows of ``values`` (n points x k objectives) that no other row dominates.

    Row a dominates row b when a is at least as good in every objective and strictly better in one
    (``maximize[j]`` says the direction of objective j). Rows with a NaN are never on the front;
    identical rows do not dominate each other, so both stay.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ConfigError("values", f"must be a 2-D array (points x objectives), got shape {v.shape}")
    if len(maximize) != v.shape[1]:
        raise ConfigError("maximize", f"must give one direction per objective ({v.shape[1]}), got {len(maximize)}")
    sign = np.where(np.asarray(maximize, dtype=bool), -1.0, 1.0)
    cost = v * sign  # minimise every column
    finite = np.all(np.isfinite(cost), axis=1)
    mask = finite.copy()
    idx = np.flatnonzero(finite)
    c = cost[idx]
    for j, i in enumerate(idx):
        no_worse = np.all(c <= c[j], axis=1)
        better = np.any(c < c[j], axis=1)
        if np.any(no_worse & better):
            mask[i] = False
    return mask
