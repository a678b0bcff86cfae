"""``aimc train-tile [-o DIR]``: in-memory training of a tile with pulsed updates vs floating-point SGD."""

from __future__ import annotations

import argparse
from pathlib import Path

COMMAND = "train-tile"
HELP = "train a tile in memory by stochastic pulse coincidence on pulsed device presets (digits, vs float SGD)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", default="aimc-out/train-tile", help="output directory")
    parser.add_argument("--devices", default="ecram,rram", help="comma-separated pulsed presets (default ecram,rram)")
    parser.add_argument("--epochs", type=int, default=3, help="passes over the training set (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def run(args: argparse.Namespace) -> int:
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from aimc_sim.tile_training import train

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    runs = {"float SGD": train(None, args.seed, args.epochs)}
    for dev in [d.strip() for d in args.devices.split(",") if d.strip()]:
        runs[dev] = train(dev, args.seed, args.epochs)
    fig, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
    for name, r in runs.items():
        ax.plot(range(1, args.epochs + 1), r["accuracy"], "o-", label=f"{name} ({r['pulses']:,} pulses)")
    ax.set(xlabel="epoch", ylabel="test accuracy", title="digits, one-layer tile: in-memory pulsed SGD vs float SGD")
    ax.legend(fontsize=8)
    fig.savefig(out / "train_tile.png", dpi=110)
    plt.close(fig)
    with open(out / "train_tile.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["training", "epoch", "accuracy", "write_pulses", "write_energy_J"])
        for name, r in runs.items():
            for e, a in enumerate(r["accuracy"], 1):
                w.writerow([name, e, a, r["pulses"], r["write_energy"]])
    print(f"train-tile: wrote {out / 'train_tile.png'} and {out / 'train_tile.csv'}")
    print(f"accuracy_float={runs['float SGD']['accuracy'][-1]:.4g}")
    for name, r in runs.items():
        if name != "float SGD":
            print(f"accuracy_{name}={r['accuracy'][-1]:.4g}")
            print(f"write_pulses_{name}={r['pulses']}")
            print(f"write_energy_J_{name}={r['write_energy']:.4g}")
    return 0
