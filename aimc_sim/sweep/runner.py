"""Run a sweep: expand, skip finished points, execute the rest, record each as it finishes."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aimc_sim.errors import ConfigError
from aimc_sim.sweep.executors import Task, make_executor, resolve_evaluator
from aimc_sim.sweep.spec import Point, SweepSpec, expand_points
from aimc_sim.sweep.store import SweepStore

__all__ = ["SweepSummary", "run_sweep", "validate_points"]


@dataclass(frozen=True)
class SweepSummary:
    """What a run did: points in the spec, already finished before, run now; the output file."""

    output: Path
    n_points: int
    n_skipped: int
    n_run: int
    elapsed_s: float


def validate_points(spec: SweepSpec, paths: list[str]) -> list[Point]:
    """Expand the spec and check the evaluator, plus its ``validate_point(config)`` hook if the module has one."""
    points = expand_points(spec)
    resolve_evaluator(spec.evaluator, paths)
    hook = getattr(sys.modules[spec.evaluator.partition(":")[0]], "validate_point", None)
    if callable(hook):
        for point in points:
            try:
                hook(point.config)
            except ConfigError as e:
                raise ConfigError(f"point {point.index} ({_describe(point)}): {e.path}", e.message) from None
    return points


def _describe(point: Point) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.params.items()) or "base"


def run_sweep(
    spec: SweepSpec,
    *,
    output: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    threads: int = 1,
    progress: bool = True,
    flush_interval_s: float = 10.0,
    connect_timeout_s: float = 10.0,
    executor: Any = None,
) -> SweepSummary:
    """Run every unfinished point of ``spec`` and write the HDF5 result file.

    ``workers`` local processes (default: CPU count; 0 runs in this process), or a Dask cluster
    when ``scheduler`` is ``tcp://host:port`` or ``local``. The evaluator, the axis names and the
    scheduler are all checked before anything is written. The HDF5 file is rebuilt atomically every
    ``flush_interval_s`` seconds and at the end; the journal makes each finished point durable at once.
    An ``executor`` from :func:`~aimc_sim.sweep.executors.make_executor` may be passed to reuse its
    workers (and their cached models) across sweeps; it is then left open, and ``workers``,
    ``scheduler`` and ``threads`` are ignored.
    """
    from aimc_sim import __version__
    from aimc_sim.progress import Progress

    t0 = time.perf_counter()
    paths = [os.getcwd()]
    points = validate_points(spec, paths)
    out = Path(output if output is not None else spec.output)
    if out.exists() and out.is_dir():
        raise ConfigError("output", f"{out} is a directory; give an HDF5 file name")
    order = list(dict.fromkeys(p.hash for p in points))
    unique = {p.hash: p for p in points}
    spec_dict = spec.to_dict()
    owned = executor is None
    if owned:
        executor = make_executor(workers, scheduler, threads, connect_timeout_s)
    try:
        store = SweepStore(out).open()
        try:
            pending = [unique[h] for h in order if h not in store.records]
            n_skipped = len(order) - len(pending)
            tasks = [Task(p.hash, p.config, p.rng_seed) for p in pending]
            bar = Progress(len(tasks), desc=f"sweep {out.name}", enabled=progress)
            last_flush = time.monotonic()
            for outcome in executor.run(spec.evaluator, tasks, paths):
                p = unique[outcome.hash]
                store.add(
                    {
                        "hash": p.hash,
                        "seed": p.seed,
                        "rng_seed": p.rng_seed,
                        "wall_s": outcome.wall_s,
                        "config": p.config,
                        "params": p.params,
                        "metrics": outcome.metrics,
                    }
                )
                bar.update()
                if time.monotonic() - last_flush > flush_interval_s:
                    store.write_hdf5(spec_dict, __version__, order, complete=False)
                    last_flush = time.monotonic()
            bar.close()
            store.write_hdf5(spec_dict, __version__, order, complete=True)
            store.finish()
        finally:
            store.close()
    finally:
        if owned:
            executor.close()
    return SweepSummary(out, len(order), n_skipped, len(order) - n_skipped, time.perf_counter() - t0)
