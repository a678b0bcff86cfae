"""``aimc export RESULTS.h5 -o FILE.csv``: a sweep's results as CSV or Parquet, one row per point and seed."""

from __future__ import annotations

import argparse

COMMAND = "export"
HELP = "write a sweep's HDF5 results as CSV or Parquet (one row per point and seed) for pandas, R or a spreadsheet"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", help="sweep result file (.h5)")
    parser.add_argument("-o", "--output", help="output file, .csv or .parquet (default: <results>.csv)")
    parser.add_argument("--config", action="store_true", help="add each point's resolved config as a JSON column")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from aimc_sim.sweep import load_results
    from aimc_sim.sweep.export import export_results

    results = Path(args.results)
    output = Path(args.output) if args.output else results.with_suffix(".csv")
    table = load_results(results)
    path = export_results(table, output, config=args.config)
    print(f"wrote {path}: {len(table)} rows (points x seeds), {len(table.params)} swept parameters")
    return 0
