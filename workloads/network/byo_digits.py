"""Bring your own network: a torch CNN trained on the bundled 8x8 digits, converted, then run on PCM and RRAM
tiles from 1 s to 1 year after programming (``docs/byo.md``).

    python -m workloads.network.byo_digits -o aimc-out/byo [--epochs 20] [--seeds 3]

Steps: train the CNN in torch (seeded, CPU, about a minute or less); convert it with
``workloads.from_torch`` and, to show the file route too, export it to ONNX and read it back with
``workloads.load``; check both against torch; evaluate the ONNX network on the 360 test digits for each
tile preset, read time and seed, and as a digital FP32 / INT8 baseline (``backend: float``). Writes
``DIR/cnn.onnx``, ``DIR/byo_digits.csv`` (one row per preset, time and seed, and per baseline) and
``DIR/byo_digits.md`` (mean and standard deviation over seeds), and prints the table.
"""

from __future__ import annotations

import argparse
import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TIMES = {"1 s": 1.0, "1 min": 60.0, "1 h": 3600.0, "1 day": 86400.0, "1 month": 2.63e6, "1 year": 3.156e7}
PRESETS = ("pcm-default", "rram-default")


@dataclass(frozen=True)
class Images:
    """Digits as images (n, 1, 8, 8) with labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def digits() -> Images:
    """The bundled scikit-learn digits with the project's fixed split (1437 train / 360 test)."""
    from workloads.data import load_digits_sequence

    d = load_digits_sequence("row")
    return Images(d.x_train[:, None], d.y_train, d.x_test[:, None], d.y_test)


def train_cnn(data: Images, epochs: int, seed: int = 0):
    """A small CNN (Conv-BN-ReLU-Pool x 2, Linear) trained with Adam on the training digits."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    torch.set_num_threads(1)  # small batches: one thread is fastest, and deterministic
    gen = torch.Generator().manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(32 * 2 * 2, 10),
    )
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(x), generator=gen).split(64):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    return model.eval()


def main(argv: list[str] | None = None) -> None:
    import torch

    import workloads

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", "--out", required=True, type=Path, help="output directory")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seeds", type=int, default=3, help="hardware seeds (programming and read noise) per point")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    data = digits()

    t0 = time.perf_counter()
    model = train_cnn(data, args.epochs)
    t_train = time.perf_counter() - t0
    with torch.no_grad():
        torch_acc = float((model(torch.from_numpy(data.x_test)).argmax(1).numpy() == data.y_test).mean())
        ref = model(torch.from_numpy(data.x_test)).numpy()
    net = workloads.from_torch(model, torch.from_numpy(data.x_test[:1]))
    onnx_path = args.out / "cnn.onnx"
    torch.onnx.export(model, (torch.from_numpy(data.x_test[:1]),), str(onnx_path), dynamo=False, opset_version=17)
    net_onnx = workloads.load(onnx_path)
    for label, n in (("from_torch", net), ("ONNX", net_onnx)):
        err = float(np.abs(n.forward(data.x_test) - ref).max() / np.abs(ref).max())
        print(f"{label}: {len(n.nodes)} layers, {n.n_weights()} weights; max relative deviation from torch {err:.1e}")
    print(f"trained {args.epochs} epochs in {t_train:.1f} s; torch test accuracy {torch_acc:.4f} on {len(data.y_test)}")

    rows, parts = [], {}
    for preset in PRESETS:
        for label, t in TIMES.items():
            for seed in range(args.seeds):
                r = net_onnx.on({"tile": preset, "t": t}).evaluate(data, seed=seed)
                if t == TIMES["1 s"] and seed == 0:
                    parts[preset] = r
                rows.append(
                    {
                        "tile": preset,
                        "time": label,
                        "t_s": t,
                        "seed": seed,
                        "accuracy": r.accuracy,
                        "energy_nj": r.energy_j * 1e9,
                        "latency_us": r.latency_s * 1e6,
                        "n_tiles": r.n_tiles,
                        "area_mm2": r.area_mm2,
                    }
                )
    for digital in ("fp32", "int8"):  # the same network as a digital baseline (no drift: one row each)
        r = net_onnx.on({"backend": "float", "digital": digital}).evaluate(data)
        parts[f"digital {digital}"] = r
        rows.append(
            {
                "tile": f"digital {digital}",
                "time": "-",
                "t_s": 0.0,
                "seed": 0,
                "accuracy": r.accuracy,
                "energy_nj": r.energy_j * 1e9,
                "latency_us": r.latency_s * 1e6,
                "n_tiles": 0,
                "area_mm2": r.area_mm2,
            }
        )
    with open(args.out / "byo_digits.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    table = _table(rows, torch_acc) + "\n\n" + _breakdown(parts)
    (args.out / "byo_digits.md").write_text(table + "\n")
    print(table)


def _table(rows: list[dict], torch_acc: float) -> str:
    lines = [
        f"float (torch) accuracy: {torch_acc * 100:.2f} %",
        "",
        "| tile | time after programming | accuracy (%) mean ± std | energy / image (nJ) | latency / image (µs) |",
        "|---|---|---|---|---|",
    ]
    points = dict.fromkeys((r["tile"], r["time"]) for r in rows)  # in run order: tiles by time, then baselines
    for preset, label in points:
        sel = [r for r in rows if r["tile"] == preset and r["time"] == label]
        acc = np.array([r["accuracy"] for r in sel]) * 100
        e = np.mean([r["energy_nj"] for r in sel])
        lat = np.mean([r["latency_us"] for r in sel])
        lines.append(f"| {preset} | {label} | {acc.mean():.2f} ± {acc.std():.2f} | {e:.2f} | {lat:.2f} |")
    return "\n".join(lines)


def _breakdown(parts: dict) -> str:
    comps = sorted({c for r in parts.values() for c in r.energy_per_component_j})
    lines = [
        "energy per image by component (nJ; tiles at 1 s, seed 0), tiles used and their area (cost model):",
        "",
        "| tile | " + " | ".join(comps) + " | total | tiles | area (mm²) |",
        "|---|" + "---|" * (len(comps) + 3),
    ]
    for preset, r in parts.items():
        cells = " | ".join(f"{r.energy_per_component_j.get(c, 0.0) * 1e9:.2f}" for c in comps)
        lines.append(f"| {preset} | {cells} | {r.energy_j * 1e9:.2f} | {r.n_tiles} | {r.area_mm2:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
