"""``aimc chip EXPERIMENT [-o DIR]``: run a TEXEL chip experiment, write its figure and table, print its headline."""

from __future__ import annotations

import argparse
from pathlib import Path

COMMAND = "chip"
HELP = "run a TEXEL-style chip experiment (docs/texel.md): figure, table and key=value headline numbers"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiment", help="experiment name (see `aimc chip list`), or all")
    parser.add_argument("-o", "--output", default="aimc-out/chip", help="output directory (default aimc-out/chip)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")


def run(args: argparse.Namespace) -> int:
    from aimc_sim.errors import ConfigError
    from chip_models.texel.catalog import EXPERIMENTS
    from chip_models.texel.catalog import run as run_experiment

    if args.experiment == "list":
        for name, exp in EXPERIMENTS.items():
            print(f"{name:16s} {exp.help}")
        return 0
    if args.experiment != "all" and args.experiment not in EXPERIMENTS:
        allowed = ", ".join(EXPERIMENTS)
        raise ConfigError("experiment", f"must be one of {allowed}, all or list; got {args.experiment!r}")
    names = list(EXPERIMENTS) if args.experiment == "all" else [args.experiment]
    for name in names:
        outcome = run_experiment(name, Path(args.output), args.seed)
        print(f"{name}: wrote {outcome.figure} and {outcome.table}")
        for key, value in outcome.headline.items():
            print(f"{key}={value:.6g}" if isinstance(value, float) else f"{key}={value}")
    return 0
