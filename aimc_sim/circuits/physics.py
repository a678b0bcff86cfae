"""Subthreshold-transistor constants and bias-current <-> time conversions (docs/circuits.md §1).

Sources: Chicca, Stefanini, Bartolozzi & Indiveri, Proc. IEEE 102(9), 2014; Bartolozzi & Indiveri,
Neural Comput. 2007; rockpool DynapSim defaults (DYNAP-SE2 flavour).
"""

from __future__ import annotations

import numpy as np

from aimc_sim.errors import ConfigError

U_T = 0.025
"""Thermal voltage kT/q [V]."""
KAPPA_N = 0.75
"""Subthreshold slope factor of n-type transistors."""
KAPPA_P = 0.66
"""Subthreshold slope factor of p-type transistors."""
KAPPA = 0.705
"""Average slope factor (KAPPA_N + KAPPA_P)/2 used by the conversions."""
I0 = 0.5e-12
"""Dark (leakage) current [A]."""
V_TH_PULSE = 0.7
"""Threshold voltage of the pulse-extender circuits [V] (refractory time, pulse width)."""

__all__ = [
    "I0",
    "KAPPA",
    "KAPPA_N",
    "KAPPA_P",
    "U_T",
    "V_TH_PULSE",
    "bias_from_tau",
    "pulse_current",
    "pulse_width",
    "tau_from_bias",
]


def _positive(name: str, x: float | np.ndarray) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    bad = ~(np.isfinite(a) & (a > 0))
    if bad.any():
        raise ConfigError(name, f"must be a finite number in (0, inf), got {a[bad].flat[0]!r}")
    return a


def _out(a: np.ndarray) -> float | np.ndarray:
    return float(a) if a.ndim == 0 else a


def tau_from_bias(C: float | np.ndarray, I_tau: float | np.ndarray, kappa: float = KAPPA, U_T: float = U_T):
    """Log-domain time constant tau = C*U_T/(kappa*I_tau) [s] of a capacitor C [F] and leak bias I_tau [A]."""
    c, i = _positive("C", C), _positive("I_tau", I_tau)
    return _out(c * _positive("U_T", U_T) / (_positive("kappa", kappa) * i))


def bias_from_tau(C: float | np.ndarray, tau: float | np.ndarray, kappa: float = KAPPA, U_T: float = U_T):
    """Leak bias I_tau = C*U_T/(kappa*tau) [A] that gives time constant tau [s] on capacitor C [F]."""
    c, t = _positive("C", C), _positive("tau", tau)
    return _out(c * _positive("U_T", U_T) / (_positive("kappa", kappa) * t))


def pulse_width(C: float | np.ndarray, I: float | np.ndarray, V_th: float = V_TH_PULSE):
    """Pulse-extender time t = V_th*C/I [s] (refractory period, synaptic pulse width)."""
    return _out(_positive("V_th", V_th) * _positive("C", C) / _positive("I", I))


def pulse_current(C: float | np.ndarray, t: float | np.ndarray, V_th: float = V_TH_PULSE):
    """Pulse-extender bias I = V_th*C/t [A] that gives a pulse of width t [s]."""
    return _out(_positive("V_th", V_th) * _positive("C", C) / _positive("t", t))
