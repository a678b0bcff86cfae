"""``aimc sweep SPEC``: run a parameter sweep (local process pool or Dask) into one HDF5 file."""

from __future__ import annotations

import argparse
from typing import Any

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
    parser.add_argument(
        "--allow-code",
        action="store_true",
        help="let the spec name any evaluator 'module:function' (imported from the working directory): "
        "a spec is then code, run it only if you trust it (default: registered evaluators only)",
    )
    parser.add_argument(
        "--force-new", action="store_true", help="replace an existing output written by a different spec"
    )
    parser.add_argument("--max-points", type=int, default=100_000, help="refuse larger sweeps (default 100000)")
    parser.add_argument("--max-seeds", type=int, default=10_000, help="refuse more replicate seeds (default 10000)")


def execution_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of :func:`aimc_sim.sweep.run_sweep` given by the shared options."""
    from aimc_sim.sweep.spec import SweepLimits

    return {
        "output": args.output,
        "workers": args.workers,
        "scheduler": args.scheduler,
        "threads": args.threads,
        "progress": not args.no_progress,
        "flush_interval_s": args.flush_interval,
        "allow_code": args.allow_code,
        "force_new": args.force_new,
        "limits": SweepLimits(max_points=args.max_points, max_seeds=args.max_seeds),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", help="sweep spec YAML (base, axes, seeds, output)")
    add_execution_arguments(parser)
    parser.add_argument("--dry-run", action="store_true", help="validate and list the points; run nothing")


def run(args: argparse.Namespace) -> int:
    from aimc_sim.sweep import load_spec, run_sweep, validate_points

    spec = load_spec(args.spec)
    options = execution_options(args)
    if args.dry_run:
        entry, points = validate_points(spec, allow_code=args.allow_code, limits=options["limits"])
        print(f"{len(points)} points ({spec.n_seeds} seeds each), evaluator {entry.target} ({entry.origin})")
        for p in points[:20]:
            desc = ", ".join(f"{k}={v}" for k, v in p.params.items())
            print(f"  {p.hash[:12]} seed={p.seed} {desc}")
        if len(points) > 20:
            print(f"  ... {len(points) - 20} more")
        return 0
    summary = run_sweep(spec, **options)
    print(
        f"{summary.output}: {summary.n_points} points ({summary.n_skipped} already done, {summary.n_run} run) "
        f"in {summary.elapsed_s:.1f} s"
    )
    return 0
