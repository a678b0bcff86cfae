"""Binary (abruptly switching) RRAM with SET/RESET voltage-time thresholds.

The switching kinetics of valence-change cells are exponential in voltage (the "voltage-time
dilemma": Menzel et al., Adv. Funct. Mater. 21, 4487 (2011); Waser et al., Adv. Mater. 21, 2632
(2009)). We write the switching time as t_sw(V) = t_ref·exp(-(|V| - V_th)/v0) and the switching
probability of one pulse of width w as a Weibull law

    p(V, w) = 1 - 2^(-(w/t_sw(V))^beta),

so that ``V_th`` is the amplitude at which a pulse of width ``t_ref`` switches a device with
probability 1/2. V_th is drawn per device (``v_set_dtod``/``v_reset_dtod``, device-to-device)
and the conductance of each state is drawn log-normally after every switch (cycle-to-cycle):
G = g_lrs·exp(sigma_lrs·xi) in the low-resistance state (LRS, after SET, polarity +1) and
G = g_hrs·exp(sigma_hrs·xi) in the HRS (after RESET, polarity -1). Reads add a relative Gaussian
read noise. Values of the default preset are [proposal] for a HfOx 1T1R cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from device_models.base import DeviceState
from device_models.faults import HEALTHY, FaultConfig, draw_stuck, wear
from device_models.relative_noise import RelativeReadNoiseModel
from device_models.schema import Config, ConfigError, check, nonnegative, positive, require_finite

__all__ = ["BinaryRRAMConfig", "BinaryRRAMModel", "switching_time", "switching_probability"]


@dataclass(frozen=True)
class BinaryRRAMConfig(Config):
    """Bistable RRAM cell (SI units)."""

    g_hrs: float = field(default=1e-6, metadata=check(positive))
    g_lrs: float = field(default=50e-6, metadata=check(positive))
    sigma_hrs: float = field(default=0.3, metadata=check(nonnegative))
    sigma_lrs: float = field(default=0.1, metadata=check(nonnegative))
    v_set: float = field(default=0.9, metadata=check(positive))
    v_reset: float = field(default=1.1, metadata=check(positive))
    v_set_dtod: float = field(default=0.05, metadata=check(nonnegative))
    v_reset_dtod: float = field(default=0.05, metadata=check(nonnegative))
    v0: float = field(default=0.05, metadata=check(positive))
    t_ref: float = field(default=100e-9, metadata=check(positive))
    beta: float = field(default=2.0, metadata=check(positive))
    read_noise: float = field(default=0.01, metadata=check(nonnegative))
    faults: FaultConfig = field(default_factory=FaultConfig)

    def validate(self) -> None:
        if not self.g_lrs > self.g_hrs:
            raise ConfigError("g_lrs", f"must be > g_hrs ({self.g_hrs:g} S), got {self.g_lrs!r}")


def switching_time(v: np.ndarray, v_th: np.ndarray, cfg: BinaryRRAMConfig) -> np.ndarray:
    """Characteristic switching time (s) at pulse amplitude |v| (V) for threshold ``v_th`` (V)."""
    return cfg.t_ref * np.exp(-(np.abs(np.asarray(v, dtype=float)) - v_th) / cfg.v0)


def switching_probability(v: np.ndarray, width: np.ndarray, v_th: np.ndarray, cfg: BinaryRRAMConfig) -> np.ndarray:
    """Probability that one pulse of amplitude ``v`` (V) and ``width`` (s) switches the device."""
    # (w/t_sw)^beta in the log domain, capped so that very strong pulses give p = 1 without overflow
    with np.errstate(divide="ignore"):
        log_ratio = np.log(np.asarray(width, dtype=float)) - np.log(cfg.t_ref) + (np.abs(v) - v_th) / cfg.v0
    return -np.expm1(-math.log(2.0) * np.exp(np.minimum(cfg.beta * log_ratio, 700.0)))


class BinaryRRAMModel(RelativeReadNoiseModel):
    """Bistable RRAM: program snaps to HRS/LRS; ``pulse`` switches stochastically (SET +1, RESET -1).

    Conductances are >= 0; ``per_device["lrs"]`` holds the binary state.
    """

    family = "rram_binary"
    name = "rram-binary"

    config_type = BinaryRRAMConfig
    config: BinaryRRAMConfig

    @property
    def g_min(self) -> float:
        return self.config.g_hrs

    @property
    def g_max(self) -> float:
        return self.config.g_lrs

    def _draw_g(self, lrs: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        cfg = self.config
        if rng is None:
            return np.where(lrs, cfg.g_lrs, cfg.g_hrs)
        xi = rng.standard_normal(lrs.shape)
        return np.where(lrs, cfg.g_lrs * np.exp(cfg.sigma_lrs * xi), cfg.g_hrs * np.exp(cfg.sigma_hrs * xi))

    def program(self, g_target: np.ndarray, rng: np.random.Generator | None) -> DeviceState:
        cfg = self.config
        gt = np.asarray(require_finite("g_target", g_target), dtype=float)
        if gt.size and gt.min() < 0:
            raise ConfigError("g_target", f"must be >= 0 S, got {gt.min():g}")
        lrs = gt >= math.sqrt(cfg.g_hrs * cfg.g_lrs)
        if rng is None:
            v_set, v_reset = np.full(gt.shape, cfg.v_set), np.full(gt.shape, cfg.v_reset)
        else:
            v_set = cfg.v_set + cfg.v_set_dtod * rng.standard_normal(gt.shape)
            v_reset = cfg.v_reset + cfg.v_reset_dtod * rng.standard_normal(gt.shape)
        per = {"lrs": lrs, "v_set": v_set, "v_reset": v_reset}
        cycles = np.ones(gt.shape, dtype=np.int64)
        stuck, stuck_g = draw_stuck(gt.shape, cfg.faults, rng, self.g_min, self.g_max)
        if stuck_g is not None:
            per["stuck_g"] = stuck_g
        return DeviceState(g0=self._draw_g(lrs, rng), g_target=gt, per_device=per, stuck=stuck, cycles=cycles)

    def noise_free(self, state: DeviceState, t: float) -> np.ndarray:
        """The programmed conductance (no drift)."""
        return state.g0

    def pulse(
        self,
        state: DeviceState,
        polarity: np.ndarray | int,
        amplitude: np.ndarray | float,
        width: np.ndarray | float,
        rng: np.random.Generator,
    ) -> DeviceState:
        shape = state.shape
        pol = np.broadcast_to(np.asarray(polarity), shape)
        amp = np.broadcast_to(np.asarray(amplitude, dtype=float), shape)
        wid = np.broadcast_to(np.asarray(width, dtype=float), shape)
        if not np.all(np.isfinite(amp)) or not np.all(np.isfinite(wid)) or np.any(wid < 0):
            raise ConfigError("pulse", "amplitude must be finite and width finite and >= 0 s")
        lrs = state.per_device["lrs"]
        v_th = np.where(pol > 0, state.per_device["v_set"], state.per_device["v_reset"])
        candidate = ((pol > 0) & ~lrs) | ((pol < 0) & lrs)
        if state.stuck is not None:
            candidate &= state.stuck == HEALTHY
        p = np.where(candidate, switching_probability(amp, wid, v_th, self.config), 0.0)
        switched = rng.random(shape) < p
        new_lrs = lrs ^ switched
        g = np.where(switched, self._draw_g(new_lrs, rng), state.g0)
        per = dict(state.per_device, lrs=new_lrs)
        cycles = state.cycles + (pol != 0) if state.cycles is not None else (pol != 0).astype(np.int64)
        stuck = wear(state.stuck, cycles, self.config.faults)
        return DeviceState(g0=g, g_target=state.g_target, per_device=per, stuck=stuck, cycles=cycles)
