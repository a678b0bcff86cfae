"""Learning rules of the chip's plastic synapses: a component of the synapse (docs/texel.md §13).

The traces and the gate of docs/texel.md §3 decide *when* a synapse learns and propose a change
Δρ of its capacitor variable (a presynaptic spike while x_post > θ_post proposes ρ_neg; a
postsynaptic spike with the gate open proposes c·x_pre + ρ_neg2·[x_floor < x_pre < θ_pre]). The
synapse's learning rule decides how much of Δρ is applied, and may carry per-synapse state. Its
binary readout then flips, and in device mode every flip is a POT/DEP write through the device
model, so a rule that changes how often synapses flip changes how often their devices are pulsed.

A rule is selected by ``learning.rule`` (a name in :data:`RULES`). It gives the event kernel its
parameters as fields of the one learning record (``_kernels.LEARN_DTYPE``, with its kernel code
in ``rule``), and :meth:`LearningRule.apply` states its semantics in numpy (the reference the
kernel is tested against, ``tests/test_texel_kernels.py``). Adding a rule = a class here with a
new kernel code, and its branch in ``_kernels._rule``.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

import numpy as np

from aimc_sim.errors import ConfigError
from chip_models.texel import _kernels as K
from chip_models.texel.config import LearningConfig


class LearningRule(Protocol):
    """How a synapse applies a proposed change of ρ (see the module docstring)."""

    name: ClassVar[str]
    kernel_code: ClassVar[int]

    def fields(self, cfg: LearningConfig) -> dict[str, float]:
        """The rule's own fields of the kernel's learning record."""

    def apply(
        self, rho: np.ndarray, delta: np.ndarray, importance: np.ndarray, cfg: LearningConfig
    ) -> tuple[np.ndarray, np.ndarray]:
        """The new (unclipped) ρ and the new per-synapse state for a proposed change ``delta``."""


class BCaLLRule:
    """The BCaLL-style rule of the chip (Soares Girão et al. 2025): the proposed change is applied as is."""

    name: ClassVar[str] = "bcall"
    kernel_code: ClassVar[int] = K.RULE_BCALL

    def fields(self, cfg: LearningConfig) -> dict[str, float]:
        return {}

    def apply(self, rho, delta, importance, cfg):
        return np.asarray(rho, dtype=float) + delta, np.asarray(importance, dtype=float)


class MetaplasticRule:
    """Metaplastic binary synapses (Laborieux et al. 2021, Nat. Commun. 12:2549; the importance-scaled
    plasticity of Bayesian metaplasticity, ``metaplasticity.py``), for the memory that a binary
    associative synapse holds in its potentiated state: each synapse carries an importance m. While
    it is high (ρ > θ_ρ), potentiation adds ``importance_gain``·Δρ to m and depression is scaled by
    1/(1 + m), so a consolidated synapse needs (1 + m) times more depressing events to flip (and its
    devices are written less); low synapses learn as under BCaLL."""

    name: ClassVar[str] = "metaplastic"
    kernel_code: ClassVar[int] = K.RULE_METAPLASTIC

    def fields(self, cfg: LearningConfig) -> dict[str, float]:
        return {"importance_gain": cfg.importance_gain}

    def apply(self, rho, delta, importance, cfg):
        rho = np.asarray(rho, dtype=float)
        delta = np.asarray(delta, dtype=float)
        importance = np.asarray(importance, dtype=float)
        high = rho > cfg.theta_rho
        applied = np.where(high & (delta <= 0.0), delta / (1.0 + importance), delta)
        return rho + applied, importance + np.where(high & (delta > 0.0), cfg.importance_gain * delta, 0.0)


RULES: dict[str, LearningRule] = {rule.name: rule for rule in (BCaLLRule(), MetaplasticRule())}


def rule_for(cfg: LearningConfig) -> LearningRule:
    """The rule named by ``learning.rule``."""
    if cfg.rule not in RULES:
        raise ConfigError("learning.rule", f"must be one of {', '.join(RULES)}, got {cfg.rule!r}")
    return RULES[cfg.rule]


def learning_record(cfg: LearningConfig) -> np.ndarray:
    """The kernel's learning record (``_kernels.LEARN_DTYPE``) for ``cfg`` and its rule."""
    rule = rule_for(cfg)
    return K.learning_record(
        a_pre=cfg.a_pre, a_post=cfg.a_post, theta_pre=cfg.theta_pre, theta_post=cfg.theta_post,
        rho_neg=cfg.rho_neg, rho_neg2=cfg.rho_neg2, c=cfg.c, x_floor=cfg.x_floor, a_ca=cfg.a_ca,
        x_ca_max=cfg.x_ca_max, ca_low=cfg.theta_ca_low, ca_high=cfg.ca_high,
        enable=1.0 if cfg.plastic_enable else 0.0, tau_rho=cfg.tau_rho, alpha=cfg.alpha, beta=cfg.beta,
        theta_rho=cfg.theta_rho, rule=rule.kernel_code, **rule.fields(cfg),
    )  # fmt: skip
