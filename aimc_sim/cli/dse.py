"""``aimc dse SPEC``: sweep chip parameters and report the Pareto front (accuracy, energy, latency, area)."""

from __future__ import annotations

import argparse

COMMAND = "dse"
HELP = "design-space exploration: run a chip-parameter sweep and plot its Pareto front"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from aimc_sim.cli.sweep import add_execution_arguments

    parser.add_argument("spec", help="sweep spec YAML, or an existing results .h5 to analyse only")
    add_execution_arguments(parser)
    parser.add_argument(
        "--objectives",
        help="comma list NAME:max|min, NAME|ALT:... takes the first present (default accuracy:max,energy_j:min,"
        "latency_s:min,area_m2|area_mm2:min, "
        "skipping columns the results lack)",
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from aimc_sim.cli.sweep import execution_options
    from aimc_sim.sweep import load_results, load_spec, run_sweep
    from aimc_sim.sweep.dse import analyze_dse

    if Path(args.spec).suffix in (".h5", ".hdf5"):
        output = Path(args.spec)
    else:
        spec = load_spec(args.spec)
        summary = run_sweep(spec, **execution_options(args))
        output = summary.output
        print(f"{output}: {summary.n_points} points ({summary.n_skipped} already done, {summary.n_run} run)")
    dse = analyze_dse(load_results(output), output.with_suffix(""), args.objectives)
    print(
        f"{len(dse.groups)} design points, {int(dse.on_front.sum())} on the Pareto front of "
        f"{', '.join(map(str, dse.objectives))}"
    )
    for f in dse.files:
        print(f"  wrote {f}")
    return 0
