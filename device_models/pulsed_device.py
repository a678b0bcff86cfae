"""A device defined by its pulsed-update law alone: ECRAM and the aihwkit pulsed presets
(docs/devices.md#pulsed-update-laws).

The normalised weight w of :mod:`device_models.pulsed` maps linearly onto [g_min, g_max]
(the preset records the map). On top of the update law:

* programming is an idealised closed-loop pulse train: the device lands on the step grid,
  w_P = w_T + dw_min·(u - 1/2), u ~ U(0, 1), clipped to the device bounds [proposal];
* write noise (aihwkit ``write_noise_std``): the apparent weight is w + write_noise_std·dw_min·xi,
  redrawn every time the device is written and kept until the next write;
* decay (aihwkit ``lifetime``, here in seconds): w(t) = w_r + (w - w_r)·exp(-t/lifetime) towards
  the reset point w_r = (w_min + w_max)/2; ``lifetime = inf`` disables it;
* relative read noise, fresh on every read.

Conductances are >= 0 and, before read noise, within the device bounds mapped to siemens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from device_models.base import DeviceState
from device_models.faults import FaultConfig, draw_stuck, positive_or_inf, wear
from device_models.pulsed import (
    UpdateConfig,
    draw_update_params,
    pulse_conductance,
    to_conductance,
    to_weight,
    weight_bounds,
)
from device_models.relative_noise import RelativeReadNoiseModel
from device_models.rram import check_conductance_range
from device_models.schema import Config, ConfigError, check, nonnegative, positive, require_finite

__all__ = ["PulsedDeviceConfig", "PulsedDeviceModel"]


@dataclass(frozen=True)
class PulsedDeviceConfig(Config):
    """Pulsed-update device (SI units) with the normalised law ``update`` mapped onto [g_min, g_max]."""

    g_min: float = field(default=0.5e-6, metadata=check(nonnegative))
    g_max: float = field(default=50e-6, metadata=check(positive))
    update: UpdateConfig = field(default_factory=UpdateConfig)
    write_noise_std: float = field(default=0.0, metadata=check(nonnegative))
    lifetime: float = field(default=math.inf, metadata=check(positive_or_inf))
    read_noise: float = field(default=0.0, metadata=check(nonnegative))
    faults: FaultConfig = field(default_factory=FaultConfig)

    def validate(self) -> None:
        check_conductance_range(self.g_min, self.g_max)


class PulsedDeviceModel(RelativeReadNoiseModel):
    """ECRAM and other devices described by an aihwkit-style pulsed-update law."""

    family = "pulsed"
    name = "pulsed"

    config_type = PulsedDeviceConfig
    config: PulsedDeviceConfig

    @property
    def bounds(self) -> tuple[float, float]:
        """The device-bound extremes mapped to siemens; [0, inf) when read or write noise is on."""
        cfg = self.config
        if cfg.read_noise > 0 or cfg.write_noise_std > 0:
            return 0.0, float("inf")
        lo, hi = weight_bounds(cfg.update)
        return float(to_conductance(lo, cfg.update, cfg.g_min, cfg.g_max)), float(
            to_conductance(hi, cfg.update, cfg.g_min, cfg.g_max)
        )

    def _write_noise(self, shape: tuple[int, ...], rng: np.random.Generator | None) -> np.ndarray:
        cfg = self.config
        if rng is None or cfg.write_noise_std == 0:
            return np.zeros(shape)
        return cfg.write_noise_std * cfg.update.dw_min * rng.standard_normal(shape)

    def program(self, g_target: np.ndarray, rng: np.random.Generator | None) -> DeviceState:
        cfg, upd = self.config, self.config.update
        gt = np.asarray(require_finite("g_target", g_target), dtype=float)
        if gt.size and (gt.min() < cfg.g_min or gt.max() > cfg.g_max):
            raise ConfigError(
                "g_target",
                f"must lie in [g_min, g_max] = [{cfg.g_min:g}, {cfg.g_max:g}] S, got [{gt.min():g}, {gt.max():g}]",
            )
        params = draw_update_params(gt.shape, upd, rng)
        w = to_weight(gt, upd, cfg.g_min, cfg.g_max)
        if rng is not None:
            w = w + upd.dw_min * (rng.random(gt.shape) - 0.5)
        w = np.clip(w, params["b_min"], params["b_max"])
        per = dict(params, write_noise=self._write_noise(gt.shape, rng))
        stuck, stuck_g = draw_stuck(gt.shape, cfg.faults, rng, self.g_min, self.g_max)
        if stuck_g is not None:
            per["stuck_g"] = stuck_g
        g0 = to_conductance(w, upd, cfg.g_min, cfg.g_max)
        return DeviceState(g0=g0, g_target=gt, per_device=per, stuck=stuck, cycles=np.ones(gt.shape, dtype=np.int64))

    def noise_free(self, state: DeviceState, t: float) -> np.ndarray:
        """Written weight plus write noise, relaxed towards the symmetry point with ``lifetime``."""
        cfg, upd = self.config, self.config.update
        w = to_weight(state.g0, upd, cfg.g_min, cfg.g_max) + state.per_device["write_noise"]
        if math.isfinite(cfg.lifetime):
            w_r = 0.5 * (upd.w_min + upd.w_max)
            w = w_r + (w - w_r) * math.exp(-float(t) / cfg.lifetime)
        return to_conductance(w, upd, cfg.g_min, cfg.g_max)

    def pulse(
        self,
        state: DeviceState,
        polarity: np.ndarray | int,
        amplitude: np.ndarray | float,
        width: np.ndarray | float,
        rng: np.random.Generator,
    ) -> DeviceState:
        cfg = self.config
        g_new, per = pulse_conductance(state, polarity, cfg.update, self.g_min, self.g_max, rng)
        moved = np.broadcast_to(np.asarray(polarity), state.shape) != 0
        per["write_noise"] = np.where(moved, self._write_noise(state.shape, rng), per["write_noise"])
        cycles = state.cycles + moved if state.cycles is not None else moved.astype(np.int64)
        stuck = wear(state.stuck, cycles, cfg.faults)
        return DeviceState(g0=g_new, g_target=state.g_target, per_device=per, stuck=stuck, cycles=cycles)
