"""Which thread pool runs the MVM hot path.

BLAS (OpenBLAS) has its own worker threads; on 2 shared cores they spin-wait while the serial numba
kernels of the pipeline run, and the pipeline slowed down 2-5x in ``benchmarks/bench_mvm.py`` with the
default 2 BLAS threads against 1 (sweeps also run one process per core, which oversubscribes further).
So ``AnalogTile.mvm`` and ``AnalogMatrix.mvm`` run their products with BLAS limited to
``mvm_blas_threads()`` threads (default 1), restoring the previous setting on return. Change it with
:func:`set_mvm_blas_threads` (``None`` leaves BLAS alone).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aimc_sim.errors import ConfigError

__all__ = ["set_mvm_blas_threads", "mvm_blas_threads", "blas_limit"]

_state: dict[str, object] = {"threads": 1, "controller": None, "active": False}


def set_mvm_blas_threads(n: int | None) -> None:
    """BLAS threads for the MVM path (an integer >= 1), or None to leave BLAS threads unchanged."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ConfigError("mvm_blas_threads", f"must be an integer >= 1 or None, got {n!r}")
    _state["threads"] = n


def mvm_blas_threads() -> int | None:
    """The current setting (default 1)."""
    return _state["threads"]  # type: ignore[return-value]


@contextmanager
def blas_limit() -> Iterator[None]:
    """Limit BLAS threads for the ``with`` block (re-entrant; ~30 us per outermost use)."""
    n = _state["threads"]
    if n is None or _state["active"]:
        yield
        return
    if _state["controller"] is None:
        from threadpoolctl import ThreadpoolController

        _state["controller"] = ThreadpoolController()
    _state["active"] = True
    try:
        with _state["controller"].limit(limits=n, user_api="blas"):  # type: ignore[attr-defined]
            yield
    finally:
        _state["active"] = False
