"""Discretisation of continuous-time neuron stages (docs/circuits.md §5, docs/snn.md#nir-import).

A leaky-integrator stage ``tau dv/dt = (v_leak - v) + R I`` sampled with step ``dt`` becomes
``v[t] = alpha v[t-1] + (1 - alpha) v_leak + gamma I[t]`` with

* exact (zero-order hold): ``alpha = exp(-dt/tau)``, ``gamma = R (1 - alpha)``;
* forward Euler: ``alpha = 1 - dt/tau``, ``gamma = R dt/tau``.

The inverse map (trained ``alpha, gamma`` back to NIR ``tau, R``) is ``R = gamma/(1 - alpha)`` in both
schemes and ``tau = -dt/ln(alpha)`` (exact) or ``tau = dt/(1 - alpha)`` (Euler).
"""

from __future__ import annotations

import numpy as np

from aimc_sim.errors import ConfigError

DISCRETISATIONS = ("exact", "euler")


def _check_scheme(discretisation: str) -> None:
    if discretisation not in DISCRETISATIONS:
        raise ConfigError("discretisation", f"must be one of {DISCRETISATIONS}, got {discretisation!r}")


def li_coefficients(tau: np.ndarray, r: np.ndarray, dt: float, discretisation: str = "exact") -> tuple:
    """``(alpha, gamma)`` of a leaky integrator with time constant ``tau`` (s) and gain ``r``."""
    _check_scheme(discretisation)
    tau = np.asarray(tau, dtype=float)
    r = np.asarray(r, dtype=float)
    if discretisation == "exact":
        alpha = np.exp(-dt / tau)
        return alpha, r * (1.0 - alpha)
    return 1.0 - dt / tau, r * dt / tau


def li_parameters(alpha: np.ndarray, gamma: np.ndarray, dt: float, discretisation: str = "exact") -> tuple:
    """Inverse of :func:`li_coefficients`: ``(tau, R)`` from a discrete ``(alpha, gamma)``."""
    _check_scheme(discretisation)
    alpha = np.asarray(alpha, dtype=float)
    if np.any((alpha <= 0) | (alpha >= 1)):
        raise ConfigError("alpha", f"must lie in (0, 1) to map to a finite positive tau, got {alpha}")
    r = np.asarray(gamma, dtype=float) / (1.0 - alpha)
    tau = -dt / np.log(alpha) if discretisation == "exact" else dt / (1.0 - alpha)
    return tau, r
