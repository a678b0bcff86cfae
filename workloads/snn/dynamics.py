"""Discrete neuron dynamics in generic linear (SSM) form, and re-discretisation for another dt.

Every neuron population here is ``x[t] = A x+[t-1] + B I[t]`` (state ``x``, first component the
membrane ``u``), spikes ``s[t] = H(u[t] - theta)``, then ``x+[t] = x[t] + J s[t]`` (jumps: reset
by subtraction ``-theta`` on ``u``, spike-triggered adaptation on ``w``) or, for ``reset ==
"to_value"``, ``u+ = v_reset`` where it spiked.

* LIF (docs/circuits.md §5): ``A = alpha``, ``B = gamma``.
* adLIF, sparch form (§3.1, Bittar & Garner 2022): ``A = [[alpha - (1-alpha) a, -(1-alpha) beta],
  [a, beta]]``, ``B = [1-alpha, 0]``, ``J = [-theta, (b + a theta)/beta]``. This equals the
  published update ``w[t] = beta w + a u[t-1] + b s[t-1]``, ``u[t] = alpha (u[t-1] - theta s[t-1])
  + (1-alpha)(I - w[t])`` exactly (the ``J_w`` term undoes the reset seen by ``a u``).
* LI readout: LIF without threshold.

Time-resolution adaptation (§5, Karilanova et al. 2024, arXiv 2411.04760): for ``r = dt'/dt``,
``A' = A^r`` (principal power by eigendecomposition), ``B' = (A' - 1)(A - 1)^-1 B`` for
zero-order-hold input or ``B' = B`` for impulse (spike) input; ``theta``, resets and jumps are kept.
The baseline ``time_constant_scaling`` raises only the decay factors (alpha, beta) to the power r.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from aimc_sim.errors import ConfigError

RESETS = ("subtract", "to_value", "none")
INPUT_SEMANTICS = ("impulse", "zoh")


@dataclass(frozen=True)
class NeuronDynamics:
    """A population of ``n`` neurons with ``k`` states each (see module docstring)."""

    A: np.ndarray  # (n, k, k)
    B: np.ndarray  # (n, k)
    J: np.ndarray  # (n, k)
    theta: np.ndarray  # (n,)
    reset: str = "subtract"
    v_reset: np.ndarray | None = None
    spiking: bool = True
    kind: str = "lif"
    family: dict[str, Any] = field(default_factory=dict)  # the trained parameters (alpha, beta, a, b, gamma)

    def __post_init__(self) -> None:
        if self.reset not in RESETS:
            raise ConfigError("reset", f"must be one of {RESETS}, got {self.reset!r}")
        n, k = self.B.shape
        if self.A.shape != (n, k, k) or self.J.shape != (n, k) or self.theta.shape != (n,):
            raise ConfigError("A", f"inconsistent shapes A {self.A.shape}, B {self.B.shape}, J {self.J.shape}")

    @property
    def size(self) -> int:
        return self.B.shape[0]

    @property
    def states(self) -> int:
        return self.B.shape[1]

    def init(self, batch: int) -> np.ndarray:
        """Resting state, shape ``(batch, n, k)``."""
        return np.zeros((batch, self.size, self.states))

    def step(self, x: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step from post-jump state ``x`` (B, n, k) with input ``current`` (B, n): ``(x+, s)``."""
        if self.states == 1:
            new = self.A[:, 0, 0] * x[..., 0] + self.B[:, 0] * current
            new = new[..., None]
        else:
            new = np.einsum("nij,bnj->bni", self.A, x) + self.B * current[..., None]
        if not self.spiking:
            return new, new[..., 0]
        s = (new[..., 0] >= self.theta).astype(float)
        new = new + self.J * s[..., None]
        if self.reset == "to_value":
            vr = 0.0 if self.v_reset is None else self.v_reset
            new[..., 0] = np.where(s > 0, vr, new[..., 0])
        return new, s

    # ------------------------------------------------------------------ dt adaptation
    def rediscretise(self, r: float, input_semantics: str = "impulse") -> NeuronDynamics:
        """The same continuous dynamics sampled at ``r`` times the step (docs/snn.md#time-resolution-adaptation)."""
        if input_semantics not in INPUT_SEMANTICS:
            raise ConfigError("input_semantics", f"must be one of {INPUT_SEMANTICS}, got {input_semantics!r}")
        if not r > 0:
            raise ConfigError("r", f"must be > 0 (ratio of new to old dt), got {r!r}")
        a_new = matrix_power(self.A, r)
        if input_semantics == "impulse":
            b_new = self.B.copy()
        else:
            eye = np.eye(self.states)
            b_new = np.einsum("nij,nj->ni", (a_new - eye) @ np.linalg.inv(self.A - eye), self.B).real
        return replace(self, A=a_new, B=b_new, family={**self.family, "rediscretised": (r, input_semantics)})

    def time_constant_scaling(self, r: float) -> NeuronDynamics:
        """Baseline: decay factors ``alpha^r``, ``beta^r``, all other trained parameters unchanged."""
        f = self.family
        rule = {"strict": f.get("strict", False), "reset_delay": f.get("reset_delay", False)}
        theta = f.get("theta", self.theta)
        if self.kind in ("lif", "li"):
            return lif(f["alpha"] ** r, f["gamma"], theta, self.reset, self.v_reset, spiking=self.spiking, **rule)
        if self.kind == "cubalif":
            a, a_s = f["alpha"] ** r, f["alpha_syn"] ** r
            return cubalif(a, f["gamma"], a_s, f["gamma_syn"], theta, self.reset, self.v_reset, **rule)
        return adlif(f["alpha"] ** r, f["beta"] ** r, f["a"], f["b"], self.theta)


def matrix_power(a: np.ndarray, r: float) -> np.ndarray:
    """Principal real power of a stack of matrices ``(n, k, k)``; errors on eigenvalues in (-inf, 0]."""
    if a.shape[-1] == 1:
        lam = a[:, 0, 0]
        if np.any(lam <= 0):
            raise ConfigError("A", "has an eigenvalue on the closed negative real axis; no principal power")
        return (lam**r)[:, None, None]
    w, v = np.linalg.eig(a)
    bad = (np.abs(w.imag) < 1e-12) & (w.real <= 0)
    if np.any(bad):
        raise ConfigError("A", "has an eigenvalue on the closed negative real axis; no principal power")
    wr = np.exp(r * np.log(w.astype(complex)))
    out = np.einsum("nij,nj,njk->nik", v, wr, np.linalg.inv(v))
    return out.real


def _spike_rule(theta: np.ndarray, alpha: np.ndarray, reset: str, strict: bool, reset_delay: bool) -> tuple:
    """``(theta used in v >= theta, jump on u)`` for the comparison and reset conventions.

    ``v > theta`` is ``v >= nextafter(theta)`` exactly in floating point. A delayed subtractive reset
    (``v[t+1] = alpha v[t] + I - theta s[t]``, snnTorch) is the jump ``-theta / alpha`` before the decay.
    """
    cmp = np.nextafter(theta, np.inf) if strict else theta
    if reset != "subtract":
        return cmp, np.zeros_like(theta)
    return cmp, -theta / alpha if reset_delay else -theta


def lif(
    alpha: Any,
    gamma: Any,
    theta: Any = 1.0,
    reset: str = "subtract",
    v_reset: Any = None,
    spiking: bool = True,
    size: int | None = None,
    strict: bool = False,
    reset_delay: bool = False,
) -> NeuronDynamics:
    """LIF (or, with ``spiking=False``, LI) dynamics ``u = alpha u + gamma I`` (docs/circuits.md §5);
    ``alpha = 1`` is IF.

    ``strict``: spike on ``u > theta`` instead of ``u >= theta``; ``reset_delay``: subtract theta after
    the next decay instead of before it (see :func:`_spike_rule`).
    """
    n = size or max(np.size(alpha), np.size(gamma), np.size(theta))
    alpha = np.broadcast_to(np.asarray(alpha, float), (n,)).copy()
    gamma = np.broadcast_to(np.asarray(gamma, float), (n,)).copy()
    theta = np.broadcast_to(np.asarray(theta, float), (n,)).copy()
    if np.any((alpha <= 0) | (alpha > 1)):
        raise ConfigError("alpha", f"must lie in (0, 1], got min {alpha.min():g}, max {alpha.max():g}")
    vr = None if v_reset is None else np.broadcast_to(np.asarray(v_reset, float), (n,)).copy()
    cmp, jump = _spike_rule(theta, alpha, reset, strict, reset_delay)
    fam = {"alpha": alpha, "gamma": gamma, "theta": theta, "strict": strict, "reset_delay": reset_delay}
    return NeuronDynamics(
        A=alpha[:, None, None],
        B=gamma[:, None],
        J=jump[:, None],
        theta=cmp,
        reset=reset,
        v_reset=vr,
        spiking=spiking,
        kind="lif" if spiking else "li",
        family=fam,
    )


def cubalif(
    alpha: Any,
    gamma: Any,
    alpha_syn: Any,
    gamma_syn: Any,
    theta: Any = 1.0,
    reset: str = "subtract",
    v_reset: Any = None,
    strict: bool = False,
    reset_delay: bool = False,
) -> NeuronDynamics:
    """Current-based LIF: ``i = alpha_syn i + gamma_syn I``, then ``u = alpha u + gamma i`` (state ``[u, i]``).

    Substituting the new ``i`` gives ``A = [[alpha, gamma alpha_syn], [0, alpha_syn]]``,
    ``B = [gamma gamma_syn, gamma_syn]``; the reset acts on ``u`` only.
    """
    n = max(map(np.size, (alpha, gamma, alpha_syn, gamma_syn, theta)))
    params = (alpha, gamma, alpha_syn, gamma_syn, theta)
    al, ga, a_s, g_s, th = (np.broadcast_to(np.asarray(p, float), (n,)).copy() for p in params)
    for name, p in (("alpha", al), ("alpha_syn", a_s)):
        if np.any((p <= 0) | (p > 1)):
            raise ConfigError(name, f"must lie in (0, 1], got min {p.min():g}, max {p.max():g}")
    A = np.zeros((n, 2, 2))
    A[:, 0, 0], A[:, 0, 1], A[:, 1, 1] = al, ga * a_s, a_s
    B = np.stack([ga * g_s, g_s], axis=1)
    cmp, jump = _spike_rule(th, al, reset, strict, reset_delay)
    J = np.stack([jump, np.zeros(n)], axis=1)
    vr = None if v_reset is None else np.broadcast_to(np.asarray(v_reset, float), (n,)).copy()
    fam = {"alpha": al, "gamma": ga, "alpha_syn": a_s, "gamma_syn": g_s, "theta": th, "strict": strict}
    fam["reset_delay"] = reset_delay
    return NeuronDynamics(A=A, B=B, J=J, theta=cmp, reset=reset, v_reset=vr, kind="cubalif", family=fam)


def adlif(alpha: Any, beta: Any, a: Any, b: Any, theta: Any = 1.0, size: int | None = None) -> NeuronDynamics:
    """adLIF in the sparch form (docs/circuits.md §6), reset by subtraction."""
    n = size or max(map(np.size, (alpha, beta, a, b, theta)))
    al, be, aa, bb, th = (np.broadcast_to(np.asarray(p, float), (n,)).copy() for p in (alpha, beta, a, b, theta))
    for name, p in (("alpha", al), ("beta", be)):
        if np.any((p <= 0) | (p >= 1)):
            raise ConfigError(name, f"must lie in (0, 1), got min {p.min():g}, max {p.max():g}")
    A = np.empty((n, 2, 2))
    A[:, 0, 0] = al - (1 - al) * aa
    A[:, 0, 1] = -(1 - al) * be
    A[:, 1, 0] = aa
    A[:, 1, 1] = be
    B = np.stack([1 - al, np.zeros(n)], axis=1)
    J = np.stack([-th, (bb + aa * th) / be], axis=1)
    fam = {"alpha": al, "beta": be, "a": aa, "b": bb}
    return NeuronDynamics(A=A, B=B, J=J, theta=th, reset="subtract", kind="adlif", family=fam)
