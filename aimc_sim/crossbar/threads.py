"""Which thread pool runs the MVM hot path.

BLAS (OpenBLAS) has its own worker threads; on 2 shared cores they spin-wait while the serial numba
kernels of the pipeline run, and the pipeline slowed down 2-5x in ``benchmarks/bench_mvm.py`` with the
default 2 BLAS threads against 1 (sweeps also run one process per core, which oversubscribes further).
So ``AnalogTile.mvm`` and ``AnalogMatrix.mvm`` run their products with BLAS limited to
``mvm_blas_threads()`` threads (default 1), restoring the previous setting on return. Change it with
:func:`set_mvm_blas_threads` (``None`` leaves BLAS alone).

``BlockDiagonalMatrix`` runs its tiles (of one ``mvm``, or each tile's recurrence in ``run_feedback``) on
``tile_threads()`` Python threads (default min(2, CPU count); its DAC/ADC kernels are ``nogil`` and every tile
has its own generator, so results do not depend on it). Set 1 with :func:`set_tile_threads` when running one
process per core.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from aimc_sim.errors import ConfigError

__all__ = ["set_mvm_blas_threads", "mvm_blas_threads", "blas_limit", "set_tile_threads", "tile_threads", "tile_pool"]

_state: dict[str, object] = {"threads": 1, "libraries": None, "active": False}
_tiles: dict[str, object] = {"threads": min(2, os.cpu_count() or 1), "pool": None}


def set_tile_threads(n: int) -> None:
    """Threads that run the tiles of one ``BlockDiagonalMatrix`` step (an integer >= 1; 1 runs them in turn)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError("tile_threads", f"must be an integer >= 1, got {n!r}")
    if n != _tiles["threads"] and _tiles["pool"] is not None:
        _tiles["pool"].shutdown()  # type: ignore[attr-defined]
        _tiles["pool"] = None
    _tiles["threads"] = n


def tile_threads() -> int:
    """The current setting (default min(2, CPU count))."""
    return _tiles["threads"]  # type: ignore[return-value]


def tile_pool() -> ThreadPoolExecutor | None:
    """The shared pool of ``tile_threads()`` workers, or None when that is 1."""
    n = _tiles["threads"]
    if n == 1:
        return None
    if _tiles["pool"] is None:
        _tiles["pool"] = ThreadPoolExecutor(max_workers=n, thread_name_prefix="aimc-tile")  # type: ignore[arg-type]
    return _tiles["pool"]  # type: ignore[return-value]


def set_mvm_blas_threads(n: int | None) -> None:
    """BLAS threads for the MVM path (an integer >= 1), or None to leave BLAS threads unchanged."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ConfigError("mvm_blas_threads", f"must be an integer >= 1 or None, got {n!r}")
    _state["threads"] = n


def mvm_blas_threads() -> int | None:
    """The current setting (default 1)."""
    return _state["threads"]  # type: ignore[return-value]


def _blas_libraries() -> list:
    """threadpoolctl's controllers of the loaded BLAS libraries (found once: the search costs ~1 ms)."""
    if _state["libraries"] is None:
        from threadpoolctl import ThreadpoolController

        _state["libraries"] = ThreadpoolController().select(user_api="blas").lib_controllers
    return _state["libraries"]  # type: ignore[return-value]


@contextmanager
def blas_limit() -> Iterator[None]:
    """Limit BLAS threads for the ``with`` block (re-entrant). Only libraries not already at the limit are changed,
    and restored on exit: a few us per outermost use, against ~25 us for a ``threadpoolctl`` limit."""
    n = _state["threads"]
    if n is None or _state["active"]:
        yield
        return
    changed = []
    for lib in _blas_libraries():
        before = lib.get_num_threads()
        if before != n:
            lib.set_num_threads(n)
            changed.append((lib, before))
    _state["active"] = True
    try:
        yield
    finally:
        _state["active"] = False
        for lib, before in changed:
            if before is not None:
                lib.set_num_threads(before)
