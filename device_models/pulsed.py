"""Pulsed-update laws of the aihwkit pulsed-device family (docs/devices.md#pulsed-update-laws), on normalised weights.

Source: aihwkit ``src/aihwkit/simulator/configs/devices.py``. A device's normalised weight w
lives in its own bounds [b_min, b_max]; the nominal range [w_min, w_max] maps linearly onto
[g_min, g_max] of the model using it (docs/devices.md#pulsed-update-laws, pitfall 2):
G = g_min + (w - w_min)/(w_max - w_min)·(g_max - g_min).

Per device (drawn once): step sizes dw_up = dw_min·(1 + beta + s·xi), dw_down = dw_min·(1 - beta + s·xi)
with beta = up_down + up_down_dtod·xi' (or dw_min·exp(s·xi)·(1 ± beta) when log-normal), and bounds
b_max = w_max·(1 + w_max_dtod·xi), b_min = w_min·(1 + w_min_dtod·xi) (xi clipped to ±3).

The laws (one pulse in direction d = ±1, noise-free; :func:`step_size`):

* constant:   dw^d
* linear:     dw^d·(1 + gamma^d·w), gamma_up = -|gamma_up|/b_max, gamma_down = -|gamma_down|/b_min
* softbounds: linear with gamma = 1
* exp:        dw^d·max(0, 1 - A^d·exp(d·gamma^d·z)), z = 2a·w/(b_max - b_min) + b
* pow:        up dw_up·omega^gamma_up', down dw_down·(1 - omega)^gamma_down', omega = (b_max - w)/(b_max - b_min),
  gamma^d' = gamma^d·(1 + d·pow_beta)

Cycle-to-cycle noise multiplies each step by (1 + dw_min_std·xi); for the exp law it is additive,
dw_min_std·(c2c_add + |dw| + c2c_slope·|w|)·xi (aihwkit ExpStep). The step is then clipped to
the device bounds. ``up_only`` (PCM, docs/devices.md#pulsed-update-laws PCMPreset): a depressing pulse is a RESET to
w_min + reset + reset_std·xi.

Pulse amplitude and width are not used by these laws: they are fits at the nominal pulse of
each preset (one pulse = one step).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from device_models.base import DeviceState
from device_models.faults import HEALTHY
from device_models.schema import Config, ConfigError, check, nonnegative, positive

__all__ = [
    "UpdateConfig",
    "draw_update_params",
    "step_size",
    "pulse_weight",
    "pulse_conductance",
    "weight_bounds",
    "to_weight",
    "to_conductance",
]

PARAM_KEYS = ("dw_up", "dw_down", "b_min", "b_max")


@dataclass(frozen=True)
class UpdateConfig(Config):
    """A pulsed-update law with its device-to-device and cycle-to-cycle variability (normalised units)."""

    law: Literal["constant", "linear", "softbounds", "exp", "pow"] = "softbounds"
    dw_min: float = field(default=0.001, metadata=check(positive))
    w_min: float = -0.6
    w_max: float = 0.6
    up_down: float = 0.0
    up_down_dtod: float = field(default=0.0, metadata=check(nonnegative))
    dw_min_dtod: float = field(default=0.3, metadata=check(nonnegative))
    dw_min_dtod_log_normal: bool = False
    w_min_dtod: float = field(default=0.3, metadata=check(nonnegative))
    w_max_dtod: float = field(default=0.3, metadata=check(nonnegative))
    dw_min_std: float = field(default=0.3, metadata=check(nonnegative))
    gamma_up: float = 0.0
    gamma_down: float = 0.0
    a: float = -0.5
    b: float = -0.5
    A_up: float = 0.0
    A_down: float = 0.0
    c2c_add: float = field(default=0.0, metadata=check(nonnegative))
    c2c_slope: float = field(default=0.0, metadata=check(nonnegative))
    pow_beta: float = 0.0
    up_only: bool = False
    reset: float = 0.01
    reset_std: float = field(default=0.0, metadata=check(nonnegative))

    def validate(self) -> None:
        if not self.w_min < self.w_max:
            raise ConfigError("w_max", f"must be > w_min ({self.w_min:g}), got {self.w_max:g}")
        if self.dw_min >= self.w_max - self.w_min:
            raise ConfigError("dw_min", f"must be < w_max - w_min ({self.w_max - self.w_min:g}), got {self.dw_min:g}")

    @property
    def states(self) -> float:
        """Number of nominal steps across the range, (w_max - w_min)/dw_min."""
        return (self.w_max - self.w_min) / self.dw_min


def weight_bounds(cfg: UpdateConfig) -> tuple[float, float]:
    """Lowest and highest normalised weight any device can reach (device bounds use xi in ±3)."""
    lo = min(cfg.w_min * (1 + 3 * cfg.w_min_dtod), cfg.w_min * (1 - 3 * cfg.w_min_dtod))
    hi = max(cfg.w_max * (1 + 3 * cfg.w_max_dtod), cfg.w_max * (1 - 3 * cfg.w_max_dtod))
    return lo, hi


def draw_update_params(shape: tuple[int, ...], cfg: UpdateConfig, rng: np.random.Generator | None) -> dict:
    """Per-device step sizes and bounds (``rng=None``: the nominal, variability-free values)."""
    if rng is None:
        z = [np.zeros(shape)] * 4
    else:
        z = list(np.clip(rng.standard_normal((4,) + shape), -3.0, 3.0))
    beta = cfg.up_down + cfg.up_down_dtod * z[1]
    if cfg.dw_min_dtod_log_normal:
        dw = cfg.dw_min * np.exp(cfg.dw_min_dtod * z[0])
        up, down = dw * (1 + beta), dw * (1 - beta)
    else:
        up = cfg.dw_min * (1 + beta + cfg.dw_min_dtod * z[0])
        down = cfg.dw_min * (1 - beta + cfg.dw_min_dtod * z[0])
    b_max = cfg.w_max * (1 + cfg.w_max_dtod * z[2])
    b_min = cfg.w_min * (1 + cfg.w_min_dtod * z[3])
    mid = 0.5 * (cfg.w_min + cfg.w_max)
    b_max, b_min = np.maximum(b_max, mid + cfg.dw_min), np.minimum(b_min, mid - cfg.dw_min)
    return {"dw_up": np.maximum(up, 0.0), "dw_down": np.maximum(down, 0.0), "b_min": b_min, "b_max": b_max}


def step_size(w: np.ndarray, direction: np.ndarray | int, params: dict, cfg: UpdateConfig) -> np.ndarray:
    """Noise-free signed weight change of one pulse in ``direction`` (+1 up, -1 down) at weight ``w``."""
    w = np.asarray(w, dtype=float)
    d = np.broadcast_to(np.asarray(direction), w.shape)
    up_dir = d > 0
    b_max, b_min = params["b_max"], params["b_min"]
    dw = np.where(up_dir, params["dw_up"], params["dw_down"])
    if cfg.law == "constant":
        mag = dw
    elif cfg.law in ("linear", "softbounds"):
        gu, gd = (1.0, 1.0) if cfg.law == "softbounds" else (abs(cfg.gamma_up), abs(cfg.gamma_down))
        with np.errstate(divide="ignore", invalid="ignore"):
            g_up = -gu / b_max
            g_down = np.where(b_min != 0, -gd / np.where(b_min != 0, b_min, 1.0), 0.0)
        mag = dw * np.maximum(1.0 + np.where(up_dir, g_up, g_down) * w, 0.0)
    elif cfg.law == "exp":
        z = 2.0 * cfg.a * w / (b_max - b_min) + cfg.b
        A = np.where(up_dir, cfg.A_up, cfg.A_down)
        gam = np.where(up_dir, cfg.gamma_up, cfg.gamma_down)
        mag = dw * np.maximum(0.0, 1.0 - A * np.exp(np.where(up_dir, 1.0, -1.0) * gam * z))
    else:  # pow (Fusi-Abbott)
        omega = np.clip((b_max - w) / (b_max - b_min), 0.0, 1.0)
        gu = cfg.gamma_up * (1 + cfg.pow_beta)
        gd = cfg.gamma_down * (1 - cfg.pow_beta)
        mag = np.where(up_dir, dw * omega**gu, dw * (1.0 - omega) ** gd)
    return np.where(d == 0, 0.0, np.where(up_dir, mag, -mag))


def pulse_weight(
    w: np.ndarray, polarity: np.ndarray | int, params: dict, cfg: UpdateConfig, rng: np.random.Generator | None
) -> np.ndarray:
    """New normalised weights after one pulse per device (with cycle-to-cycle noise if ``rng``)."""
    w = np.asarray(w, dtype=float)
    d = np.broadcast_to(np.asarray(polarity), w.shape)
    dw = step_size(w, d, params, cfg)
    if rng is not None and cfg.dw_min_std > 0:
        xi = rng.standard_normal(w.shape)
        if cfg.law == "exp":
            dw = dw + cfg.dw_min_std * (cfg.c2c_add + np.abs(dw) + cfg.c2c_slope * np.abs(w)) * xi * (d != 0)
        else:
            dw = dw * (1.0 + cfg.dw_min_std * xi)
    w_new = w + dw
    if cfg.up_only:
        noise = cfg.reset_std * rng.standard_normal(w.shape) if rng is not None and cfg.reset_std > 0 else 0.0
        w_new = np.where(d < 0, cfg.w_min + cfg.reset + noise, w_new)
    return np.clip(w_new, params["b_min"], params["b_max"])


def to_weight(g: np.ndarray, cfg: UpdateConfig, g_min: float, g_max: float) -> np.ndarray:
    """Normalised weight of conductance ``g`` (S) under the linear map of the module docstring."""
    return cfg.w_min + (np.asarray(g, dtype=float) - g_min) / (g_max - g_min) * (cfg.w_max - cfg.w_min)


def to_conductance(w: np.ndarray, cfg: UpdateConfig, g_min: float, g_max: float) -> np.ndarray:
    """Conductance (S) of normalised weight ``w``, clipped at 0."""
    return np.maximum(g_min + (np.asarray(w) - cfg.w_min) / (cfg.w_max - cfg.w_min) * (g_max - g_min), 0.0)


def pulse_conductance(
    state: DeviceState,
    polarity: np.ndarray | int,
    cfg: UpdateConfig,
    g_min: float,
    g_max: float,
    rng: np.random.Generator | None,
) -> tuple[np.ndarray, dict]:
    """Apply one pulse to ``state.g0`` through the law ``cfg``; returns (new g0, new per_device dict).

    Per-device step sizes and bounds are drawn on first use (and then kept in ``per_device``).
    Stuck devices do not move.
    """
    per = dict(state.per_device)
    if any(k not in per for k in PARAM_KEYS):
        per.update(draw_update_params(state.shape, cfg, rng))
    pol = np.broadcast_to(np.asarray(polarity), state.shape)
    if state.stuck is not None:
        pol = np.where(state.stuck == HEALTHY, pol, 0)
    w = to_weight(state.g0, cfg, g_min, g_max)
    w_new = pulse_weight(w, pol, per, cfg, rng)
    g_new = np.where(pol != 0, to_conductance(w_new, cfg, g_min, g_max), state.g0)
    return g_new, per
