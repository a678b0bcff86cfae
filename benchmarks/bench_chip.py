"""Speed of the event-driven TEXEL chip model (issue 6).

Full chip (2 cores x 90 neurons, 54 plastic synapses each = 9720 plastic synapses), every plastic
synapse fed by its own 20 Hz Poisson train (merged into one time-sorted stream per core),
learning on, random initial capacitor states (about half the weights high, so the neurons fire).
Prints events per second of wall time and, last, ``chip_realtime_factor=<wall s / chip s>``.

Side by side (1 s runs, median of 3): the SimPy batch window, which is an execution detail only
(tests check that results do not depend on it).

Run: ``python benchmarks/bench_chip.py``.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from chip_models.texel import TexelChip, TexelConfig, poisson_input

CHIP_SECONDS = 10.0
RATE = 20.0


def make_chip(seed: int, **aer) -> tuple[TexelChip, np.random.Generator]:
    rng = np.random.default_rng(seed)
    cfg = TexelConfig.default(aer=aer) if aer else TexelConfig.default()
    chip = TexelChip(cfg, rng)
    chip.set_rho(rng.uniform(0.0, 1.0, (chip.n_neurons, chip.n_plastic)))
    return chip, rng


def timed_run(chip: TexelChip, rng: np.random.Generator, seconds: float) -> tuple[float, float, object, int]:
    inp = poisson_input(RATE, seconds, chip.now, chip.config.inventory, rng)
    w0, c0 = time.perf_counter(), time.process_time()
    res = chip.run(inp, seconds)
    return time.perf_counter() - w0, time.process_time() - c0, res, len(inp)


def main() -> None:
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

    chip, rng = make_chip(1)
    t_gen = time.perf_counter()
    inp = poisson_input(RATE, CHIP_SECONDS, 0.0, chip.config.inventory, rng)
    t_gen = time.perf_counter() - t_gen
    w0, c0 = time.perf_counter(), time.process_time()
    res = chip.run(inp, CHIP_SECONDS)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    n_in = len(inp)
    n_spk = res.counts["spikes"]
    print(f"full chip: {chip.n_neurons} neurons, {chip.n_neurons * chip.n_plastic} plastic synapses at {RATE:g} Hz")
    print(f"input generation (merged Poisson streams): {t_gen:.3f} s for {n_in} events")
    print(f"chip time {CHIP_SECONDS:g} s: wall {wall:.3f} s, process CPU {cpu:.3f} s")
    print(
        f"input events {n_in}, output spikes {n_spk} ({n_spk / chip.n_neurons / CHIP_SECONDS:.1f} Hz/neuron), "
        f"weight flips {res.counts['weight_flips']}, mean weight {res.weights.mean():.3f}"
    )
    print(f"events per wall second: {(n_in + n_spk) / wall:,.0f} (input {n_in / wall:,.0f}/s)")
    print(f"cpu_realtime_factor={cpu / CHIP_SECONDS:.3f}")
    print(f"chip_realtime_factor={wall / CHIP_SECONDS:.3f}")


if __name__ == "__main__":
    main()
