"""Fit the multi-domain FeFET model to threshold voltage (or read conductance) vs gate-pulse amplitude.

Model (``device_models.fefet``, docs/devices.md#fefet): each row is one device, erased (all N domains
down), then one gate pulse of amplitude A and width w. Domains have iid activation voltages and
offsets, so each switches independently with the probability f(A, w) = ``switched_fraction`` (the
Preisach S-curve), and the number switched is n ~ Binomial(N, f). Then P = 2n/N - 1 and
V_T = v_t0 - (memory_window/2)·P (``threshold_voltage``). The likelihood of a measured V_T is the
mixture over n = 0..N of Binomial(n; N, f)·Normal(V_T; V_T(n), sigma_vt²), with sigma_vt a fitted
measurement noise (not written to the preset). With a ``g`` column instead, the mixture components
are G(n) = ``channel_conductance``(V_T(n)) with the model's relative read noise ``read_noise`` fitted.

Fitted: v_t0, memory_window, ea_mean, ea_std and sigma_vt (or read_noise); n_domains, tau0, alpha,
beta, v_offset_std and the read-out constants stay at the base preset.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import gammaln, logsumexp
from scipy.stats import binom

from calibration.errors import FitError
from calibration.fitresult import KindFit
from calibration.measurements import Measurement
from calibration.mle import Param, fit_mle, gaussian_gof


def fit_fefet(m: Measurement, model: Any, *, level: float = 0.95, ci: str = "wald") -> KindFit:
    """Fit (v_t0, memory_window, ea_mean, ea_std, noise) of a ``fefet`` model to amplitude-sweep data ``m``."""
    from device_models import fefet

    if m.kind != "fefet":
        raise FitError("data", f"fit_fefet needs a 'fefet' measurement, got {m.kind!r}")
    if model.family != "fefet":
        raise FitError("model", "FeFET amplitude fits support the 'fefet' model family")
    base = model.config
    use_vt = "vt" in m.data
    y = m["vt"] if use_vt else m["g"]
    amp, width = m["amplitude"], m["width"]
    n_dom = base.n_domains
    levels = np.arange(n_dom + 1)
    log_choose = gammaln(n_dom + 1) - gammaln(levels + 1) - gammaln(n_dom - levels + 1)
    conds, inverse = np.unique(np.column_stack([amp, width]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    pol = 2.0 * levels / n_dom - 1.0
    noise_name = "sigma_vt" if use_vt else "read_noise"
    spread = float(np.ptp(y))
    if spread <= 0:
        raise FitError(f"{m.source}: column '{'vt' if use_vt else 'g'}'", "all values are equal; nothing to fit")
    noise0 = 0.02 * spread if use_vt else max(base.read_noise, 0.01)
    params = [
        Param("v_t0", base.v_t0, typical=0.1, unit="V"),
        Param("memory_window", base.memory_window, lower=0.0, log=True, unit="V"),
        Param("ea_mean", base.ea_mean, lower=0.0, log=True, unit="V"),
        Param("ea_std", max(base.ea_std, 1e-3), lower=0.0, log=True, unit="V"),
        Param(noise_name, noise0, lower=0.0, log=True, unit="V" if use_vt else ""),
    ]

    def parts(theta: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
        cfg = base.replace(
            v_t0=float(theta[0]), memory_window=float(theta[1]), ea_mean=float(theta[2]), ea_std=float(theta[3])
        )
        f_u = fefet.switched_fraction(conds[:, 0], conds[:, 1, None, None], cfg, n_quad=32)
        f = np.clip(f_u[inverse], 1e-12, 1 - 1e-12)
        vt_n = fefet.threshold_voltage(pol, cfg)
        centre = vt_n if use_vt else fefet.channel_conductance(vt_n, cfg)
        sd = np.full_like(centre, theta[4]) if use_vt else theta[4] * np.maximum(centre, 1e-30)
        return cfg, f, centre, sd

    def nll(theta: np.ndarray) -> float:
        _, f, centre, sd = parts(theta)
        log_w = log_choose + levels * np.log(f)[:, None] + (n_dom - levels) * np.log1p(-f)[:, None]
        z = (y[:, None] - centre[None, :]) / sd[None, :]
        log_c = -0.5 * z**2 - np.log(sd)[None, :] - 0.5 * math.log(2 * math.pi)
        return float(-np.sum(logsumexp(log_w + log_c, axis=1)))

    def z_of(theta: np.ndarray) -> np.ndarray:
        """Standardised residuals against the mixture's mean and variance."""
        _, f, centre, sd = parts(theta)
        w = binom.pmf(levels[None, :], n_dom, f[:, None])
        mean = w @ centre
        var = w @ (centre**2 + sd**2) - mean**2
        return (y - mean) / np.sqrt(var)

    res = fit_mle(nll, params, len(m), level=level, ci=ci, gof=lambda th: gaussian_gof(z_of(th), len(params)))
    theta = res.values
    cfg, _, centre, _ = parts(theta)
    curves = []
    for j, wd in enumerate(np.unique(width)[:4]):
        grid = np.linspace(amp.min(), amp.max(), 120)
        fg = fefet.switched_fraction(grid, wd, cfg)
        mean_p = 2 * fg - 1
        vt = fefet.threshold_voltage(mean_p, cfg)
        curves.append(
            (grid, vt if use_vt else fefet.channel_conductance(vt, cfg), f"fit, width {wd * 1e6:.3g} us", f"C{j + 1}")
        )
    residuals = {
        "x": amp,
        "x_label": "gate-pulse amplitude",
        "x_unit": ("V", 1.0),
        "z": z_of(theta),
        "data_x": amp,
        "data_y": y,
        "data_label": "threshold voltage V_T" if use_vt else "read conductance",
        "y_unit": ("V", 1.0) if use_vt else ("uS", 1e-6),
        "curves": curves,
    }
    updates = {
        "v_t0": float(theta[0]),
        "memory_window": float(theta[1]),
        "ea_mean": float(theta[2]),
        "ea_std": float(theta[3]),
    }
    if not use_vt:
        updates["read_noise"] = float(theta[4])

    def simulate(th: np.ndarray, rng: np.random.Generator) -> Measurement:
        _, f, c, sd = parts(th)
        n = rng.binomial(n_dom, f)
        col = "vt" if use_vt else "g"
        return Measurement(
            "fefet", {**m.data, col: c[n] + sd[n] * rng.standard_normal(len(n))}, "bootstrap", m.rows, dict(m.meta)
        )

    def refit(d: Measurement) -> np.ndarray:
        return fit_fefet(d, model, level=level).result.values

    return KindFit("fefet", m.source, res, updates, residuals, simulate, refit)
