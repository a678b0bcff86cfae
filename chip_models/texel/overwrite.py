"""Two patterns learned in sequence on the event-driven chip, under each learning rule of the synapse.

``overwrite``: one core of ``neurons`` neurons, 54 plastic inputs, a teacher on the excitatory static
synapse, device mode with the F4 reference device (every flip a POT/DEP write, ``write_on_flip``).
All synapses start low. Task A: the inputs of pattern A fire Poisson trains at ``rate_high`` while
the teacher makes the neurons fire, so their synapses potentiate. Task B: pattern B (disjoint) fires
at ``rate_high`` and pattern A at ``rate_low``; at that rate A's pre-traces sit mostly in the
depression band [x_floor, θ_pre] when the neurons fire, so task B depresses A's synapses: the
new pattern overwrites the old one. Retention = fraction of A's synapses whose devices still read
high after task B; learned_B = the same for B. The metaplastic rule (``rules.MetaplasticRule``)
consolidates A's synapses during task A, so fewer of them flip back (and fewer writes happen).
"""

from __future__ import annotations

import numpy as np

from chip_models.texel.aer import SpikeInput
from chip_models.texel.chip import TexelChip
from chip_models.texel.device_learning import REFERENCE_DEVICE
from chip_models.texel.experiments import STRONG, _cfg
from chip_models.texel.rules import RULES

PLASTIC = 54


def _trains(rng: np.random.Generator, t0: float, duration: float, neurons: int, synapses, rate: float):
    """Independent Poisson trains at ``rate`` into the given synapses of every neuron (one SpikeInput)."""
    syn = np.asarray(synapses)
    n_src = neurons * syn.size
    src = np.repeat(np.arange(n_src), rng.poisson(rate * duration, n_src))
    t = t0 + rng.uniform(0.0, duration, src.size)
    order = np.argsort(t, kind="stable")
    src = src[order]
    return SpikeInput(t[order], np.zeros(src.size, dtype=np.int64), src // syn.size, syn[src % syn.size])


def overwrite(
    seed: int,
    rule: str,
    neurons: int = 8,
    k_active: int = 12,
    rate_high: float = 50.0,
    rate_low: float = 10.0,
    rate_teacher: float = 150.0,
    t_task: float = 2.0,
) -> dict:
    """Task A then task B (module docstring) under learning rule ``rule``; the same draws for every rule."""
    rng = np.random.default_rng(seed)
    cfg = _cfg(neurons=neurons, plastic=PLASTIC, static_w=(STRONG,), learning={"rule": rule}, devices=REFERENCE_DEVICE)
    chip = TexelChip(cfg, np.random.default_rng(seed + 1))
    chip.set_rho(np.zeros((neurons, PLASTIC)))
    perm = rng.permutation(PLASTIC)
    a, b = perm[:k_active], perm[k_active : 2 * k_active]

    def task(drive: list[tuple[np.ndarray, float]]) -> np.ndarray:
        t0 = chip.now + 1e-6
        parts = [_trains(rng, t0, t_task, neurons, syn, rate) for syn, rate in drive]
        parts.append(_trains(rng, t0, t_task, neurons, [PLASTIC], rate_teacher))
        chip.run(SpikeInput.concat(parts), t_task + 0.5)  # 0.5 s settling: the drift finishes what it started
        return chip.device_read() > 0.0

    after_a = task([(a, rate_high)])
    after_b = task([(b, rate_high), (a, rate_low)])
    return {
        "rule": rule,
        "A_after_A": float(after_a[:, a].mean()),
        "A_after_B": float(after_b[:, a].mean()),
        "B_after_B": float(after_b[:, b].mean()),
        "importance_A": float(chip.importance.reshape(neurons, PLASTIC)[:, a].mean()),
        "write_pulses": float(chip.ledger.total("device_write")),
    }


def experiment(seed: int) -> dict:
    """``overwrite`` under every registered rule; ``retention_gain_chip`` = metaplastic − BCaLL retention of A."""
    runs = {name: overwrite(seed, name) for name in RULES}
    return {"runs": runs, "retention_gain_chip": runs["metaplastic"]["A_after_B"] - runs["bcall"]["A_after_B"]}
