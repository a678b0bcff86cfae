"""``aimc chip EXPERIMENT [-o DIR]``: run a TEXEL chip experiment and write its plot."""

from __future__ import annotations

import argparse
from pathlib import Path

COMMAND = "chip"
HELP = "run a TEXEL-style chip experiment (spec texel.md) and write its plot"
EXPERIMENTS = ("adaptation", "trace-gating", "stdp", "srdp", "retention", "read", "write-cycling", "energy", "vsa")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiment", choices=EXPERIMENTS + ("all",), help="which experiment")
    parser.add_argument("-o", "--out", default="chip_out", help="output directory (default: chip_out)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")


def run_experiment(name: str, out: Path, seed: int) -> Path:
    """Run one experiment, write its PNG into ``out`` and return the path."""
    import numpy as np

    from chip_models.texel import experiments as E
    from chip_models.texel import plots as P

    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"texel_{name.replace('-', '_')}.png"
    if name == "adaptation":
        return P.plot_adaptation(E.adaptation(rng), path)
    if name == "trace-gating":
        return P.plot_trace_gating(E.trace_gating(rng), path, blocked=E.trace_gating(rng, theta_ca_low=0.95))
    if name == "stdp":
        return P.plot_stdp(E.stdp(rng), E.stdp(rng, rho_neg=0.0), path)
    if name == "srdp":
        rates = {
            "rates_pre": (0.0, 25.0, 50.0, 75.0, 100.0),
            "rates_post": (0.0, 20.0, 50.0, 80.0, 120.0, 200.0, 300.0),
        }
        return P.plot_srdp([E.srdp(rng, **rates), E.srdp(rng, theta_ca_high=0.72, **rates)], path)
    if name == "retention":
        return P.plot_retention(E.retention(rng), path)
    if name == "read":
        return P.plot_read(E.read_sweep(), E.compatibility_map(), path)
    if name == "write-cycling":
        return P.plot_write_cycling(E.write_cycling(rng), path)
    if name == "energy":
        return P.plot_energy(E.energy(rng), path)
    return P.plot_vsa(E.vsa(rng), path)


def run(args: argparse.Namespace) -> int:
    names = EXPERIMENTS if args.experiment == "all" else (args.experiment,)
    for name in names:
        print(f"{name}: wrote {run_experiment(name, Path(args.out), args.seed)}")
    return 0
