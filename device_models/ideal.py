"""The ideal device: a linear conductance, programmed exactly, no drift, no read noise, no faults.

It is the all-off reference of ``aimc_sim/data/tiles/ideal.yaml`` and holds no device physics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from device_models.base import DeviceModel, DeviceState, check_read_time
from device_models.schema import Config, ConfigError, check, nonnegative, positive

__all__ = ["IdealConfig", "IdealDevice"]


@dataclass(frozen=True)
class IdealConfig(Config):
    """Conductance range [g_min, g_max] (S)."""

    g_min: float = field(default=0.0, metadata=check(nonnegative))
    g_max: float = field(default=25e-6, metadata=check(positive))

    def validate(self) -> None:
        if self.g_max <= self.g_min:
            raise ConfigError("g_max", f"must exceed g_min = {self.g_min:g} S, got {self.g_max:g}")


class IdealDevice(DeviceModel):
    """Exact programming (clipped to [g_min, g_max]), constant conductance, no noise."""

    family = "ideal"
    name = "ideal"

    config_type = IdealConfig
    config: IdealConfig

    def program(self, g_target: np.ndarray, rng: np.random.Generator | None) -> DeviceState:
        g = np.clip(np.asarray(g_target, dtype=np.float64), self.g_min, self.g_max)
        return DeviceState(g0=g.copy(), g_target=g)

    def conductance(self, state: DeviceState, t: float, rng: np.random.Generator | None) -> np.ndarray:
        check_read_time(t)
        return state.g0

    def read_noise_std(self, state: DeviceState, t: float) -> np.ndarray:
        """Zero: the ideal device has no read noise."""
        check_read_time(t)
        return np.zeros_like(state.g0)
