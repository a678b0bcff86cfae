"""Throughput of the circuit kernels (issue 5).

1. 10^5 LIF neurons (float32 state) for 1 s at dt = 0.1 ms, each driven by a Poisson input current
   (2 kHz of input events, 0.6 mC/s per event-rate unit -> mean R*I = 1.2*theta), fused kernel.
2. The same figure for 10^4 DPI/AdExp neurons (0.1 s, Poisson input current held per 0.1 ms sample,
   integration sub-step h = 20 us), in neuron-samples per second.
3. The speed-up of the numba kernels over their numpy/python references, measured side by side
   on the same smaller problem.

Medians of REPEATS runs; the last line is ``lif_updates_per_s=<x>``.
"""

from __future__ import annotations

import statistics
import time

import numba
import numpy as np

from aimc_sim.circuits import AdExpConfig, AdExpNeuron, LIFConfig, LIFPopulation, _kernels, _reference
from aimc_sim.circuits.lif import poisson_cdf, seed_streams
from aimc_sim.circuits.spikes import collect_spikes

REPEATS = 3
DT = 1e-4
RATE, CHARGE = 2000.0, 0.6e-3


def timed(fn, repeats: int = REPEATS) -> float:
    """Median wall time of fn() over repeats."""
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def bench_lif(n: int = 100_000, duration: float = 1.0) -> float:
    pop = LIFPopulation(LIFConfig(dt=DT), n, np.random.default_rng(0), dtype=np.float32)
    pop.drive(10 * DT, poisson_rate=RATE, poisson_charge=CHARGE, rng=np.random.default_rng(1))  # compile
    spikes = []

    def run():
        pop.reset_state()
        spikes.append(pop.drive(duration, poisson_rate=RATE, poisson_charge=CHARGE, rng=np.random.default_rng(1)))

    t = timed(run)
    steps = int(round(duration / DT))
    rate = n * steps / t
    print(f"LIF: {n} neurons x {steps} steps, median {t:.3f} s, {spikes[-1].index.size / n / duration:.1f} Hz/neuron")
    print(f"lif_numba_updates_per_s={rate:.3e}")
    return rate


def bench_lif_vs_numpy(n: int = 10_000, steps: int = 1000) -> float:
    """Numba fused kernel (serial, and parallel) vs the numpy reference on the same n x steps problem (float64)."""
    pop = LIFPopulation(LIFConfig(dt=DT), n, np.random.default_rng(0))
    cdf = poisson_cdf(RATE * DT)
    bias = np.zeros(n)

    def numba_run(kernel=_kernels.lif_drive_serial):
        v, ref = np.zeros(n), np.zeros(n, dtype=np.int32)
        pos, ev = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        seeds = seed_streams(np.random.default_rng(1), n)
        lanes = _kernels.LANES

        def chunk(sel, buf_t, buf_u, buf_n):
            kernel(
                sel, v, ref, seeds, pos, steps, pop.alpha, pop.gain, 0.0, pop.v_th, 0.0, pop.mode, 0, bias,
                CHARGE, cdf, DT, buf_t, buf_u, buf_n, ev,
            )  # fmt: skip

        blocks = -(-n // lanes)
        collect_spikes(blocks, chunk, lambda sel: pos[sel * lanes] >= steps, cap=4 * lanes, unit_buffers=True)

    def numpy_run():
        v, ref = np.zeros(n), np.zeros(n, dtype=np.int32)
        seeds = seed_streams(np.random.default_rng(1), n)
        _reference.lif_drive_ref(v, ref, seeds, steps, pop.alpha, pop.gain, 0.0, pop.v_th, 0.0, pop.mode, 0, bias,
                                 CHARGE, cdf, DT)  # fmt: skip

    numba_run()
    numba_run(_kernels.lif_drive)
    t_nb = timed(numba_run)
    t_par = timed(lambda: numba_run(_kernels.lif_drive))
    t_np = timed(numpy_run)
    print(f"LIF {n} x {steps}: numba serial {t_nb * 1e3:.1f} ms, numba parallel {t_par * 1e3:.1f} ms, "
          f"numpy reference {t_np * 1e3:.1f} ms")  # fmt: skip
    print(f"lif_numpy_updates_per_s={n * steps / t_np:.3e}")
    print(f"lif_speedup_numba_serial_vs_numpy={t_np / t_nb:.1f}")
    print(f"lif_speedup_numba_parallel_vs_numpy={t_np / t_par:.1f}")
    return t_np / t_nb


def bench_dpi_neurons(n: int = 10_000, duration: float = 0.1) -> float:
    cfg = AdExpConfig(I_w_ahp=0.2e-6)
    samples = int(round(duration / DT))
    rng = np.random.default_rng(2)
    # Poisson input current: events at 2 kHz, each adding 20 nA for one 0.1 ms sample (mean 4 nA + 30 nA bias)
    i_in = 30e-9 + 20e-9 * rng.poisson(RATE * DT, size=(samples, n))
    pop = AdExpNeuron(cfg, n, np.random.default_rng(3))
    pop.run(i_in[:2], DT)  # compile
    spikes = []

    def run():
        pop.reset_state()
        spikes.append(pop.run(i_in, DT))

    t = timed(run)
    rate = n * samples / t
    print(f"DPI/AdExp: {n} neurons x {samples} samples of 0.1 ms (h = {cfg.h * 1e6:.0f} us), median {t:.3f} s, "
          f"{spikes[-1].index.size / n / duration:.1f} Hz/neuron")  # fmt: skip
    print(f"dpi_neuron_updates_per_s={rate:.3e}")

    m, k = 20, 50
    ref_in = np.ascontiguousarray(i_in[:k, :m])
    small = AdExpNeuron(cfg, m, np.random.default_rng(3))
    small.run(ref_in, DT)  # 20 x 50 samples: below PARALLEL_MIN_NS, so the serial kernel runs
    t_nb = timed(lambda: (small.reset_state(), small.run(ref_in, DT)))

    def ref_run():
        s = small.state.__class__.rest(m)
        _reference.adexp_run_ref(s.i_mem, s.i_ahp, s.t_refr, ref_in, DT, cfg.h, small.params.table, 0.0)

    t_py = timed(ref_run)
    print(f"DPI/AdExp {m} x {k}: numba {t_nb * 1e3:.2f} ms, python reference {t_py * 1e3:.1f} ms")
    print(f"dpi_speedup_numba_vs_reference={t_py / t_nb:.0f}")
    return rate


def main() -> None:
    print(f"numba threads: {numba.get_num_threads()}")
    bench_lif_vs_numpy()
    bench_dpi_neurons()
    rate = bench_lif()
    print(f"lif_updates_per_s={rate:.3e}")


if __name__ == "__main__":
    main()
