"""Compact (physics-based) RRAM models as plain vectorised equations (docs/devices.md#compact-models).

These are the closed-form current and state laws of four published compact models, for
calibration and sanity checks. They are not wired into a ``DeviceModel``; the analog RRAM model
in :mod:`device_models.rram` is statistical. Units: V, A, m, s unless stated.

* JART VCM v1b (Bengel et al.; doi:10.26165/JUELICH-DATA/LUA8QY; parameter values of the FZ Jülich
  port in aihwkit ``src/rpucuda/rpu_JART_v1b_device.cpp``): fitted read/RESET and SET currents.
* Stanford-PKU RRAM (doi:10.4231/D37H1DN48; MemTorch ``Stanford_PKU.py`` defaults): tunnelling
  current through a gap g.
* VTEAM (Kvatinsky et al., IEEE TCAS-II 2015; MemTorch ``VTEAM.py`` defaults): threshold state law.
* Yakopcic generalised model (EDL 2011, TCAD 2013; parameters for the Oblea et al. device).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "JART_N_MIN",
    "jart_read_current",
    "jart_set_current",
    "jart_dndt_reset",
    "pku_current",
    "pku_gap_for_resistance",
    "vteam_dxdt",
    "yakopcic_current",
    "yakopcic_threshold",
    "yakopcic_window",
    "yakopcic_dxdt",
]

JART_N_MIN = 0.008e26  # N_disc,min (m^-3)
_JART = {
    "g0": 4.84e-3, "g1": 0.1353,
    "h0": 5.548, "h1": 6.8648, "h2": 51.586, "h3": 0.36,
    "j0": 1.054, "k0": 1.0526,
    "a0": 4.81951e-5, "a2": 1.03685, "a3": 0.34567,
    "b0": 7.0526e-4, "b1": 4.2383e-5,
    "c0": 4.004, "c1": 2.8646, "c2": 4.2125, "c3": 1.4134,
    "d0": 6.6103, "d1": 1.4524, "d2": 7.4235, "d3": 4.0585,
    "f0": 6.326e-4, "f1": 1.4711, "f2": 0.5199, "f3": 1.561,
}  # fmt: skip


def jart_read_current(v: np.ndarray, n_disc: np.ndarray) -> np.ndarray:
    """JART read/RESET branch: I = g(V)/[1 + h(V)·(N/N_min)^(-j0)]^(1/k0), N_disc in m^-3."""
    p = _JART
    v = np.asarray(v, dtype=float)
    g = -p["g0"] * (np.exp(-p["g1"] * v) - 1.0)
    h = p["h0"] + p["h1"] * v + p["h2"] * np.exp(-p["h3"] * v)
    return g / (1.0 + h * (np.asarray(n_disc, dtype=float) / JART_N_MIN) ** (-p["j0"])) ** (1.0 / p["k0"])


def jart_set_current(v: np.ndarray, n_disc: np.ndarray) -> np.ndarray:
    """JART SET branch (V < 0): I = -alpha(V) - beta(V)/[1 + (c(V)/N)^d(V)]^f(V).

    N is taken in units of 1e26 m^-3 here [unverified in the spec].
    """
    p = _JART
    v = np.asarray(v, dtype=float)
    n = np.asarray(n_disc, dtype=float) / 1e26
    a1 = p["a0"] * math.exp(-p["a2"] / p["a3"])
    alpha = (a1 + p["a0"]) / (1.0 + np.exp(-(v + p["a2"]) / p["a3"])) - p["a0"]
    beta = p["b1"] * (1.0 - np.exp(-v)) - p["b0"] * v
    c = p["c2"] * np.exp(-v / p["c3"]) + p["c1"] * v - p["c0"]
    d = p["d2"] * np.exp(-v / p["d3"]) + p["d1"] * v - p["d0"]
    f = p["f0"] + (p["f1"] - p["f0"]) / (1.0 + (-v / p["f2"]) ** p["f3"])
    return -alpha - beta / (1.0 + (c / n) ** d) ** f


_K_B_EV = 8.617333262e-5  # Boltzmann constant (eV/K)
_JART_PHYS = {
    "T0": 293.0, "N_plug": 20e26, "a": 0.25e-9, "nu0": 2e13, "dW_A": 1.35, "l_disc": 0.4e-9, "l_cell": 3e-9,
    "R_TiOx": 650.0, "R0": 719.2437, "Rth_line": 90471.47, "alpha_line": 3.92e-3, "Rth0": 15.72e6,
    "Rth_reset": 0.27, "z": 2.0,
}  # fmt: skip


def jart_dndt_reset(v: float, n_disc: np.ndarray) -> np.ndarray:
    """JART ion-hopping rate dN_disc/dt (m^-3/s) for V > 0 (read/RESET branch, docs/devices.md#compact-models).

    E_ion = V_rest/l_cell, V_rest = V - I·[R_TiOx + R0·(1 + alpha_line·R_th,line·R0·I²)],
    T = T0 + I·V_rest·R_th0·Rtheff_scaling, F_lim = 1 - (N_min/N)^10,
    dN/dt = -(c_VO·a·nu0·F_lim/l_disc)·[exp(-dW_f/kT) - exp(-dW_r/kT)].
    """
    p = _JART_PHYS
    n = np.asarray(n_disc, dtype=float)
    i = jart_read_current(v, n)
    v_rest = v - i * (p["R_TiOx"] + p["R0"] * (1.0 + p["alpha_line"] * p["Rth_line"] * p["R0"] * i**2))
    temp = p["T0"] + i * v_rest * p["Rth0"] * p["Rth_reset"]
    gamma = p["z"] * p["a"] * (v_rest / p["l_cell"]) / (math.pi * p["dW_A"])
    base = np.sqrt(1.0 - gamma**2) + gamma * np.arcsin(gamma)
    dw_f = p["dW_A"] * (base - gamma * math.pi / 2)
    dw_r = p["dW_A"] * (base + gamma * math.pi / 2)
    kt = _K_B_EV * temp
    c_vo = 0.5 * (p["N_plug"] + n)
    f_lim = 1.0 - (JART_N_MIN / n) ** 10
    return -(c_vo * p["a"] * p["nu0"] * f_lim / p["l_disc"]) * (np.exp(-dw_f / kt) - np.exp(-dw_r / kt))


def pku_current(gap: np.ndarray, v: np.ndarray, i0: float = 1e-3, g0: float = 0.25e-9, v0: float = 0.25) -> np.ndarray:
    """Stanford-PKU tunnelling current I = I0·exp(-g/g0)·sinh(V/V0) (gap g in m)."""
    return i0 * np.exp(-np.asarray(gap, dtype=float) / g0) * np.sinh(np.asarray(v, dtype=float) / v0)


def pku_gap_for_resistance(r: float, v: float, i0: float = 1e-3, g0: float = 0.25e-9, v0: float = 0.25) -> float:
    """Gap (m) at which the Stanford-PKU device has resistance V/I = ``r`` (ohm) at read voltage ``v``."""
    return -g0 * math.log(v / (r * i0 * math.sinh(v / v0)))


def vteam_dxdt(
    v: np.ndarray,
    k_on: float = -10.0,
    k_off: float = 5e-4,
    alpha_on: float = 3.0,
    alpha_off: float = 1.0,
    v_on: float = -0.2,
    v_off: float = 0.02,
) -> np.ndarray:
    """VTEAM state velocity (m/s) without window function (MemTorch defaults; x is hard-clipped by the caller)."""
    v = np.asarray(v, dtype=float)
    off = k_off * np.power(np.maximum(v / v_off - 1.0, 0.0), alpha_off)
    on = k_on * np.power(np.maximum(v / v_on - 1.0, 0.0), alpha_on)
    return np.where(v > v_off, off, np.where(v < v_on, on, 0.0))


def yakopcic_current(v: np.ndarray, x: np.ndarray, a1: float = 0.17, a2: float = 0.17, b: float = 0.05) -> np.ndarray:
    """Yakopcic current I = a1·x·sinh(bV) (V >= 0), a2·x·sinh(bV) (V < 0)."""
    v = np.asarray(v, dtype=float)
    return np.where(v >= 0, a1, a2) * np.asarray(x, dtype=float) * np.sinh(b * v)


def yakopcic_threshold(
    v: np.ndarray, vp: float = 0.16, vn: float = 0.15, ap: float = 4000.0, an: float = 4000.0
) -> np.ndarray:
    """Yakopcic threshold function g(V) (1/s)."""
    v = np.asarray(v, dtype=float)
    return np.where(v > vp, ap * (np.exp(v) - math.exp(vp)), np.where(v < -vn, -an * (np.exp(-v) - math.exp(vn)), 0.0))


def yakopcic_window(
    v: np.ndarray, x: np.ndarray, xp: float = 0.3, xn: float = 0.5, alpha_p: float = 1.0, alpha_n: float = 5.0
) -> np.ndarray:
    """Yakopcic window f(x) for the sign of V."""
    v, x = np.asarray(v, dtype=float), np.asarray(x, dtype=float)
    fp = np.where(x >= xp, np.exp(-alpha_p * (x - xp)) * ((xp - x) / (1.0 - xp) + 1.0), 1.0)
    fn = np.where(x <= 1.0 - xn, np.exp(alpha_n * (x + xn - 1.0)) * x / (1.0 - xn), 1.0)
    return np.where(v > 0, fp, fn)


def yakopcic_dxdt(v: np.ndarray, x: np.ndarray, eta: float = 1.0) -> np.ndarray:
    """Yakopcic state equation dx/dt = eta·g(V)·f(x) with the default parameters."""
    return eta * yakopcic_threshold(v) * yakopcic_window(v, x)
