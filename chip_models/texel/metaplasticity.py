"""Bayesian metaplasticity: each synapse's importance scales down its plasticity.

After the Bayesian metaplasticity of Palimpsa (the plasticity of each state is tied to an
importance state grounded by a prior that captures accumulated knowledge; see
``shared/papers/abstracts.txt``) and of mean-field Bayesian continual learning in general: each
synapse carries a Gaussian posterior N(μ, σ²) over its weight, with the prior N(0, σ_p²).
With the gradient g of the loss on the current example and the Fisher (squared-gradient)
estimate of the evidence:

    precision    1/σ² ← (1 − λ)·1/σ² + λ/σ_p² + g²/η_F        (importance accumulates, forgets to the prior)
    mean         Δμ = −lr·(σ²/σ_p²)·g                           (plasticity = σ²/σ_p² ∈ (0, 1])

A synapse that mattered for earlier tasks has a large precision (importance) and hence a small
plasticity. Without metaplasticity the plasticity stays 1. On devices μ lives in a differential
pair and Δμ is written as pulses (:meth:`aimc_sim.pulsed_training.PulsedWeights.apply`), so
importance maps to the pulse count: an important synapse receives fewer pulses.

The experiment learns two tasks in sequence: each is a set of sparse random ±1 patterns with
random labels, memorised by one logistic unit (below its capacity); task A uses the first three
quarters of the inputs, task B the last three quarters, so synapses differ in what they carry. It
measures how much of task A survives learning task B.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MetaplasticRule:
    """Parameters of the rule (``enabled=False``: plain SGD with plasticity 1)."""

    lr: float = 0.05
    sigma_prior: float = 1.0
    fisher_scale: float = 10.0  # η_F: gradient² per unit of precision
    forget: float = 0.0  # λ: relaxation of the precision toward the prior per update
    enabled: bool = True

    def plasticity(self, precision: np.ndarray) -> np.ndarray:
        """σ²/σ_p² = 1/(σ_p²·precision), in (0, 1]."""
        if not self.enabled:
            return np.ones_like(precision)
        return 1.0 / (self.sigma_prior**2 * precision)

    def update(self, grad: np.ndarray, precision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Δμ, new precision) for the gradient ``grad``."""
        dmu = -self.lr * self.plasticity(precision) * grad
        prior = 1.0 / self.sigma_prior**2
        new = (1.0 - self.forget) * precision + self.forget * prior + grad**2 / self.fisher_scale
        return dmu, new


def pattern_task(
    rng: np.random.Generator, n: int, dim: int, inputs: slice, coding: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random sparse patterns over the ``inputs`` of a ``dim``-dimensional input (each active
    input ±1 with probability ``coding``, else 0; the others 0) with random labels 0/1."""
    x = np.zeros((n, dim))
    k = len(range(dim)[inputs])
    x[:, inputs] = rng.choice([-1.0, 1.0], (n, k)) * (rng.random((n, k)) < coding)
    return x, rng.integers(0, 2, n)


def _accuracy(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(((x @ w) > 0) == (y == 1)))


def sequential_tasks(
    seed: int,
    rule: MetaplasticRule,
    device: str | None = None,
    dim: int = 100,
    n_patterns: int = 60,
    epochs: int = 20,
    w_scale: float = 1.0,
) -> dict:
    """Learn task A then task B (online, one pattern at a time); accuracies after each phase.

    ``device``: weights on differential pairs of that ``device_models`` preset, each update written
    as pulses (``w = w_scale·read()``); ``None``: float weights."""
    from aimc_sim.pulsed_training import PulsedWeights

    rng = np.random.default_rng(seed)
    overlap = dim // 2  # task A uses the first 3/4 of the inputs, task B the last 3/4
    tasks = [
        pattern_task(rng, n_patterns, dim, slice(0, (dim + overlap) // 2)),
        pattern_task(rng, n_patterns, dim, slice((dim - overlap) // 2, dim)),
    ]
    precision = np.full(dim, 1.0 / rule.sigma_prior**2)
    bank = None
    w = np.zeros(dim)
    if device is not None:
        from device_models import load_preset

        bank = PulsedWeights(load_preset(device), np.zeros((1, dim)), rng)
    history = {"after_A": {}, "after_B": {}}
    for phase, (x, y) in zip(("after_A", "after_B"), tasks):
        for _ in range(epochs):
            for k in rng.permutation(len(y)):
                if bank is not None:
                    w = w_scale * bank.read(rng)[0]
                p = 1.0 / (1.0 + np.exp(-x[k] @ w))
                grad = (p - y[k]) * x[k]
                dmu, precision = rule.update(grad, precision)
                if bank is None:
                    w = w + dmu
                else:
                    bank.apply((dmu / w_scale)[None, :], rng)
        if bank is not None:
            w = w_scale * bank.read(None)[0]
        history[phase] = {"A": _accuracy(w, *tasks[0]), "B": _accuracy(w, *tasks[1])}
    return {
        **history,
        "plasticity": rule.plasticity(precision),
        "pulses": bank.pulses if bank else 0,
        "write_energy": bank.energy if bank else 0.0,
    }


def experiment(seed: int, device: str = "ecram") -> dict:
    """``aimc chip metaplasticity``: task-A accuracy after learning task B, with and without the
    metaplastic rule, in software and on pulsed device pairs."""
    runs = {}
    for where, dev in (("software", None), ("device", device)):
        for name, enabled in (("plain", False), ("metaplastic", True)):
            runs[f"{where}_{name}"] = sequential_tasks(seed, MetaplasticRule(enabled=enabled), dev)
    return {"runs": runs, "device": device}
