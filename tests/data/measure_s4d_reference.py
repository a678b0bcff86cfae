"""Measure how closely a state-spaces reference S4D checkpoint (.pt and .safetensors) loaded by S4DModel
matches the torch module (docs/checkpoints.md). Run from the repository root:
``PYTHONPATH=$PWD python tests/data/measure_s4d_reference.py``. Not collected by pytest."""

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import test_s4d_reference_checkpoint as ref  # noqa: E402

from workloads.s4d.model import S4DModel  # noqa: E402

torch.manual_seed(0)  # nn.Linear / nn.Conv1d initialisation draws from the global generator
g = torch.Generator().manual_seed(0)
model = ref.RefS4Model(3, 5, 16, 2, 8, g).eval()
x = torch.randn(6, 40, 3, generator=g)
with torch.no_grad():
    r32 = model(x).numpy()
    r64 = model.double()(x.double()).numpy()
folder = Path(tempfile.mkdtemp())
for kind, suffix in (("pt", ".pt"), ("st", ".safetensors")):
    ref._save(model.float(), folder / f"r{suffix}", kind)
    ours = S4DModel.load(folder / f"r{suffix}")
    e32 = np.abs(ours.forward(x.numpy()) - r32).max() / np.abs(r32).max()
    e64 = np.abs(ours.forward(x.double().numpy()) - r64).max() / np.abs(r64).max()
    print(f"{suffix}: max relative error float32 {e32:.2e}, float64 {e64:.2e}")

real = Path(__file__).resolve().parent / "s4d_reference"  # written by the state-spaces code (make_fixture.py)
d = np.load(real / "s4d_reference.npz")
for suffix in (".pt", ".safetensors"):
    ours = S4DModel.load(real / f"s4d_reference{suffix}")
    e32 = np.abs(ours.forward(d["x"]) - d["logits32"]).max() / np.abs(d["logits32"]).max()
    e64 = np.abs(ours.forward(d["x"].astype(np.float64)) - d["logits64"]).max() / np.abs(d["logits64"]).max()
    acc = np.mean(ours.forward(d["x"]).argmax(1) == d["y"])
    print(f"reference-code {suffix}: max relative error float32 {e32:.2e}, float64 {e64:.2e}, accuracy {acc:.3f}")
