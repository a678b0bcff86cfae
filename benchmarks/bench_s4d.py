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
thread), and the median of the per-round ratios hw/float, so that load changes on a shared machine hit both
(after one untimed hardware run: the first starts the tile threads and loads the kernels).

``--against TREE`` instead times this tree's hardware inference against another source tree's (e.g. an extracted
older commit: ``git archive <rev> | tar -x -C DIR``), single runs alternating between two worker processes, and
prints, last, ``s4d_hw_speedup`` (median of other / this wall time over the rounds).

Figures (docs/s4d.md, "s4dspeed round"): before, idle machine, 16:40 UTC 2026-12-04 (task brief): float 197 ms,
hardware 803 ms, ``s4d_hw_overhead=4.38``. After, ``PYTHONPATH=$PWD nice -n 5 python benchmarks/bench_s4d.py``
on the shared machine at load 2.4-4.3: 4.95, 4.68, 4.02, 3.47, 3.18, 4.88, 4.55 (the previous code, alternating,
at load 3.2-5.5: 4.71, 4.49, 5.86, 4.72); paired, ``--against`` the previous code at load 2.5-4.4:
``s4d_hw_speedup=1.107``, against main 2fb42d2 at load 3.5-4.0: 1.156 and 1.184, against main caabbc1 at load
3.0-3.5: 1.165. No idle run after the change.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

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


def serve(tile: str) -> None:
    """Worker of ``--against``: after programming, one line per request on stdin: ``h`` times one hardware
    inference, ``f`` one float fused run on one BLAS thread; prints wall and CPU seconds."""
    from aimc_sim.cost import Ledger

    model, data = load_model("s4d_digits_float"), load_dataset("digits_pixel")
    hw = HardwareS4D(model, {"tile": tile})
    prog = hw.program(np.random.default_rng(0), Ledger(), data.x_train[:32])
    hw._run(prog, data.x_test, Ledger())  # warm-up (numba compilation, work arrays)
    print("ready", flush=True)
    for line in sys.stdin:
        t0, c0 = time.perf_counter(), time.process_time()
        if line.strip() == "f":
            with threadpool_limits(1, "blas"):
                model.forward(data.x_test, "fused")
        else:
            hw._run(prog, data.x_test, Ledger())
        print(time.perf_counter() - t0, time.process_time() - c0, flush=True)


def against(tree: str, rounds: int, tile: str) -> None:
    """Paired before/after: this tree and ``tree`` (e.g. an extracted older commit) each program the model in a
    worker process, then alternate single hardware inferences (order swapped every round), with a float run
    before each pair. Prints the medians and, last, ``s4d_hw_speedup``: the median over rounds of other / this
    tree's hardware wall time."""
    here = str(Path(__file__).resolve().parents[1])

    def spawn(root: str) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": root}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", "--tile", tile]
        p = subprocess.Popen(cmd, cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if p.stdout.readline().strip() != "ready":  # type: ignore[union-attr]
            raise SystemExit(f"worker for {root} failed to start")
        return p

    def ask(p: subprocess.Popen, what: str) -> tuple[float, float]:
        p.stdin.write(what + "\n")  # type: ignore[union-attr]
        p.stdin.flush()  # type: ignore[union-attr]
        wall, cpu = p.stdout.readline().split()  # type: ignore[union-attr]
        return float(wall), float(cpu)

    this, other = spawn(here), spawn(str(Path(tree).resolve()))
    rows = []
    for r in range(rounds):
        t_float = ask(this, "f")[0]
        first, second = (this, other) if r % 2 == 0 else (other, this)
        runs = {id(first): ask(first, "h"), id(second): ask(second, "h")}
        rows.append((*runs[id(this)], *runs[id(other)], t_float))
    for p in (this, other):
        p.stdin.close()  # type: ignore[union-attr]
        p.wait()
    a = np.array(rows)
    med = np.median(a, axis=0) * 1e3
    print(f"{rounds} rounds; float fused (1 BLAS thread) median {med[4]:.1f} ms")
    print(f"this tree:  hardware {med[0]:.1f} ms wall, {med[1]:.1f} ms CPU, ratio {np.median(a[:, 0] / a[:, 4]):.2f}")
    print(f"{tree}: hardware {med[2]:.1f} ms wall, {med[3]:.1f} ms CPU, ratio {np.median(a[:, 2] / a[:, 4]):.2f}")
    print(f"per-round other/this wall: {', '.join(f'{x:.2f}' for x in a[:, 2] / a[:, 0])}")
    print(f"CPU other/this median {np.median(a[:, 3] / a[:, 1]):.3f}")
    print(f"s4d_hw_speedup={np.median(a[:, 2] / a[:, 0]):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--tile", default="pcm-default")
    ap.add_argument("--against", metavar="TREE", help="paired hardware timing against another source tree")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        return serve(args.tile)
    if args.against:
        return against(args.against, max(args.repeats, 1), args.tile)
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
    hw._run(prog, x, Ledger())  # warm-up, untimed: the first run starts the tile threads and loads kernels
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
