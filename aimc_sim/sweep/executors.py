"""Where sweep points run: in-process, a local process pool, or a Dask cluster.

All executors call the same task function, :func:`evaluate_point`, with the point's config and
its derived rng seed, and pin BLAS and numba to ``threads`` threads per worker, so a point's
numbers do not depend on the executor or the worker count.
"""

from __future__ import annotations

import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import numpy as np

from aimc_sim.errors import ConfigError, SimulationError
from aimc_sim.sweep.evaluators import import_function

__all__ = ["Task", "Outcome", "evaluate_point", "flatten_result", "make_executor"]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_RESERVED = ("hash", "seed", "rng_seed", "wall_s", "config")


@dataclass(frozen=True)
class Task:
    """One unit of work: a point's hash, resolved config and derived rng seed."""

    hash: str
    config: dict[str, Any]
    rng_seed: int


@dataclass(frozen=True)
class Outcome:
    """A finished task: its flat metrics and the wall time of the evaluator call."""

    hash: str
    metrics: dict[str, Any]
    wall_s: float


def flatten_result(result: Any) -> dict[str, Any]:
    """The evaluator's result as a flat dict of scalars (``to_flat_dict()`` or a plain mapping)."""
    if hasattr(result, "to_flat_dict"):
        result = result.to_flat_dict()
    if not isinstance(result, Mapping):
        kind = type(result).__name__
        raise SimulationError(f"evaluator returned {kind}; expected a dict or an object with to_flat_dict()")
    out: dict[str, Any] = {}
    for key, value in result.items():
        if not isinstance(key, str) or key in _RESERVED or key.startswith("param/"):
            raise SimulationError(f"evaluator result key {key!r} is not allowed (reserved or not a string)")
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and math.isnan(value):
            value = None
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise SimulationError(f"evaluator result {key!r} must be a scalar, got {type(value).__name__}")
        out[key] = value
    return out


def _exit_with_parent(parent: int, interval_s: float = 0.5) -> None:
    """Start a daemon thread that ends this worker process as soon as ``parent`` is gone (e.g. SIGKILLed):
    a pool worker must not keep computing for a sweep nobody collects."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        os._exit(1)

    threading.Thread(target=watch, name="aimc-exit-with-parent", daemon=True).start()


def _init_worker(threads: int, parent: int) -> None:
    """Pool worker initialiser: exit with the parent, pin the threads."""
    _exit_with_parent(parent)
    _limit_threads(threads)


def _limit_threads(threads: int) -> None:
    """Pin BLAS/OpenMP, numba and the crossbar tile pool to ``threads`` threads in this (worker) process.

    NUMBA_NUM_THREADS is only set before numba is imported: numba refuses a changed value once its
    thread pool exists; afterwards :func:`numba.set_num_threads` limits the threads in use.
    """
    for var in _THREAD_VARS:
        os.environ[var] = str(threads)
    if "numba" not in sys.modules:
        os.environ["NUMBA_NUM_THREADS"] = str(threads)
    from threadpoolctl import threadpool_limits

    from aimc_sim.crossbar.threads import set_tile_threads

    threadpool_limits(threads)
    set_tile_threads(threads)
    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def evaluate_point(evaluator: str, task: Task, paths: Sequence[str] = ()) -> Outcome:
    """Run one point (in whatever process): call ``evaluator(config, rng_seed)`` and flatten the result.

    ``evaluator`` is the ``module:function`` target of an entry the runner has already checked
    (:func:`aimc_sim.sweep.evaluators.resolve_entry`)."""
    func = import_function(evaluator, paths)
    t0 = time.perf_counter()
    result = func(task.config, task.rng_seed)
    return Outcome(task.hash, flatten_result(result), time.perf_counter() - t0)


class _Closing:
    """``with make_executor(...) as ex:`` closes the executor at the end of the block."""

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()  # type: ignore[attr-defined]


class InlineExecutor(_Closing):
    """Runs points one after another in this process (``workers=0``), with BLAS and numba pinned to
    ``threads`` threads while they run (restored afterwards)."""

    def __init__(self, threads: int = 1):
        self.threads = threads

    def run(self, evaluator: str, tasks: Sequence[Task], paths: Sequence[str]) -> Iterator[Outcome]:
        from threadpoolctl import threadpool_limits

        from aimc_sim.crossbar.threads import set_tile_threads, tile_threads

        before = None  # numba's thread count before the first point, restored at the end
        tiles_before = tile_threads()
        try:
            set_tile_threads(self.threads)
            with threadpool_limits(self.threads):
                for task in tasks:
                    numba = sys.modules.get("numba")  # usually imported with the evaluator's module
                    if numba is not None:
                        before = numba.get_num_threads() if before is None else before
                        numba.set_num_threads(min(self.threads, numba.config.NUMBA_NUM_THREADS))
                    yield _checked(lambda t=task: evaluate_point(evaluator, t, paths), task)
        finally:
            set_tile_threads(tiles_before)
            if before is not None:
                sys.modules["numba"].set_num_threads(before)

    def close(self) -> None:
        """Nothing to release."""


def _checked(call: Callable[[], Outcome], task: Task) -> Outcome:
    """The outcome of ``call``; a failure names the point. A config or data error keeps its class and
    field path in every executor (inline, process pool, Dask), other errors become SimulationError."""
    try:
        return call()
    except ConfigError as e:
        raise type(e)(e.path, f"{e.message} (point {task.hash[:12]})") from e
    except Exception as e:
        raise SimulationError(f"point {task.hash[:12]} failed: {type(e).__name__}: {e}") from e


def _start_method() -> str:
    """``fork`` (fast: no re-import) when this process runs no other thread, else ``spawn``.

    Other threads are Python threads or a launched numba thread pool (not fork-safe).
    """
    import multiprocessing
    import threading

    numba_pool = getattr(sys.modules.get("numba.np.ufunc.parallel"), "_is_initialized", False)
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1 and not numba_pool:
        return "fork"
    return "spawn"


class LocalPoolExecutor(_Closing):
    """A pool of ``workers`` processes, reused for every point of the sweep."""

    def __init__(self, workers: int, threads: int = 1):
        import multiprocessing

        self.workers = workers
        self.pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context(_start_method()),
            initializer=_init_worker,
            initargs=(threads, os.getpid()),
        )

    def run(self, evaluator: str, tasks: Sequence[Task], paths: Sequence[str]) -> Iterator[Outcome]:
        todo = list(tasks)[::-1]
        running: dict[Future[Outcome], Task] = {}
        try:
            while todo or running:
                while todo and len(running) < 2 * self.workers:
                    task = todo.pop()
                    running[self.pool.submit(evaluate_point, evaluator, task, list(paths))] = task
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = running.pop(fut)
                    yield _checked(fut.result, task)
        finally:
            for fut in running:
                fut.cancel()

    def close(self) -> None:
        """Stop the worker processes."""
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(_Closing):
    """Runs points on a dask.distributed cluster: ``address`` is ``tcp://host:port`` or ``local``."""

    def __init__(self, address: str, workers: int, threads: int = 1, timeout: float = 10.0):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError("scheduler", "Dask is not installed; pip install 'aimc-sim[dist]'") from None
        self.cluster = None
        if address == "local":
            self.cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
            )
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(address, timeout=timeout)
            except (OSError, TimeoutError, ValueError) as e:
                raise ConfigError("scheduler", f"cannot reach the Dask scheduler at {address!r}: {e}") from None
        self.client.run(_limit_threads, threads)

    def run(self, evaluator: str, tasks: Sequence[Task], paths: Sequence[str]) -> Iterator[Outcome]:
        from distributed import as_completed

        futures = {
            self.client.submit(evaluate_point, evaluator, t, list(paths), key=f"aimc-point-{t.hash}", pure=False): t
            for t in tasks
        }
        try:
            for fut in as_completed(futures):
                yield _checked(fut.result, futures[fut])
        finally:
            for fut in futures:
                fut.cancel()

    def close(self) -> None:
        """Disconnect, and stop the LocalCluster if this executor started it."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(workers: int | None, scheduler: str | None, threads: int = 1, timeout: float = 10.0) -> Any:
    """The executor for the CLI options: Dask if ``scheduler`` is given, else a local pool (``workers=0``: inline)."""
    if workers is None:
        workers = os.cpu_count() or 1
    if workers < 0:
        raise ConfigError("workers", f"must be an integer >= 0, got {workers}")
    if threads < 1:
        raise ConfigError("threads", f"must be an integer >= 1, got {threads}")
    if scheduler:
        if scheduler != "local" and not re.match(r"^(tcp|tls|inproc|ucx)://[^/\s]+$", scheduler):
            msg = f"must be 'local' or a Dask scheduler address like tcp://host:8786, got {scheduler!r}"
            raise ConfigError("scheduler", msg)
        return DaskExecutor(scheduler, max(workers, 1), threads, timeout)
    if workers == 0:
        return InlineExecutor(threads)
    return LocalPoolExecutor(workers, threads)
