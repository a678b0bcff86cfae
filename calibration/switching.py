"""Fit the switching law of the binary RRAM model to switching-probability counts vs pulse voltage and width.

Model (``device_models.rram_binary``): a device with threshold V_th switches in one pulse of
amplitude V and width w with p = 1 - 2^(-(w/t_sw)^beta), t_sw = t_ref·exp(-(|V| - V_th)/v0)
(``switching_probability``). Trials are pooled over devices, so the population probability is the
average over V_th ~ N(v_th, v_dtod²) (Gauss-Hermite quadrature), and the counts are binomial:
n_switched ~ Binomial(n_trials, p(V, w)). The metadata ``transition`` (``set``, default, or
``reset``) selects which threshold (``v_set``/``v_set_dtod`` or ``v_reset``/``v_reset_dtod``) is
fitted. t_ref stays at the base preset value (only V_th + v0·ln t_ref is identifiable).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import gammaln

from calibration.errors import FitError
from calibration.fitresult import KindFit
from calibration.measurements import Measurement
from calibration.mle import Param, binomial_gof, fit_mle

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(32)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def population_probability(v: np.ndarray, w: np.ndarray, cfg: Any, v_th: float, v_dtod: float) -> np.ndarray:
    """Switching probability averaged over device thresholds V_th ~ N(v_th, v_dtod²)."""
    from device_models.rram_binary import switching_probability

    th = v_th + v_dtod * _NODES
    p = switching_probability(np.asarray(v)[:, None], np.asarray(w)[:, None], th[None, :], cfg)
    return p @ _WEIGHTS


def fit_switching(m: Measurement, model: Any, *, level: float = 0.95, ci: str = "wald") -> KindFit:
    """Fit (v_th, v0, beta, v_dtod) of an ``rram_binary`` model to switching counts ``m``."""
    if m.kind != "switching":
        raise FitError("data", f"fit_switching needs a 'switching' measurement, got {m.kind!r}")
    if model.family != "rram_binary":
        raise FitError("model", "switching fits support the 'rram_binary' model family")
    transition = str(m.meta.get("transition", "set"))
    if transition not in ("set", "reset"):
        raise FitError(f"{m.source}: metadata 'transition'", f"must be 'set' or 'reset', got {transition!r}")
    base = model.config
    th_name, dtod_name = f"v_{transition}", f"v_{transition}_dtod"
    v, w, n, k = m["voltage"], m["width"], m["n_trials"], m["n_switched"]
    frac = k / n
    if frac.max() < 0.05 or frac.min() > 0.95:
        raise FitError(
            f"{m.source}: column 'n_switched'", "all conditions are near 0 % or 100 %; the law is not constrained"
        )
    log_binom = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    params = [
        Param(th_name, float(getattr(base, th_name)), typical=0.1, unit="V"),
        Param("v0", base.v0, lower=0.0, log=True, unit="V"),
        Param("beta", base.beta, lower=0.0, log=True),
        Param(dtod_name, max(float(getattr(base, dtod_name)), 1e-3), lower=0.0, log=True, unit="V"),
    ]

    def prob(theta: np.ndarray) -> np.ndarray:
        cfg = base.replace(v0=float(theta[1]), beta=float(theta[2]))
        return np.clip(population_probability(v, w, cfg, float(theta[0]), float(theta[3])), 1e-300, 1 - 1e-16)

    def nll(theta: np.ndarray) -> float:
        p = prob(theta)
        return float(-np.sum(log_binom + k * np.log(p) + (n - k) * np.log1p(-p)))

    res = fit_mle(nll, params, len(m), level=level, ci=ci, gof=lambda th: binomial_gof(k, n, prob(th), len(params)))
    theta = res.values
    p_hat = prob(theta)
    z = (k - n * p_hat) / np.sqrt(np.maximum(n * p_hat * (1 - p_hat), 1e-12))
    curves = []
    for j, width in enumerate(np.unique(w)[:6]):
        grid = np.linspace(v.min(), v.max(), 100)
        pc = population_probability(
            grid, np.full_like(grid, width), base.replace(v0=theta[1], beta=theta[2]), theta[0], theta[3]
        )
        curves.append((grid, pc, f"fit, width {width * 1e9:.3g} ns", f"C{j + 1}"))
    residuals = {
        "x": v,
        "x_label": "pulse voltage",
        "x_unit": ("V", 1.0),
        "z": z,
        "data_x": v,
        "data_y": frac,
        "data_label": "switched fraction",
        "y_unit": ("", 1.0),
        "curves": curves,
    }
    updates = {th_name: float(theta[0]), "v0": float(theta[1]), "beta": float(theta[2]), dtod_name: float(theta[3])}

    def simulate(th: np.ndarray, rng: np.random.Generator) -> Measurement:
        return Measurement(
            "switching",
            {**m.data, "n_switched": rng.binomial(n.astype(int), prob(th)).astype(float)},
            "bootstrap",
            m.rows,
            dict(m.meta),
        )

    def refit(d: Measurement) -> np.ndarray:
        return fit_switching(d, model, level=level).result.values

    return KindFit("switching", m.source, res, updates, residuals, simulate, refit)
