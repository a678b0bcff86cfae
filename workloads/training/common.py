"""Shared by the S4D and GLR training scripts: the data set and the model fields it fixes, loading a starting
checkpoint, one training epoch and writing the trained checkpoint."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import torch

from workloads.data import load_dataset


def start(args: argparse.Namespace, **dataset_options: Any) -> Any:
    """Set torch's threads and seed from ``args`` and load ``args.dataset`` (the fixed split, seed 0)."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    return load_dataset(args.dataset, seed=0, **dataset_options)


def data_fields(data: Any) -> dict[str, Any]:
    """The model config fields that the data set fixes: input width, classes, pooling (none for per-step labels)."""
    return {"d_in": data.d_in, "n_classes": data.n_classes, "pool": "none" if data.per_step else "mean"}


def copy_weights(net: Any, weights: dict[str, Any]) -> None:
    """Copy checkpoint tensors (by checkpoint name) into the training twin ``net`` (``net.p(name)``)."""
    with torch.no_grad():
        for k, v in weights.items():
            net.p(k).copy_(torch.as_tensor(v, dtype=net.p(k).dtype))


def train_epoch(
    net: Any, xt: torch.Tensor, yt: torch.Tensor, batch: int, opt: Any, sched: Any, clip: float = 0.0
) -> float:
    """One pass over (xt, yt) in random mini-batches with cross-entropy (per-step labels -1 ignored); a batch
    whose loss is not finite (a noise draw made a recurrence unstable) is skipped. Returns the mean loss."""
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-1)
    perm = torch.randperm(len(yt))
    total = 0.0
    for j in range(0, len(yt), batch):
        idx = perm[j : j + batch]
        logits = net(xt[idx])
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), yt[idx].reshape(-1))
        opt.zero_grad()
        if not torch.isfinite(loss):
            continue
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        opt.step()
        sched.step()
        total += loss.item() * len(idx)
    return total / len(yt)


def save_trained(
    model: Any, script: str, args: argparse.Namespace, argv: list[str] | None, accs: tuple[float, float], t0: float
) -> None:
    """Write ``model`` to ``args.out`` with the training record (command line of ``script``, its arguments, the
    (torch, numpy) test accuracies, the training time) in the metadata, and print the accuracies."""
    training = {
        "command": f"python -m workloads.training.{script} " + " ".join(sys.argv[1:] if argv is None else argv),
        "args": dict(vars(args)),
        "dataset": str(args.dataset),
        "test_accuracy_torch": accs[0],
        "test_accuracy_numpy": accs[1],
        "train_time_s": time.time() - t0,
    }
    model.save(args.out, training=training)
    print(f"test accuracy torch={accs[0]:.4f} numpy={accs[1]:.4f} -> {args.out}")
