"""Speed of the S4D digits test set (360 sequences, L = 64): float numpy recurrence vs hardware run.

float: the fused real recurrence in FP32 numpy (one batched BLAS matmul per step, the fastest recurrent form),
timed with the default BLAS threads and with one; the faster is the baseline. Also shown: the complex
recurrence and the FFT convolution. hw: ``model.on({"tile": "pcm-default"})``: fused
matrices on PCM tiles, stepped with ADC -> DAC state feedback, dense layers on tiles (programming included
once, outside the timed inference), with SSM channels packed as densely as the tile allows (the default mapping,
simulated by the block-wise fast path ``BlockDiagonalMatrix``) and, for comparison: the dense reference path
(``ssm_sim: dense``), one SSM channel per tile, and the default mapping with read and output noise off (the
Gaussian draws, one per ADC output per step, are the largest single cost). Prints medians of ``--repeats``
runs and, last, ``s4d_hw_overhead``: float and hardware (default mapping) timed interleaved, one after the
other in each of ``--repeats`` rounds (the float time of a round is the faster of default BLAS threads and one
thread), and the median of the per-round ratios hw/float, so that load changes on a shared machine hit both.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from workloads.api import load_model
from workloads.data import load_dataset
from workloads.s4d.hardware import HardwareS4D


def _median(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--tile", default="pcm-default")
    args = ap.parse_args()
    model = load_model("s4d_digits_float")
    data = load_dataset("digits_pixel")
    x = data.x_test
    x_cal = data.x_train[:32]  # recurrent tiles' ADC calibration (docs/s4d.md#hardware-defaults)
    hw = HardwareS4D(model, {"tile": args.tile})
    from aimc_sim.cost import Ledger

    ledger = Ledger()
    t0 = time.perf_counter()
    prog = hw.program(np.random.default_rng(0), ledger, x_cal)
    t_prog = time.perf_counter() - t0
    t_fused = _median(lambda: model.forward(x, "fused"), args.repeats)
    t_rec = _median(lambda: model.forward(x, "recurrent"), args.repeats)
    t_fft = _median(lambda: model.forward(x, "fft"), args.repeats)
    ratios, hw_times = [], []
    for _ in range(args.repeats):  # interleaved: float and hardware in the same round
        t_f = _median(lambda: model.forward(x, "fused"), 1)
        with threadpool_limits(1, "blas"):
            t_f = min(t_f, _median(lambda: model.forward(x, "fused"), 1))
        hw_times.append(_median(lambda: hw._run(prog, x, Ledger()), 1))
        ratios.append(hw_times[-1] / t_f)
    t_hw = float(np.median(hw_times))
    hw1 = HardwareS4D(model, {"tile": args.tile, "ssm_channels_per_tile": 1})
    prog1 = hw1.program(np.random.default_rng(0), Ledger(), x_cal)
    t_hw1 = _median(lambda: hw1._run(prog1, x, Ledger()), args.repeats)
    quiet = {"preset": args.tile, "noise": {"read": False, "out_noise": 0.0}}
    hw0 = HardwareS4D(model, {"tile": quiet})
    prog0 = hw0.program(np.random.default_rng(0), Ledger(), x_cal)
    t_hw0 = _median(lambda: hw0._run(prog0, x, Ledger()), args.repeats)
    hwd = HardwareS4D(model, {"tile": args.tile, "ssm_sim": "dense"})
    progd = hwd.program(np.random.default_rng(0), Ledger(), x_cal)
    t_hwd = _median(lambda: hwd._run(progd, x, Ledger()), max(1, args.repeats // 2))
    with threadpool_limits(1, "blas"):
        t_fused1 = _median(lambda: model.forward(x, "fused"), args.repeats)
    t_float = min(t_fused, t_fused1)
    print(f"test set: {x.shape[0]} sequences x L={x.shape[1]}, tiles={prog.n_tiles()}")
    print(f"float fused recurrence median   {t_fused * 1e3:9.1f} ms  (1 BLAS thread: {t_fused1 * 1e3:.1f} ms)")
    print(f"float complex recurrence median {t_rec * 1e3:9.1f} ms")
    print(f"float FFT convolution median    {t_fft * 1e3:9.1f} ms")
    print(f"hardware programming (once)     {t_prog * 1e3:9.1f} ms")
    print(f"hardware inference median       {t_hw * 1e3:9.1f} ms  (SSM packed, {prog.n_tiles()} tiles, fast path)")
    print(f"hardware, dense packed tiles    {t_hwd * 1e3:9.1f} ms  (reference path), ratio {t_hwd / t_float:.2f}")
    n1 = prog1.n_tiles()
    print(f"hardware, 1 SSM channel/tile    {t_hw1 * 1e3:9.1f} ms  ({n1} tiles) ratio {t_hw1 / t_float:.2f}")
    print(f"hardware, read+output noise off {t_hw0 * 1e3:9.1f} ms  ratio {t_hw0 / t_float:.2f}")
    print(f"per-round hw/float ratios (interleaved): {', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"s4d_hw_overhead={float(np.median(ratios)):.2f}")


if __name__ == "__main__":
    main()
