"""Cost of hardware-aware training: one HWA epoch against one float epoch of the same model, side by side.

Model: the S4D digits classifier (2 layers, H = 64, N = 16, from ``s4d_digits_float``), 1437 training sequences of
L = 64, batch 64, AdamW, one torch thread. Float epoch: the trainer's FFT-convolution forward. HWA epoch: the same
network after ``convert_to_analog(net, HWAConfig(tile, t_range=(0, 1 day)))``: every batch programs the weights
afresh on the tile's device model (programming noise, drift to a sampled t, global drift compensation readout)
and runs the torch periphery (DAC, read and output noise, ADC) with straight-through gradients.

``--recurrence digital`` (default): encoder, mixing and decoder products on tiles, the SSM in digital logic (FFT in
training). ``--recurrence analog``: the recurrence also on tiles, stepped L times with ADC -> DAC state feedback
(one channel per tile). One untimed epoch of each model first (numba compilation, first-call costs, caches); then
``--rounds`` rounds of one float and one HWA epoch, the order alternating. Printed: the medians of the wall and the
process CPU time of each (the same on an idle machine; on a shared one CPU time leaves out the time spent waiting
for a core), the HWA / float ratio of each round and, for comparison, the ratio of the two medians. The per-round
ratio compares two epochs run one after the other; the ratio of medians can pair epochs from different rounds, and
the float epoch alone drifted by 30 % between processes on the idle machine (docs/s4d.md, HWA speed).
``--profile``: afterwards, one more HWA epoch under cProfile (process CPU time) and the CPU ms per batch of its
parts. Last line: ``hwa_train_overhead=<median of the per-round HWA / float wall-time ratios>``, as
``bench_s4d.py`` does.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import pstats
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from aimc_sim.hwa import HWAConfig, convert_to_analog
from workloads.api import load_model
from workloads.data import load_dataset
from workloads.training.s4d_torch import TorchS4D


def _epoch(net: TorchS4D, x: torch.Tensor, y: torch.Tensor, batch: int) -> tuple[float, float]:
    """(wall, process CPU) seconds of one training epoch."""
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    t0, c0 = time.perf_counter(), time.process_time()
    for j in range(0, len(y), batch):
        loss = torch.nn.functional.cross_entropy(net(x[j : j + batch]), y[j : j + batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - t0, time.process_time() - c0


PARTS = {  # (file suffix, function name) -> what it is
    ("hwa/recurrence.py", "forward"): "recurrence steps (forward)",
    ("hwa/recurrence.py", "backward"): "recurrence backward",
    ("hwa/recurrence.py", "_calibration_inputs"): "recurrence calibration inputs (float states)",
    ("hwa/recurrence.py", "_program_group"): "recurrence programming, incl. the next two",
    ("hwa/periphery.py", "calibrate_ranges"): "  ADC-range calibration",
    ("hwa/periphery.py", "drift_alpha"): "  drift-compensation readouts",
    ("hwa/layers.py", "matmul"): "dense products (forward)",
    ("~", "<method 'normal_' of 'torch._C.TensorBase' objects>"): "all normal draws (torch's Mersenne twister)",
    ("~", "<built-in method torch.bmm>"): "all torch.bmm products",
    ("~", "<method 'baddbmm_' of 'torch._C.TensorBase' objects>"): "all baddbmm_ (recurrence weight gradient)",
}


def _profile(net: TorchS4D, x: torch.Tensor, y: torch.Tensor, batch: int) -> None:
    """CPU ms per batch of the parts of one HWA epoch (cumulative cProfile times)."""
    prof = cProfile.Profile(time.process_time)
    prof.enable()
    _, total = _epoch(net, x, y, batch)
    prof.disable()
    n_batches = -(-len(y) // batch)
    cum = {(path, func): c for (path, _, func), (_, _, _, c, _) in pstats.Stats(prof).stats.items()}  # type: ignore[attr-defined]
    print(f"HWA epoch under cProfile: {1e3 * total / n_batches:.0f} CPU ms per batch, of which")
    for (suffix, name), what in PARTS.items():
        ms = sum(c for (path, func), c in cum.items() if path.endswith(suffix) and func == name)
        print(f"  {what}: {1e3 * ms / n_batches:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tile", default="pcm-default")
    ap.add_argument("--recurrence", default="digital", choices=["digital", "analog"])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--n-train", type=int, default=None, help="sequences per epoch (default all 1437)")
    ap.add_argument("--profile", action="store_true", help="then one HWA epoch under cProfile, CPU ms per part")
    args = ap.parse_args()
    torch.set_num_threads(1)
    src = load_model("s4d_digits_float")
    data = load_dataset("digits_pixel")
    n = args.n_train or len(data.y_train)
    x, y = torch.tensor(data.x_train[:n]), torch.tensor(data.y_train[:n])
    float_net = TorchS4D(src.config, np.random.default_rng(0))
    with torch.no_grad():
        for k, v in src.weights.items():
            float_net.p(k).copy_(torch.tensor(v, dtype=torch.float32))
    hwa_net = copy.deepcopy(float_net)
    hwa = HWAConfig(tile=args.tile, t_range=(0.0, 86400.0), ssm_recurrence=args.recurrence)
    convert_to_analog(hwa_net, hwa)
    for net in (float_net, hwa_net):  # untimed: numba compilation, first-call costs, caches
        _epoch(net, x, y, args.batch)
    t_float, t_hwa = [], []
    with threadpool_limits(1):
        for r in range(args.rounds):
            pair = [(t_float, float_net), (t_hwa, hwa_net)]
            for times, net in pair if r % 2 == 0 else pair[::-1]:
                times.append(_epoch(net, x, y, args.batch))
    f, h = (np.median(np.array(t), axis=0) for t in (t_float, t_hwa))
    print(f"s4d digits, {n} sequences x L = 64, batch {args.batch}, {args.tile}, recurrence {args.recurrence}")
    for name, m, t in (("float", f, t_float), ("HWA  ", h, t_hwa)):
        rounds = ", ".join(f"{w:.2f}" for w, _ in t)
        print(f"{name} epoch (median of {args.rounds}): {m[0]:.2f} s wall, {m[1]:.2f} s CPU   wall rounds: {rounds}")
    ratios = [hw[0] / fl[0] for fl, hw in zip(t_float, t_hwa)]
    print(f"per-round HWA / float wall ratios: {', '.join(f'{q:.2f}' for q in ratios)}")
    print(f"ratio of the medians: {h[0] / f[0]:.2f} wall, {h[1] / f[1]:.2f} CPU")
    if args.profile:
        with threadpool_limits(1):
            _profile(hwa_net, x, y, args.batch)
    print(f"hwa_train_overhead={np.median(ratios):.2f}")


if __name__ == "__main__":
    main()
