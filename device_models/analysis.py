"""Small analysis helpers shared by tests, reports and calibration."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["distinguishable_levels"]


def distinguishable_levels(samples: Sequence[np.ndarray], k: float = 3.0) -> int:
    """Number of levels whose mean ± k·std windows do not overlap (greedy, from the lowest mean).

    ``samples``: one array of measured conductances per programmed level (e.g. per pulse amplitude).
    """
    stats = sorted((float(np.mean(s)), float(np.std(s))) for s in samples if np.size(s))
    if not stats:
        return 0
    count, top = 1, stats[0][0] + k * stats[0][1]
    for mean, std in stats[1:]:
        if mean - k * std >= top:
            count, top = count + 1, mean + k * std
    return count
