"""Shared plumbing of the discrete-time populations: sizes, input checks, dtypes, stepping."""

from __future__ import annotations

import numpy as np

from aimc_sim.circuits.spikes import SpikeTrain, empty_train, sorted_train
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


class SteppedPopulation:
    """Base of discrete-time populations: subclasses define ``step(input) -> spikes``, ``t_step`` and
    ``config.dt``; :meth:`run` steps through a whole input sequence."""

    def run(self, inputs: np.ndarray) -> SpikeTrain:
        """Step through inputs of shape (T, n) or (T, batch, n); spike times are end-of-step times."""
        x = np.asarray(inputs)
        if x.ndim not in (2, 3):
            raise ConfigError("inputs", f"must have shape (T, n) or (T, batch, n), got {x.shape}")
        t0 = self.t_step
        idx, steps = [], []
        for k in range(x.shape[0]):
            s = np.flatnonzero(self.step(x[k]))
            idx.append(s)
            steps.append(np.full(s.size, t0 + k + 1))
        if not idx:
            return empty_train()
        return sorted_train(np.concatenate(idx), np.concatenate(steps) * self.config.dt)
