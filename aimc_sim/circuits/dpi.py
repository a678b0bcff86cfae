"""Differential-pair integrator (DPI) synapse (docs/circuits.md §3).

tau*dI_syn/dt + I_syn = (I_gain*I_w/I_tau)*p(t), tau = C_syn*U_T/(kappa*I_tau), valid for
I_syn >> I_gain (Bartolozzi & Indiveri 2007; Chicca et al. 2014). Each input spike drives a pulse
of width t_pulse, so in the linear regime it adds (I_gain*I_w/I_tau)*(1 - exp(-t_pulse/tau)) at the
end of the pulse; between events I_syn decays exactly as exp(-dt/tau).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from aimc_sim.circuits import _kernels, physics
from aimc_sim.circuits.mismatch import MismatchConfig, sample_factors
from aimc_sim.circuits.physics import bias_from_tau, tau_from_bias
from aimc_sim.circuits.spikes import SpikeTrain
from aimc_sim.config import Config, check, in_range, positive, require_finite
from aimc_sim.cost import Ledger
from aimc_sim.cost.events import SYNAPTIC_EVENT  # counted once per input spike delivered to a synapse
from aimc_sim.errors import ConfigError

_C_AMPA = 24.5e-12
_I_TAU_AMPA = bias_from_tau(_C_AMPA, 10e-3)


def dpi_decay(i_syn, dt, tau):
    """I_syn after a quiet interval dt [s]: exact exponential decay I*exp(-dt/tau) (arrays broadcast)."""
    return i_syn * np.exp(-np.asarray(dt, dtype=np.float64) / tau)


def dpi_jump(i_gain, i_w, i_tau, t_pulse, tau):
    """Increment of I_syn [A] caused by one input pulse: (I_gain*I_w/I_tau)*(1 - exp(-t_pulse/tau))."""
    return i_gain * i_w / i_tau * -np.expm1(-np.asarray(t_pulse, dtype=np.float64) / tau)


@dataclass(frozen=True)
class DPISynapseConfig(Config):
    """Physical DPI synapse biases. Defaults: rockpool DynapSim AMPA (docs/circuits.md §4) [related]."""

    C_syn: float = field(default=_C_AMPA, metadata=check(positive))
    I_tau: float = field(default=_I_TAU_AMPA, metadata=check(positive))
    I_gain: float = field(default=100 * _I_TAU_AMPA, metadata=check(positive))
    I_w: float = field(default=1e-9, metadata=check(positive))
    t_pulse: float = field(default=10e-6, metadata=check(positive))
    kappa: float = field(default=physics.KAPPA, metadata=check(in_range(0.0, 1.0, lo_open=True)))
    U_T: float = field(default=physics.U_T, metadata=check(positive))
    mismatch: MismatchConfig = field(default_factory=MismatchConfig)

    def validate(self) -> None:
        if self.t_pulse >= self.tau:
            raise ConfigError(
                "t_pulse", f"must be < tau = {self.tau:g} s (the pulse must be short), got {self.t_pulse!r}"
            )

    @property
    def tau(self) -> float:
        """Time constant C_syn*U_T/(kappa*I_tau) [s]."""
        return tau_from_bias(self.C_syn, self.I_tau, self.kappa, self.U_T)

    @property
    def gain_ratio(self) -> float:
        """I_gain/I_tau."""
        return self.I_gain / self.I_tau

    @property
    def jump(self) -> float:
        """I_syn increment per input spike [A] (nominal, without mismatch)."""
        return float(dpi_jump(self.I_gain, self.I_w, self.I_tau, self.t_pulse, self.tau))

    @classmethod
    def from_time_constants(
        cls,
        tau: float = 10e-3,
        gain_ratio: float = 100.0,
        C_syn: float = _C_AMPA,
        I_w: float = 1e-9,
        t_pulse: float = 10e-6,
        kappa: float = physics.KAPPA,
        U_T: float = physics.U_T,
        mismatch: MismatchConfig | None = None,
    ) -> DPISynapseConfig:
        """Abstract -> physical: I_tau = C*U_T/(kappa*tau), I_gain = gain_ratio*I_tau."""
        i_tau = bias_from_tau(C_syn, tau, kappa, U_T)
        return cls(C_syn, i_tau, gain_ratio * i_tau, I_w, t_pulse, kappa, U_T, mismatch or MismatchConfig())

    def time_constants(self) -> dict[str, float]:
        """Physical -> abstract: tau, gain ratio, pulse width and the per-spike jump."""
        return {"tau": self.tau, "gain_ratio": self.gain_ratio, "t_pulse": self.t_pulse, "jump": self.jump}


class DPISynapse:
    """A population of n DPI synapses with frozen lognormal mismatch of I_tau, I_gain and I_w.

    ``step(dt, spikes)`` is the exact fixed-step update of docs/circuits.md §3; ``run`` is event-exact for spikes
    at arbitrary times. Input spikes are counted as ``synaptic_event`` in the optional ledger.
    """

    MISMATCHED = ("I_tau", "I_gain", "I_w")

    def __init__(
        self, config: DPISynapseConfig, n: int, rng: np.random.Generator | None = None, *, ledger: Ledger | None = None
    ) -> None:
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError("n", f"must be an integer >= 1, got {n!r}")
        self.config = config
        self.n = int(n)
        self.ledger = ledger
        f = sample_factors(config.mismatch, self.n, len(self.MISMATCHED), rng)
        self.I_tau = config.I_tau * f[:, 0]
        self.I_gain = config.I_gain * f[:, 1]
        self.I_w = config.I_w * f[:, 2]
        self.tau = config.C_syn * config.U_T / (config.kappa * self.I_tau)
        self.jump = dpi_jump(self.I_gain, self.I_w, self.I_tau, config.t_pulse, self.tau)
        self.i_syn = np.zeros(self.n)
        self.t = 0.0

    def reset_state(self) -> None:
        """I_syn = 0 and time = 0."""
        self.i_syn[:] = 0.0
        self.t = 0.0

    def linear_regime(self) -> np.ndarray:
        """Bool mask of synapses where the linear DPI form is good (I_syn >= 10*I_gain, docs/circuits.md §3)."""
        return self.i_syn >= 10.0 * self.I_gain

    def step(self, dt: float, spikes: np.ndarray | None = None) -> np.ndarray:
        """Advance by dt: decay exactly, then add one jump per input spike (bool or count per synapse)."""
        dt = _check_dt(dt, self.config.t_pulse)
        self.i_syn *= np.exp(-dt / self.tau)
        if spikes is not None:
            c = require_finite("spikes", spikes)
            if c.shape != (self.n,) or (c < 0).any():
                raise ConfigError("spikes", f"must be {self.n} non-negative counts, got shape {c.shape}")
            self.i_syn += self.jump * c
            self._count(float(c.sum()))
        self.t += dt
        return self.i_syn

    def run(self, spikes: SpikeTrain, duration: float, dt: float) -> np.ndarray:
        """Event-exact response to input ``spikes`` (times relative to now) sampled every dt.

        Returns I_syn at times dt, 2dt, ..., n_steps*dt as an (n_steps, n) array and advances the
        state by n_steps*dt. Each spike's jump is applied at the end of its pulse (t + t_pulse).
        """
        dt = _check_dt(dt, self.config.t_pulse)
        if not (math.isfinite(duration) and duration >= dt):
            raise ConfigError("duration", f"must be a finite number >= dt = {dt:g}, got {duration!r}")
        n_steps = int(round(duration / dt))
        idx = np.asarray(spikes.index, dtype=np.int64)
        tim = require_finite("spikes.time", spikes.time).astype(np.float64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.n):
            raise ConfigError("spikes.index", f"must be in 0..{self.n - 1}")
        if tim.size and tim.min() < 0:
            raise ConfigError("spikes.time", f"must be >= 0, got {tim.min()!r}")
        order = np.lexsort((tim, idx))
        ptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(idx, minlength=self.n), out=ptr[1:])
        out = np.empty((n_steps, self.n))
        run = _kernels.choose(_kernels.dpi_run, _kernels.dpi_run_serial, self.n * n_steps * _kernels.NS_DPI_SAMPLE)
        run(self.i_syn, self.tau, self.jump, self.config.t_pulse, ptr, tim[order], dt, n_steps, out)
        self._count(float(np.count_nonzero(tim + self.config.t_pulse <= n_steps * dt)))
        self.t += n_steps * dt
        return out

    def _count(self, events: float) -> None:
        if self.ledger is not None:
            self.ledger.add(SYNAPTIC_EVENT, events)


def _check_dt(dt: float, t_pulse: float) -> float:
    if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt >= t_pulse):
        raise ConfigError("dt", f"must be a finite number >= t_pulse = {t_pulse:g} s, got {dt!r}")
    return float(dt)
