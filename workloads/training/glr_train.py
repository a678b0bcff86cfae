"""Train a gated linear recurrence (GLR) classifier on a sequence data set (CPU torch) and write a checkpoint.

Float training, or hardware-aware training (``--hwa-tile``: every dense matrix programmed afresh on tiles of
that preset each batch, read at a time drawn from ``--hwa-t``). Example::

    python -m workloads.training.glr_train --dataset grammar --out /tmp/glr_grammar.safetensors --epochs 20

The command line, the seed and the final accuracies go into the checkpoint metadata ("training"); the
checkpoint is re-loaded with the numpy model and its float test accuracy printed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from aimc_sim.hwa.config import HWAConfig, add_t_range_argument
from workloads.glr.model import GLRConfig, GLRModel
from workloads.training.common import copy_weights, data_fields, save_trained, start, train_epoch
from workloads.training.glr_torch import TorchGLR


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="checkpoint path (.npz, .h5 or .safetensors)")
    ap.add_argument("--dataset", default="grammar")
    ap.add_argument("--d-model", type=int, default=32)
    ap.add_argument("--n-layers", type=int, default=2)
    ap.add_argument("--no-selective", action="store_true", help="input-independent forget gate a = sigmoid(b_a)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.005)
    ap.add_argument("--init-from", default=None, help="GLR checkpoint to start from (e.g. HWA fine-tuning)")
    ap.add_argument("--hwa-tile", default=None, help="hardware-aware training on this tile preset")
    add_t_range_argument(ap, "--hwa-t", (0.0, 0.0))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    return ap.parse_args(argv)


def accuracy(net: TorchGLR, x: np.ndarray, y: np.ndarray) -> float:
    """Float (analog layers off) eval accuracy; per-step labels of -1 not scored."""
    was, net.analog = net.analog, False
    with torch.no_grad():
        pred = net(torch.tensor(x)).argmax(-1).numpy()
    net.analog = was
    valid = y >= 0
    return float((pred[valid] == y[valid]).mean())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data = start(args)
    cfg = GLRConfig(**data_fields(data), d_model=args.d_model, n_layers=args.n_layers, selective=not args.no_selective)
    net = TorchGLR(cfg, np.random.default_rng(args.seed))
    if args.init_from:
        copy_weights(net, GLRModel.load(args.init_from).weights)
    if args.hwa_tile is not None:
        hwa = HWAConfig.from_dict({"tile": args.hwa_tile, "t_range": list(args.hwa_t), "seed": args.seed}, "hwa")
        net.to_analog(hwa)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01)
    steps = args.epochs * int(np.ceil(len(data.y_train) / args.batch))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    xt, yt = torch.tensor(data.x_train), torch.tensor(data.y_train)
    t0 = time.time()
    for epoch in range(args.epochs):
        loss = train_epoch(net, xt, yt, args.batch, opt, sched)
        acc = accuracy(net, data.x_test, data.y_test)
        print(f"epoch {epoch + 1} loss {loss:.4f} test {acc:.4f} ({time.time() - t0:.0f} s)", flush=True)
    acc_torch = accuracy(net, data.x_test, data.y_test)
    model = GLRModel(cfg, net.state_numpy())
    acc_np = model.evaluate(data)
    save_trained(model, "glr_train", args, argv, (acc_torch, acc_np), t0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
