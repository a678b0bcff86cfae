"""Discrete-time leaky integrate-and-fire population (docs/circuits.md §5).

tau_m*dv/dt = (v_leak - v) + R*I(t). With I held over each step of length dt:

- exact (ZOH): v <- v_leak + alpha*(v - v_leak) + R*(1 - alpha)*I, alpha = exp(-dt/tau_m);
- forward Euler: alpha = 1 - dt/tau_m, gain R*dt/tau_m (requires dt < tau_m/2).

Spike when v >= v_th; reset to v_reset, by subtraction of v_th, or none; then the unit is held for
n_ref = round(t_ref/dt) steps. With constant suprathreshold input and v_leak = v_reset = 0 the
continuous-time rate is 1/(t_ref + tau_m*ln(R*I/(R*I - v_th))) (test of the f-I curve).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.stats import poisson

from aimc_sim.circuits import _kernels
from aimc_sim.circuits._population import SteppedPopulation, batch_input, check_dtype, check_size, per_neuron
from aimc_sim.circuits.adexp import NEURON_SPIKE
from aimc_sim.circuits.dpi import SYNAPTIC_EVENT
from aimc_sim.circuits.mismatch import NO_MISMATCH, MismatchConfig, sample_factors
from aimc_sim.circuits.physics import bias_from_tau, tau_from_bias
from aimc_sim.circuits.spikes import SpikeTrain, collect_spikes
from aimc_sim.config import Config, check, in_range, nonnegative, one_of, positive, require_finite
from aimc_sim.cost import Ledger
from aimc_sim.errors import ConfigError


def lif_advance(v, dt, tau_m, i_in, R=1.0, v_leak=0.0):
    """Membrane after an interval dt [s] with input i_in held constant (exact, arrays broadcast):
    v_inf + (v - v_inf)*exp(-dt/tau_m), v_inf = v_leak + R*i_in. Threshold crossings are not handled;
    use :func:`lif_time_to_threshold` to schedule the spike event first."""
    v_inf = v_leak + R * np.asarray(i_in, dtype=np.float64)
    return v_inf + (v - v_inf) * np.exp(-np.asarray(dt, dtype=np.float64) / tau_m)


def lif_time_to_threshold(v, tau_m, i_in, v_th, R=1.0, v_leak=0.0):
    """Time [s] until v reaches v_th under constant input: tau_m*ln((v_inf - v)/(v_inf - v_th)),
    0 if v >= v_th already, inf if v_inf <= v_th (never). Arrays broadcast."""
    v = np.asarray(v, dtype=np.float64)
    v_inf = v_leak + R * np.asarray(i_in, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = tau_m * np.log((v_inf - v) / (v_inf - v_th))
    t = np.where(v_inf > v_th, t, np.inf)
    return np.where(v >= v_th, 0.0, t)


RESET_MODES = {"to_value": _kernels.RESET_TO_VALUE, "subtract": _kernels.RESET_SUBTRACT, "none": _kernels.RESET_NONE}


@dataclass(frozen=True)
class LIFConfig(Config):
    """Abstract LIF parameters [SI]; ``C_mem`` only serves the bias conversion I_tau = C*U_T/(kappa*tau_m)."""

    tau_m: float = field(default=20e-3, metadata=check(positive))
    dt: float = field(default=1e-4, metadata=check(positive))
    R: float = field(default=1.0, metadata=check(positive))
    v_leak: float = field(default=0.0, metadata=check(in_range()))
    v_th: float = field(default=1.0, metadata=check(in_range()))
    v_reset: float = field(default=0.0, metadata=check(in_range()))
    reset: Literal["to_value", "subtract", "none"] = field(
        default="to_value", metadata=check(one_of("to_value", "subtract", "none"))
    )
    t_ref: float = field(default=0.0, metadata=check(nonnegative))
    discretisation: Literal["exact", "euler"] = field(default="exact", metadata=check(one_of("exact", "euler")))
    C_mem: float = field(default=3e-12, metadata=check(positive))
    mismatch: MismatchConfig = field(default_factory=MismatchConfig)

    def validate(self) -> None:
        if self.discretisation == "euler" and self.dt >= self.tau_m / 2:
            raise ConfigError(
                "dt", f"must be < tau_m/2 = {self.tau_m / 2:g} s for the explicit Euler scheme, got {self.dt!r}"
            )
        if self.v_th <= self.v_leak:
            raise ConfigError("v_th", f"must be > v_leak = {self.v_leak:g}, got {self.v_th!r}")
        if self.reset == "to_value" and self.v_reset >= self.v_th:
            raise ConfigError("v_reset", f"must be < v_th = {self.v_th:g}, got {self.v_reset!r}")

    @property
    def n_ref(self) -> int:
        """Refractory period in steps, round(t_ref/dt)."""
        return int(round(self.t_ref / self.dt))

    @property
    def I_tau(self) -> float:
        """Leak bias of a current-mode implementation on C_mem: C_mem*U_T/(kappa*tau_m) [A]."""
        return bias_from_tau(self.C_mem, self.tau_m)

    @classmethod
    def from_biases(cls, C_mem: float, I_tau: float, **kw: object) -> LIFConfig:
        """Physical -> abstract: tau_m = C_mem*U_T/(kappa*I_tau)."""
        return cls(tau_m=tau_from_bias(C_mem, I_tau), C_mem=C_mem, **kw)

    def decay(self, tau: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """(alpha, gain) of the chosen discretisation for time constant(s) tau."""
        tau = np.asarray(tau, dtype=np.float64)
        if self.discretisation == "exact":
            alpha = np.exp(-self.dt / tau)
            return alpha, self.R * -np.expm1(-self.dt / tau)
        return 1.0 - self.dt / tau, self.R * self.dt / tau


class LIFPopulation(SteppedPopulation):
    """n LIF neurons with a (batch, n) state, stepped by a numba kernel.

    Workload API: ``reset_state(batch)``, then ``step(input_current) -> spikes`` (bool, (batch, n))
    once per time step with input currents [A] of shape (n,) or (batch, n). ``run(inputs)`` steps
    through a (T, batch, n) or (T, n) array; ``drive(duration, ...)`` runs the fused constant +
    Poisson input kernel. Spike trains index units as b*n + i. Mismatch: per-neuron factors on
    I_tau (tau_m = tau_m/f) and on the threshold distance v_th - v_leak.
    """

    MISMATCHED = ("I_tau", "v_th")

    def __init__(
        self,
        config: LIFConfig,
        n: int,
        rng: np.random.Generator | None = None,
        *,
        batch: int = 1,
        ledger: Ledger | None = None,
        dtype: type = np.float64,
    ) -> None:
        n = check_size("n", n)
        f = sample_factors(config.mismatch, n, len(self.MISMATCHED), rng)
        tau = config.tau_m / f[:, 0]
        if config.discretisation == "euler" and config.dt >= tau.min() / 2:
            raise ConfigError(
                "mismatch.sigma", f"makes some tau_m < 2*dt for the Euler scheme (min tau_m {tau.min():g} s)"
            )
        alpha, gain = config.decay(tau)
        v_th = config.v_leak + (config.v_th - config.v_leak) * f[:, 1]
        self._setup(config, alpha, gain, v_th, batch, ledger, dtype)
        self.tau_m = tau

    @classmethod
    def from_parameters(
        cls,
        alpha: np.ndarray | float,
        gain: np.ndarray | float,
        *,
        n: int | None = None,
        v_th: np.ndarray | float = 1.0,
        v_leak: float = 0.0,
        v_reset: float = 0.0,
        reset: str = "to_value",
        t_ref: float = 0.0,
        dt: float = 1.0,
        batch: int = 1,
        ledger: Ledger | None = None,
        dtype: type = np.float64,
    ) -> LIFPopulation:
        """Population from discrete (e.g. trained) per-neuron alpha in (0, 1) and input gain, no mismatch."""
        alpha_a = require_finite("alpha", alpha)
        n = check_size("n", n if n is not None else max(alpha_a.size, np.size(gain), np.size(v_th)))
        alpha_a = per_neuron("alpha", alpha_a, n)
        if ((alpha_a <= 0) | (alpha_a >= 1)).any():
            raise ConfigError("alpha", f"must be in (0, 1), got {alpha_a[(alpha_a <= 0) | (alpha_a >= 1)][0]!r}")
        config = LIFConfig(
            tau_m=float(np.mean(-dt / np.log(alpha_a))), dt=dt, v_leak=v_leak, v_th=float(np.min(v_th)),
            v_reset=v_reset, reset=reset, t_ref=t_ref, mismatch=NO_MISMATCH,
        )  # fmt: skip
        self = cls.__new__(cls)
        self._setup(config, alpha_a, per_neuron("gain", gain, n), per_neuron("v_th", v_th, n), batch, ledger, dtype)
        self.tau_m = -dt / np.log(alpha_a)
        return self

    def _setup(self, config, alpha, gain, v_th, batch, ledger, dtype) -> None:
        self.config = config
        self.dtype = check_dtype(dtype)
        self.n = alpha.size
        self.alpha = alpha.astype(self.dtype)
        self.gain = gain.astype(self.dtype)
        self.v_th = v_th.astype(self.dtype)
        self.v_leak = self.dtype(config.v_leak)
        self.v_reset = self.dtype(config.v_reset)
        self.mode = RESET_MODES[config.reset]
        self.n_ref = config.n_ref
        self.ledger = ledger
        self.reset_state(batch)

    def reset_state(self, batch: int | None = None) -> None:
        """v = v_leak, not refractory, step counter 0; optionally change the batch size."""
        self.batch = check_size("batch", batch if batch is not None else self.batch)
        self.v = np.full((self.batch, self.n), self.v_leak, dtype=self.dtype)
        self.ref = np.zeros((self.batch, self.n), dtype=np.int32)
        self.t_step = 0

    def step(self, input_current: np.ndarray) -> np.ndarray:
        """Advance one step of dt with input current [A] held over the step; returns spikes (batch, n)."""
        i_in = batch_input("input_current", input_current, self.batch, self.n, self.dtype)
        spikes = np.empty((self.batch, self.n), dtype=np.bool_)
        _kernels.lif_step(
            self.v, self.ref, i_in, self.alpha, self.gain, self.v_leak, self.v_th, self.v_reset, self.mode,
            self.n_ref, spikes,
        )  # fmt: skip
        self.t_step += 1
        if self.ledger is not None:
            self.ledger.add(NEURON_SPIKE, float(np.count_nonzero(spikes)))
        return spikes

    def drive(
        self,
        duration: float,
        i_bias: np.ndarray | float = 0.0,
        poisson_rate: float = 0.0,
        poisson_charge: float = 0.0,
        rng: np.random.Generator | None = None,
    ) -> SpikeTrain:
        """Run for ``duration`` [s] with I = i_bias + poisson_charge*k/dt, k ~ Poisson(poisson_rate*dt) per step.

        ``i_bias`` [A] is a scalar, (n,) or (batch, n); ``poisson_rate`` [Hz] is the total input event
        rate per neuron and ``poisson_charge`` [C] the charge per event. Each unit draws from its own
        xorshift64* stream seeded from ``rng``. Input events are counted as ``synaptic_event``.
        """
        dt = self.config.dt
        if not (isinstance(duration, (int, float)) and math.isfinite(duration) and duration >= dt):
            raise ConfigError("duration", f"must be a finite number >= dt = {dt:g}, got {duration!r}")
        for name, val in (("poisson_rate", poisson_rate), ("poisson_charge", poisson_charge)):
            if not (isinstance(val, (int, float)) and math.isfinite(val) and val >= 0):
                raise ConfigError(name, f"must be a finite number >= 0, got {val!r}")
        n_steps = int(round(duration / dt))
        units = self.batch * self.n
        b = np.asarray(i_bias, dtype=np.float64)
        b = np.full(self.n, float(b)) if b.ndim == 0 else b
        bias = np.ascontiguousarray(batch_input("i_bias", b, self.batch, self.n, np.float64)).reshape(-1)
        cdf = poisson_cdf(poisson_rate * dt)
        if cdf[0] < 1.0 and not isinstance(rng, np.random.Generator):
            raise ConfigError("rng", f"must be a numpy.random.Generator when poisson_rate > 0, got {rng!r}")
        seeds = seed_streams(rng, units) if cdf[0] < 1.0 else np.zeros(units, dtype=np.uint64)
        v, ref = self.v.reshape(-1), self.ref.reshape(-1)
        pos = np.zeros(units, dtype=np.int64)
        n_events = np.zeros(units, dtype=np.int64)
        work = units * n_steps * _kernels.NS_LIF_UPDATE
        kernel = _kernels.choose(_kernels.lif_drive, _kernels.lif_drive_serial, work)
        lanes = _kernels.LANES

        def run_chunk(sel, buf_t, buf_u, buf_n):
            kernel(
                sel, v, ref, seeds, pos, n_steps, self.alpha, self.gain, float(self.v_leak), self.v_th,
                float(self.v_reset), self.mode, self.n_ref, bias, float(poisson_charge), cdf, dt,
                buf_t, buf_u, buf_n, n_events,
            )  # fmt: skip

        n_blocks = -(-units // lanes)
        train = collect_spikes(
            n_blocks, run_chunk, lambda sel: pos[sel * lanes] >= n_steps, cap=4 * lanes, unit_buffers=True
        )
        train = SpikeTrain(train.index, train.time + self.t_step * dt)
        self.t_step += n_steps
        if self.ledger is not None:
            self.ledger.add(NEURON_SPIKE, float(train.index.size))
            self.ledger.add(SYNAPTIC_EVENT, float(n_events.sum()))
        return train


def poisson_cdf(lam: float) -> np.ndarray:
    """CDF table P(K <= k), k = 0.., of a Poisson(lam) count per step, for inverse-transform sampling.

    It ends at exactly 1 (tail mass below 1e-16 folded in); lam = 0 gives [1.0] (no events).
    """
    if lam == 0.0:
        return np.ones(1)
    k_max = int(poisson.ppf(1 - 1e-16, lam)) + 2
    cdf = poisson.cdf(np.arange(k_max + 1), lam)
    cdf[-1] = 1.0
    return cdf


def seed_streams(rng: np.random.Generator, units: int) -> np.ndarray:
    """Non-zero 64-bit xorshift states, one per unit, drawn from rng."""
    return rng.integers(1, np.iinfo(np.int64).max, size=units, dtype=np.int64).astype(np.uint64)
