"""``aimc plot RESULTS.h5``: curves of a metric against a swept parameter, with confidence bands over seeds."""

from __future__ import annotations

import argparse

COMMAND = "plot"
HELP = "plot a metric vs a swept parameter (e.g. accuracy vs noise) with error bands from a sweep's HDF5 file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", help="sweep result file (.h5)")
    parser.add_argument("--x", help="swept parameter on the x axis (default: the numeric one with most values)")
    parser.add_argument("--y", default="accuracy", help="result column on the y axis (default accuracy)")
    parser.add_argument("--by", action="append", help="parameter that separates curves (repeatable)")
    parser.add_argument("--panel", help="parameter that splits the figure into side-by-side panels")
    parser.add_argument("-o", "--output", help="PNG file (default: <results>_<y>.png)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from aimc_sim.report.curves import plot_results
    from aimc_sim.sweep import load_results

    results = Path(args.results)
    out = Path(args.output) if args.output else results.with_name(f"{results.stem}_{args.y}.png")
    path = plot_results(load_results(results), out, x=args.x, y=args.y, by=args.by, panel=args.panel)
    print(f"wrote {path}")
    return 0
