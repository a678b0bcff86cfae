"""The BCaLL-style learning rule of docs/texel.md §3 in plain numpy (the reference of the chip kernel).

Sources: Soares Girão, Risi & Chicca 2025 (arXiv 2504.06796, "BCaLL") and its Brian2 code
(github.com/WillianSG/learning_rule, LR3), as restated in docs/texel.md §3; the event order,
trace floor and calcium values are the spec's [proposal]. Between events every trace decays
exactly, x(t+Δ) = x(t)·e^(−Δ/τ), and the capacitor variable ρ drifts bistably
dρ/dt = (+α·[θ_ρ < ρ < 1] − β·[0 < ρ ≤ θ_ρ])/τ_ρ, which never crosses θ_ρ.
"""

from __future__ import annotations

import math

import numpy as np

from chip_models.texel.config import LearningConfig
from chip_models.texel.rules import rule_for


def decay(x: np.ndarray | float, dt: np.ndarray | float, tau: np.ndarray | float) -> np.ndarray:
    """Exact exponential decay of a trace over ``dt`` seconds."""
    return np.asarray(x, dtype=float) * np.exp(-np.asarray(dt, dtype=float) / tau)


def drift(rho: np.ndarray, dt: np.ndarray | float, cfg: LearningConfig) -> np.ndarray:
    """Exact bistable drift of ρ over ``dt``: up to 1 above θ_ρ, down to 0 at or below it."""
    rho = np.asarray(rho, dtype=float)
    up = np.minimum(1.0, rho + cfg.alpha * np.asarray(dt) / cfg.tau_rho)
    down = np.maximum(0.0, rho - cfg.beta * np.asarray(dt) / cfg.tau_rho)
    return np.where(rho > cfg.theta_rho, up, down)


def gate(x_ca: float, cfg: LearningConfig) -> bool:
    """Stop-learning gate G = [θ_ca,low < x_ca < θ_ca,high] ∧ plastic_enable."""
    return bool(cfg.plastic_enable and cfg.theta_ca_low < x_ca < cfg.ca_high)


def on_pre(
    x_pre: float, rho: float, importance: float, x_post: float, x_ca: float, cfg: LearningConfig
) -> tuple[float, float, float]:
    """A presynaptic spike (traces already decayed to its time): returns the new (x_pre, ρ, importance);
    the proposed change goes through the synapse's learning rule (``rules.py``)."""
    x_pre = x_pre + cfg.a_pre * (1.0 - x_pre)
    if gate(x_ca, cfg) and x_post > cfg.theta_post:
        rho, importance = rule_for(cfg).apply(rho, cfg.rho_neg, importance, cfg)
        rho = min(1.0, max(0.0, float(rho)))
    return x_pre, rho, float(importance)


def on_post(
    x_pre: np.ndarray, rho: np.ndarray, importance: np.ndarray, x_post: float, x_ca: float, cfg: LearningConfig
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """A postsynaptic spike broadcast to the neuron's synapses: returns (ρ, importance, x_post, x_ca)."""
    x_ca = x_ca + cfg.a_ca * (cfg.x_ca_max - x_ca)
    x_post = min(1.0, x_post + cfg.a_post)
    rho = np.asarray(rho, dtype=float)
    if gate(x_ca, cfg):
        x_pre = np.asarray(x_pre, dtype=float)
        dep = (x_pre > cfg.x_floor) & (x_pre < cfg.theta_pre)
        rho, importance = rule_for(cfg).apply(rho, cfg.c * x_pre + cfg.rho_neg2 * dep, importance, cfg)
        rho = np.clip(rho, 0.0, 1.0)
    return rho, importance, x_post, x_ca


def stdp_windows(cfg: LearningConfig) -> dict[str, float]:
    """Window edges of the isolated-pair STDP branches (docs/texel.md §3), in seconds of |Δt|."""
    ltp = cfg.tau_pre * math.log(cfg.a_pre / cfg.theta_pre) if cfg.a_pre > cfg.theta_pre else 0.0
    ltd = cfg.tau_pre * math.log(cfg.a_pre / cfg.x_floor) if cfg.a_pre > cfg.x_floor > 0 else math.inf
    anti = cfg.tau_post * math.log(cfg.a_post / cfg.theta_post) if cfg.a_post > cfg.theta_post else 0.0
    return {"causal_ltp": ltp, "causal_ltd": ltd, "anticausal_ltd": anti}
