"""Fit the programming-noise law sigma_prog(G_T) to target-vs-achieved conductance data.

Statistical model (spec devices.md §1.1 step 1, the law of ``device_models.pcm``):
G_P = max(0, G_T + sigma_prog(G_T)·xi), xi ~ N(0, 1), with sigma_prog the model's own
polynomial ``programming_sigma(G_T, cfg)`` whose coefficients ``prog_coeffs`` are fitted (the
scale factors s_prog and g_max/g_ref of the base preset stay as they are). Reads of exactly 0 are
left-censored: they contribute log Phi(-G_T/sigma_prog). If the file's metadata gives
``read_time`` (s after programming), the base preset's read noise at that time is added in
quadrature: sigma² = sigma_prog² + (G_T·sigma_rd(t))².

The likelihood is maximised with :func:`calibration.mle.fit_mle`; sigma_prog must be positive at
every measured target.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import log_ndtr

from calibration.errors import FitError
from calibration.fitresult import KindFit
from calibration.measurements import Measurement
from calibration.mle import Param, fit_mle, gaussian_gof

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _family_functions(family: str):
    if family == "pcm":
        from device_models.pcm import programming_sigma, read_noise_sigma

        return programming_sigma, read_noise_sigma
    raise FitError("model", f"programming-noise fits support model family 'pcm', got {family!r}")


def _initial_coeffs(gt: np.ndarray, ga: np.ndarray, g_max: float, degree: int, scale: float) -> np.ndarray:
    """Method-of-moments start: polynomial through the binned RMS error vs x = G_T/g_max."""
    x = gt / g_max
    n_bins = max(degree + 1, min(10, len(x) // 10))
    edges = np.quantile(x, np.linspace(0, 1, n_bins + 1))
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, n_bins - 1)
    xc, sc = [], []
    for b in range(n_bins):
        m = idx == b
        if m.sum() >= 2:
            xc.append(x[m].mean())
            sc.append(np.sqrt(np.mean((ga[m] - gt[m]) ** 2)))
    deg = min(degree - 1, len(xc) - 1)
    c = np.polynomial.polynomial.polyfit(xc, sc, deg) / scale
    out = np.zeros(degree)
    out[: len(c)] = c
    if np.polynomial.polynomial.polyval(x, out).min() <= 0:  # fall back to a constant sigma
        out[:] = 0.0
        out[0] = np.sqrt(np.mean((ga - gt) ** 2)) / scale
    return out


def _read_time(m: Measurement) -> float | None:
    """The ``read_time`` metadata (s after programming), validated."""
    if "read_time" not in m.meta:
        return None
    try:
        t = float(m.meta["read_time"])
    except (TypeError, ValueError):
        t = math.nan
    if not (math.isfinite(t) and t >= 0):
        raise FitError(f"{m.source}: metadata 'read_time'", f"must be a time >= 0 in s, got {m.meta['read_time']!r}")
    return t


def fit_programming(m: Measurement, model: Any, *, level: float = 0.95, ci: str = "wald") -> KindFit:
    """Fit ``prog_coeffs`` of ``model`` (a device model from ``device_models.load_preset``) to ``m``."""
    if m.kind != "programming":
        raise FitError("data", f"fit_programming needs a 'programming' measurement, got {m.kind!r}")
    family = getattr(model.config, "__module__", "").rsplit(".", 1)[-1]
    sigma_fn, read_fn = _family_functions(family)
    base = model.config
    degree = len(base.prog_coeffs)
    gt, ga = m["g_target"], m["g_achieved"]
    read_time = _read_time(m)
    rel_read = read_fn(gt, read_time, base) if read_time is not None else np.zeros_like(gt)
    zero = ga <= 0.0
    # sigma_prog = s_prog·poly·(g_max/g_ref): fit the coefficients in S, report them in S.
    scale = base.s_prog * (base.g_max / base.g_ref if base.g_ref is not None else 1.0)
    if scale <= 0:
        raise FitError("s_prog", "the base preset has s_prog = 0; programming noise cannot be fitted")

    def sigma(theta: np.ndarray) -> np.ndarray:
        sp = sigma_fn(gt, base.replace(prog_coeffs=tuple(float(c) for c in theta)))
        return np.sqrt(sp**2 + (gt * rel_read) ** 2) if read_time is not None else sp

    def nll(theta: np.ndarray) -> float:
        s = sigma(theta)
        if np.any(s <= 0):
            return math.inf
        z = (ga[~zero] - gt[~zero]) / s[~zero]
        out = np.sum(0.5 * z**2 + np.log(s[~zero]) + _LOG_SQRT_2PI)
        if zero.any():
            out -= np.sum(log_ndtr(-gt[zero] / s[zero]))
        return float(out)

    init = _initial_coeffs(gt, ga, base.g_max, degree, scale)
    typical = float(np.sqrt(np.mean((ga - gt) ** 2)))
    params = [Param(f"c{i}", float(v), unit="S", typical=typical / scale) for i, v in enumerate(init)]

    def std_resid(theta: np.ndarray) -> np.ndarray:
        return (ga - gt) / sigma(theta)

    res = fit_mle(nll, params, len(m), level=level, ci=ci, gof=lambda th: gaussian_gof(std_resid(th)[~zero], degree))
    theta = res.values
    order = np.argsort(gt)
    residuals = {
        "x": gt,
        "x_label": "target conductance G_T",
        "x_unit": ("uS", 1e-6),
        "z": std_resid(theta),
        "data_x": gt,
        "data_y": ga - gt,
        "data_label": "programming error G_P - G_T",
        "y_unit": ("uS", 1e-6),
        "curves": [
            (gt[order], sigma(theta)[order], "fitted ±sigma_prog", "C1"),
            (gt[order], -sigma(theta)[order], "_fitted -sigma_prog", "C1"),
            (gt[order], sigma(np.asarray(base.prog_coeffs))[order], "base preset ±sigma_prog", "C3"),
            (gt[order], -sigma(np.asarray(base.prog_coeffs))[order], "_base preset -sigma_prog", "C3"),
        ],
    }

    def simulate(th: np.ndarray, rng: np.random.Generator) -> Measurement:
        g = np.maximum(0.0, gt + sigma(th) * rng.standard_normal(gt.shape))
        return Measurement("programming", {"g_target": gt, "g_achieved": g}, "bootstrap", m.rows, dict(m.meta))

    def refit(d: Measurement) -> np.ndarray:
        return fit_programming(d, model, level=level).result.values

    updates = {"prog_coeffs": [float(c) for c in theta]}
    return KindFit("programming", m.source, res, updates, residuals, simulate, refit)
