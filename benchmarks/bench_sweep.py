"""Sweep throughput: points per second with 1 and 2 local worker processes on a fixed small spec.

Each point programs a 256x256 weight matrix with Gaussian noise and runs 150 noisy, ADC-quantised
MVM batches of 64 inputs through it (about 0.11 s of single-threaded numpy work), so the process overhead of the
pool is small against the work. Each of five repeats runs 1 then 2 workers side by side; the result is
the median over repeats of rate2 / (2 rate1) (robust to load from other processes that comes and goes); the
evaluator time per point is printed too (it grows when other processes compete for the cores).
Last line: ``sweep_scaling=<median of rate2 / (2 * rate1)>`` (target >= 0.8).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_POINTS = 32
REPEATS = 5
N_BATCHES = 150


def evaluate(config: dict, seed: int) -> dict:
    """Noisy MVMs of a programmed matrix; returns the relative output error."""
    n, bits = config["size"], config["bits"]
    w = np.random.default_rng(0).standard_normal((n, n)) / np.sqrt(n)
    rng = np.random.default_rng(seed)
    w_prog = w + rng.normal(0.0, config["noise"] * np.abs(w).max(), size=w.shape)
    levels = 2 ** (bits - 1) - 1
    err = 0.0
    for _ in range(N_BATCHES):
        x = rng.standard_normal((64, n))
        y_ref, y = x @ w.T, x @ w_prog.T + rng.normal(0.0, 0.01, size=(64, n))
        scale = np.abs(y_ref).max()
        y_q = np.clip(np.round(y / scale * levels), -levels, levels) * scale / levels
        err += float(np.linalg.norm(y_q - y_ref) / np.linalg.norm(y_ref))
    return {"rel_error": err / N_BATCHES, "energy_j": n * n * 0.05e-12}


def main() -> None:
    from aimc_sim.sweep import load_results, load_spec, run_sweep

    spec = {
        "evaluator": "bench_sweep:evaluate",
        "base": {"size": 256, "noise": 0.02, "bits": 8},
        "axes": [{"kind": "grid", "params": {"noise": {"low": 0.0, "high": 0.1, "count": 8}, "bits": [4, 6, 8, 10]}}],
        "seeds": 1,
    }
    rates: dict[int, list[float]] = {1: [], 2: []}
    busy: dict[int, list[float]] = {1: [], 2: []}  # fraction of worker wall time spent in the evaluator
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(REPEATS):
            for workers in (1, 2):
                out = Path(tmp) / f"r{rep}w{workers}.h5"
                t0 = time.perf_counter()
                summary = run_sweep(load_spec(spec), output=out, workers=workers, progress=False, allow_code=True)
                elapsed = time.perf_counter() - t0
                assert summary.n_run == N_POINTS
                rates[workers].append(N_POINTS / elapsed)
                per_point = float(load_results(out).columns["wall_s"].mean())
                busy[workers].append(N_POINTS * per_point / (workers * elapsed))
                print(
                    f"repeat {rep}: {workers} worker(s): {N_POINTS} points in {elapsed:.2f} s = "
                    f"{N_POINTS / elapsed:.2f} points/s (evaluator {per_point * 1e3:.0f} ms/point)",
                    flush=True,
                )
    r1, r2 = statistics.median(rates[1]), statistics.median(rates[2])
    pairs = [b / (2 * a) for a, b in zip(rates[1], rates[2])]  # each repeat's side-by-side efficiency
    print(f"median points/s: 1 worker {r1:.2f}, 2 workers {r2:.2f}, speed-up {r2 / r1:.2f}x")
    print(f"per-repeat efficiency rate2/(2 rate1): {', '.join(f'{e:.2f}' for e in pairs)}")
    print(
        f"median evaluator busy fraction: 1 worker {statistics.median(busy[1]):.2f}, "
        f"2 workers {statistics.median(busy[2]):.2f} (1.0 = no pool overhead; the evaluator time itself "
        "grows when other processes compete for the cores)"
    )
    print(f"sweep_scaling={statistics.median(pairs):.3f}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
