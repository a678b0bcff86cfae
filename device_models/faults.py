"""Stuck-at faults and endurance, the config piece every device model applies (docs/devices.md#faults-and-endurance).

A device is drawn once at ``program()`` as healthy, stuck at g_min (SA0, stuck-off/HRS) with
probability ``p_stuck_min``, or stuck at g_max (SA1, stuck-on/LRS) with probability
``p_stuck_max``. Endurance follows the empirical metal-oxide RRAM picture of Lammie, Rahimi
Azghadi & Ielmini (Semicond. Sci. Technol. 2021; MemTorch ``empirical_metal_oxide_RRAM.py``):
the conductance window shrinks gradually with the write-cycle count and a device sticks once it
exceeds ``endurance_cycles``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from device_models.base import DeviceState
from device_models.schema import Config, ConfigError, check, in_range

__all__ = [
    "FaultConfig",
    "HEALTHY",
    "STUCK_MIN",
    "STUCK_MAX",
    "draw_stuck",
    "window_scale",
    "apply_faults",
    "faulted_std",
    "wear",
    "positive_or_inf",
]

HEALTHY, STUCK_MIN, STUCK_MAX, STUCK_RANDOM = 0, 1, 2, 3


def positive_or_inf(x: object) -> str | None:
    """Validator: a number > 0, or inf."""
    ok = isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0 and not math.isnan(x)
    return None if ok else f"must be a number > 0 (or .inf to disable), got {x!r}"


@dataclass(frozen=True)
class FaultConfig(Config):
    """Fault rates and endurance.

    ``endurance_cycles``: write cycles after which a device sticks at ``endurance_stuck_at``
    (``inf`` disables endurance). ``endurance_window_loss``: fraction of the window lost
    (symmetrically around its centre) when the cycle count reaches ``endurance_cycles``; the loss
    grows linearly in log10(cycles) from ``endurance_onset`` cycles on.
    """

    p_stuck_min: float = field(default=0.0, metadata=check(in_range(0.0, 1.0)))
    p_stuck_max: float = field(default=0.0, metadata=check(in_range(0.0, 1.0)))
    p_stuck_random: float = field(default=0.0, metadata=check(in_range(0.0, 1.0)))
    stuck_random_range: tuple[float, float] = (0.0, 1.0)
    endurance_cycles: float = field(default=math.inf, metadata=check(positive_or_inf))
    endurance_onset: float = field(default=1.0, metadata=check(in_range(1.0)))
    endurance_window_loss: float = field(default=0.0, metadata=check(in_range(0.0, 1.0)))
    endurance_stuck_at: Literal["min", "max"] = "min"

    def validate(self) -> None:
        total = self.p_stuck_min + self.p_stuck_max + self.p_stuck_random
        if total > 1.0:
            raise ConfigError("p_stuck_max", f"p_stuck_min + p_stuck_max + p_stuck_random must be <= 1, got {total!r}")
        lo, hi = self.stuck_random_range
        if not 0.0 <= lo <= hi <= 1.0:
            raise ConfigError("stuck_random_range", f"must satisfy 0 <= low <= high <= 1, got [{lo!r}, {hi!r}]")
        if math.isfinite(self.endurance_cycles) and self.endurance_onset > self.endurance_cycles:
            raise ConfigError(
                "endurance_onset",
                f"must be <= endurance_cycles ({self.endurance_cycles:g}), got {self.endurance_onset!r}",
            )

    @property
    def active(self) -> bool:
        """True when any fault or endurance effect is switched on."""
        stuck = self.p_stuck_min > 0 or self.p_stuck_max > 0 or self.p_stuck_random > 0
        return stuck or math.isfinite(self.endurance_cycles)


def draw_stuck(
    shape: tuple[int, ...], cfg: FaultConfig, rng: np.random.Generator | None, g_min: float, g_max: float
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Per-device fault codes and random stuck conductances (S; None unless p_stuck_random > 0).

    Codes: 0 healthy, 1 stuck at g_min, 2 stuck at g_max, 3 stuck at a random conductance drawn
    uniformly in ``stuck_random_range`` (fractions of the window; aihwkit ``corrupt_devices_range``).
    """
    if rng is None or (cfg.p_stuck_min == 0 and cfg.p_stuck_max == 0 and cfg.p_stuck_random == 0):
        return None, None
    u = rng.random(shape)
    edges = np.cumsum([cfg.p_stuck_min, cfg.p_stuck_max, cfg.p_stuck_random])
    stuck = np.zeros(shape, dtype=np.int8)
    stuck[u < edges[0]] = STUCK_MIN
    stuck[(u >= edges[0]) & (u < edges[1])] = STUCK_MAX
    stuck[(u >= edges[1]) & (u < edges[2])] = STUCK_RANDOM
    if cfg.p_stuck_random == 0:
        return stuck, None
    lo, hi = cfg.stuck_random_range
    return stuck, g_min + (lo + (hi - lo) * rng.random(shape)) * (g_max - g_min)


def window_scale(cycles: np.ndarray, cfg: FaultConfig) -> np.ndarray:
    """Remaining fraction of the conductance window after ``cycles`` write cycles (1 = fresh)."""
    c = np.asarray(cycles, dtype=float)
    if not math.isfinite(cfg.endurance_cycles) or cfg.endurance_window_loss == 0:
        return np.ones_like(c)
    lo, hi = math.log10(cfg.endurance_onset), math.log10(cfg.endurance_cycles)
    frac = np.clip((np.log10(np.maximum(c, 1.0)) - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    return 1.0 - cfg.endurance_window_loss * frac


def wear(state_stuck: np.ndarray | None, cycles: np.ndarray, cfg: FaultConfig) -> np.ndarray | None:
    """Fault codes after wear: devices past ``endurance_cycles`` stick at ``endurance_stuck_at``."""
    if not math.isfinite(cfg.endurance_cycles):
        return state_stuck
    worn = cycles > cfg.endurance_cycles
    if not worn.any():
        return state_stuck
    stuck = np.zeros(cycles.shape, dtype=np.int8) if state_stuck is None else state_stuck.copy()
    stuck[worn & (stuck == HEALTHY)] = STUCK_MIN if cfg.endurance_stuck_at == "min" else STUCK_MAX
    return stuck


def faulted_std(sd: np.ndarray, state: DeviceState, cfg: FaultConfig) -> np.ndarray:
    """A per-device noise std ``sd`` (S) passed through :func:`apply_faults`: 0 where stuck, window-scaled."""
    sd = np.asarray(sd, dtype=float)
    if state.cycles is not None and math.isfinite(cfg.endurance_cycles) and cfg.endurance_window_loss > 0:
        sd = sd * window_scale(state.cycles, cfg)
    if state.stuck is not None:
        sd = np.where(state.stuck != HEALTHY, 0.0, sd)
    return np.broadcast_to(sd, state.shape).copy() if np.shape(sd) != state.shape else sd


def apply_faults(g: np.ndarray, state: DeviceState, g_min: float, g_max: float, cfg: FaultConfig) -> np.ndarray:
    """Apply the endurance window shrink and the stuck-at values of ``state`` to conductances ``g`` (S)."""
    if state.cycles is not None and math.isfinite(cfg.endurance_cycles) and cfg.endurance_window_loss > 0:
        mid = 0.5 * (g_min + g_max)
        g = mid + window_scale(state.cycles, cfg) * (g - mid)
    if state.stuck is not None:
        fixed = np.where(state.stuck == STUCK_MIN, g_min, g_max)
        stuck_g = state.per_device.get("stuck_g")
        if stuck_g is not None:
            fixed = np.where(state.stuck == STUCK_RANDOM, stuck_g, fixed)
        g = np.where(state.stuck != HEALTHY, fixed, g)
    return g
