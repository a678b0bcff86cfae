"""Train a small surrogate-gradient LIF network with learnable axonal delays; ship it as NIR.

Task: spike-encoded sequential digits (:func:`workloads.snn.data.spike_digits`), 16 input channels,
40 steps of dt = 1 ms. Network (semantics of :class:`workloads.snn.SNNModel`):

    input spikes -> axonal delays (16) -> Linear 16xH -> LIF (reset to 0, NIR semantics)
                 -> axonal delays (H) -> Linear Hx10 -> LI readout; logits = time-mean membrane

LIF: u = alpha u + W x (gamma = 1, i.e. NIR R = 1/(1 - alpha)), alpha = exp(-dt/tau) learnable
per neuron with tau in [2, 40] ms. Surrogate: ATan with alpha = 2 (docs/snn.md#surrogate-gradients), detached
reset. Delays are learned as DCLS-style Gaussian kernels over [0, D_max) whose width decays each
epoch to 0.23 (Hammouamri et al. 2024; Bouhadjar & Neftci 2026, docs/snn.md#delay-buffers), then rounded.

Run (needs the ``train`` extra; a few minutes max on one shared CPU core):

    python workloads/training/snn_train.py --out workloads/models/snn_digits.nir
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from aimc_sim.hwa.config import add_t_range_argument
from workloads.snn import SNNLayer, SNNModel, lif
from workloads.snn.data import spike_digits

DT = 1e-3
TAU_MIN, TAU_MAX = 2e-3, 40e-3


class SpikeATan(torch.autograd.Function):
    """H(x) forward, ATan surrogate alpha / (2 (1 + (pi/2 alpha x)^2)) backward."""

    alpha = 2.0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        a = SpikeATan.alpha
        return grad * a / (2 * (1 + (math.pi / 2 * a * x) ** 2))


class AxonalDelay(torch.nn.Module):
    """Per-channel delay as a normalised Gaussian kernel over lags 0..D_max-1 (causal depthwise conv)."""

    def __init__(self, channels: int, d_max: int, gen: torch.Generator):
        super().__init__()
        self.d_max = d_max
        self.pos = torch.nn.Parameter(torch.rand(channels, generator=gen) * (d_max - 1))
        self.sigma = d_max / 2

    def kernel(self) -> torch.Tensor:
        lags = torch.arange(self.d_max, dtype=torch.float32)
        k = torch.exp(-((lags[None, :] - self.pos[:, None]) ** 2) / (2 * self.sigma**2))
        return k / k.sum(dim=1, keepdim=True)

    def forward(self, x):  # x: (T, B, C)
        steps, b, c = x.shape
        k = self.kernel().flip(1)[:, None, :]  # conv weight index j <-> lag d_max-1-j
        xc = F.pad(x.permute(1, 2, 0), (self.d_max - 1, 0))
        return F.conv1d(xc, k, groups=c).permute(2, 0, 1)

    def rounded(self) -> np.ndarray:
        return np.clip(np.rint(self.pos.detach().numpy()), 0, self.d_max - 1).astype(np.int64)


def _alpha(raw: torch.Tensor) -> torch.Tensor:
    tau = TAU_MIN + (TAU_MAX - TAU_MIN) * torch.sigmoid(raw)
    return torch.exp(-DT / tau)


class Net(torch.nn.Module):
    """Hidden LIF layers (each fed through axonal delays) and an LI readout (also after axonal delays)."""

    def __init__(self, sizes: list[int], d_max: int, gen: torch.Generator, reset: str = "to_value", noise: float = 0.0):
        super().__init__()
        self.reset, self.noise, self.gen = reset, noise, gen
        self.delays = torch.nn.ModuleList(AxonalDelay(n, d_max, gen) for n in sizes[:-1])
        self.weights = torch.nn.ParameterList(
            torch.nn.Parameter(torch.randn(a, b, generator=gen) * (0.6 if i == 0 else 1.0 / math.sqrt(a)))
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))
        )
        self.raw_tau = torch.nn.ParameterList(
            torch.nn.Parameter(torch.randn(n, generator=gen) * 0.5) for n in sizes[1:]
        )

    def to_analog(self, hwa, key: int = 0) -> None:
        """Hardware-aware training: every synaptic product on :class:`aimc_sim.hwa.AnalogCore` tiles."""
        from aimc_sim.hwa import AnalogCore

        self.cores = [AnalogCore(hwa, (key, i)) for i in range(len(self.weights))]
        self.analog = True

    def _synapses(self, i: int, x, w):
        """x (T, B, n_in) @ w, on analog tiles when converted and switched on."""
        if not getattr(self, "analog", False):
            return x @ w
        steps, b, n = x.shape
        return self.cores[i].matmul(x.reshape(-1, n), w).reshape(steps, b, -1)

    def forward(self, x):
        h = x
        n_layers = len(self.weights)
        for i, (delay, w, raw) in enumerate(zip(self.delays, self.weights, self.raw_tau)):
            if self.training and self.noise > 0:  # hardware-aware: Gaussian weight noise, std relative to column max
                scale = w.detach().abs().amax(dim=0, keepdim=True)
                w = w + self.noise * scale * torch.randn(w.shape, generator=self.gen)
            cur = self._synapses(i, delay(h), w)
            alpha = _alpha(raw)
            u = torch.zeros_like(cur[0])
            outs = []
            for t in range(cur.shape[0]):
                u = alpha * u + cur[t]
                if i == n_layers - 1:
                    outs.append(u)
                    continue
                s = SpikeATan.apply(u - 1.0)
                u = u * (1 - s.detach()) if self.reset == "to_value" else u - s.detach()
                outs.append(s)
            h = torch.stack(outs)
        return h.mean(0)

    def to_snn(self) -> SNNModel:
        """The trained network as a native model (delays rounded, the semantics NIR stores)."""
        layers = []
        for i, (delay, w, raw) in enumerate(zip(self.delays, self.weights, self.raw_tau)):
            alpha = _alpha(raw).detach().double().numpy()
            spiking = i < len(self.weights) - 1
            neu = lif(alpha, 1.0, 1.0, self.reset if spiking else "none", 0.0 if spiking else None, spiking=spiking)
            layers.append(SNNLayer(w.detach().double().numpy(), neu, delay_kind="axonal", delays=delay.rounded()))
        return SNNModel(layers, DT, {"trained_by": "workloads/training/snn_train.py", "reset": self.reset})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="workloads/models/snn_digits.nir")
    p.add_argument("--hidden", type=int, nargs="+", default=[128])
    p.add_argument("--d-max", type=int, default=8)
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--reset", choices=("to_value", "subtract"), default="to_value")
    p.add_argument("--weight-noise", type=float, default=0.0, help="training weight noise (fraction of column max)")
    p.add_argument("--hwa-tile", default=None, help="hardware-aware training on this tile preset (e.g. pcm-default)")
    add_t_range_argument(p, "--hwa-t", (0.0, 0.0))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(args.seed)
    data = spike_digits(seed=args.seed)
    xtr = torch.tensor(data.x_train, dtype=torch.float32)
    ytr = torch.tensor(data.y_train)
    net = Net([xtr.shape[2], *args.hidden, 10], args.d_max, gen, args.reset, args.weight_noise)
    if args.hwa_tile is not None:
        from aimc_sim.hwa import HWAConfig, convert_to_analog

        hwa = {"tile": args.hwa_tile, "t_range": list(args.hwa_t), "seed": args.seed}
        convert_to_analog(net, HWAConfig.from_dict(hwa, "hwa"))
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    sigma0 = args.d_max / 2
    t0 = time.time()
    for epoch in range(args.epochs):
        perm = torch.randperm(len(ytr), generator=gen)
        total, correct = 0.0, 0
        for i in range(0, len(ytr), args.batch):
            idx = perm[i : i + args.batch]
            logits = net(xtr[:, idx])
            loss = F.cross_entropy(logits, ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                for d in net.delays:
                    d.pos.clamp_(0, args.d_max - 1)
            total += loss.item() * len(idx)
            correct += int((logits.argmax(1) == ytr[idx]).sum())
        sched.step()
        sigma = sigma0 * (0.23 / sigma0) ** ((epoch + 1) / args.epochs)
        for d in net.delays:
            d.sigma = sigma
        print(f"epoch {epoch + 1}: loss {total / len(ytr):.3f} train acc {correct / len(ytr):.3f} sigma {sigma:.2f}")
    net.eval()
    net.analog = False
    model = net.to_snn()
    acc = float(np.mean(model.predict(data.x_test) == data.y_test))
    print(f"float test accuracy (numpy SNNModel, rounded delays): {acc:.4f}  [{time.time() - t0:.0f} s]")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    import nir

    graph = model.to_nir(time_unit=1e-3)
    meta = {"test_accuracy": acc, "dataset": json.dumps(data.info), "reset_mode": args.reset}
    graph.metadata.update({**meta, "weight_noise": args.weight_noise, "hwa_tile": args.hwa_tile or ""})
    nir.write(str(out), graph)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
