"""Fit the programming-noise law sigma_prog(G_T) to target-vs-achieved conductance data.

Statistical model: G_P = max(0, G_T + sigma_prog(G_T)·xi), xi ~ N(0, 1), with sigma_prog the
model's own law, whose coefficients are fitted:

* ``pcm`` (docs/devices.md#pcm step 1): ``programming_sigma(G_T, cfg)``, field ``prog_coeffs``
  (the scale factors s_prog and g_max/g_ref of the base preset stay as they are);
* ``rram`` (§2.5(b), §2.6 statistical write-verify): ``verify_residual_sigma(G_T, cfg)``, field
  ``pv_sigma`` (the written preset switches ``verify`` to ``statistical`` so the fitted law is used).

Reads of exactly 0 are left-censored: they contribute log Phi(-G_T/sigma_prog). If the file's
metadata gives ``read_time`` (s after programming), the base preset's read noise at that time
(and, for RRAM, its relaxation spread and mean shift) is added: sigma² = sigma_prog² + sigma_read(t)².

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


def _family(model: Any) -> tuple[str, Any, Any, dict[str, Any]]:
    """(field, sigma_fn(g, cfg), extra(g, t, cfg) -> (shift, sd) in S, extra preset updates) of the model family."""
    family = model.family
    if family == "pcm":
        from device_models.pcm import programming_sigma, read_noise_sigma

        def pcm_extra(g: np.ndarray, t: float, cfg: Any) -> tuple[np.ndarray, np.ndarray]:
            return np.zeros_like(g), g * read_noise_sigma(g, t, cfg)

        return "prog_coeffs", programming_sigma, pcm_extra, {}
    if family == "rram":
        from device_models.rram import read_noise_sigma, relaxation_shift, relaxation_sigma, verify_residual_sigma

        def rram_extra(g: np.ndarray, t: float, cfg: Any) -> tuple[np.ndarray, np.ndarray]:
            sd = np.sqrt(read_noise_sigma(g, t, cfg) ** 2 + relaxation_sigma(t, cfg) ** 2)
            return np.full_like(g, relaxation_shift(t, cfg)), sd

        return "pv_sigma", verify_residual_sigma, rram_extra, {"verify": "statistical"}
    raise FitError("model", f"programming-noise fits support the 'pcm' and 'rram' model families, got {family!r}")


def _initial_coeffs(gt: np.ndarray, ga: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Method-of-moments start: least squares of the binned RMS error on the law's basis functions."""
    n_bins = max(basis.shape[1] + 1, min(10, len(gt) // 10))
    edges = np.quantile(gt, np.linspace(0, 1, n_bins + 1))
    idx = np.clip(np.searchsorted(edges, gt, side="right") - 1, 0, n_bins - 1)
    rows, rms = [], []
    for b in range(n_bins):
        m = idx == b
        if m.sum() >= 2:
            rows.append(basis[m].mean(axis=0))
            rms.append(np.sqrt(np.mean((ga[m] - gt[m]) ** 2)))
    coef = np.linalg.lstsq(np.array(rows), np.array(rms), rcond=None)[0]
    if (basis @ coef).min() <= 0 or (coef < 0).any():  # fall back to a constant sigma
        coef = np.zeros(basis.shape[1])
        coef[0] = np.sqrt(np.mean((ga - gt) ** 2)) / basis[:, 0].mean()
    return coef


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
    """Fit the programming-noise coefficients of ``model`` (from ``device_models.load_preset``) to ``m``."""
    if m.kind != "programming":
        raise FitError("data", f"fit_programming needs a 'programming' measurement, got {m.kind!r}")
    name, sigma_fn, extra_fn, extra_updates = _family(model)
    base = model.config
    degree = len(getattr(base, name))
    gt, ga = m["g_target"], m["g_achieved"]
    read_time = _read_time(m)
    shift, extra_sd = extra_fn(gt, read_time, base) if read_time is not None else (0.0, None)
    zero = ga <= 0.0

    def with_coeffs(theta: np.ndarray) -> Any:
        return base.replace(**{name: tuple(float(c) for c in theta)})

    basis = np.column_stack([sigma_fn(gt, with_coeffs(np.eye(degree)[i])) for i in range(degree)])
    if not np.any(basis):
        raise FitError(name, "the base preset's noise law does not depend on these coefficients (scale factor 0?)")

    def sigma(theta: np.ndarray) -> np.ndarray:
        sp = sigma_fn(gt, with_coeffs(theta))
        return np.sqrt(sp**2 + extra_sd**2) if extra_sd is not None else sp

    def nll(theta: np.ndarray) -> float:
        s = sigma(theta)
        if np.any(s <= 0):
            return math.inf
        z = (ga[~zero] - gt[~zero] - shift_of(~zero)) / s[~zero]
        out = np.sum(0.5 * z**2 + np.log(s[~zero]) + _LOG_SQRT_2PI)
        if zero.any():
            out -= np.sum(log_ndtr(-(gt[zero] + shift_of(zero)) / s[zero]))
        return float(out)

    def shift_of(mask: np.ndarray) -> np.ndarray | float:
        return shift[mask] if isinstance(shift, np.ndarray) else shift

    init = _initial_coeffs(gt, ga, basis)
    typical = np.abs(init).max() or 1.0
    params = [
        Param(
            f"c{i}",
            float(v),
            unit="S" if name == "prog_coeffs" or i == 0 else "",
            typical=typical if name == "prog_coeffs" else (abs(float(v)) or 1e-3),
        )
        for i, v in enumerate(init)
    ]

    def std_resid(theta: np.ndarray) -> np.ndarray:
        return (ga - gt - shift_of(np.ones(len(gt), dtype=bool))) / sigma(theta)

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
            (gt[order], sigma(np.asarray(getattr(base, name)))[order], "base preset ±sigma_prog", "C3"),
            (gt[order], -sigma(np.asarray(getattr(base, name)))[order], "_base preset -sigma_prog", "C3"),
        ],
    }

    def simulate(th: np.ndarray, rng: np.random.Generator) -> Measurement:
        g = np.maximum(0.0, gt + shift_of(np.ones(len(gt), dtype=bool)) + sigma(th) * rng.standard_normal(gt.shape))
        return Measurement("programming", {"g_target": gt, "g_achieved": g}, "bootstrap", m.rows, dict(m.meta))

    def refit(d: Measurement) -> np.ndarray:
        return fit_programming(d, model, level=level).result.values

    updates = {name: [float(c) for c in theta], **extra_updates}
    return KindFit("programming", m.source, res, updates, residuals, simulate, refit)
