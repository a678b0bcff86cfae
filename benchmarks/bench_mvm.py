"""Speed of the analog MVM pipeline and of the exact IR-drop solve (issue 9).

(1) bare numpy float32 x @ W, W 512 x 512, batch 256;
(2) AnalogTile.mvm with the full default pipeline (tile preset ``pcm-default``: 8-bit DAC, 8-bit ADC,
    differential PCM pairs, state-dependent read noise, output noise, abs-max noise management, global drift
    compensation, drift at t = 1 h, no IR drop);
(3) exact IR drop, 256 x 256, r_wire 1 ohm, r_term 1 mohm, G uniform in [1, 25] uS, batch 64, setup included.

Thread pools: BLAS (OpenBLAS) threads and numba threads can spin against each other on 2 cores. Everything
is timed twice, with the default BLAS threads and with BLAS limited to 1 thread (threadpoolctl); medians
of both are printed side by side. ``mvm_overhead`` divides the faster pipeline median by the faster bare
matmul median. Run: ``python benchmarks/bench_mvm.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from aimc_sim.crossbar import AnalogTile, load_tile_config
from aimc_sim.crossbar.irdrop import IrDropSolver


def median_s(fn: Callable[[], object], reps: int) -> float:
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


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
            # interleave the two measurements so that load changes hit both
            bare, pipe = [], []
            for _ in range(15):
                bare.append(median_s(lambda: x @ W, 3))
                pipe.append(median_s(lambda: tile.mvm(x, t=3600.0), 3))
            r["bare"], r["pipe"] = float(np.median(bare)), float(np.median(pipe))
            r["ir"] = median_s(lambda: irdrop("iterative"), 5) / 64
            res[label] = r
            print(
                f"[{label}] bare x@W {r['bare'] * 1e3:.3f} ms | AnalogTile.mvm {r['pipe'] * 1e3:.3f} ms | "
                f"ratio {r['pipe'] / r['bare']:.2f} | IR drop (line relaxation) {r['ir'] * 1e3:.2f} ms/vector"
            )
    t_direct = median_s(lambda: irdrop("direct"), 1) / 64
    print(f"IR drop, sparse LU (SuperLU, setup included): {t_direct * 1e3:.2f} ms/vector")
    best_bare = min(r["bare"] for r in res.values())
    best_pipe = min(r["pipe"] for r in res.values())
    best_ir = min(r["ir"] for r in res.values())
    print(f"irdrop_ms_per_vector={best_ir * 1e3:.3f}")
    print(f"mvm_overhead={best_pipe / best_bare:.3f}")


if __name__ == "__main__":
    main()
