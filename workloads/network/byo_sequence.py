"""Bring your own network, the sequence-layer walkthrough of ``docs/byo.md``: a torch model holding the project's
S4D stack (:class:`workloads.training.s4d_torch.TorchS4D`), converted with ``workloads.from_torch`` and evaluated
on ``pcm-default``. Every number of that section:

    python -m workloads.network.byo_sequence -o aimc-out/byo-seq [--seeds 3] [--n-test 360]

The torch model is a ``TorchS4D`` loaded with the weights of the shipped ``s4d_digits_float`` (trained by the
project's torch trainer) followed by ``nn.LogSoftmax``. The script converts it, compares the float outputs with
torch on the test digits as pixel sequences (N, 64, 1), then evaluates the network on ``pcm-default`` at each read
time, with the SSM recurrence on the tiles (``s4d: {recurrence: analog}``) and in digital logic, over ``--seeds``
hardware seeds. For seed 0 it also runs the S4D workload itself (``S4DModel.on(...)``) on the same tile. The
network's S4D blocks use that workload's mapping, so the two agree.

Second part: the conv SNN trained and exported by snnTorch (``workloads/examples/snntorch_conv_digits``) is read
with ``workloads.load(..., convention="snntorch")`` and hosted in a general network with
``workloads.network.from_snn``: Linear and LIF layers. Its float accuracy is compared with snnTorch's own, then
it runs on ``pcm-default`` at each read time beside the SNN workload (``SNNModel.on(...)``), whose arrays take
1-bit spike DACs and whose LIF neurons are analog circuits. Writes ``DIR/byo_sequence.md``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

TIMES = {"1 s": 1.0, "1 day": 86400.0, "1 year": 3.156e7}
SNN_DIR = Path(__file__).resolve().parents[2] / "workloads" / "examples" / "snntorch_conv_digits"


def torch_model():
    """The user's torch model: the shipped float S4D as a ``TorchS4D``, then log-softmax."""
    import torch
    from torch import nn

    import workloads
    from workloads.training.s4d_torch import TorchS4D

    s4d = workloads.load("s4d_digits_float")
    core = TorchS4D(s4d.config, np.random.default_rng(0))
    with torch.no_grad():
        for name, value in s4d.weights.items():
            core.p(name).copy_(torch.as_tensor(np.asarray(value, np.float32)))
    return nn.Sequential(core, nn.LogSoftmax(dim=-1)).eval(), s4d


def run(out: Path, seeds: int, n_test: int, times: dict[str, float]) -> str:
    import torch

    import workloads
    from workloads.data import load_dataset

    data = load_dataset("digits_pixel")
    model, s4d = torch_model()
    x = data.x_test[:n_test]
    net = workloads.from_torch(model, torch.as_tensor(x[:1]))
    with torch.no_grad():
        ref = model(torch.as_tensor(x)).numpy()
    mine = net.forward(x)
    dev = float(np.abs(mine - ref).max() / np.abs(ref).max())
    lines = [
        f"from_torch: {len(net.nodes)} layers ({', '.join(n.op.kind for n in net.nodes)}), {net.n_weights()} weights "
        f"on arrays; max relative deviation from torch {dev:.1e}",
        f"float accuracy on {len(x)} test digits: torch {np.mean(ref.argmax(1) == data.y_test[:n_test]):.2%}, "
        f"network {np.mean(mine.argmax(1) == data.y_test[:n_test]):.2%}",
    ]
    header = "| recurrence | time after programming | accuracy (%) mean ± std over seeds | energy / sample (nJ) "
    header += "| latency / sample (µs) | seed 0: network / S4D workload accuracy (%) | seed 0: energy (nJ) |"
    rows = [header, "|---|---|---|---|---|---|---|"]
    for recurrence in ("analog", "digital"):
        for label, t in times.items():
            hw = {"tile": "pcm-default", "t": t, "batch": 512, "s4d": {"recurrence": recurrence}}
            res = [net.on(hw).evaluate(data, n_test=n_test, seed=s) for s in range(seeds)]
            acc = np.array([r.accuracy for r in res]) * 100
            ref_res = s4d.on({"tile": "pcm-default", "t": t, "recurrence": recurrence}).evaluate(data, n_test, seed=0)
            rows.append(
                f"| {recurrence} | {label} | {acc.mean():.2f} ± {acc.std():.2f} "
                f"| {np.mean([r.energy_j for r in res]) * 1e9:.1f} | {np.mean([r.latency_s for r in res]) * 1e6:.2f} "
                f"| {acc[0]:.2f} / {ref_res.accuracy * 100:.2f} | {res[0].energy_j * 1e9:.1f} / "
                f"{ref_res.energy_j * 1e9:.1f} |"
            )
            print(rows[-1], flush=True)
    text = "\n".join(["```", *lines, "```", "", *rows, "", *spiking(seeds, n_test, times)]) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "byo_sequence.md").write_text(text)
    return text


def spiking(seeds: int, n_test: int, times: dict[str, float]) -> list[str]:
    """The snnTorch conv SNN as a general network (Linear + LIF layers) beside the SNN workload on pcm-default
    (float accuracy on all test rasters, hardware on the first ``n_test``)."""
    import workloads
    from workloads.network import from_snn

    model = workloads.load(SNN_DIR / "conv_snn.nir", convention="snntorch")
    data = np.load(SNN_DIR / "spikes_test.npz")
    x, y = data["x"].astype(np.float32), data["y"]
    net = from_snn(model, x.shape[1])
    ref = json.loads((SNN_DIR / "snntorch_result.json").read_text())
    lines = [
        "```",
        f"from_snn: {len(net.nodes)} layers ({', '.join(n.op.kind for n in net.nodes)}), {net.n_weights()} weights",
        f"float accuracy on {len(y)} test rasters: network {np.mean(net.forward(x).argmax(1) == y):.2%}, "
        f"snnTorch {ref['accuracy']:.2%}",
        "```",
        "",
        "| time after programming | network: accuracy (%) mean ± std | energy / sample (nJ) | SNN workload: accuracy "
        "(%) mean ± std | energy / sample (nJ) |",
        "|---|---|---|---|---|",
    ]
    for label, t in times.items():
        hw = {"tile": "pcm-default", "t": t}
        mine = [net.on(hw).evaluate((x[:n_test], y[:n_test]), seed=s) for s in range(seeds)]
        theirs = [model.on(hw).evaluate((x[:n_test].transpose(1, 0, 2), y[:n_test]), seed=s) for s in range(seeds)]
        cells = [label]
        for res in (mine, theirs):
            acc = np.array([r.accuracy for r in res]) * 100
            cells += [f"{acc.mean():.2f} ± {acc.std():.2f}", f"{np.mean([r.energy_j for r in res]) * 1e9:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    return lines


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", "--output", required=True, type=Path, help="output folder")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--n-test", type=int, default=360)
    args = p.parse_args(argv)
    print(run(args.output, args.seeds, args.n_test, TIMES))


if __name__ == "__main__":
    main()
