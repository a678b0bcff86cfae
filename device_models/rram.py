"""Analog valence-change RRAM (HfOx/TaOx): statistical programming, write-verify, relaxation, read noise.

Physics (docs/devices.md#analog-rram), SI units, xi ~ N(0, 1):

* **Statistical write-verify** (``verify="statistical"``): G_P = G_T + sigma_pv(G_T)·xi with the
  program-and-verify residual sigma_pv = pv_sigma[0] + pv_sigma[1]·G_T of the IBM Zurich
  CMO/HfOx devices (aihwkit ``ReRamCMONoiseModel``; 2 % acceptance: 0.01122 µS + 0.01129·G).
  Every device is charged ``pulses_statistical`` pulses.
* **Iterative write-verify** (``verify="iterative"``, docs/devices.md#analog-rram mode 2): start from an open-loop
  SET (counted as one pulse) that lands at G_T + initial_sigma·xi; then up to ``max_iterations`` times read G with
  verify read noise, stop if |G_read - G_T| <= tol·g_max, otherwise apply
  n = clip(round(|G_T - G_read|/dG), 1, max_pulses) pulses of the needed polarity through the
  pulsed-update law ``update`` (with its device-to-device and cycle-to-cycle variability). dG is
  the nominal step of the law at the current state (the controller knows the nominal law, not
  the device's own parameters). Pulse and read counts per device go to ``per_device``.
* **Relaxation** (per device, log-time): G(t) = G_P + relax_shift·ln(tau) + (relax_sigma[0]·ln(tau) +
  relax_sigma[1])·xi_dev, tau = max(t, 1 s), with xi_dev drawn once at programming
  (CMO: shift -0.0890 µS per ln s, sigma 0.0420·ln t + 0.4118 µS).
* **Read noise** (fresh on each read): sigma = read_coeff·|log10(G/1 µS)|·sqrt(max(ln((t + t_read)/(2 t_read)), 0))
  (CMO: read_coeff 0.02773 µS, t_read 1 µs).

Conductances are clipped at 0 (no upper bound: noise may exceed g_max). Pulses move ``g0``
through the update law; t then counts from the last write.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from device_models.base import DeviceModel, DeviceState, check_read_time
from device_models.faults import FaultConfig, apply_faults, draw_stuck, faulted_std, wear
from device_models.pulsed import (
    UpdateConfig,
    draw_update_params,
    pulse_conductance,
    pulse_weight,
    step_size,
    to_conductance,
    to_weight,
)
from device_models.schema import Config, ConfigError, check, int_in, nonnegative, positive, require_finite

__all__ = [
    "RRAMConfig",
    "RRAMModel",
    "check_conductance_range",
    "verify_residual_sigma",
    "relaxation_shift",
    "relaxation_sigma",
    "read_noise_sigma",
    "write_verify",
    "wan2022_sigma",
]


def check_conductance_range(g_min: float, g_max: float) -> None:
    """Raise ConfigError unless 0 <= g_min < g_max (the conductance window, S)."""
    if g_min < 0:
        raise ConfigError("g_min", f"must be >= 0 S, got {g_min!r}")
    if not g_max > g_min:
        raise ConfigError("g_max", f"must be > g_min ({g_min:g} S), got {g_max!r}")


@dataclass(frozen=True)
class RRAMConfig(Config):
    """Analog RRAM model (SI units). Defaults: CMO/HfOx (aihwkit ReRamCMONoiseModel), window 9-88.19 µS."""

    g_min: float = field(default=9e-6, metadata=check(nonnegative))
    g_max: float = field(default=88.19e-6, metadata=check(positive))
    verify: Literal["statistical", "iterative"] = "iterative"
    pv_sigma: tuple[float, float] = (0.01122e-6, 0.01129)
    pulses_statistical: int = field(default=10, metadata=check(int_in(0)))
    tol: float = field(default=0.02, metadata=check(lambda x: positive(x) or (None if x <= 1 else "must be <= 1")))
    max_iterations: int = field(default=20, metadata=check(int_in(1, 10_000)))
    max_pulses: int = field(default=16, metadata=check(int_in(1, 10_000)))
    initial_sigma: float = field(default=5e-6, metadata=check(nonnegative))
    t_verify: float = field(default=1e-3, metadata=check(positive))
    relax_shift: float = -0.0890e-6
    relax_sigma: tuple[float, float] = (0.0420e-6, 0.4118e-6)
    read_coeff: float = field(default=0.02773e-6, metadata=check(nonnegative))
    t_read: float = field(default=1e-6, metadata=check(positive))
    update: UpdateConfig = field(
        default_factory=lambda: UpdateConfig(
            law="softbounds",
            dw_min=0.02,
            w_min=-1.0,
            w_max=1.0,
            dw_min_dtod=0.3,
            w_min_dtod=0.02,
            w_max_dtod=0.02,
            dw_min_std=0.3,
        )
    )
    faults: FaultConfig = field(default_factory=FaultConfig)

    def validate(self) -> None:
        check_conductance_range(self.g_min, self.g_max)
        if self.relax_sigma[0] < 0 or self.relax_sigma[1] < 0:
            raise ConfigError("relax_sigma", f"both coefficients must be >= 0, got {list(self.relax_sigma)}")
        if self.pv_sigma[0] < 0 or self.pv_sigma[1] < 0:
            raise ConfigError("pv_sigma", f"both coefficients must be >= 0, got {list(self.pv_sigma)}")


def verify_residual_sigma(g_target: np.ndarray, cfg: RRAMConfig) -> np.ndarray:
    """Std (S) of the statistical program-and-verify residual at target ``g_target`` (S)."""
    return cfg.pv_sigma[0] + cfg.pv_sigma[1] * np.asarray(g_target, dtype=float)


def _log_tau(t: float) -> float:
    return math.log(max(float(t), 1.0))


def relaxation_shift(t: float, cfg: RRAMConfig) -> float:
    """Mean conductance shift (S) at ``t`` s after programming: relax_shift·ln(max(t, 1 s))."""
    return cfg.relax_shift * _log_tau(t)


def relaxation_sigma(t: float, cfg: RRAMConfig) -> float:
    """Device-to-device std (S) of the relaxation at ``t`` s: relax_sigma[0]·ln(max(t, 1 s)) + relax_sigma[1]."""
    return cfg.relax_sigma[0] * _log_tau(t) + cfg.relax_sigma[1]


def read_noise_sigma(g: np.ndarray, t: float, cfg: RRAMConfig) -> np.ndarray:
    """Read-noise std (S) at ``g`` (S), ``t`` (s): read_coeff·|log10(g/1 µS)|·sqrt(ln((t+t_read)/(2 t_read)))."""
    root = math.sqrt(max(math.log((float(t) + cfg.t_read) / (2.0 * cfg.t_read)), 0.0))
    return cfg.read_coeff * np.abs(np.log10(np.maximum(np.asarray(g, dtype=float), 1e-12) / 1e-6)) * root


def write_verify(
    g_target: np.ndarray, params: dict, cfg: RRAMConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Iterative program-and-verify (docs/devices.md#analog-rram): returns (G_P, pulses, reads, verified) per device."""
    upd = cfg.update
    nominal = draw_update_params((), upd, None)
    g = np.clip(g_target + cfg.initial_sigma * rng.standard_normal(g_target.shape), cfg.g_min, cfg.g_max)
    w = to_weight(g, upd, cfg.g_min, cfg.g_max)
    w = np.clip(w, params["b_min"], params["b_max"])
    pulses = np.ones(g_target.shape, dtype=np.int64)  # the open-loop SET
    reads = np.zeros(g_target.shape, dtype=np.int64)
    verified = np.zeros(g_target.shape, dtype=bool)
    tol = cfg.tol * cfg.g_max
    scale = (cfg.g_max - cfg.g_min) / (upd.w_max - upd.w_min)
    active = np.arange(g_target.size)
    gt_flat, w_flat = g_target.ravel(), w.ravel()
    p_flat = {k: np.broadcast_to(v, g_target.shape).ravel() for k, v in params.items()}
    pulses_f, reads_f, ver_f = pulses.ravel(), reads.ravel(), verified.ravel()
    for _ in range(cfg.max_iterations):
        if active.size == 0:
            break
        ga = to_conductance(w_flat[active], upd, cfg.g_min, cfg.g_max)
        g_read = ga + read_noise_sigma(ga, cfg.t_verify, cfg) * rng.standard_normal(active.size)
        reads_f[active] += 1
        err = gt_flat[active] - g_read
        ok = np.abs(err) <= tol
        ver_f[active[ok]] = True
        active, err = active[~ok], err[~ok]
        if active.size == 0:
            break
        d = np.where(err > 0, 1, -1)
        dg = np.abs(step_size(w_flat[active], d, nominal, upd)) * scale
        n = np.clip(np.rint(np.abs(err) / np.maximum(dg, 1e-30)), 1, cfg.max_pulses).astype(np.int64)
        pa = {k: v[active] for k, v in p_flat.items()}
        wa = w_flat[active]
        for j in range(int(n.max())):
            wa = pulse_weight(wa, np.where(n > j, d, 0), pa, upd, rng)
        w_flat[active] = wa
        pulses_f[active] += n
    g_final = to_conductance(w_flat, upd, cfg.g_min, cfg.g_max).reshape(g_target.shape)
    return g_final, pulses, reads, verified


class RRAMModel(DeviceModel):
    """Analog RRAM: write-verify programming, log-time relaxation, read noise, pulsed updates, faults."""

    family = "rram"
    name = "rram"

    config_type = RRAMConfig
    config: RRAMConfig

    def _check_targets(self, g_target: np.ndarray) -> np.ndarray:
        gt = np.asarray(require_finite("g_target", g_target), dtype=float)
        if gt.size and (gt.min() < self.g_min or gt.max() > self.g_max):
            raise ConfigError(
                "g_target",
                f"must lie in [g_min, g_max] = [{self.g_min:g}, {self.g_max:g}] S, got [{gt.min():g}, {gt.max():g}]",
            )
        return gt

    def program(self, g_target: np.ndarray, rng: np.random.Generator | None) -> DeviceState:
        cfg = self.config
        gt = self._check_targets(g_target)
        params = draw_update_params(gt.shape, cfg.update, rng)
        if rng is None:
            gp = gt.copy()
            pulses = np.full(gt.shape, cfg.pulses_statistical, dtype=np.int64)
            per = {"xi_relax": np.zeros(gt.shape)}
        elif cfg.verify == "statistical":
            gp = np.maximum(gt + verify_residual_sigma(gt, cfg) * rng.standard_normal(gt.shape), 0.0)
            pulses = np.full(gt.shape, cfg.pulses_statistical, dtype=np.int64)
            per = {"xi_relax": rng.standard_normal(gt.shape)}
        else:
            gp, pulses, reads, verified = write_verify(gt, params, cfg, rng)
            per = {"xi_relax": rng.standard_normal(gt.shape), "reads": reads, "verified": verified}
        per.update(params)
        per["pulses"] = pulses
        cycles = np.maximum(pulses, 1)
        stuck, stuck_g = draw_stuck(gt.shape, cfg.faults, rng, self.g_min, self.g_max)
        stuck = wear(stuck, cycles, cfg.faults)
        if stuck_g is not None:
            per["stuck_g"] = stuck_g
        return DeviceState(g0=gp, g_target=gt, per_device=per, stuck=stuck, cycles=cycles)

    def _relaxed(self, state: DeviceState, t: float) -> np.ndarray:
        """G_P plus the log-time relaxation at ``t`` (S), before read noise and the clip at 0."""
        cfg = self.config
        check_read_time(t)
        return state.g0 + relaxation_shift(t, cfg) + relaxation_sigma(t, cfg) * state.per_device["xi_relax"]

    def conductance(self, state: DeviceState, t: float, rng: np.random.Generator | None) -> np.ndarray:
        cfg = self.config
        g = self._relaxed(state, t)
        if rng is not None:
            g = g + read_noise_sigma(g, t, cfg) * rng.standard_normal(state.shape)
        g = np.maximum(g, 0.0)
        return apply_faults(g, state, self.g_min, self.g_max, cfg.faults)

    def read_noise_std(self, state: DeviceState, t: float) -> np.ndarray:
        """read_noise_sigma of the relaxed conductance (S)."""
        return faulted_std(read_noise_sigma(self._relaxed(state, t), t, self.config), state, self.config.faults)

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
        cycles = state.cycles + moved if state.cycles is not None else moved.astype(np.int64)
        stuck = wear(state.stuck, cycles, cfg.faults)
        return DeviceState(g0=g_new, g_target=state.g_target, per_device=per, stuck=stuck, cycles=cycles)


# NeuRRAM fit (aihwkit ReRamWan2022NoiseModel; Wan et al., Nature 2022): sigma(G_T, t) in µS as a
# 4th-order polynomial of G_T/g_max with g_max = 40 µS, fitted at t = 1 s, 1 day and 2 days only.
WAN2022_G_MAX = 40e-6
WAN2022_COEFFS = {
    1.0: (0.348, 16.030, -43.853, 45.393, -16.815),
    86400.0: (0.701, 22.086, -50.773, 47.095, -16.458),
    172800.0: (0.782, 20.274, -43.507, 37.062, -11.934),
}


def wan2022_sigma(g_target: np.ndarray, t: float, interpolate: bool = False) -> np.ndarray:
    """Std (S) of G at ``t`` s for target ``g_target`` (S), NeuRRAM fit (docs/devices.md#analog-rram, test RRAM-1).

    The fit exists at t = 1 s, 1 day and 2 days; other t raise ConfigError unless
    ``interpolate`` (linear in ln t between the fitted times, clamped outside them).
    """
    x = np.asarray(g_target, dtype=float) / WAN2022_G_MAX
    times = sorted(WAN2022_COEFFS)
    if t in WAN2022_COEFFS:
        return np.polynomial.polynomial.polyval(x, WAN2022_COEFFS[t]) * 1e-6
    if not interpolate:
        raise ConfigError("t", f"the Wan 2022 fit exists only at t in {times} s, got {t!r} (or pass interpolate=True)")
    sig = np.stack([np.polynomial.polynomial.polyval(x, WAN2022_COEFFS[k]) for k in times], axis=-1) * 1e-6
    lt = np.log(np.clip(float(t), times[0], times[-1]))
    i = int(np.searchsorted(np.log(times), lt, side="right").clip(1, len(times) - 1))
    w = (lt - np.log(times[i - 1])) / (np.log(times[i]) - np.log(times[i - 1]))
    return (1 - w) * sig[..., i - 1] + w * sig[..., i]
