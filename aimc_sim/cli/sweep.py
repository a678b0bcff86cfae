"""``aimc sweep SPEC``: run a parameter sweep (local process pool or Dask) into one HDF5 file."""

from __future__ import annotations

import argparse

COMMAND = "sweep"
HELP = "run a parameter sweep from a YAML spec into an HDF5 file (resumable; local pool or Dask)"


def add_execution_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``aimc sweep`` and ``aimc dse``."""
    parser.add_argument("-o", "--output", help="HDF5 result file (default: the spec's output)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count; 0 = inline)")
    parser.add_argument("--scheduler", help="Dask scheduler address tcp://host:port, or 'local' for a LocalCluster")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/numba threads per worker (default 1)")
    parser.add_argument("--flush-interval", type=float, default=10.0, help="seconds between HDF5 rewrites")
    parser.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", help="sweep spec YAML (base, axes, seeds, output)")
    add_execution_arguments(parser)
    parser.add_argument("--dry-run", action="store_true", help="validate and list the points; run nothing")


def run(args: argparse.Namespace) -> int:
    import os

    from aimc_sim.sweep import load_spec, run_sweep, validate_points

    spec = load_spec(args.spec)
    if args.dry_run:
        points = validate_points(spec, [os.getcwd()])
        print(f"{len(points)} points ({len(spec.seed_list)} seeds each), evaluator {spec.evaluator}")
        for p in points[:20]:
            desc = ", ".join(f"{k}={v}" for k, v in p.params.items())
            print(f"  {p.hash[:12]} seed={p.seed} {desc}")
        if len(points) > 20:
            print(f"  ... {len(points) - 20} more")
        return 0
    summary = run_sweep(
        spec,
        output=args.output,
        workers=args.workers,
        scheduler=args.scheduler,
        threads=args.threads,
        progress=not args.no_progress,
        flush_interval_s=args.flush_interval,
    )
    print(
        f"{summary.output}: {summary.n_points} points ({summary.n_skipped} already done, {summary.n_run} run) "
        f"in {summary.elapsed_s:.1f} s"
    )
    return 0
