"""DPI / adaptive-exponential integrate-and-fire neuron in current mode (docs/circuits.md §4).

Chicca, Stefanini, Bartolozzi & Indiveri, Proc. IEEE 102(9), 2014, with the positive-feedback
convention of teili and the defaults of rockpool's DynapSim (docs/circuits.md §4) [related]:

    dI_mem/dt = I_mem/(tau_mem*(I_mem + I_gain)) * [I_mem_inf + f(I_mem) - I_mem*(1 + I_ahp/I_tau)]
    I_mem_inf = (I_gain/I_tau)*(I_in - I_ahp - I_tau),  tau_mem = C_mem*U_T/(kappa*I_tau)
    f(I_mem)  = (I_a/I_tau)*(I_mem + I_gain),  I_a = I_a_gain/(1 + exp(-(I_mem - I_a_th)/I_a_norm))

Spike when I_mem > I_spkthr, then I_mem <- I_reset, held for t_ref; I_ahp is a DPI driven by the
neuron's own spikes. I_mem is clamped at >= I0.

Integration (docs/circuits.md §4): exponential-Euler sub-steps of at most ``h`` (default 20 us),
I <- I_eq + (I - I_eq)*exp(-k*h), k = I_mem*(1 + I_ahp/I_tau)/(tau_mem*(I_mem + I_gain)),
I_eq = (I_mem_inf + f)/(1 + I_ahp/I_tau), with k and I_eq frozen at a predicted mid-step state
(exponential midpoint, second order in h). This is exact in the linear regime (I_mem >> I_gain,
f off) for constant input. A sub-step is shortened (down to h/256) while I_mem would grow by more
than 25 % in it (fast growth for I_mem << I_gain or under strong feedback). Sub-steps are cut at
the threshold crossing, refractory ends are exact event times, I_ahp decays exactly. When
I_mem <= 10*I0 and even with I_ahp = 0 the fixed point stays below 10*I0, the neuron "sleeps":
one exponential step covers the rest of the interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from aimc_sim.circuits import _kernels
from aimc_sim.circuits._kernels import N_ADEXP_PARAMS
from aimc_sim.circuits.dpi import dpi_jump
from aimc_sim.circuits.mismatch import MismatchConfig, sample_factors
from aimc_sim.circuits.physics import I0, KAPPA, U_T, V_TH_PULSE, bias_from_tau, pulse_current, tau_from_bias
from aimc_sim.circuits.spikes import SpikeTrain, collect_spikes
from aimc_sim.config import Config, check, in_range, positive, require_finite
from aimc_sim.cost import Ledger
from aimc_sim.cost.events import NEURON_SPIKE  # counted once per output spike
from aimc_sim.errors import ConfigError

_C_MEM, _C_AHP = 3e-12, 40e-12
_I_TAU_MEM = bias_from_tau(_C_MEM, 20e-3)
_I_TAU_AHP = bias_from_tau(_C_AHP, 50e-3)


@dataclass(frozen=True)
class AdExpConfig(Config):
    """Physical biases of the DPI/AdExp neuron. Defaults: rockpool DynapSim (docs/circuits.md §4) [related],
    positive feedback and I_reset from teili's Chicca-2014 neuron (docs/circuits.md §4) [related].

    ``h`` is the integration sub-step (explicit in the nonlinear part: must be < tau_mem/2).
    The four circuit modules (threshold, feedback, refractory, adaptation) can be switched off.
    With the spec defaults (I_w_ahp = 0.5 pA, t_pulse_ahp = 1 us) adaptation adds only ~1e-17 A
    per spike; I_ahp acts through (1 + I_ahp/I_tau), so it matters at the pA scale: I_w_ahp = 0.2 uA
    gives 4 pA per spike and clear spike-frequency adaptation.
    """

    C_mem: float = field(default=_C_MEM, metadata=check(positive))
    I_tau: float = field(default=_I_TAU_MEM, metadata=check(positive))
    I_gain: float = field(default=4 * _I_TAU_MEM, metadata=check(positive))
    I_spkthr: float = field(default=100e-9, metadata=check(positive))
    I_reset: float = field(default=0.6e-12, metadata=check(positive))
    t_ref: float = field(default=1e-3, metadata=check(positive))
    I_a_gain: float = field(default=50e-12, metadata=check(positive))
    I_a_th: float = field(default=0.5e-9, metadata=check(positive))
    I_a_norm: float = field(default=10e-12, metadata=check(positive))
    C_ahp: float = field(default=_C_AHP, metadata=check(positive))
    I_tau_ahp: float = field(default=_I_TAU_AHP, metadata=check(positive))
    I_gain_ahp: float = field(default=_I_TAU_AHP, metadata=check(positive))
    I_w_ahp: float = field(default=0.5e-12, metadata=check(positive))
    t_pulse_ahp: float = field(default=1e-6, metadata=check(positive))
    C_ref: float = field(default=1.5e-12, metadata=check(positive))
    V_th: float = field(default=V_TH_PULSE, metadata=check(positive))
    I0: float = field(default=I0, metadata=check(positive))
    kappa: float = field(default=KAPPA, metadata=check(in_range(0.0, 1.0, lo_open=True)))
    U_T: float = field(default=U_T, metadata=check(positive))
    h: float = field(default=20e-6, metadata=check(positive))
    threshold: bool = True
    feedback: bool = True
    refractory: bool = True
    adaptation: bool = True
    mismatch: MismatchConfig = field(default_factory=MismatchConfig)

    def validate(self) -> None:
        if self.h >= self.tau_mem / 2:
            raise ConfigError(
                "h", f"must be < tau_mem/2 = {self.tau_mem / 2:g} s for the explicit scheme, got {self.h!r}"
            )
        if self.I_reset >= self.I_spkthr:
            raise ConfigError("I_reset", f"must be < I_spkthr = {self.I_spkthr:g} A, got {self.I_reset!r}")
        if self.I_reset < self.I0:
            raise ConfigError("I_reset", f"must be >= I0 = {self.I0:g} A, got {self.I_reset!r}")

    @property
    def tau_mem(self) -> float:
        """Membrane time constant C_mem*U_T/(kappa*I_tau) [s]."""
        return tau_from_bias(self.C_mem, self.I_tau, self.kappa, self.U_T)

    @property
    def tau_ahp(self) -> float:
        """Adaptation time constant C_ahp*U_T/(kappa*I_tau_ahp) [s]."""
        return tau_from_bias(self.C_ahp, self.I_tau_ahp, self.kappa, self.U_T)

    @property
    def I_ref(self) -> float:
        """Refractory bias V_th*C_ref/t_ref [A]."""
        return pulse_current(self.C_ref, self.t_ref, self.V_th)

    @classmethod
    def from_time_constants(
        cls,
        tau_mem: float = 20e-3,
        tau_ahp: float = 50e-3,
        gain_ratio: float = 4.0,
        gain_ratio_ahp: float = 1.0,
        **kw: object,
    ) -> AdExpConfig:
        """Abstract -> physical: I_tau = C*U_T/(kappa*tau) for mem and ahp, I_gain = ratio*I_tau."""
        base = cls.__dataclass_fields__
        c_mem = kw.pop("C_mem", base["C_mem"].default)
        c_ahp = kw.pop("C_ahp", base["C_ahp"].default)
        kappa = kw.get("kappa", KAPPA)
        u_t = kw.get("U_T", U_T)
        i_tau = bias_from_tau(c_mem, tau_mem, kappa, u_t)
        i_tau_ahp = bias_from_tau(c_ahp, tau_ahp, kappa, u_t)
        return cls(
            C_mem=c_mem,
            I_tau=i_tau,
            I_gain=gain_ratio * i_tau,
            C_ahp=c_ahp,
            I_tau_ahp=i_tau_ahp,
            I_gain_ahp=gain_ratio_ahp * i_tau_ahp,
            **kw,
        )

    def time_constants(self) -> dict[str, float]:
        """Physical -> abstract: tau_mem, tau_ahp, gain ratios, t_ref (with its bias I_ref)."""
        return {
            "tau_mem": self.tau_mem,
            "tau_ahp": self.tau_ahp,
            "gain_ratio": self.I_gain / self.I_tau,
            "gain_ratio_ahp": self.I_gain_ahp / self.I_tau_ahp,
            "t_ref": self.t_ref,
            "I_ref": self.I_ref,
        }

    def rheobase(self) -> float:
        """Input current above which the linear-regime neuron fires repetitively: I_tau*(1 + I_spkthr/I_gain)."""
        return self.I_tau + self.I_spkthr * self.I_tau / self.I_gain


@dataclass
class AdExpState:
    """Per-neuron state: membrane and adaptation currents [A], remaining refractory time [s]."""

    i_mem: np.ndarray
    i_ahp: np.ndarray
    t_refr: np.ndarray

    @classmethod
    def rest(cls, n: int, i0: float = I0) -> AdExpState:
        """All neurons at rest: I_mem = I0, I_ahp = 0, not refractory."""
        return cls(np.full(n, float(i0)), np.zeros(n), np.zeros(n))


@dataclass(frozen=True)
class AdExpParams:
    """Per-neuron parameter table (rows = neurons, columns as in ``_kernels``) and the sub-step h."""

    table: np.ndarray
    h: float

    @property
    def n(self) -> int:
        return self.table.shape[0]

    def column(self, name: str) -> np.ndarray:
        """One parameter of every neuron, e.g. ``column("TAU")``."""
        return self.table[:, getattr(_kernels, name)]


MISMATCHED = ("I_tau", "I_gain", "I_spkthr", "I_reset", "I_ref", "I_a_gain", "I_a_th", "I_a_norm",
              "I_tau_ahp", "I_gain_ahp", "I_w_ahp")  # fmt: skip


def adexp_params(config: AdExpConfig, n: int, rng: np.random.Generator | None = None) -> AdExpParams:
    """Build the parameter table of n neurons, drawing frozen mismatch (one factor per bias) from rng."""
    f = dict(zip(MISMATCHED, sample_factors(config.mismatch, n, len(MISMATCHED), rng).T))
    c = config
    p = np.empty((n, N_ADEXP_PARAMS))
    i_tau = c.I_tau * f["I_tau"]
    p[:, _kernels.ITAU] = i_tau
    p[:, _kernels.TAU] = c.C_mem * c.U_T / (c.kappa * i_tau)
    p[:, _kernels.IGAIN] = c.I_gain * f["I_gain"]
    p[:, _kernels.ISPK] = c.I_spkthr * f["I_spkthr"] if c.threshold else np.inf
    p[:, _kernels.IRESET] = np.clip(c.I_reset * f["I_reset"], c.I0, None)
    p[:, _kernels.TREF] = c.t_ref / f["I_ref"] if c.refractory else 0.0
    p[:, _kernels.IAGAIN] = c.I_a_gain * f["I_a_gain"] if c.feedback else 0.0
    p[:, _kernels.IATH] = c.I_a_th * f["I_a_th"]
    p[:, _kernels.IANORM] = c.I_a_norm * f["I_a_norm"]
    i_tau_ahp = c.I_tau_ahp * f["I_tau_ahp"]
    tau_ahp = c.C_ahp * c.U_T / (c.kappa * i_tau_ahp)
    p[:, _kernels.TAUAHP] = tau_ahp
    jump = dpi_jump(c.I_gain_ahp * f["I_gain_ahp"], c.I_w_ahp * f["I_w_ahp"], i_tau_ahp, c.t_pulse_ahp, tau_ahp)
    p[:, _kernels.JAHP] = jump if c.adaptation else 0.0
    p[:, _kernels.IFLOOR] = c.I0
    p[:, _kernels.ISLEEP] = 10.0 * c.I0
    if c.h >= p[:, _kernels.TAU].min() / 2:
        raise ConfigError("h", f"must be < tau_mem/2 of every mismatched neuron ({p[:, 0].min() / 2:g} s), got {c.h!r}")
    return AdExpParams(p, c.h)


def adexp_advance(
    state: AdExpState,
    dt: float,
    i_in: float | np.ndarray,
    params: AdExpParams,
    *,
    i_decay: np.ndarray | None = None,
    tau_decay: np.ndarray | None = None,
    t0: float = 0.0,
    neurons: np.ndarray | None = None,
) -> SpikeTrain:
    """Advance the neurons (all, or the indices ``neurons``) by an arbitrary interval dt [s], in place.

    Input current [A]: ``i_in`` (scalar or one value per neuron) held over dt, plus optional
    decaying parts ``i_decay*exp(-t/tau_decay)`` (shape (n,) or (n_components, n), e.g. the DPI
    synaptic currents at the last event; they decay exactly, advance them with :func:`dpi_decay`).
    Returns the spikes emitted, with absolute times t0 + offset. The cost is bounded by dt/h
    sub-steps (each at least h/256) per active neuron; quiescent neurons (I_mem <= 10*I0, no
    suprathreshold drive) take one step.
    """
    if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt >= 0):
        raise ConfigError("dt", f"must be a finite number >= 0, got {dt!r}")
    n = params.n
    for name in ("i_mem", "i_ahp", "t_refr"):
        a = require_finite(f"state.{name}", getattr(state, name))
        if a.shape != (n,) or a.dtype != np.float64:
            raise ConfigError(f"state.{name}", f"must be a float64 array of shape ({n},), got {a.dtype} {a.shape}")
    drive = np.broadcast_to(require_finite("i_in", i_in).astype(np.float64), (n,)).reshape(1, n)
    i_dec, tau_dec = _decaying_input(i_decay, tau_decay, n)
    return _advance(state, float(dt), np.ascontiguousarray(drive), 1, params, float(t0), neurons, i_dec, tau_dec)


def _decaying_input(i_decay, tau_decay, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Validated (n_components, n) arrays of decaying input amplitudes and time constants."""
    if i_decay is None and tau_decay is None:
        return np.zeros((0, n)), np.ones((0, n))
    if i_decay is None or tau_decay is None:
        raise ConfigError("tau_decay" if tau_decay is None else "i_decay", "i_decay and tau_decay go together")
    amp = require_finite("i_decay", i_decay).astype(np.float64)
    amp = amp.reshape(1, -1) if amp.ndim <= 1 else amp
    if amp.shape[1] != n:
        raise ConfigError("i_decay", f"must have shape ({n},) or (n_components, {n}), got {np.shape(i_decay)}")
    tau = np.broadcast_to(require_finite("tau_decay", tau_decay).astype(np.float64), amp.shape)
    if (tau <= 0).any():
        raise ConfigError("tau_decay", f"must be > 0, got {tau[tau <= 0][0]!r}")
    return np.ascontiguousarray(amp), np.ascontiguousarray(tau)


def _advance(state, dt, drive, n_samples, params, t0, neurons, i_dec, tau_dec) -> SpikeTrain:
    """Run the resumable AdExp kernel over n_samples input rows (drive) and gather the spikes."""
    n = params.n
    pos_s = np.zeros(n, dtype=np.int64)
    pos_t = np.zeros(n)
    if neurons is not None:
        neurons = np.asarray(neurons, dtype=np.int64).reshape(-1)
        if neurons.size and (neurons.min() < 0 or neurons.max() >= n):
            raise ConfigError("neurons", f"must be indices in 0..{n - 1}")
        if neurons.size > 1 and np.unique(neurons).size != neurons.size:
            raise ConfigError("neurons", "must not repeat an index")
    if dt == 0.0:
        return SpikeTrain(np.zeros(0, dtype=np.int64), np.zeros(0))
    n_active = n if neurons is None else neurons.size
    substeps = n_active * n_samples * (math.ceil(dt / params.h) + 1)
    kernel = _kernels.choose(_kernels.adexp_run, _kernels.adexp_run_serial, substeps * _kernels.NS_ADEXP_SUBSTEP)

    def run_chunk(sel, buf_t, buf_n):
        kernel(
            state.i_mem, state.i_ahp, state.t_refr, pos_s, pos_t, sel, drive, i_dec, tau_dec, n_samples, dt, params.h,
            params.table, t0, buf_t, buf_n,
        )  # fmt: skip

    return collect_spikes(n if neurons is None else neurons, run_chunk, lambda sel: pos_s[sel] >= n_samples)


class AdExpNeuron:
    """A population of n DPI/AdExp neurons with frozen mismatch, driven by input currents.

    ``run(i_in, dt)`` holds each row of i_in (n_samples x n, or a single row) for dt and returns the
    spikes; ``step(dt, i_in)`` advances by any interval dt (input held). Output spikes are counted as
    ``neuron_spike`` in the optional ledger.
    """

    def __init__(
        self, config: AdExpConfig, n: int, rng: np.random.Generator | None = None, *, ledger: Ledger | None = None
    ) -> None:
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError("n", f"must be an integer >= 1, got {n!r}")
        self.config = config
        self.n = int(n)
        self.params = adexp_params(config, self.n, rng)
        self.ledger = ledger
        self.state = AdExpState.rest(self.n, config.I0)
        self.t = 0.0

    @property
    def tau_mem(self) -> np.ndarray:
        """Per-neuron membrane time constant [s] (mismatched)."""
        return self.params.column("TAU")

    def reset_state(self) -> None:
        """All neurons at rest and time = 0."""
        self.state = AdExpState.rest(self.n, self.config.I0)
        self.t = 0.0

    def step(
        self,
        dt: float,
        i_in: float | np.ndarray,
        i_decay: np.ndarray | None = None,
        tau_decay: np.ndarray | None = None,
    ) -> SpikeTrain:
        """Advance every neuron by dt with input i_in [A] (+ decaying parts, see :func:`adexp_advance`)."""
        train = adexp_advance(self.state, dt, i_in, self.params, i_decay=i_decay, tau_decay=tau_decay, t0=self.t)
        self.t += dt
        self._count(train)
        return train

    def run(self, i_in: np.ndarray, dt: float, n_samples: int | None = None) -> SpikeTrain:
        """Drive with input samples i_in (n_samples x n, or n for a constant input), each held for dt."""
        if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
            raise ConfigError("dt", f"must be a finite number > 0, got {dt!r}")
        a = require_finite("i_in", i_in).astype(np.float64)
        if a.ndim == 1:
            if n_samples is None:
                raise ConfigError("n_samples", "is required when i_in is one value per neuron")
            a = a.reshape(1, -1)
        else:
            n_samples = a.shape[0]
        if a.shape[1] != self.n:
            raise ConfigError("i_in", f"must have {self.n} columns (one per neuron), got shape {a.shape}")
        i_dec, tau_dec = _decaying_input(None, None, self.n)
        train = _advance(
            self.state, float(dt), np.ascontiguousarray(a), int(n_samples), self.params, self.t, None, i_dec, tau_dec
        )
        self.t += n_samples * dt
        self._count(train)
        return train

    def _count(self, train: SpikeTrain) -> None:
        if self.ledger is not None:
            self.ledger.add(NEURON_SPIKE, float(train.index.size))
