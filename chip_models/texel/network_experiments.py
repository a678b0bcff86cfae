"""Networks on the chip: recurrent spikes routed through the on-chip AER router (``router.py``).

``routing``: a recurrent network spread over the two cores at a high event rate. Every neuron
gets a Poisson drive on an excitatory static synapse; its spikes go to ``fanout`` random plastic
synapses on either core and to ``fanout_inh`` inhibitory static synapses, through the local and
inter-core links; learning is on. The same network, drive and seed run once with transparent
arbiters (service time 0) and once per finite arbiter time, with a small queue that drops the
newest packet when full. Contention delays packets (and drops some), which changes when the
targets fire and what the plastic synapses learn.
"""

from __future__ import annotations

import numpy as np

from chip_models.texel.aer import SpikeInput
from chip_models.texel.chip import TexelChip
from chip_models.texel.config import TexelConfig

# [proposal] a host/FPGA-closed AER loop at 100 k events/s with a 2-packet FIFO (docs/texel.md §1: a host closes loops)
REALISTIC_ARBITER = 10e-6
QUEUE_DEPTH = 2


def recurrent_chip(
    seed: int, arbiter_time: float, neurons_per_core: int = 90, plastic: int = 20, fanout: int = 10, fanout_inh: int = 4
) -> tuple[TexelChip, np.random.Generator]:
    """Two cores, random recurrent excitation onto plastic synapses and inhibition onto static ones."""
    link = {"latency": 1e-3, "arbiter_time": arbiter_time, "queue_depth": QUEUE_DEPTH}
    cfg = TexelConfig.default(
        inventory={"cores": 2, "neurons_per_core": neurons_per_core, "plastic_per_neuron": plastic},
        routing={"local": link, "core": link},
    )
    rng = np.random.default_rng(seed)
    chip = TexelChip(cfg, rng)
    n = chip.n_neurons
    chip.set_rho(rng.uniform(0.0, 1.0, (n, plastic)))
    chip.connect(np.repeat(np.arange(n), fanout), rng.integers(0, n, n * fanout), rng.integers(0, plastic, n * fanout))
    inh = plastic + 2  # static synapse 2: inhibitory (texel.yaml static_weights)
    chip.connect(np.repeat(np.arange(n), fanout_inh), rng.integers(0, n, n * fanout_inh), np.full(n * fanout_inh, inh))
    return chip, rng


def drive(chip: TexelChip, rng: np.random.Generator, rate: float, duration: float) -> SpikeInput:
    """Independent Poisson trains at ``rate`` Hz into static synapse 0 (excitatory) of every neuron."""
    n, npc = chip.n_neurons, chip.config.inventory.neurons_per_core
    src = np.repeat(np.arange(n), rng.poisson(rate * duration, n))
    t = rng.uniform(0.0, duration, src.size)
    order = np.argsort(t, kind="stable")
    src = src[order]
    return SpikeInput(t[order], src // npc, src % npc, np.full(src.size, chip.n_plastic, dtype=np.int64))


def routing(
    seed: int,
    arbiter_times: tuple[float, ...] = (0.0, 1e-6, REALISTIC_ARBITER, 30e-6, 100e-6),
    rate: float = 800.0,
    duration: float = 1.0,
    neurons_per_core: int = 90,
) -> dict:
    """The recurrent network at each arbiter time; differences are taken against the first (0)."""
    runs = []
    for arb in arbiter_times:
        chip, rng = recurrent_chip(seed, arb, neurons_per_core)
        res = chip.run(drive(chip, rng, rate, duration), duration)
        runs.append(
            {
                "spike_t": res.spike_t,
                "spike_neuron": res.spike_neuron,
                "weights": res.weights,
                "dropped": chip.router.dropped,
                "mean_wait": chip.router.mean_wait(),
                "hops": dict(chip.router.hops),
            }
        )
    n = 2 * neurons_per_core
    base = runs[0]

    def trains(r):
        return [r["spike_t"][r["spike_neuron"] == i] for i in range(n)]

    t0 = trains(base)
    for r in runs:
        tr = trains(r)
        r["trains_differ"] = float(np.mean([not np.array_equal(a, b) for a, b in zip(t0, tr)]))
        r["counts_differ"] = float(np.mean([a.size != b.size for a, b in zip(t0, tr)]))
        r["weights_differ"] = float(np.mean(r["weights"] != base["weights"]))
        r["rate"] = r["spike_t"].size / n / duration
    return {"arbiter_times": np.array(arbiter_times), "runs": runs, "realistic": REALISTIC_ARBITER, "n": n}
