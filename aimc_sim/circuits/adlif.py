"""Discrete-time adaptive LIF population: sparch adLIF, symplectic-Euler SE-adLIF, SiLIF (docs/circuits.md §6).

- sparch (Bittar & Garner 2022; Fabre et al. code ``adLIFLayer``):
  w[t] = beta*w[t-1] + a*u[t-1] + b*s[t-1];  u[t] = alpha*(u[t-1] - theta*s[t-1]) + (1 - alpha)*(I[t] - w[t])
- symplectic (Baronig et al. 2024, arXiv 2408.07517): u with the old w, spike and subtract, then
  w[t] = beta*w[t-1] + (1 - beta)*(a*u[t] + b*s[t]).
- SiLIF (Fabre, Dudchenko, Bouhadjar & Neftci, arXiv 2506.06374): the sparch update with
  alpha = exp(-exp(lambda_u)*Delta), beta = exp(-exp(lambda_w)*Delta), Delta = exp(log_Delta),
  a clamped to [0, 1] and b to [0, 2]; i.e. tau_u = exp(-lambda_u), tau_w = exp(-lambda_w), dt = Delta.

Spikes: s = H(u - theta) with u >= theta counting as a spike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from aimc_sim.circuits import _kernels
from aimc_sim.circuits._population import SteppedPopulation, batch_input, check_dtype, check_size, per_neuron
from aimc_sim.circuits.adexp import NEURON_SPIKE
from aimc_sim.circuits.mismatch import NO_MISMATCH, MismatchConfig, sample_factors
from aimc_sim.config import Config, check, in_range, one_of, positive
from aimc_sim.cost import Ledger
from aimc_sim.errors import ConfigError

SILIF_DELTA_INIT = 4e-3
"""SiLIF's initial learnable step Delta [s] (docs/circuits.md §6)."""


@dataclass(frozen=True)
class AdLIFConfig(Config):
    """AdLIF parameters: time constants [s], coupling a, spike-triggered adaptation b, threshold, step."""

    tau_u: float = field(default=20e-3, metadata=check(positive))
    tau_w: float = field(default=100e-3, metadata=check(positive))
    a: float = field(default=0.0, metadata=check(in_range(-1.0, 1.0)))
    b: float = field(default=1.0, metadata=check(in_range(0.0, 2.0)))
    theta: float = field(default=1.0, metadata=check(positive))
    dt: float = field(default=1e-3, metadata=check(positive))
    form: Literal["sparch", "symplectic"] = field(default="sparch", metadata=check(one_of("sparch", "symplectic")))
    mismatch: MismatchConfig = field(default_factory=MismatchConfig)

    @property
    def alpha(self) -> float:
        """exp(-dt/tau_u)."""
        return math.exp(-self.dt / self.tau_u)

    @property
    def beta(self) -> float:
        """exp(-dt/tau_w)."""
        return math.exp(-self.dt / self.tau_w)

    @classmethod
    def silif(
        cls,
        lambda_u: float,
        lambda_w: float,
        log_delta: float = math.log(SILIF_DELTA_INIT),
        a: float = 0.5,
        b: float = 1.0,
        **kw: object,
    ) -> AdLIFConfig:
        """SiLIF parametrisation (rates exp(lambda) in 1/s, step exp(log_delta)); a, b are clamped."""
        for name, v in (("lambda_u", lambda_u), ("lambda_w", lambda_w), ("log_delta", log_delta)):
            if not math.isfinite(v):
                raise ConfigError(name, f"must be a finite number, got {v!r}")
        return cls(
            tau_u=math.exp(-lambda_u),
            tau_w=math.exp(-lambda_w),
            a=min(max(a, 0.0), 1.0),
            b=min(max(b, 0.0), 2.0),
            dt=math.exp(log_delta),
            form="sparch",
            **kw,
        )


class AdLIFPopulation(SteppedPopulation):
    """n adaptive LIF neurons with a (batch, n) state (u, w, previous spike), stepped by a numba kernel.

    Workload API: ``reset_state(batch)``; ``step(input_current) -> spikes`` (bool, (batch, n)); ``run``.
    Mismatch: per-neuron factors on the leak biases of u and w (tau = tau/f) and on theta.
    """

    MISMATCHED = ("I_tau_u", "I_tau_w", "theta")

    def __init__(
        self,
        config: AdLIFConfig,
        n: int,
        rng: np.random.Generator | None = None,
        *,
        batch: int = 1,
        ledger: Ledger | None = None,
        dtype: type = np.float64,
    ) -> None:
        n = check_size("n", n)
        f = sample_factors(config.mismatch, n, len(self.MISMATCHED), rng)
        alpha = np.exp(-config.dt * f[:, 0] / config.tau_u)
        beta = np.exp(-config.dt * f[:, 1] / config.tau_w)
        self._setup(config, alpha, beta, np.full(n, config.a), np.full(n, config.b), config.theta * f[:, 2], batch,
                    ledger, dtype)  # fmt: skip

    @classmethod
    def from_parameters(
        cls,
        alpha: np.ndarray | float,
        beta: np.ndarray | float,
        a: np.ndarray | float,
        b: np.ndarray | float,
        *,
        n: int | None = None,
        theta: np.ndarray | float = 1.0,
        form: str = "sparch",
        dt: float = 1e-3,
        batch: int = 1,
        ledger: Ledger | None = None,
        dtype: type = np.float64,
    ) -> AdLIFPopulation:
        """Population from discrete (trained) per-neuron alpha, beta in (0, 1), a, b and theta; no mismatch."""
        sizes = [np.size(x) for x in (alpha, beta, a, b, theta)]
        n = check_size("n", n if n is not None else max(sizes))
        p = {
            k: per_neuron(k, v, n) for k, v in (("alpha", alpha), ("beta", beta), ("a", a), ("b", b), ("theta", theta))
        }
        for k in ("alpha", "beta"):
            bad = (p[k] <= 0) | (p[k] >= 1)
            if bad.any():
                raise ConfigError(k, f"must be in (0, 1), got {p[k][bad][0]!r}")
        if (p["theta"] <= 0).any():
            raise ConfigError("theta", "must be > 0")
        config = AdLIFConfig(
            tau_u=float(np.mean(-dt / np.log(p["alpha"]))), tau_w=float(np.mean(-dt / np.log(p["beta"]))),
            a=float(np.clip(np.mean(p["a"]), -1, 1)), b=float(np.clip(np.mean(p["b"]), 0, 2)),
            theta=float(np.mean(p["theta"])), dt=dt, form=form, mismatch=NO_MISMATCH,
        )  # fmt: skip
        self = cls.__new__(cls)
        self._setup(config, p["alpha"], p["beta"], p["a"], p["b"], p["theta"], batch, ledger, dtype)
        return self

    @classmethod
    def from_silif(
        cls,
        lambda_u: np.ndarray | float,
        lambda_w: np.ndarray | float,
        log_delta: np.ndarray | float,
        a: np.ndarray | float,
        b: np.ndarray | float,
        **kw: object,
    ) -> AdLIFPopulation:
        """Population from per-neuron SiLIF parameters (sparch form; a clamped to [0, 1], b to [0, 2])."""
        n = max(np.size(x) for x in (lambda_u, lambda_w, log_delta, a, b))
        delta = np.exp(per_neuron("log_delta", log_delta, n))
        alpha = np.exp(-np.exp(per_neuron("lambda_u", lambda_u, n)) * delta)
        beta = np.exp(-np.exp(per_neuron("lambda_w", lambda_w, n)) * delta)
        a = np.clip(per_neuron("a", a, n), 0.0, 1.0)
        b = np.clip(per_neuron("b", b, n), 0.0, 2.0)
        return cls.from_parameters(alpha, beta, a, b, n=n, form="sparch", dt=float(np.mean(delta)), **kw)

    def _setup(self, config, alpha, beta, a, b, theta, batch, ledger, dtype) -> None:
        self.config = config
        self.dtype = check_dtype(dtype)
        self.n = alpha.size
        self.alpha = alpha.astype(self.dtype)
        self.beta = beta.astype(self.dtype)
        self.one_minus_alpha = (1.0 - alpha).astype(self.dtype)
        self.one_minus_beta = (1.0 - beta).astype(self.dtype)
        self.a = np.asarray(a, dtype=self.dtype)
        self.b = np.asarray(b, dtype=self.dtype)
        self.theta = np.asarray(theta, dtype=self.dtype)
        self.symplectic = config.form == "symplectic"
        self.ledger = ledger
        self.reset_state(batch)

    def reset_state(self, batch: int | None = None) -> None:
        """u = w = 0, no previous spike, step counter 0; optionally change the batch size."""
        self.batch = check_size("batch", batch if batch is not None else getattr(self, "batch", 1))
        shape = (self.batch, self.n)
        self.u = np.zeros(shape, dtype=self.dtype)
        self.w = np.zeros(shape, dtype=self.dtype)
        self.s_prev = np.zeros(shape, dtype=self.dtype)
        self.t_step = 0

    def step(self, input_current: np.ndarray) -> np.ndarray:
        """Advance one step with input I[t] of shape (n,) or (batch, n); returns spikes (batch, n)."""
        i_in = batch_input("input_current", input_current, self.batch, self.n, self.dtype)
        spikes = np.empty((self.batch, self.n), dtype=np.bool_)
        _kernels.adlif_step(
            self.u, self.w, self.s_prev, i_in, self.alpha, self.one_minus_alpha, self.beta, self.one_minus_beta,
            self.a, self.b, self.theta, self.symplectic, spikes,
        )  # fmt: skip
        self.t_step += 1
        if self.ledger is not None:
            self.ledger.add(NEURON_SPIKE, float(np.count_nonzero(spikes)))
        return spikes
