"""Speed of the event-driven TEXEL chip model (issue 6).

Full chip (2 cores x 90 neurons, 54 plastic synapses each = 9720 plastic synapses), every plastic
synapse fed by its own 20 Hz Poisson train (merged into one time-sorted stream per core),
learning on, random initial capacitor states (about half the weights high, so the neurons fire).
Prints events per second of wall time, the machine's load average (the factors are wall times on a
shared machine: compare the process CPU factors too) and, last, ``chip_realtime_factor=<wall s / chip s>``.

Side by side (1 s runs, median of 3): the SimPy batch window, which is an execution detail only
(tests check that results do not depend on it). Then the full chip twice for 10 s: CMOS mode
without routing (``chip_realtime_factor_cmos``), and the chip as built, in device mode (F4
reference device, POT/DEP written on every flip) with on-chip routing (every neuron's spikes
routed to 10 random plastic synapses on either core through arbiters of 10 µs per packet and
2-packet queues); the last line is the latter's ``chip_realtime_factor``.

Run: ``python benchmarks/bench_chip.py``.
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np

from chip_models.texel import TexelChip, TexelConfig, poisson_input
from chip_models.texel.device_learning import REFERENCE_DEVICE
from chip_models.texel.network_experiments import QUEUE_DEPTH, REALISTIC_ARBITER

CHIP_SECONDS = 10.0
RATE = 20.0


FANOUT = 10


def make_chip(seed: int, built: bool = False, **aer) -> tuple[TexelChip, np.random.Generator]:
    """The full chip (``built``: device mode and routing on, see the module docstring)."""
    rng = np.random.default_rng(seed)
    sections = {"aer": aer} if aer else {}
    if built:
        link = {"arbiter_time": REALISTIC_ARBITER, "queue_depth": QUEUE_DEPTH}
        sections.update(devices=REFERENCE_DEVICE, routing={"local": link, "core": link})
    chip = TexelChip(TexelConfig.default(**sections), rng)
    chip.set_rho(rng.uniform(0.0, 1.0, (chip.n_neurons, chip.n_plastic)))
    if built:
        n = chip.n_neurons
        pre = np.repeat(np.arange(n), FANOUT)
        chip.connect(pre, rng.integers(0, n, pre.size), rng.integers(0, chip.n_plastic, pre.size))
    return chip, rng


def timed_run(chip: TexelChip, rng: np.random.Generator, seconds: float) -> tuple[float, float, object, int]:
    inp = poisson_input(RATE, seconds, chip.now, chip.config.inventory, rng)
    w0, c0 = time.perf_counter(), time.process_time()
    res = chip.run(inp, seconds)
    return time.perf_counter() - w0, time.process_time() - c0, res, len(inp)


def main() -> None:
    print(f"machine load average (1, 5, 15 min) at start: {os.getloadavg()}")
    warm, rng = make_chip(0)
    timed_run(warm, rng, 0.02)  # numba compile / cache load

    print("batch window side by side (1 s of chip time, median of 3 runs):")
    meds = {}
    for w in (1e-3, 1e-2, 5e-2):
        walls = []
        for rep in range(3):
            chip, rng = make_chip(10 + rep, batch_window=w)
            walls.append(timed_run(chip, rng, 1.0)[0])
        meds[w] = statistics.median(walls)
    for w, med in meds.items():
        print(f"  batch_window={w * 1e3:5.1f} ms  wall median {med:6.3f} s  ratio to 10 ms: {med / meds[1e-2]:.2f}")

    factors = {}
    for label, built in (("CMOS mode, no routing", False), ("device mode + routing", True)):
        chip, rng = make_chip(1, built=built)
        t_gen = time.perf_counter()
        inp = poisson_input(RATE, CHIP_SECONDS, 0.0, chip.config.inventory, rng)
        t_gen = time.perf_counter() - t_gen
        w0, c0 = time.perf_counter(), time.process_time()
        res = chip.run(inp, CHIP_SECONDS)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        n_in, n_spk = len(inp), res.counts["spikes"]
        print(f"full chip, {label}: {chip.n_neurons} neurons, {chip.n_neurons * chip.n_plastic} plastic synapses")
        print(f"  input generation (merged Poisson streams at {RATE:g} Hz): {t_gen:.3f} s for {n_in} events")
        print(f"  chip time {CHIP_SECONDS:g} s: wall {wall:.3f} s, process CPU {cpu:.3f} s")
        print(
            f"  output spikes {n_spk} ({n_spk / chip.n_neurons / CHIP_SECONDS:.1f} Hz/neuron), "
            f"weight flips {res.counts['weight_flips']}, device write pulses {chip.ledger.total('device_write'):.0f}, "
            f"routed packets {sum(chip.router.hops.values())}, dropped {chip.router.dropped}"
        )
        print(f"  events per wall second: {(n_in + n_spk) / wall:,.0f}")
        factors[built] = (wall / CHIP_SECONDS, cpu / CHIP_SECONDS)
    print(f"machine load average (1, 5, 15 min) at end: {os.getloadavg()}")
    print(f"cpu_realtime_factor_cmos={factors[False][1]:.3f}")
    print(f"chip_realtime_factor_cmos={factors[False][0]:.3f}")
    print(f"cpu_realtime_factor={factors[True][1]:.3f}")
    print(f"chip_realtime_factor={factors[True][0]:.3f}")


if __name__ == "__main__":
    main()
