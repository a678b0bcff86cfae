"""Summary statistics for results over seeds: a mean with a Student-t interval, and a proportion with a
Wilson score interval (for accuracies, which must stay inside [0, 1])."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["MeanCI", "mean_ci", "wilson_interval", "proportion_ci"]


@dataclass(frozen=True)
class MeanCI:
    """Mean of ``n`` values, their sample standard deviation and a ``level`` confidence interval [low, high].

    ``method`` names the interval: ``t`` (mean ± t·s/√n) or ``wilson`` (score interval of a proportion over
    ``trials`` Bernoulli trials, asymmetric, inside [0, 1]).
    """

    mean: float
    std: float
    n: int
    low: float
    high: float
    level: float
    method: str = "t"
    trials: int = 0

    @property
    def half_width(self) -> float:
        """Half the interval width (the ± of a symmetric interval)."""
        return (self.high - self.low) / 2

    def __str__(self) -> str:
        if not math.isfinite(self.low):
            return f"{self.mean:.4g} (n={self.n})"
        if self.method == "wilson":
            interval = f"[{self.low:.4g}, {self.high:.4g}]"
            return f"{self.mean:.4g} {interval} ({self.level:.0%} Wilson CI, {self.trials} trials)"
        return f"{self.mean:.4g} ± {self.half_width:.2g} ({self.level:.0%} CI, n={self.n})"


def _finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return v[np.isfinite(v)]


def mean_ci(values: Sequence[float] | np.ndarray, level: float = 0.95) -> MeanCI:
    """Mean with the two-sided Student-t interval mean ± t_{(1+level)/2, n-1}·s/√n (NaN values ignored).

    With one value the interval is NaN: a single seed says nothing about the spread.
    """
    from scipy.stats import t

    v = _finite(values)
    n = int(v.size)
    if n == 0:
        return MeanCI(math.nan, math.nan, 0, math.nan, math.nan, level)
    mean = float(v.mean())
    if n == 1:
        return MeanCI(mean, math.nan, 1, math.nan, math.nan, level)
    std = float(v.std(ddof=1))
    half = float(t.ppf(0.5 + level / 2, n - 1) * std / math.sqrt(n))
    return MeanCI(mean, std, n, mean - half, mean + half, level)


def wilson_interval(successes: float, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (Wilson, JASA 22, 209, 1927).

    (p + z²/2n ± z·√(p(1-p)/n + z²/4n²)) / (1 + z²/n) with p = successes/trials and z the two-sided normal
    quantile; always inside [0, 1], and not degenerate at p = 0 or 1. NaNs for ``trials`` = 0.
    """
    from scipy.stats import norm

    if trials <= 0:
        return math.nan, math.nan
    z = float(norm.ppf(0.5 + level / 2))
    p = min(max(successes / trials, 0.0), 1.0)
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    low = 0.0 if p == 0.0 else max(centre - half, 0.0)  # exact ends at p = 0 and 1 (the formula gives them
    high = 1.0 if p == 1.0 else min(centre + half, 1.0)  # analytically; floats miss by an ulp)
    return low, high


def proportion_ci(
    fractions: Sequence[float] | np.ndarray, counts: Sequence[float] | np.ndarray, level: float = 0.95
) -> MeanCI:
    """An accuracy over seeds: each seed classified ``counts[i]`` samples and got ``fractions[i]`` of them
    right. The mean is the pooled fraction; the interval is the Wilson interval over all classifications
    (pairs with a NaN are ignored). ``std`` is the spread of the per-seed fractions."""
    f = np.asarray(fractions, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    ok = np.isfinite(f) & np.isfinite(c) & (c > 0)
    f, c = f[ok], c[ok]
    trials = int(round(c.sum()))
    if trials == 0:
        return MeanCI(math.nan, math.nan, 0, math.nan, math.nan, level, "wilson", 0)
    successes = float(np.round(f * c).sum())
    low, high = wilson_interval(successes, trials, level)
    std = float(f.std(ddof=1)) if f.size > 1 else math.nan
    return MeanCI(successes / trials, std, int(f.size), low, high, level, "wilson", trials)
