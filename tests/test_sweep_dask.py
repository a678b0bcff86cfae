"""Dask execution: a LocalCluster gives the same HDF5 numbers as the local pool; bad addresses fail cleanly."""

from __future__ import annotations

import socket
import time

import pytest

from aimc_sim.errors import ConfigError
from aimc_sim.sweep import load_results, load_spec, run_sweep

pytest.importorskip("distributed")

from test_sweep_run import make_spec, same_numbers  # noqa: E402


def test_local_cluster_matches_local_pool(tmp_path):
    """Issue 4 must-show: ``--scheduler local`` and ``--workers 2`` write the same numbers."""
    data = make_spec(tmp_path, evaluator="sweep_helpers:result_object")
    pool = run_sweep(load_spec(data), output=tmp_path / "pool.h5", workers=2, progress=False, allow_code=True)
    dask = run_sweep(
        load_spec(data), output=tmp_path / "dask.h5", workers=2, scheduler="local", progress=False, allow_code=True
    )
    assert dask.n_run == pool.n_run == 32
    same_numbers(load_results(pool.output), load_results(dask.output))


def test_worker_config_error_keeps_its_field_under_dask(tmp_path):
    data = make_spec(tmp_path, evaluator="sweep_helpers:config_error_in_worker", seeds=1)
    data["axes"] = [{"kind": "grid", "params": {"bits": [0]}}]
    with pytest.raises(ConfigError, match=r"tile\.adc\.bits: must be an integer in 2\.\.16, got 0"):
        run_sweep(load_spec(data), workers=1, scheduler="local", progress=False, allow_code=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_a_clear_error_and_writes_nothing(tmp_path):
    data = make_spec(tmp_path / "sub")
    address = f"tcp://127.0.0.1:{_free_port()}"
    t0 = time.monotonic()
    with pytest.raises(ConfigError, match=f"scheduler: cannot reach the Dask scheduler at '{address}'"):
        run_sweep(load_spec(data), scheduler=address, progress=False, connect_timeout_s=1.0, allow_code=True)
    assert time.monotonic() - t0 < 30
    assert not (tmp_path / "sub").exists()


def test_existing_cluster_by_tcp_address(tmp_path):
    from distributed import LocalCluster

    data = make_spec(tmp_path, seeds=1)
    data["axes"] = data["axes"][:1]
    ref = run_sweep(load_spec(data), output=tmp_path / "ref.h5", workers=0, progress=False, allow_code=True)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        out = run_sweep(load_spec(data), scheduler=cluster.scheduler_address, progress=False, allow_code=True)
    same_numbers(load_results(out.output), load_results(ref.output))
