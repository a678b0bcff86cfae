"""Run a sweep: check, expand and validate every point, skip finished ones, execute the rest, record each.

Order of a run (nothing is written before step 4):

1. the evaluator is looked up in the registry (:mod:`aimc_sim.sweep.evaluators`; arbitrary
   ``module:function`` only with ``allow_code``), the size is checked against :class:`SweepLimits`;
2. the points are expanded and the evaluator's ``validate_point(config)`` runs on each distinct config;
3. the output location and any existing result file are checked (same spec, or a grown one);
4. the store opens (journal + lock), the executor runs the pending points.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aimc_sim.errors import ConfigError
from aimc_sim.sweep.evaluators import Evaluator, resolve_entry
from aimc_sim.sweep.executors import Task, make_executor
from aimc_sim.sweep.provenance import provenance
from aimc_sim.sweep.spec import Point, SweepLimits, SweepSpec, canonical_json, expand_points
from aimc_sim.sweep.store import SweepStore, check_output

__all__ = ["SweepSummary", "run_sweep", "validate_points"]


@dataclass(frozen=True)
class SweepSummary:
    """What a run did: points in the spec, already finished before, run now; the output file."""

    output: Path
    n_points: int
    n_skipped: int
    n_run: int
    elapsed_s: float


def validate_points(
    spec: SweepSpec, *, allow_code: bool = False, limits: SweepLimits | None = None
) -> tuple[Evaluator, list[Point]]:
    """The checked evaluator and every point of ``spec``, each validated by the evaluator's
    ``validate_point(config)`` (once per distinct config). Raises ConfigError; writes nothing."""
    entry = resolve_entry(spec.evaluator, allow_code)  # before any import
    spec.check_limits(limits or SweepLimits())
    points = expand_points(spec)
    hook = entry.validator()
    if hook is not None:
        seen: set[str] = set()
        for point in points:
            key = canonical_json(point.config)
            if key in seen:
                continue
            seen.add(key)
            try:
                hook(point.config)
            except ConfigError as e:
                raise type(e)(f"point {point.index} ({_describe(point)}): {e.path}", e.message) from None
    return entry, points


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
    allow_code: bool = False,
    force_new: bool = False,
    limits: SweepLimits | None = None,
) -> SweepSummary:
    """Run every unfinished point of ``spec`` and write the HDF5 result file.

    ``workers`` local processes (default: CPU count; 0 runs in this process), or a Dask cluster
    when ``scheduler`` is ``tcp://host:port`` or ``local``. The evaluator (registered, or any
    ``module:function`` with ``allow_code``), the size (``limits``), every point (the evaluator's
    ``validate_point``), the output location and the scheduler are all checked before anything is
    written. An existing output must hold points of this spec (a grown spec extends it); with
    ``force_new`` it is replaced. The HDF5 file is rebuilt atomically every ``flush_interval_s``
    seconds and at the end; the journal makes each finished point durable at once. An ``executor``
    from :func:`~aimc_sim.sweep.executors.make_executor` may be passed to reuse its workers (and
    their cached models) across sweeps; it is then left open, and ``workers``, ``scheduler`` and
    ``threads`` are ignored.
    """
    from aimc_sim.progress import Progress

    t0 = time.perf_counter()
    if not isinstance(flush_interval_s, (int, float)) or not math.isfinite(flush_interval_s) or flush_interval_s < 0:
        raise ConfigError("flush_interval", f"must be a finite number of seconds >= 0, got {flush_interval_s!r}")
    entry, points = validate_points(spec, allow_code=allow_code, limits=limits)
    out = Path(output if output is not None else spec.output)
    order = list(dict.fromkeys(p.hash for p in points))
    unique = {p.hash: p for p in points}
    done = check_output(out, set(order), force_new)
    if done is not None and done >= set(order):  # complete: nothing to write (opens on a read-only disk too)
        return SweepSummary(out, len(order), len(order), 0, time.perf_counter() - t0)
    spec_dict = spec.to_dict()
    meta = provenance()
    owned = executor is None
    if owned:
        executor = make_executor(workers, scheduler, threads, connect_timeout_s)
    try:
        with SweepStore(out, force_new=force_new) as store:
            pending = [unique[h] for h in order if h not in store.records]
            foreign = set(store.records) - set(order)
            if foreign:  # a journal left by another spec
                raise ConfigError(
                    "output",
                    f"{store.journal} holds {len(foreign)} points of another spec; use another output or --force-new",
                )
            n_skipped = len(order) - len(pending)
            tasks = [Task(p.hash, p.config, p.rng_seed) for p in pending]
            bar = Progress(len(tasks), desc=f"sweep {out.name}", enabled=progress)
            last_flush = time.monotonic()
            for outcome in executor.run(entry.target, tasks, entry.paths):
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
                    store.write_hdf5(spec_dict, meta, order, complete=False)
                    last_flush = time.monotonic()
            bar.close()
            store.write_hdf5(spec_dict, meta, order, complete=True)
            store.finish()
    finally:
        if owned:
            executor.close()
    return SweepSummary(out, len(order), n_skipped, len(order) - n_skipped, time.perf_counter() - t0)
