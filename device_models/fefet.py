"""Ferroelectric FET: multi-domain nucleation-limited switching, V_T-shift read (docs/devices.md#fefet).

Domains (Deng et al., VLSI 2020, "A comprehensive model for ferroelectric FET capturing ...
scalability, variation, stochasticity and accumulation"; Verilog-A github.com/boltma/Scalable-FeFET):

* N domains per device, each with a state S_i = ±1, an activation voltage Ea_i ~ N(ea_mean, ea_std)
  and an offset dV_i ~ N(0, v_offset_std) added to the effective voltage, all drawn per device
  at programming and kept.
* A gate pulse of polarity d, amplitude A and width w puts V_i = d·A·v_fe_ratio + dV_i on domain i.
  A domain opposing the field accumulates h_i += w/tau_i, tau_i = tau0·exp((Ea_i/|V_i|)^alpha), and
  switches with probability p = 1 - exp(h_prev^beta - h^beta) (Weibull/KAI); h resets to 0 after a
  switch or when the field no longer opposes the domain.

Read (reduced V_T-shift model, docs/devices.md#fefet): P = mean(S_i)·r(t) with the retention factor
r(t) = max(0, 1 - retention_per_decade·log10(1 + t/t_retention)); V_T = v_t0 - (memory_window/2)·P;
at small V_DS the channel conductance is G = k·n·U_T·ln(1 + exp((v_read - V_T)/(n·U_T))) (EKV
interpolation: exponential in subthreshold, linear in overdrive above threshold), plus relative
read noise. Conductances are >= 0 and <= G(P = +1) before read noise.

``program`` sets round((P_target + 1)/2·N) randomly chosen domains up (an ideal domain-level
verify); programming error is the domain quantisation. Parameter values: Deng et al. for the
domain kinetics; read and retention values are [proposal].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from device_models.base import DeviceState
from device_models.faults import HEALTHY, FaultConfig, draw_stuck, wear
from device_models.relative_noise import RelativeReadNoiseModel
from device_models.schema import Config, ConfigError, check, int_in, nonnegative, positive, require_finite

__all__ = [
    "FeFETConfig",
    "FeFETModel",
    "domain_switching_time",
    "domain_switching_probability",
    "switched_fraction",
    "threshold_voltage",
    "channel_conductance",
    "retention_factor",
]

U_T = 0.025852  # thermal voltage kT/q at 300 K (V)


@dataclass(frozen=True)
class FeFETConfig(Config):
    """Multi-domain FeFET (SI units)."""

    n_domains: int = field(default=20, metadata=check(int_in(1, 100_000)))
    ea_mean: float = field(default=2.3, metadata=check(positive))
    ea_std: float = field(default=0.4, metadata=check(nonnegative))
    v_offset_std: float = field(default=0.1, metadata=check(nonnegative))
    tau0: float = field(default=19e-9, metadata=check(positive))
    alpha: float = field(default=3.0, metadata=check(positive))
    beta: float = field(default=2.0, metadata=check(positive))
    v_fe_ratio: float = field(default=1.0, metadata=check(positive))
    v_t0: float = 0.8
    memory_window: float = field(default=1.6, metadata=check(positive))
    v_read: float = 1.6
    n_sub: float = field(default=1.5, metadata=check(positive))
    k: float = field(default=25e-6, metadata=check(positive))
    read_noise: float = field(default=0.01, metadata=check(nonnegative))
    retention_per_decade: float = field(default=0.02, metadata=check(nonnegative))
    t_retention: float = field(default=1.0, metadata=check(positive))
    faults: FaultConfig = field(default_factory=FaultConfig)


def domain_switching_time(v_fe: np.ndarray, ea: np.ndarray, cfg: FeFETConfig) -> np.ndarray:
    """tau = tau0·exp((Ea/|V_FE|)^alpha) (s); infinite at V_FE = 0."""
    v = np.abs(np.asarray(v_fe, dtype=float))
    with np.errstate(divide="ignore", over="ignore"):
        return cfg.tau0 * np.exp((np.asarray(ea, dtype=float) / v) ** cfg.alpha)


def domain_switching_probability(h_prev: np.ndarray, h_new: np.ndarray, cfg: FeFETConfig) -> np.ndarray:
    """Probability that a domain switches while its accumulated h goes from ``h_prev`` to ``h_new``."""
    return -np.expm1(np.asarray(h_prev, dtype=float) ** cfg.beta - np.asarray(h_new, dtype=float) ** cfg.beta)


def switched_fraction(amplitude: np.ndarray, width: float, cfg: FeFETConfig, n_quad: int = 64) -> np.ndarray:
    """Expected fraction of domains switched by ONE pulse (from the opposite saturated state).

    The Preisach S-curve against amplitude: E over Ea and the offset of 1 - exp(-(w/tau)^beta),
    by Gauss-Hermite quadrature over the combined Gaussian spread of Ea/(A·ratio + dV).
    """
    x, wq = np.polynomial.hermite_e.hermegauss(n_quad)
    wq = wq / wq.sum()
    a = np.asarray(amplitude, dtype=float)[..., None, None]
    ea = np.maximum(cfg.ea_mean + cfg.ea_std * x, 1e-3)[:, None]
    v = a * cfg.v_fe_ratio + cfg.v_offset_std * x[None, :]
    p = -np.expm1(-((width / domain_switching_time(np.where(v > 0, v, 0.0), ea, cfg)) ** cfg.beta))
    return np.einsum("...ij,i,j->...", p, wq, wq)


def threshold_voltage(polarization: np.ndarray, cfg: FeFETConfig) -> np.ndarray:
    """V_T = v_t0 - (memory_window/2)·P, with P = normalised polarisation in [-1, 1]."""
    return cfg.v_t0 - 0.5 * cfg.memory_window * np.asarray(polarization, dtype=float)


def channel_conductance(v_t: np.ndarray, cfg: FeFETConfig) -> np.ndarray:
    """Small-V_DS channel conductance (S): k·n·U_T·ln(1 + exp((v_read - V_T)/(n·U_T)))."""
    nut = cfg.n_sub * U_T
    return cfg.k * nut * np.logaddexp(0.0, (cfg.v_read - np.asarray(v_t, dtype=float)) / nut)


def _polarization_for(g: np.ndarray, cfg: FeFETConfig) -> np.ndarray:
    nut = cfg.n_sub * U_T
    x = np.maximum(np.asarray(g, dtype=float) / (cfg.k * nut), 1e-300)
    v_t = cfg.v_read - nut * np.where(x > 30, x, np.log(np.expm1(np.minimum(x, 30)) + 1e-300))
    return np.clip(2.0 * (cfg.v_t0 - v_t) / cfg.memory_window, -1.0, 1.0)


def retention_factor(t: float, cfg: FeFETConfig) -> float:
    """Fraction of the polarisation left after ``t`` s: max(0, 1 - retention_per_decade·log10(1 + t/t_retention))."""
    return max(0.0, 1.0 - cfg.retention_per_decade * math.log10(1.0 + float(t) / cfg.t_retention))


class FeFETModel(RelativeReadNoiseModel):
    """Multi-domain FeFET with amplitude/width-dependent gate pulses and a small-V_DS read."""

    family = "fefet"
    name = "fefet"

    config_type = FeFETConfig
    config: FeFETConfig

    @property
    def g_min(self) -> float:
        return float(channel_conductance(threshold_voltage(-1.0, self.config), self.config))

    @property
    def g_max(self) -> float:
        return float(channel_conductance(threshold_voltage(1.0, self.config), self.config))

    @property
    def bounds(self) -> tuple[float, float]:
        """[g_min, g_max] for noise-free reads (retention pulls P towards 0); [0, inf) with read noise."""
        return (0.0, float("inf")) if self.config.read_noise > 0 else (self.g_min, self.g_max)

    def program(self, g_target: np.ndarray, rng: np.random.Generator | None) -> DeviceState:
        cfg = self.config
        gt = np.asarray(require_finite("g_target", g_target), dtype=float)
        lo, hi = self.g_min, self.g_max
        if gt.size and (gt.min() < lo * (1 - 1e-9) or gt.max() > hi * (1 + 1e-9)):
            raise ConfigError(
                "g_target", f"must lie in [g_min, g_max] = [{lo:g}, {hi:g}] S, got [{gt.min():g}, {gt.max():g}]"
            )
        n = cfg.n_domains
        n_up = np.rint((_polarization_for(gt, cfg) + 1.0) / 2.0 * n).astype(np.int64)
        shape = gt.shape + (n,)
        if rng is None:
            ea = np.full(shape, cfg.ea_mean)
            off = np.zeros(shape)
            rank = np.broadcast_to(np.arange(n), shape)
        else:
            ea = np.maximum(cfg.ea_mean + cfg.ea_std * rng.standard_normal(shape), 1e-3)
            off = cfg.v_offset_std * rng.standard_normal(shape)
            rank = np.argsort(rng.random(shape), axis=-1)
        s = np.where(rank < n_up[..., None], 1, -1).astype(np.int8)
        per = {"ea": ea, "v_offset": off, "s": s, "h": np.zeros(shape)}
        cycles = np.ones(gt.shape, dtype=np.int64)
        g0 = channel_conductance(threshold_voltage(s.mean(axis=-1), cfg), cfg)
        stuck, stuck_g = draw_stuck(gt.shape, cfg.faults, rng, self.g_min, self.g_max)
        if stuck_g is not None:
            per["stuck_g"] = stuck_g
        return DeviceState(g0=g0, g_target=gt, per_device=per, stuck=stuck, cycles=cycles)

    def polarization(self, state: DeviceState, t: float = 0.0) -> np.ndarray:
        """Normalised polarisation P in [-1, 1] of each device at ``t`` s after the last write."""
        return state.per_device["s"].mean(axis=-1) * retention_factor(t, self.config)

    def noise_free(self, state: DeviceState, t: float) -> np.ndarray:
        """Channel conductance at the retained polarisation."""
        return channel_conductance(threshold_voltage(self.polarization(state, t), self.config), self.config)

    def pulse(
        self,
        state: DeviceState,
        polarity: np.ndarray | int,
        amplitude: np.ndarray | float,
        width: np.ndarray | float,
        rng: np.random.Generator,
    ) -> DeviceState:
        cfg = self.config
        shape = state.shape
        pol = np.broadcast_to(np.asarray(polarity), shape)
        amp = np.broadcast_to(np.asarray(amplitude, dtype=float), shape)
        wid = np.broadcast_to(np.asarray(width, dtype=float), shape)
        if not (np.all(np.isfinite(amp)) and np.all(np.isfinite(wid)) and np.all(wid >= 0)):
            raise ConfigError("pulse", "amplitude must be finite and width finite and >= 0 s")
        if state.stuck is not None:
            pol = np.where(state.stuck == HEALTHY, pol, 0)
        s, h = state.per_device["s"], state.per_device["h"]
        active = (pol != 0)[..., None]
        v = (np.sign(pol) * np.abs(amp) * cfg.v_fe_ratio)[..., None] + state.per_device["v_offset"]
        opposing = active & (np.sign(v) * s < 0)
        tau = domain_switching_time(v, state.per_device["ea"], cfg)
        h_new = np.where(opposing, h + wid[..., None] / tau, np.where(active, 0.0, h))
        p = np.where(opposing, domain_switching_probability(h, h_new, cfg), 0.0)
        flip = rng.random(s.shape) < p
        s_new = np.where(flip, -s, s).astype(np.int8)
        h_new = np.where(flip, 0.0, h_new)
        per = dict(state.per_device, s=s_new, h=h_new)
        g0 = channel_conductance(threshold_voltage(s_new.mean(axis=-1), cfg), cfg)
        cycles = state.cycles + (pol != 0) if state.cycles is not None else (pol != 0).astype(np.int64)
        stuck = wear(state.stuck, cycles, cfg.faults)
        return DeviceState(g0=g0, g_target=state.g_target, per_device=per, stuck=stuck, cycles=cycles)
