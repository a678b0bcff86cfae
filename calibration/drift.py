"""Fit PCM drift-exponent statistics and 1/f read-noise amplitude to conductance-vs-time data.

Model (docs/devices.md#pcm steps 2-4, the functions of ``device_models.pcm``): a device with
programmed conductance G_P and drift exponent nu ~ N(mu_nu(g), sigma_nu(g)²) reads
G(t) = G_P·((t + t0)/t0)^(-nu)·(1 + sigma_rd·xi), sigma_rd = s_read·Q_s(G_P)·f(t). On a log scale,
ln G_j = ln G_P - nu·L_j + Q_s·s_read·f_j·xi_j with L_j = ln((t_j + t0)/t0) (small-noise approximation
ln(1 + e) ~ e, accurate for sigma_rd << 1, i.e. G_T >~ 2 µS with the aihwkit PCM values).

Stage 1, per device: weighted least squares (weights 1/f_j²) gives ln G_P, nu_hat and the weighted
residual sum RSS, with RSS/Q² ~ chi²(n - 2) and Var(nu_hat) = Q²·v (v from the design). Stage 2:
nu_hat ~ N(mu_nu(g), sigma_nu(g)² + Q²·v). mu_nu and sigma_nu are the model's
``CustomDrift`` form (aihwkit ``CustomDriftPCMLikeNoiseModel``): linear interpolation over knots
``custom_g`` (quantiles of the devices' g_target), whose values are fitted; Q_s(G_P) is the model's
``read_noise_q`` with (q0, exponent) fitted and floor/cap from the base preset. Both stages form one
likelihood, maximised jointly. The fold nu = |.| is neglected (valid for mu_nu > 2·sigma_nu).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from calibration.errors import FitError
from calibration.fitresult import KindFit
from calibration.measurements import Measurement
from calibration.mle import Param, fit_mle, gaussian_gof


def _pcm():
    from device_models import pcm

    return pcm


def _time_factors(t: np.ndarray, cfg: Any) -> tuple[np.ndarray, np.ndarray]:
    """(L, f): drift log-time ln((t + t0)/t0) and read-noise time factor of each read, from device_models.pcm."""
    pcm = _pcm()
    g = np.array([cfg.g_max])
    q = float(pcm.read_noise_q(g, cfg)[0]) * cfg.s_read
    L = np.array([-math.log(float(pcm.drift_factor(1.0, ti, cfg))) for ti in t])
    f = np.array([float(pcm.read_noise_sigma(g, ti, cfg)[0]) / q for ti in t])
    return L, f


def _per_device(m: Measurement, cfg: Any) -> dict[str, np.ndarray]:
    """Stage 1: WLS of ln G on -L per device, with weights 1/f²."""
    groups = m.groups()
    out = {k: np.empty(len(groups)) for k in ("ln_gp", "nu", "rss", "v", "dof", "g")}
    for i, idx in enumerate(groups):
        t, g = m["t"][idx], m["g"][idx]
        if (g <= 0).any():
            row = int(m.rows[idx[np.argmax(g <= 0)]])
            raise FitError(f"{m.source}: row {row}, column 'g'", "drift fits need conductances > 0 (log scale)")
        L, f = _time_factors(t, cfg)
        w = 1.0 / f**2
        X = np.column_stack([np.ones_like(L), -L])
        A = X.T @ (w[:, None] * X)
        if np.linalg.cond(A) > 1e12:
            raise FitError(f"{m.source}: device {m['device'][idx[0]]:g}", "its read times do not span a time range")
        cov = np.linalg.inv(A)
        beta = cov @ (X.T @ (w * np.log(g)))
        r = np.log(g) - X @ beta
        out["ln_gp"][i], out["nu"][i] = beta
        out["rss"][i] = float(np.sum(w * r**2))
        out["v"][i] = cov[1, 1]
        out["dof"][i] = len(idx) - 2
        out["g"][i] = m["g_target"][idx[0]] if "g_target" in m.data else math.exp(beta[0])
    return out


def fit_drift(
    m: Measurement, model: Any, *, level: float = 0.95, ci: str = "wald", n_knots: int | None = None
) -> KindFit:
    """Fit drift-exponent knots and read-noise (q0, exponent) of a PCM ``model`` to drift data ``m``."""
    if m.kind != "drift":
        raise FitError("data", f"fit_drift needs a 'drift' measurement, got {m.kind!r}")
    if model.family != "pcm":
        raise FitError("model", "drift fits support the 'pcm' model family")
    base = model.config
    if base.s_read <= 0 or base.s_drift <= 0:
        raise FitError("s_read", "the base preset must have s_read > 0 and s_drift > 0 to fit read noise and drift")
    pcm = _pcm()
    d = _per_device(m, base)
    n_dev = len(d["nu"])
    k = n_knots if n_knots is not None else int(np.clip(n_dev // 40, 1, 5))
    if n_dev < 5 * k:
        raise FitError("data", f"too few devices: {n_dev} for {k} drift knots (need >= {5 * k})")
    knots = np.unique(np.quantile(d["g"], np.linspace(0, 1, k))) if k > 1 else np.array([np.median(d["g"])])
    k = len(knots)
    gp = np.exp(d["ln_gp"])
    floor, cap = base.q_read[2], base.q_read[3]
    mu0 = float(np.mean(d["nu"]))
    sd0 = float(max(np.std(d["nu"]), 0.1 * abs(mu0), 1e-3))
    q_init = float(np.sqrt(np.mean(d["rss"] / np.maximum(d["dof"], 1))) / base.s_read)
    gr_med = float(np.median(np.maximum(gp / base.g_max, 1e-7)))
    params = (
        [Param("q0", max(q_init * gr_med ** base.q_read[1], 1e-6), lower=0.0, log=True)]
        + [Param("q_exponent", base.q_read[1], typical=0.5)]
        + [Param(f"nu_mean[{j}]", mu0, typical=max(abs(mu0), 0.01)) for j in range(k)]
        + [Param(f"nu_std[{j}]", sd0, lower=0.0, log=True) for j in range(k)]
    )

    def unpack(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cfg = base.replace(
            q_read=(float(theta[0]), float(theta[1]), floor, cap),
            custom_g=tuple(float(x) for x in knots),
            custom_nu_mean=tuple(float(x) for x in theta[2 : 2 + k]),
            custom_nu_std=tuple(float(x) for x in theta[2 + k :]),
        )
        q = base.s_read * pcm.read_noise_q(gp, cfg)
        mu, sd = pcm.drift_exponent_stats(d["g"], cfg)
        return q, base.s_drift * mu, base.s_drift * sd

    def nll(theta: np.ndarray) -> float:
        q, mu, sd = unpack(theta)
        if np.any(q <= 0):
            return math.inf
        reml = np.sum(d["dof"] * np.log(q) + 0.5 * d["rss"] / q**2)
        var = sd**2 + q**2 * d["v"]
        return float(reml + np.sum(0.5 * (d["nu"] - mu) ** 2 / var + 0.5 * np.log(var)))

    def z_of(theta: np.ndarray) -> np.ndarray:
        q, mu, sd = unpack(theta)
        return (d["nu"] - mu) / np.sqrt(sd**2 + q**2 * d["v"])

    res = fit_mle(nll, params, n_dev, level=level, ci=ci, gof=lambda th: gaussian_gof(z_of(th), 2 * k))
    theta = res.values
    grid = np.geomspace(d["g"].min(), d["g"].max(), 100)
    _, mu_g, sd_g = unpack(theta)
    order = np.argsort(d["g"])
    base_mu, _ = pcm.drift_exponent_stats(grid, base)
    residuals = {
        "x": d["g"],
        "x_label": "device conductance g_target" if "g_target" in m.data else "fitted G_P",
        "x_unit": ("uS", 1e-6),
        "z": z_of(theta),
        "data_x": d["g"],
        "data_y": d["nu"],
        "data_label": "per-device drift exponent nu",
        "y_unit": ("", 1.0),
        "curves": [
            (d["g"][order], mu_g[order], "fitted mu_nu", "C1"),
            (d["g"][order], (mu_g + sd_g)[order], "fitted mu_nu ± sigma_nu", "C2"),
            (d["g"][order], (mu_g - sd_g)[order], "_fitted mu_nu - sigma_nu", "C2"),
            (grid, base.s_drift * base_mu, "base preset mu_nu", "C3"),
        ],
    }
    updates = {
        "q_read": [float(theta[0]), float(theta[1]), floor, cap],
        "custom_g": [float(x) for x in knots],
        "custom_nu_mean": [float(x) for x in theta[2 : 2 + k]],
        "custom_nu_std": [float(x) for x in theta[2 + k :]],
    }

    def simulate(th: np.ndarray, rng: np.random.Generator) -> Measurement:
        q, mu, sd = unpack(th)
        nu = mu + sd * rng.standard_normal(n_dev)
        g_new = np.empty(len(m))
        for i, idx in enumerate(m.groups()):
            L, f = _time_factors(m["t"][idx], base)
            g_new[idx] = np.exp(d["ln_gp"][i] - nu[i] * L + q[i] * f * rng.standard_normal(len(idx)))
        return Measurement("drift", {**m.data, "g": g_new}, "bootstrap", m.rows, dict(m.meta))

    def refit(data: Measurement) -> np.ndarray:
        return fit_drift(data, model, level=level, n_knots=k).result.values

    return KindFit("drift", m.source, res, updates, residuals, simulate, refit)
