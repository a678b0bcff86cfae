"""Frozen per-instance device mismatch of bias currents (docs/circuits.md §2).

Every bias current of every instance gets one factor, drawn once from ``rng`` at construction:
lognormal ``I -> I*exp(sigma*xi)`` (default) or Gaussian ``I -> I*(1 + sigma*xi)`` as in rockpool.
Time constants inherit the mismatch of their leak bias (tau ~ 1/I_tau), so sigma(ln tau) = sigma.
Draws are made per instance as rows of an (n, k) matrix, so splitting a population into chunks
drawn one after the other from the same generator gives the same factors (test DPI-4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from aimc_sim.config import Config, check, in_range, one_of
from aimc_sim.errors import ConfigError

GAUSSIAN_FLOOR = 0.01
"""The Gaussian form is clipped at this factor so that currents stay positive."""


@dataclass(frozen=True)
class MismatchConfig(Config):
    """Mismatch of bias currents: ``sigma`` is sigma_ln (lognormal) or the relative sigma (gaussian).

    Default sigma = 0.10 [proposal, docs/circuits.md §2]; rockpool's default is 30 % at 3 sigma.
    """

    sigma: float = field(default=0.10, metadata=check(in_range(0.0, 1.0)))
    form: Literal["lognormal", "gaussian"] = field(default="lognormal", metadata=check(one_of("lognormal", "gaussian")))


NO_MISMATCH = MismatchConfig(sigma=0.0)


def sample_factors(config: MismatchConfig, n: int, k: int, rng: np.random.Generator | None) -> np.ndarray:
    """(n, k) multiplicative factors, one row per instance and one column per bias current.

    ``rng`` may be None only when ``config.sigma == 0`` (all factors are then exactly 1).
    """
    if config.sigma == 0.0:
        return np.ones((n, k))
    if not isinstance(rng, np.random.Generator):
        raise ConfigError("rng", f"must be a numpy.random.Generator when mismatch.sigma > 0, got {rng!r}")
    xi = rng.standard_normal((n, k))
    if config.form == "lognormal":
        return np.exp(config.sigma * xi)
    return np.maximum(1.0 + config.sigma * xi, GAUSSIAN_FLOOR)
