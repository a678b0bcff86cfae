"""Phase-change memory: the statistical inference models of IBM aihwkit (docs/devices.md#pcm).

* ``fit="pcm_like"``: ``PCMLikeNoiseModel``, fitted on a 1-million-device PCM array by
  Nandakumar et al., ICECS 2019, used by Joshi et al., Nat. Commun. 2020 (aihwkit
  ``inference/noise/pcm.py``).
* ``fit="hermes_1dev"`` / ``"hermes_2dev"``: ``HermesNoiseModel``, fitted on the IBM 14 nm
  64-core PCM chip (Le Gallo et al., Nat. Electron. 2023; aihwkit ``inference/noise/hermes.py``).

Per device (docs/devices.md#pcm, steps 1-4), with x = G_T/g_max and xi ~ N(0, 1):

1. programming noise  G_P = max(0, G_T + sigma_prog(G_T)·xi);
2. drift exponent     nu = s_drift·|mu_nu(G_T) + sigma_nu(G_T)·xi|, drawn ONCE at programming;
3. drift              G_D = G_P·(t/t0)^(-nu), t = t_inf + t0;
4. 1/f read noise     G = max(0, G_D + |G_D|·sigma_rd·xi), sigma_rd = s_read·Q_s(G_P)·sqrt(ln((t+t_read)/(2 t_read))),
   drawn fresh on every read.

Unlike the reference ``apply_noise`` (which redraws nu on every call), nu is kept in
``DeviceState.per_device["nu"]`` so that one device follows one trajectory; the marginal at
every t equals the reference's.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.special import ndtr

from device_models import _kernels
from device_models.base import DeviceModel, DeviceState, check_read_time
from device_models.faults import FaultConfig, apply_faults, draw_stuck, faulted_std, wear
from device_models.pulsed import UpdateConfig, pulse_conductance
from device_models.schema import Config, ConfigError, check, nonnegative, positive, require_finite

__all__ = [
    "PCMConfig",
    "PCMModel",
    "programming_sigma",
    "drift_exponent_stats",
    "read_noise_q",
    "read_noise_sigma",
    "drift_factor",
    "expected_moments",
    "global_drift_compensation",
]

_G_R_FLOOR = 1e-7


@dataclass(frozen=True)
class PCMConfig(Config):
    """PCM statistical model (SI units). Defaults are aihwkit ``PCMLikeNoiseModel`` (docs/devices.md#pcm).

    ``prog_coeffs``: polynomial c0 + c1·x + c2·x² (+ c3·x³ ...) of sigma_prog in siemens, x = G_T/g_max.
    ``g_ref``: g_max at which the programming fit was made; sigma_prog is scaled by g_max/g_ref
    (``None``: no rescaling, the HERMES convention). ``nu_mean``/``nu_std``: (slope, intercept,
    lower clip, upper clip) of mu_nu, sigma_nu = clip(slope·ln g_r + intercept) for ``pcm_like``.
    ``q_read``: (q0, exponent, floor, cap) with Q_s = min(q0/max(g_r^exponent, floor), cap).
    ``custom_g``/``custom_nu_mean``/``custom_nu_std``: when given, mu_nu and sigma_nu are linear
    interpolations over these lists (aihwkit ``CustomDriftPCMLikeNoiseModel``; g in siemens).
    """

    fit: Literal["pcm_like", "hermes_1dev", "hermes_2dev"] = "pcm_like"
    g_max: float = field(default=25e-6, metadata=check(positive))
    g_ref: float | None = field(default=25e-6, metadata=check(lambda x: None if x is None else positive(x)))
    t0: float = field(default=20.0, metadata=check(positive))
    t_read: float = field(default=250e-9, metadata=check(positive))
    prog_coeffs: tuple[float, ...] = (0.26348e-6, 1.9650e-6, -1.1731e-6)
    s_prog: float = field(default=1.0, metadata=check(nonnegative))
    s_drift: float = field(default=1.0, metadata=check(nonnegative))
    s_read: float = field(default=1.0, metadata=check(nonnegative))
    nu_mean: tuple[float, float, float, float] = (-0.0155, 0.0244, 0.049, 0.1)
    nu_std: tuple[float, float, float, float] = (-0.0125, -0.0059, 0.008, 0.045)
    q_read: tuple[float, float, float, float] = (0.0088, 0.65, 1e-3, 0.2)
    custom_g: tuple[float, ...] = ()
    custom_nu_mean: tuple[float, ...] = ()
    custom_nu_std: tuple[float, ...] = ()
    update: UpdateConfig = field(
        default_factory=lambda: UpdateConfig(
            law="exp",
            dw_min=0.01,
            w_min=0.0,
            w_max=2.0,
            gamma_up=2.5,
            gamma_down=2.5,
            a=-1.0,
            b=0.0,
            A_up=-27.235,
            A_down=-2.235,
            dw_min_dtod=0.2,
            w_max_dtod=0.1,
            w_min_dtod=0.0,
            dw_min_std=0.6,
            c2c_add=0.042,
            c2c_slope=0.108,
            up_only=True,
            reset=0.01,
            reset_std=0.02,
        )
    )
    faults: FaultConfig = field(default_factory=FaultConfig)

    def validate(self) -> None:
        if not self.prog_coeffs:
            raise ConfigError("prog_coeffs", "must be a non-empty list of polynomial coefficients (S)")
        for name in ("prog_coeffs", "nu_mean", "nu_std", "q_read", "custom_g", "custom_nu_mean", "custom_nu_std"):
            for i, v in enumerate(getattr(self, name)):
                if not math.isfinite(v):
                    raise ConfigError(f"{name}[{i}]", f"must be a finite number, got {v!r}")
        for name in ("nu_mean", "nu_std"):
            lo, hi = getattr(self, name)[2:]
            if not 0 <= lo <= hi:
                raise ConfigError(name, f"clip range must satisfy 0 <= lower <= upper, got [{lo:g}, {hi:g}]")
        n = len(self.custom_g)
        if n and (len(self.custom_nu_mean) != n or len(self.custom_nu_std) != n):
            raise ConfigError(
                "custom_nu_mean", f"custom_g, custom_nu_mean and custom_nu_std must have equal length {n}"
            )
        if n and np.any(np.diff(self.custom_g) <= 0):
            raise ConfigError("custom_g", "must be strictly increasing")


def _g_ratio(g: np.ndarray, cfg: PCMConfig) -> np.ndarray:
    return np.maximum(np.abs(np.asarray(g, dtype=float)) / cfg.g_max, _G_R_FLOOR)


def programming_sigma(g_target: np.ndarray, cfg: PCMConfig) -> np.ndarray:
    """Std (S) of the programming error at target ``g_target`` (S): s_prog·poly(G_T/g_max)·(g_max/g_ref)."""
    x = np.asarray(g_target, dtype=float) / cfg.g_max
    sigma = np.polynomial.polynomial.polyval(x, cfg.prog_coeffs)
    scale = cfg.g_max / cfg.g_ref if cfg.g_ref is not None else 1.0
    return cfg.s_prog * sigma * scale


def drift_exponent_stats(g_target: np.ndarray, cfg: PCMConfig) -> tuple[np.ndarray, np.ndarray]:
    """(mu_nu, sigma_nu) of the drift exponent at target ``g_target`` (S), before the |·| fold."""
    g = np.asarray(g_target, dtype=float)
    if cfg.custom_g:
        gl = np.abs(g)
        return np.interp(gl, cfg.custom_g, cfg.custom_nu_mean), np.interp(gl, cfg.custom_g, cfg.custom_nu_std)
    gr = _g_ratio(g, cfg)
    if cfg.fit == "pcm_like":
        a, b, lo, hi = cfg.nu_mean
        mu = np.clip(a * np.log(gr) + b, lo, hi)
        a, b, lo, hi = cfg.nu_std
        return mu, np.clip(b + a * np.log(gr), lo, hi)
    lg = np.log(gr)
    mu = np.where(gr < 0.0945, np.clip(-0.0387 * lg - 0.0182, 0.072, 0.13), -0.0436 * gr**2 - 0.0126 * gr + 0.0736)
    if cfg.fit == "hermes_2dev":
        sd = np.where(gr < 0.3055, np.clip(-0.0117 * lg - 0.0057, 0.0091, 0.04), -0.0118 * gr**2 + 0.0093 * gr + 0.0073)
    else:
        sd = np.where(gr < 0.3039, np.clip(-0.0120 * lg - 0.0023, 0.0124, 0.04), -0.0165 * gr**2 + 0.0116 * gr + 0.0104)
    return mu, sd


def read_noise_q(g_prog: np.ndarray, cfg: PCMConfig) -> np.ndarray:
    """Q_s, the relative 1/f read-noise amplitude, computed from the programmed conductance G_P (S)."""
    gr = _g_ratio(g_prog, cfg)
    if cfg.fit == "pcm_like":
        q0, expo, floor, cap = cfg.q_read
        return np.minimum(q0 / np.maximum(gr**expo, floor), cap)
    lg = np.log(gr)
    if cfg.fit == "hermes_2dev":
        return np.where(
            gr < 0.16,
            np.clip(-0.0117 * lg - 0.0069, 0.015, 0.04),
            0.0069 * gr**3 - 0.0280 * gr**2 + 0.0211 * gr + 0.0123,
        )
    return np.where(
        gr < 0.1591,
        np.clip(-0.0078 * lg + 0.0038, 0.0179, 0.04),
        0.0664 * gr**3 - 0.1352 * gr**2 + 0.0768 * gr + 0.0088,
    )


def read_noise_sigma(g_prog: np.ndarray, t: float, cfg: PCMConfig) -> np.ndarray:
    """Relative read-noise std at ``t`` s after programming: s_read·Q_s·sqrt(ln((t+t0+t_read)/(2 t_read)))."""
    tt = float(t) + cfg.t0
    return cfg.s_read * read_noise_q(g_prog, cfg) * math.sqrt(math.log((tt + cfg.t_read) / (2.0 * cfg.t_read)))


def drift_factor(nu: np.ndarray, t: float, cfg: PCMConfig) -> np.ndarray:
    """((t + t0)/t0)^(-nu): the drift of a device with exponent ``nu`` at ``t`` s after programming."""
    return np.power((float(t) + cfg.t0) / cfg.t0, -np.asarray(nu, dtype=float))


def _folded_exp_moment(k: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """E[exp(-k·|X|)] for X ~ N(mu, sd²) (closed form of the folded normal)."""
    sd = np.maximum(sd, 1e-300)
    a = np.exp(-k * mu + 0.5 * (k * sd) ** 2) * ndtr(mu / sd - k * sd)
    b = np.exp(k * mu + 0.5 * (k * sd) ** 2) * ndtr(-mu / sd - k * sd)
    return a + b


def expected_moments(g_target: float, t: float, cfg: PCMConfig, n_quad: int = 96) -> tuple[float, float]:
    """Analytic mean and std (S) of G at ``t`` s for target ``g_target`` (S), noise steps 1-4.

    The drift term uses the closed-form moments of the folded normal nu; the programming noise
    (on which Q_s depends) is integrated by Gauss-Hermite quadrature; the final max(0, ·) of
    step 4 is neglected (its effect is below 1e-6 relative for G_T >= 1 µS).
    """
    x, w = np.polynomial.hermite_e.hermegauss(n_quad)
    w = w / w.sum()
    sp = float(programming_sigma(g_target, cfg))
    gp = np.maximum(0.0, g_target + sp * x)
    mu, sd = (float(v) for v in drift_exponent_stats(g_target, cfg))
    L = math.log((t + cfg.t0) / cfg.t0)
    mu, sd = cfg.s_drift * mu, cfg.s_drift * sd
    m1 = _folded_exp_moment(L, mu, sd) if cfg.s_drift > 0 else 1.0
    m2 = _folded_exp_moment(2 * L, mu, sd) if cfg.s_drift > 0 else 1.0
    srd = read_noise_sigma(gp, t, cfg)
    mean = float(np.sum(w * gp)) * float(m1)
    second = float(np.sum(w * gp**2 * (1.0 + srd**2))) * float(m2)
    return mean, math.sqrt(max(second - mean**2, 0.0))


READ_Q_BUDGET_BYTES = 16 * 2**20
"""The most Q_s memo all PCM models keep together (4 Mi devices): a few tiles' worth, bounded for large
matrices, whose other arrays take the fused exp-log-pow pass at a new read time."""
_READ_Q: dict[tuple[int, int], tuple[weakref.ref, weakref.ref, np.ndarray]] = {}


class PCMModel(DeviceModel):
    """Statistical PCM model (aihwkit PCMLikeNoiseModel / HermesNoiseModel) with persistent nu.

    Conductances are >= 0 (no upper bound: noise can exceed g_max). ``pulse`` uses the
    one-sided ExpStep law of aihwkit ``PCMPresetDevice`` (Nandakumar et al., FNINS 2020) on the
    programmed conductance and restarts the drift clock of the pulsed devices (t counts from
    the last write).
    """

    family = "pcm"
    name = "pcm"

    config_type = PCMConfig
    config: PCMConfig

    def read_q(self, g0: np.ndarray) -> np.ndarray | None:
        """Q_s of every device of a programmed array (float32, flat; t-independent), kept while ``g0`` and the
        model live and the memo of all PCM models stays within ``READ_Q_BUDGET_BYTES``; None when it would not.

        Programmed conductances are never modified in place (programming and pulses return new arrays),
        so the identity of ``g0`` keys its Q_s. Stored in float32: relative error <= 2^-24 in the read-noise
        std."""
        key = (id(self), id(g0))
        hit = _READ_Q.get(key)
        if hit is not None and hit[0]() is self and hit[1]() is g0:
            return hit[2]
        for k in [k for k, v in _READ_Q.items() if v[0]() is None or v[1]() is None]:
            del _READ_Q[k]
        if sum(v[2].nbytes for v in _READ_Q.values()) + 4 * g0.size > READ_Q_BUDGET_BYTES:
            return None
        q = _kernels.pcm_read_q(g0, self.config)
        _READ_Q[key] = (weakref.ref(self), weakref.ref(g0), q)
        return q

    @property
    def g_min(self) -> float:
        return 0.0

    @property
    def g_max(self) -> float:
        return self.config.g_max

    def program(self, g_target: np.ndarray, rng: np.random.Generator | None) -> DeviceState:
        cfg = self.config
        gt = np.asarray(require_finite("g_target", g_target), dtype=float)
        if gt.size and gt.min() < 0:
            raise ConfigError("g_target", f"must be >= 0 S, got {gt.min():g}")
        if rng is None:
            mu, _ = drift_exponent_stats(gt, cfg)
            gp, nu = gt.copy(), cfg.s_drift * np.abs(mu)
        elif cfg.fit == "pcm_like" and not cfg.custom_g and len(cfg.prog_coeffs) == 3:
            xi = rng.standard_normal((2,) + gt.shape)
            gp, nu = _kernels.pcm_program(gt, xi[0], xi[1], cfg)
        else:
            xi = rng.standard_normal((2,) + gt.shape)
            gp = np.maximum(0.0, gt + programming_sigma(gt, cfg) * xi[0])
            mu, sd = drift_exponent_stats(gt, cfg)
            nu = cfg.s_drift * np.abs(mu + sd * xi[1])
        stuck, stuck_g = draw_stuck(gt.shape, cfg.faults, rng, self.g_min, self.g_max)
        per = {"nu": nu}
        if stuck_g is not None:
            per["stuck_g"] = stuck_g
        cycles = np.ones(gt.shape, dtype=np.int64)
        return DeviceState(g0=gp, g_target=gt, per_device=per, stuck=stuck, cycles=cycles)

    def conductance(self, state: DeviceState, t: float, rng: np.random.Generator | None) -> np.ndarray:
        cfg = self.config
        check_read_time(t)
        nu = state.per_device["nu"]
        if rng is None:
            g = state.g0 * drift_factor(nu, t, cfg)
        elif cfg.fit == "pcm_like":
            g = _kernels.pcm_read(state.g0, nu, rng.standard_normal(state.shape), float(t), cfg)
        else:
            gd = state.g0 * drift_factor(nu, t, cfg)
            g = np.maximum(0.0, gd + np.abs(gd) * read_noise_sigma(state.g0, t, cfg) * rng.standard_normal(state.shape))
        return apply_faults(g, state, self.g_min, self.g_max, cfg.faults)

    def read_stats(self, state: DeviceState, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Fused :meth:`conductance` (noise-free) and :meth:`read_noise_std` (one numba pass for ``pcm_like``)."""
        cfg = self.config
        if cfg.fit != "pcm_like":
            return super().read_stats(state, t)
        check_read_time(t)
        g, sd = _kernels.pcm_read_stats(state.g0, state.per_device["nu"], float(t), cfg, self.read_q(state.g0))
        return apply_faults(g, state, self.g_min, self.g_max, cfg.faults), faulted_std(sd, state, cfg.faults)

    def read_pairs(self, state: DeviceState, t: float, pairs: tuple, r_access: float, row_g: np.ndarray | None) -> bool:
        """The fused read (:meth:`DeviceModel.read_pairs`) of a compact (float32) ``pcm_like`` state with stored Q_s
        and no faults: one exp per device, no array of the state's size (``_kernels.pcm_read_pairs``)."""
        cfg, g0, nu = self.config, state.g0, state.per_device["nu"]
        if cfg.fit != "pcm_like" or cfg.faults.active or state.stuck is not None:
            return False
        if g0.dtype != np.float32 or nu.dtype != np.float32 or not (g0.flags.c_contiguous and nu.flags.c_contiguous):
            return False
        q = self.read_q(g0)
        if q is None:
            return False
        _kernels.pcm_read_pairs(g0, nu, q, check_read_time(t), cfg, r_access, pairs, row_g)
        return True

    def read_noise_std(self, state: DeviceState, t: float) -> np.ndarray:
        """|G_D|·sigma_rd(G_P, t) (S), step 4 of the module docstring."""
        check_read_time(t)
        gd = state.g0 * drift_factor(state.per_device["nu"], t, self.config)
        return faulted_std(np.abs(gd) * read_noise_sigma(state.g0, t, self.config), state, self.config.faults)

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
        pol = np.broadcast_to(np.asarray(polarity), state.shape)
        moved = pol != 0
        mu, sd = drift_exponent_stats(g_new, cfg)
        nu_new = cfg.s_drift * np.abs(mu + sd * rng.standard_normal(state.shape))
        per["nu"] = np.where(moved, nu_new, state.per_device["nu"])
        cycles = state.cycles + moved if state.cycles is not None else moved.astype(np.int64)
        stuck = wear(state.stuck, cycles, cfg.faults)
        return DeviceState(g0=g_new, g_target=state.g_target, per_device=per, stuck=stuck, cycles=cycles)


def global_drift_compensation(g_ref_read: np.ndarray, g_now: np.ndarray) -> float:
    """Global drift-compensation factor alpha = mean|r0| / mean|r(t)| (aihwkit ``GlobalDriftCompensation``).

    ``g_ref_read`` is the readout taken right after programming (e.g. outputs for one-hot
    inputs, or conductances), ``g_now`` the same readout at time t. Multiply outputs at t by
    alpha. With one shared nu and no read noise, alpha = (t/t0)^nu exactly (spec PCM-3).
    """
    r0 = float(np.mean(np.abs(require_finite("g_ref_read", g_ref_read))))
    rt = float(np.mean(np.abs(require_finite("g_now", g_now))))
    if rt == 0.0:
        raise ConfigError("g_now", "readout is all zero; cannot compensate drift")
    return r0 / rt
