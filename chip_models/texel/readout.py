"""Differential normaliser read of a plastic synapse's device pair (docs/texel.md §4) and its EPSC charge
(docs/texel.md §3).

Each branch is a first-order R·C response that settles toward V_read/R during the read pulse
(docs/texel.md §4 placeholder law); its mean over a pulse of length T is
``Ī = (V/R)·[1 − (τ/T)·(1 − e^(−T/τ))]`` with τ = R·C. The normaliser then outputs, as a fraction
of ``norm_bias``, either the rectified ratio ``max(0, (Ī_pos − Ī_neg)/(Ī_pos + Ī_neg + I_floor))``
or the hard threshold ``[Ī_pos > Ī_neg]``.
"""

from __future__ import annotations

import numpy as np

from chip_models.texel.config import ReadConfig


def rc_mean_current(v_read: float, r: np.ndarray, c_dev: float | np.ndarray, t_read: float) -> np.ndarray:
    """Mean branch current over a read pulse of length ``t_read`` through R (Ω) charging C (F)."""
    r = np.asarray(r, dtype=float)
    tau = r * np.asarray(c_dev, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        settle = np.where(tau > 0, 1.0 + (tau / t_read) * np.expm1(-t_read / np.where(tau > 0, tau, 1.0)), 1.0)
    return v_read / r * settle


def normalise(i_pos: np.ndarray, i_neg: np.ndarray, law: str, i_floor: float) -> np.ndarray:
    """Normaliser output I_norm/norm_bias for branch currents ``i_pos``, ``i_neg`` (A)."""
    i_pos = np.asarray(i_pos, dtype=float)
    i_neg = np.asarray(i_neg, dtype=float)
    if law == "hard_threshold":
        return (i_pos > i_neg).astype(float)
    return np.maximum(0.0, (i_pos - i_neg) / (i_pos + i_neg + i_floor))


def read_fraction(r_pos: np.ndarray, r_neg: np.ndarray, c_dev: float | np.ndarray, cfg: ReadConfig) -> np.ndarray:
    """I_norm/norm_bias for device pairs of resistances ``r_pos``, ``r_neg`` (docs/texel.md §4, test 8)."""
    i_pos = rc_mean_current(cfg.v_read, r_pos, c_dev, cfg.t_read)
    i_neg = rc_mean_current(cfg.v_read, r_neg, c_dev, cfg.t_read)
    return normalise(i_pos, i_neg, cfg.law, cfg.i_floor)


def epsc_charge(fraction: np.ndarray, norm_bias: float, gain_ratio: float, t_read: float) -> np.ndarray:
    """Total EPSC charge of one read spike, Q = (I_gain/I_tau)·I_norm·T_read (docs/texel.md §3, linear DPI)."""
    return gain_ratio * np.asarray(fraction, dtype=float) * norm_bias * t_read
