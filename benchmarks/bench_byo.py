"""Benchmark: a torch CNN of about 1 M weights converted with ``workloads.from_torch``, 1,000 images through
the numpy float forward and through the hardware forward on crossbar tiles, side by side.

The network (3x32x32 input): three Conv2d 3x3 + BatchNorm + ReLU + MaxPool stages (32, 64, 128 channels),
Linear 2048 -> 448, ReLU, Linear 448 -> 10: 1.01 M weights in 5 analog layers (every conv output position is
one MVM: 1024 + 256 + 64 + 1 + 1 = 1,346 MVMs per image). Random weights and images (seeded): the timing does not
depend on what the network learned. The tiles are programmed once (timed separately, not in the ratio);
each round times the float pass and the hardware pass over the same 1,000 images, alternating which goes
first; the ratio is of the medians. Last line: ``byo_hw_overhead=<hardware / float>`` (target <= 10).

    python benchmarks/bench_byo.py [--rounds 5] [--tile pcm-default] [--images 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from aimc_sim.cost import Ledger


def cnn():
    """The benchmark CNN (torch), in eval mode with non-trivial BatchNorm statistics."""
    import torch
    from torch import nn

    torch.manual_seed(0)

    def stage(c_in: int, c_out: int) -> list:
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]

    model = nn.Sequential(
        *stage(3, 32),
        *stage(32, 64),
        *stage(64, 128),
        nn.Flatten(),
        nn.Linear(2048, 448),
        nn.ReLU(),
        nn.Linear(448, 10),
    )
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def main() -> None:
    import torch

    import workloads

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--tile", default="pcm-default")
    p.add_argument("--images", type=int, default=1000)
    args = p.parse_args()
    model = cnn()
    x = np.random.default_rng(0).standard_normal((args.images, 3, 32, 32)).astype(np.float32)
    t0 = time.perf_counter()
    net = workloads.from_torch(model, torch.from_numpy(x[:1]))
    t_convert = time.perf_counter() - t0
    hw = net.on({"tile": args.tile})
    t0 = time.perf_counter()
    mats = hw.program(np.random.default_rng(0), Ledger())
    t_prog = time.perf_counter() - t0
    hw.forward(x[:8], mats, Ledger())  # warm-up: numba kernels compile
    net.forward(x[:8])

    t_float, t_hw = [], []
    for r in range(args.rounds):
        for which in ("float", "hw") if r % 2 == 0 else ("hw", "float"):
            t0 = time.perf_counter()
            if which == "float":
                ref = net.forward(x)
                t_float.append(time.perf_counter() - t0)
            else:
                out = hw.forward(x, mats, Ledger())
                t_hw.append(time.perf_counter() - t0)
    f, h = statistics.median(t_float), statistics.median(t_hw)
    agree = float(np.mean(out.argmax(1) == ref.argmax(1)))
    print(f"network: {net.n_weights():,} weights, {len(net.analog_nodes)} analog layers, {args.images} images")
    print(f"conversion {t_convert:.2f} s; tile programming {t_prog:.2f} s ({args.tile}, once, not in the ratio)")
    print(f"float forward    median {f:7.3f} s over {args.rounds} rounds")
    print(f"hardware forward median {h:7.3f} s  (top-1 agreement with float {agree:.3f})")
    print(f"byo_hw_overhead={h / f:.2f}")


if __name__ == "__main__":
    main()
