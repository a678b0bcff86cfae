"""Train a tiny convolutional SNN in snnTorch on the bundled 8x8 digits as spike rasters and export it to
NIR: the input of the snnTorch section of docs/byo.md. Documentation only; snnTorch is not a project
dependency. Environment used (as for tests/data/nir_acceptance/make_fixtures.py):

    python -m venv /tmp/i14io-venv --system-site-packages     # torch 2.13.0 CPU, nir 1.0.8 from the system
    /tmp/i14io-venv/bin/pip install --no-deps snntorch==1.0.0 "nirtorch<2"
    PYTHONPATH=$PWD /tmp/i14io-venv/bin/python workloads/examples/snntorch_conv_digits/train_snntorch.py

Data: the project's digits split (1437 train / 360 test, ``workloads.data.load_digits_sequence``), each
pixel intensity in [0, 1] rate-coded as Bernoulli spikes over T = 10 steps (``numpy`` generator, seed 0).
Network: Conv2d 1->8 (3x3, padding 1), Leaky, AvgPool2d 2, Flatten, Linear 128->10, Leaky (output spikes);
per-neuron beta / threshold tensors (snnTorch 1.0 with nir 1.0.8 rejects scalars on export). Loss: cross
entropy of the output spike counts; Adam, seeded. Writes beside this file:

- ``conv_snn.nir``: ``snntorch.export_nir.export_to_nir``;
- ``spikes_test.npz``: ``x`` (360, 10, 64) uint8 test rasters (N, T, D), ``y`` labels (docs/data.md);
- ``snntorch_result.json``: snnTorch's own test accuracy (argmax of output spike counts, first index on
  ties), total output spikes, versions.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
T = 10


def rasters(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, 8, 8) intensities in [0, 1] -> (N, T, 64) Bernoulli spikes."""
    flat = images.reshape(len(images), 1, -1)
    return (rng.random((len(images), T, flat.shape[2])) < flat).astype(np.uint8)


def main() -> None:
    import snntorch as snn
    from snntorch import surrogate, utils
    from snntorch.export_nir import export_to_nir

    from workloads.data import load_digits_sequence

    torch.manual_seed(0)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    d = load_digits_sequence("row")
    x_tr, x_te = rasters(d.x_train, rng), rasters(d.x_test, rng)

    def leaky(shape, beta, **kw):
        full = shape if isinstance(shape, tuple) else (shape,)
        return snn.Leaky(
            beta=torch.full(full, beta),
            threshold=torch.full(full, 1.0),
            spike_grad=surrogate.fast_sigmoid(),
            init_hidden=True,
            **kw,
        )

    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1),
        leaky((8, 8, 8), 0.8),
        torch.nn.AvgPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 4 * 4, 10),
        leaky(10, 0.9, output=True),
    )

    def counts(xb: np.ndarray) -> torch.Tensor:
        """Output spike counts (B, 10) of a batch of rasters (B, T, 64)."""
        utils.reset(net)
        xs = torch.as_tensor(xb, dtype=torch.float32).reshape(len(xb), T, 1, 8, 8)
        total = 0
        for t in range(T):
            total = total + net(xs[:, t])[0]
        return total

    opt = torch.optim.Adam(net.parameters(), lr=5e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(15):
        for idx in torch.randperm(len(x_tr), generator=gen).split(64):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(counts(x_tr[idx.numpy()]), torch.as_tensor(d.y_train[idx.numpy()]))
            loss.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        c = counts(x_te).numpy()
    acc = float(np.mean(c.argmax(axis=1) == d.y_test))
    graph = export_to_nir(net, torch.zeros(1, 1, 8, 8), ignore_dims=[0])
    import nir

    nir.write(str(HERE / "conv_snn.nir"), graph)
    np.savez_compressed(HERE / "spikes_test.npz", x=x_te, y=d.y_test.astype(np.int64))
    result = {
        "accuracy": acc,
        "n_test": len(d.y_test),
        "output_spikes": float(c.sum()),
        "versions": f"snntorch {snn.__version__}; nir {getattr(nir, '__version__', '')}; torch {torch.__version__}",
    }
    (HERE / "snntorch_result.json").write_text(json.dumps(result, indent=1) + "\n")
    print(result)


if __name__ == "__main__":
    main()
