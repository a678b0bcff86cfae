"""Shared plumbing of the discrete-time populations: sizes, input checks, dtypes."""

from __future__ import annotations

import numpy as np

from aimc_sim.config import require_finite
from aimc_sim.errors import ConfigError

DTYPES = (np.float32, np.float64)


def check_size(name: str, value: object) -> int:
    """A population size or batch: an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(name, f"must be an integer >= 1, got {value!r}")
    return int(value)


def check_dtype(dtype: object) -> type:
    """float32 or float64."""
    dt = np.dtype(dtype).type
    if dt not in DTYPES:
        raise ConfigError("dtype", f"must be float32 or float64, got {dtype!r}")
    return dt


def per_neuron(name: str, value: object, n: int) -> np.ndarray:
    """A finite float64 parameter broadcast to shape (n,)."""
    a = require_finite(name, value).astype(np.float64)
    try:
        return np.broadcast_to(a, (n,)).copy()
    except ValueError:
        raise ConfigError(name, f"must be a scalar or have {n} values, got shape {a.shape}") from None


def batch_input(name: str, x: object, batch: int, n: int, dtype: type) -> np.ndarray:
    """Input current of one step: shape (n,) or (batch, n), finite; returned as (batch, n) of dtype."""
    a = require_finite(name, x)
    if a.shape not in ((n,), (batch, n)):
        raise ConfigError(name, f"must have shape ({n},) or ({batch}, {n}), got {a.shape}")
    return np.broadcast_to(a.astype(dtype, copy=False), (batch, n))
