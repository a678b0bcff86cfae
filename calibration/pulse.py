"""Fit a pulsed-update law (aihwkit family, ``device_models.pulsed``) to conductance-vs-pulse-number data.

Model (docs/devices.md#pulsed-update-laws, the ``pulsed`` model family): the hidden normalised weight evolves as
w_{n+1} = w_n + s_d(w_n)·(1 + dw_min_std·xi) (``step_size`` of the preset's law; additive
dw_min_std·(c2c_add + |s| + c2c_slope·|w|)·xi for the exp law), and each read sees
y_n = w_n + e_n with e_n ~ N(0, r²), r² = (write_noise_std·dw_min)² + (read noise in weight units)².
Conductances map to weights through the preset's linear map of [g_min, g_max] onto [w_min, w_max].

The likelihood of each sequence is computed with an extended Kalman filter (linearising s_d around
the predicted mean, Jazwinski 1970, ch. 8): exact for the linear laws (constant, linear,
soft-bounds) up to the non-Gaussian multiplicative step noise. Fitted: dw_min, up_down, dw_min_std,
write_noise_std and, for the linear and pow laws, gamma_up and gamma_down; with ``fit_window=True``
also g_min and g_max (which place the saturation bounds b_min = w_min and b_max = w_max; only
identifiable when the sequences come close to both bounds). Device-to-device fields
(``*_dtod``) stay at the base preset: fit one device's sequences at a time for per-device values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from calibration.errors import FitError
from calibration.fitresult import KindFit
from calibration.measurements import Measurement
from calibration.mle import Param, fit_mle, gaussian_gof


def simulate_pulse_trains(model: Any, rng: np.random.Generator, n_seq: int, n_pulses: int) -> dict[str, np.ndarray]:
    """Columns of a ``pulse`` measurement made on ``model``: each of ``n_seq`` devices starts at g_min, is
    read, then gets ``n_pulses`` potentiating and ``n_pulses`` depressing pulses, read after each."""
    st = model.program(np.full(n_seq, model.g_min), rng)
    g, pol = [model.conductance(st, 0.0, rng)], [np.zeros(n_seq)]
    for k in range(2 * n_pulses):
        p = 1 if k < n_pulses else -1
        st = model.pulse(st, p, 1.0, 1e-6, rng)
        g.append(model.conductance(st, 0.0, rng))
        pol.append(np.full(n_seq, p))
    g, pol = np.array(g).T, np.array(pol).T
    n = 2 * n_pulses + 1
    data = {
        "sequence": np.repeat(np.arange(n_seq), n).astype(float),
        "pulse": np.tile(np.arange(n), n_seq).astype(float),
        "polarity": pol.ravel(),
        "g": g.ravel(),
    }
    return data


def _sequences(m: Measurement) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pad the sequences to (n_seq, n_max) arrays of g, polarity and a validity mask."""
    groups = m.groups()
    n_max = max(len(i) for i in groups)
    g = np.zeros((len(groups), n_max))
    pol = np.zeros((len(groups), n_max))
    valid = np.zeros((len(groups), n_max), dtype=bool)
    for s, idx in enumerate(groups):
        g[s, : len(idx)] = m["g"][idx]
        pol[s, : len(idx)] = m["polarity"][idx]
        valid[s, : len(idx)] = True
    return g, pol, valid


def fit_pulse(
    m: Measurement, model: Any, *, level: float = 0.95, ci: str = "wald", fit_window: bool = False
) -> KindFit:
    """Fit the pulsed-update law of a ``pulsed`` ``model`` to potentiation/depression sequences ``m``."""
    from device_models.pulsed import step_size, to_weight

    if m.kind != "pulse":
        raise FitError("data", f"fit_pulse needs a 'pulse' measurement, got {m.kind!r}")
    if model.family != "pulsed":
        raise FitError("model", "pulse-sequence fits support the 'pulsed' model family")
    base = model.config
    upd0 = base.update
    if upd0.up_only:
        raise FitError("model", "up-only (RESET) laws are not supported by the pulse fit")
    g, pol, valid = _sequences(m)
    n_seq = g.shape[0]
    if not ((pol > 0) & valid).any() or not ((pol < 0) & valid).any():
        raise FitError(f"{m.source}: column 'polarity'", "needs both potentiating (+1) and depressing (-1) pulses")
    shape_names = ("gamma_up", "gamma_down") if upd0.law in ("linear", "pow") else ()
    span = upd0.w_max - upd0.w_min
    window = [
        Param("g_min", base.g_min, lower=0.0, typical=base.g_max - base.g_min, unit="S"),
        Param("g_max", base.g_max, lower=0.0, typical=base.g_max - base.g_min, unit="S"),
    ]
    params = [
        Param("dw_min", upd0.dw_min, lower=0.0, upper=span, log=True),
        Param("up_down", upd0.up_down, lower=-0.99, upper=0.99, typical=0.1),
        Param("dw_min_std", max(upd0.dw_min_std, 0.05), lower=0.0, log=True),
        Param("write_noise_std", max(base.write_noise_std, 0.1), lower=0.0, log=True),
    ] + [Param(n, max(abs(getattr(upd0, n)), 0.05), lower=0.0, log=True) for n in shape_names]
    if fit_window:
        params = params + window
    names = [p.name for p in params]

    def config_of(theta: np.ndarray) -> Any:
        v = dict(zip(names, (float(x) for x in theta)))
        upd = upd0.replace(
            dw_min=v["dw_min"], up_down=v["up_down"], dw_min_std=v["dw_min_std"], **{n: v[n] for n in shape_names}
        )
        return base.replace(
            g_min=v.get("g_min", base.g_min),
            g_max=v.get("g_max", base.g_max),
            update=upd,
            write_noise_std=v["write_noise_std"],
        )

    def kalman(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """(NLL, innovations z, predicted means) of all sequences under the parameters ``theta``."""
        cfg = config_of(theta)
        upd = cfg.update
        y = to_weight(g, upd, cfg.g_min, cfg.g_max)
        to_w = span / (cfg.g_max - cfg.g_min)
        r2 = (cfg.write_noise_std * upd.dw_min) ** 2 + (base.read_noise * g * to_w) ** 2
        nominal = {
            "dw_up": upd.dw_min * (1 + upd.up_down),
            "dw_down": upd.dw_min * (1 - upd.up_down),
            "b_min": np.full(g.shape[0], upd.w_min),
            "b_max": np.full(g.shape[0], upd.w_max),
        }
        nominal3 = {k: np.tile(v, 3) if np.ndim(v) else v for k, v in nominal.items()}
        mean, var = y[:, 0].copy(), r2[:, 0].copy()
        nll = 0.0
        z = np.zeros_like(y)
        pred = np.zeros_like(y)
        pred[:, 0] = mean
        h = 1e-6 * span
        for n in range(1, y.shape[1]):
            d = pol[:, n]
            three = step_size(np.concatenate([mean, mean + h, mean - h]), np.tile(d, 3), nominal3, upd)
            s, s_hi, s_lo = three[:n_seq], three[n_seq : 2 * n_seq], three[2 * n_seq :]
            ds = (s_hi - s_lo) / (2 * h)
            if upd.law == "exp":
                q = (upd.dw_min_std * (upd.c2c_add + np.abs(s) + upd.c2c_slope * np.abs(mean))) ** 2
            else:
                q = (upd.dw_min_std * s) ** 2 + (upd.dw_min_std * ds) ** 2 * var
            m_pred = mean + s
            v_pred = (1 + ds) ** 2 * var + q * (d != 0)
            innov_var = v_pred + r2[:, n]
            innov = y[:, n] - m_pred
            ok = valid[:, n]
            # density of the read G, not of w: add log|dG/dw| = -log(to_w) per read (Jacobian of the map)
            nll += float(np.sum((0.5 * innov**2 / innov_var + 0.5 * np.log(2 * math.pi * innov_var))[ok]))
            nll -= math.log(to_w) * int(ok.sum())
            gain = v_pred / innov_var
            mean = np.where(ok, m_pred + gain * innov, mean)
            var = np.where(ok, (1 - gain) * v_pred, var)
            z[:, n] = innov / np.sqrt(innov_var)
            pred[:, n] = m_pred
        return nll, z, pred

    n_obs = int(valid[:, 1:].sum())
    mask = valid.copy()
    mask[:, 0] = False
    res = fit_mle(
        lambda th: kalman(th)[0],
        params,
        n_obs,
        level=level,
        ci=ci,
        gof=lambda th: gaussian_gof(kalman(th)[1][mask], len(params)),
    )
    theta = res.values
    cfg = config_of(theta)
    _, z, pred = kalman(theta)
    pulse_no = np.cumsum(valid, axis=1) - 1
    to_g = (cfg.g_max - cfg.g_min) / span
    pred_g = cfg.g_min + (pred - cfg.update.w_min) * to_g
    curves = [
        (pulse_no[s][valid[s]], pred_g[s][valid[s]], "one-step prediction" if s == 0 else "_pred", "C1")
        for s in range(min(3, g.shape[0]))
    ]
    residuals = {
        "x": pulse_no[mask],
        "x_label": "pulse number",
        "x_unit": ("", 1.0),
        "z": z[mask],
        "data_x": pulse_no[valid],
        "data_y": g[valid],
        "data_label": "conductance",
        "y_unit": ("uS", 1e-6),
        "curves": curves,
    }
    v = dict(zip(names, (float(x) for x in theta)))
    updates: dict[str, Any] = {
        "write_noise_std": v["write_noise_std"],
        "update": {
            "dw_min": v["dw_min"],
            "up_down": v["up_down"],
            "dw_min_std": v["dw_min_std"],
            **{n: v[n] for n in shape_names},
        },
    }
    if fit_window:
        updates |= {"g_min": v["g_min"], "g_max": v["g_max"]}
    return KindFit("pulse", m.source, res, updates, residuals)
