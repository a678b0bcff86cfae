"""Benchmark: the shipped SNN on the 360 spike-encoded test digits, float (numpy) vs hardware (crossbar tiles).

Both runs are timed side by side in one process after a warm-up (numba compilation): median wall time of
the inference pass over the whole test set (tile programming is timed separately). The runs use
single-threaded BLAS (as ``SNNModel.run`` / ``HardwareSNN.run`` set it); the same passes with the default
BLAS thread pool are timed too, for comparison. Last line: ``snn_hw_overhead=<hardware / float>`` (target <= 4).

    python benchmarks/bench_snn.py [--repeats 5] [--tile pcm-default]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from aimc_sim.cost import Ledger
from workloads.snn.data import spike_digits
from workloads.snn.experiments import load_shipped
from workloads.snn.hardware import HardwareSNN


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--tile", default="pcm-default")
    args = p.parse_args()
    model = load_shipped()
    data = spike_digits(n_train=1)
    x, y = data.x_test, data.y_test
    hw = HardwareSNN(model, {"tile": args.tile})
    t0 = time.perf_counter()
    mats = hw.program(np.random.default_rng(0), Ledger())
    t_prog = time.perf_counter() - t0
    hw.run(x[:, :8], mats, Ledger())  # warm-up: numba kernels compile
    model.run(x[:, :8])

    t_float, t_hw, t_float_mt, t_hw_mt = [], [], [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        run = model.run(x)
        t_float.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        readout, _ = hw.run(x, mats, Ledger())
        t_hw.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        model._run(x)  # default BLAS thread pool
        t_float_mt.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        hw._run(x, mats, Ledger(), Ledger())
        t_hw_mt.append(time.perf_counter() - t0)
    acc_f = float(np.mean(run.logits.argmax(1) == y))
    acc_h = float(np.mean(readout.mean(0).argmax(1) == y))
    f, h = statistics.median(t_float), statistics.median(t_hw)
    print(f"test set: {x.shape[1]} samples x {x.shape[0]} steps, layers {[lay.shape for lay in model.layers]}")
    print(f"float run    median {f * 1e3:8.1f} ms  accuracy {acc_f:.4f}")
    print(f"hardware run median {h * 1e3:8.1f} ms  accuracy {acc_h:.4f}  ({args.tile})")
    fm, hm = statistics.median(t_float_mt), statistics.median(t_hw_mt)
    print(f"default BLAS threads: float {fm * 1e3:.1f} ms, hardware {hm * 1e3:.1f} ms (ratio {hm / fm:.2f})")
    print(f"tile programming {t_prog * 1e3:.1f} ms (once, not in the ratio); repeats {args.repeats}")
    print(f"snn_hw_overhead={h / f:.2f}")


if __name__ == "__main__":
    main()
