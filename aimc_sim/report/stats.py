"""Summary statistics for results over seeds: mean and a Student-t confidence interval."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["MeanCI", "mean_ci"]


@dataclass(frozen=True)
class MeanCI:
    """Mean of ``n`` values, their sample standard deviation and the half-width of the confidence interval."""

    mean: float
    std: float
    n: int
    half_width: float
    level: float

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def __str__(self) -> str:
        if self.n < 2:
            return f"{self.mean:.4g} (n=1)"
        return f"{self.mean:.4g} ± {self.half_width:.2g} ({self.level:.0%} CI, n={self.n})"


def mean_ci(values: Sequence[float] | np.ndarray, level: float = 0.95) -> MeanCI:
    """Mean with the two-sided Student-t interval mean ± t_{(1+level)/2, n-1}·s/√n (NaN values ignored).

    With one value the half-width is NaN: a single seed says nothing about the spread.
    """
    from scipy.stats import t

    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    n = int(v.size)
    if n == 0:
        return MeanCI(math.nan, math.nan, 0, math.nan, level)
    mean = float(v.mean())
    if n == 1:
        return MeanCI(mean, math.nan, 1, math.nan, level)
    std = float(v.std(ddof=1))
    return MeanCI(mean, std, n, float(t.ppf(0.5 + level / 2, n - 1) * std / math.sqrt(n)), level)
