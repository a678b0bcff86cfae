"""Generate the reference-S4D checkpoint fixture with the state-spaces code itself. Documentation only;
not run in CI (tests/test_s4d_reference_checkpoint.py reads the files).

The reference code is not vendored: point S4_REPO at a checkout of https://github.com/state-spaces/s4
(used: commit e757cef) and run, in an environment with torch 2.13.0 CPU, einops and safetensors:

    S4_REPO=/path/to/s4 python tests/data/s4d_reference/make_fixture.py

It imports ``models/s4/s4d.py`` (``S4D``, ``S4DKernel``) from the checkout and takes the ``S4Model`` class
from ``example.py`` (its class body only: the script around it parses arguments and downloads CIFAR), trains
it for 300 Adam steps on scikit-learn's 8x8 digits as pixel sequences (L = 64, d_input = 1), and writes

- ``s4d_reference.pt``: ``torch.save(model.state_dict())``;
- ``s4d_reference.safetensors``: the same tensors with ``safetensors.torch.save_file``;
- ``s4d_reference.npz``: ``x`` (32 test digits, float32 (32, 64, 1)), ``y`` labels, ``logits32`` and
  ``logits64`` (the reference model's outputs in float32 and float64), ``commit``.
"""

from __future__ import annotations

import ast
import os
import sys
from argparse import Namespace
from pathlib import Path

import numpy as np
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
REPO = Path(os.environ["S4_REPO"])
sys.path.insert(0, str(REPO))

from models.s4.s4d import S4D  # noqa: E402


def reference_s4model() -> type:
    """The ``S4Model`` class of the reference ``example.py``, defined without running the script."""
    tree = ast.parse((REPO / "example.py").read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "S4Model")
    scope = {"nn": nn, "torch": torch, "S4D": S4D, "args": Namespace(lr=0.01), "dropout_fn": nn.Dropout1d}
    exec(compile(ast.Module([cls], []), "example.py", "exec"), scope)  # noqa: S102
    return scope["S4Model"]


def main() -> None:
    from safetensors.torch import save_file
    from sklearn.datasets import load_digits

    torch.manual_seed(0)
    d = load_digits()
    x = torch.tensor(d.images.reshape(-1, 64, 1) / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target)
    model = reference_s4model()(d_input=1, d_output=10, d_model=16, n_layers=2, dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    g = torch.Generator().manual_seed(0)
    for _ in range(300):
        idx = torch.randint(0, 1400, (64,), generator=g)
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    xt, yt = x[1500:1532], y[1500:1532]
    with torch.no_grad():
        logits32 = model(xt).numpy()
        sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
        logits64 = model.double()(xt.double()).numpy()
    torch.save(sd, HERE / "s4d_reference.pt")
    save_file(sd, str(HERE / "s4d_reference.safetensors"))
    np.savez(
        HERE / "s4d_reference.npz", x=xt.numpy(), y=yt.numpy(), logits32=logits32, logits64=logits64, commit="e757cef"
    )
    print(f"loss {loss.item():.3f}, accuracy on the 32 fixture digits {(logits32.argmax(1) == yt.numpy()).mean():.3f}")


if __name__ == "__main__":
    main()
