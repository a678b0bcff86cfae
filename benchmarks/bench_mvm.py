"""Speed of the analog MVM pipeline and of the exact IR-drop solve (issue 9).

(1) bare numpy float32 x @ W, W 512 x 512, batch 256;
(2) AnalogTile.mvm with the full default pipeline (tile preset ``pcm-default``: 8-bit DAC, 8-bit ADC,
    differential PCM pairs, state-dependent read noise, output noise, abs-max noise management, global drift
    compensation, drift at t = 1 h, no IR drop);
(3) exact IR drop, 256 x 256, r_wire 1 ohm, r_term 1 mohm, G uniform in [1, 25] uS, batch 64, setup included.

Thread pools: BLAS (OpenBLAS) threads and numba threads can spin against each other on 2 cores. Everything
is timed with the default BLAS threads and with BLAS limited to 1 thread (threadpoolctl), each by wall clock
and by process CPU time; medians of interleaved runs are printed side by side. Multi-threaded OpenBLAS
spin-waits and collapses when the 2 cores are shared with other jobs, so the pipeline is run with BLAS on
1 thread (the MVM path then uses no other thread) and ``mvm_overhead`` is the ratio of process-CPU-time
medians in that setting, which measures the work and not the scheduler. ``irdrop_ms_per_vector`` is the
wall-clock median (the solver runs 2 numba threads). Run: ``python benchmarks/bench_mvm.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from aimc_sim.crossbar import AnalogTile, load_tile_config
from aimc_sim.crossbar.irdrop import IrDropSolver


def median_s(fn: Callable[[], object], reps: int, clock: Callable[[], float] = time.perf_counter) -> float:
    ts = []
    for _ in range(reps):
        t0 = clock()
        fn()
        ts.append(clock() - t0)
    return float(np.median(ts))


def paired(f1: Callable[[], object], f2: Callable[[], object], clock: Callable[[], float]) -> tuple[float, float]:
    """Medians of f1 and f2, measured interleaved (15 rounds of 3 calls each) so that load changes hit both."""
    a, b = [], []
    for _ in range(15):
        a.append(median_s(f1, 3, clock))
        b.append(median_s(f2, 3, clock))
    return float(np.median(a)), float(np.median(b))


def main() -> None:
    rng = np.random.default_rng(0)
    W = rng.standard_normal((512, 512)).astype(np.float32)
    x = rng.standard_normal((256, 512)).astype(np.float32)
    tile = AnalogTile(load_tile_config("pcm-default"), W, rng)
    tile.mvm(x, t=3600.0)  # compile/load kernels, drift-compensation readouts at t = 1 h

    G = rng.uniform(1e-6, 25e-6, (256, 256))
    V = rng.uniform(-0.2, 0.2, (64, 256))

    def irdrop(method: str) -> np.ndarray:
        return IrDropSolver(G, 1.0, 1e-3, method=method).solve(V)

    irdrop("iterative")
    blas = [f"{p['internal_api']}:{p['num_threads']}" for p in threadpool_info()]
    print(f"thread pools: {', '.join(blas)}")
    res: dict[str, dict[str, float]] = {}
    for label, limit in (("blas default", None), ("blas 1 thread", 1)):
        with threadpool_limits(limit, user_api="blas"):
            r = {}
            r["bare"], r["pipe"] = paired(lambda: x @ W, lambda: tile.mvm(x, t=3600.0), time.perf_counter)
            r["bare_cpu"], r["pipe_cpu"] = paired(lambda: x @ W, lambda: tile.mvm(x, t=3600.0), time.process_time)
            r["ir"] = median_s(lambda: irdrop("iterative"), 5) / 64
            res[label] = r
            print(
                f"[{label}] wall: bare x@W {r['bare'] * 1e3:.3f} ms, AnalogTile.mvm {r['pipe'] * 1e3:.3f} ms, "
                f"ratio {r['pipe'] / r['bare']:.2f} | process CPU: bare {r['bare_cpu'] * 1e3:.3f} ms, "
                f"mvm {r['pipe_cpu'] * 1e3:.3f} ms, ratio {r['pipe_cpu'] / r['bare_cpu']:.2f} | "
                f"IR drop (line relaxation, wall) {r['ir'] * 1e3:.2f} ms/vector"
            )
    t_direct = median_s(lambda: irdrop("direct"), 1) / 64
    print(f"IR drop, sparse LU (SuperLU, setup included, wall): {t_direct * 1e3:.2f} ms/vector")
    one = res["blas 1 thread"]
    print(
        "chosen: BLAS limited to 1 thread, process CPU time (the MVM path is single-threaded there, so CPU time "
        "is its work, independent of other jobs on the shared cores)"
    )
    print(f"irdrop_ms_per_vector={min(r['ir'] for r in res.values()) * 1e3:.3f}")
    print(f"mvm_overhead={one['pipe_cpu'] / one['bare_cpu']:.3f}")


if __name__ == "__main__":
    main()
