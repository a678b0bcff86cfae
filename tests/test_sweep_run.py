"""Running sweeps: same numbers for any executor and worker count, resume after SIGKILL, skip, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

from aimc_sim.errors import ConfigError, DataError, SimulationError
from aimc_sim.sweep import load_results, load_spec, run_sweep
from aimc_sim.sweep.store import SweepStore, _record_from_row

HERE = Path(__file__).resolve().parent


def make_spec(tmp_path: Path, evaluator: str = "sweep_helpers:noisy_matmul", seeds=2, **over) -> dict:
    data = {
        "evaluator": evaluator,
        "base": {"size": 24, "noise": 0.0, "bits": 8, "preset": "pcm"},
        "axes": [
            {"kind": "grid", "params": {"noise": {"low": 0.0, "high": 0.3, "count": 4}, "preset": ["pcm", "rram"]}},
            {"kind": "random", "count": 2, "params": {"bits": [4, 6, 8]}},
        ],
        "seeds": seeds,
        "output": str(tmp_path / "out.h5"),
    }
    data.update(over)
    return data


def same_numbers(a, b) -> None:
    """Two result tables hold the same rows, in the same order, with the same values (timing aside)."""
    assert len(a) == len(b)
    assert set(a.columns) == set(b.columns)
    for name in a.columns:
        if name == "wall_s":
            continue
        x, y = a.columns[name], b.columns[name]
        if x.dtype.kind == "f":
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            assert list(x) == list(y), name


def test_rows_hold_params_metrics_and_attrs(tmp_path):
    spec = load_spec(make_spec(tmp_path))
    summary = run_sweep(spec, workers=0, progress=False, allow_code=True)
    t = load_results(summary.output)
    assert len(t) == summary.n_points == 4 * 2 * 2 * 2
    assert len(set(t.columns["hash"])) == len(t)
    assert set(t.params) == {"param/noise", "param/preset", "param/bits"}
    assert {"accuracy", "rel_error", "energy_j", "latency_s", "preset"} <= set(t.metrics)
    assert t.attrs["complete"] and t.attrs["n_points"] == len(t)
    assert t.spec["evaluator"] == "sweep_helpers:noisy_matmul"
    assert t.attrs["aimc_sim_version"] and t.attrs["started"].startswith("20")
    # the error grows with the programming noise: a real computation, not a constant
    err = t.columns["rel_error"]
    noise = t.columns["param/noise"]
    assert err[noise == 0.3].mean() > err[noise == 0.0].mean() + 0.1
    assert not Path(str(summary.output) + ".journal").exists()


def test_result_file_records_provenance(tmp_path):
    """Package version, git commit (when a checkout), python and numpy/numba/scipy/h5py versions."""
    import platform
    import subprocess
    from importlib.metadata import version

    import aimc_sim

    t = load_results(
        run_sweep(load_spec(make_spec(tmp_path, seeds=1)), workers=0, progress=False, allow_code=True).output
    )
    assert t.attrs["aimc_sim_version"] == aimc_sim.__version__
    assert t.attrs["python_version"] == platform.python_version()
    for name in ("numpy", "numba", "scipy", "h5py"):
        assert t.attrs[f"{name}_version"] == version(name)
    root = Path(aimc_sim.__file__).resolve().parents[1]
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:
        assert t.attrs["git_commit"].split("-")[0] == head.stdout.strip()
    else:
        assert t.attrs["git_commit"] == ""


def test_same_numbers_for_inline_one_and_two_workers(tmp_path):
    data = make_spec(tmp_path, evaluator="sweep_helpers:result_object")
    tables = []
    for workers in (0, 1, 2):
        out = tmp_path / f"w{workers}.h5"
        run_sweep(load_spec(data), output=out, workers=workers, progress=False, allow_code=True)
        tables.append(load_results(out))
    same_numbers(tables[0], tables[1])
    same_numbers(tables[0], tables[2])


def test_rerun_skips_finished_points_and_extends_a_grown_spec(tmp_path):
    data = make_spec(tmp_path, seeds=1)
    first = run_sweep(load_spec(data), workers=0, progress=False, allow_code=True)
    again = run_sweep(load_spec(data), workers=0, progress=False, allow_code=True)
    assert (again.n_skipped, again.n_run) == (first.n_points, 0)
    before = load_results(first.output)
    data["seeds"] = 2
    grown = run_sweep(load_spec(data), workers=0, progress=False, allow_code=True)
    assert (grown.n_skipped, grown.n_run) == (first.n_points, first.n_points)
    after = load_results(first.output)
    assert len(after) == 2 * len(before)
    old = {h: w for h, w in zip(before.columns["hash"], before.columns["wall_s"])}
    new = {h: w for h, w in zip(after.columns["hash"], after.columns["wall_s"])}
    assert all(new[h] == w for h, w in old.items())  # finished rows were kept, not recomputed


def test_resume_after_sigkill_gives_the_full_set_once_identical_to_uninterrupted(tmp_path):
    """Issue 4 must-show: SIGKILL a sweep subprocess midway, rerun, compare with an uninterrupted run."""
    data = make_spec(tmp_path)
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(data))
    out = Path(data["output"])
    journal = Path(str(out) + ".journal")
    env = dict(os.environ, PYTHONPATH=f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", SWEEP_TEST_DELAY_S="0.1")
    cmd = [sys.executable, "-m", "aimc_sim", "sweep", str(spec_file), "--workers", "2", "--flush-interval", "0.2"]
    proc = subprocess.Popen(
        [*cmd, "--allow-code"], env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            n = len(journal.read_text().splitlines()) - 1 if journal.exists() else 0
            if n >= 12 or proc.poll() is not None:
                break
            time.sleep(0.02)
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # the main process only: its pool workers must notice and exit
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    assert _group_gone(proc.pid, timeout_s=10), "pool workers outlived their killed parent"
    n_journal = len(journal.read_text().splitlines()) - 1
    assert 12 <= n_journal < 32
    if out.exists():  # a snapshot written before the kill is a complete, readable HDF5 file
        snap = load_results(out)
        assert not snap.attrs["complete"] and len(snap) <= n_journal
    (tmp_path / ".out.h5.tmp999999").write_bytes(b"half an HDF5 file of a dead writer")

    resumed = run_sweep(load_spec(data), workers=2, progress=False, allow_code=True)
    assert resumed.n_skipped >= 12 and resumed.n_skipped + resumed.n_run == 32
    ref = run_sweep(load_spec(data), output=tmp_path / "ref.h5", workers=0, progress=False, allow_code=True)
    a, b = load_results(out), load_results(ref.output)
    assert sorted(a.columns["hash"]) == sorted(set(b.columns["hash"]))  # every point exactly once
    same_numbers(a, b)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.h5", "ref.h5", "spec.yaml"]  # no temp file, no journal


def _group_gone(pgid: int, timeout_s: float) -> bool:
    """True once no process of the process group ``pgid`` is left (waits up to ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    os.killpg(pgid, signal.SIGKILL)
    return False


def test_torn_journal_line_is_dropped(tmp_path):
    data = make_spec(tmp_path, seeds=1)
    out = Path(data["output"])
    full = run_sweep(load_spec(data), output=tmp_path / "full.h5", workers=0, progress=False, allow_code=True)
    store = SweepStore(out).open()
    rows = load_results(full.output).rows()
    store.close()
    journal = Path(str(out) + ".journal")
    lines = [json.dumps({"kind": "header", "started": "2026-01-01T00:00:00+00:00"})]
    lines += [json.dumps(_record_from_row(r)) for r in rows[:3]]
    journal.write_text("\n".join(lines) + "\n" + lines[-1][:25])  # a torn 4th record
    summary = run_sweep(load_spec(data), workers=0, progress=False, allow_code=True)
    assert (summary.n_skipped, summary.n_run) == (3, len(rows) - 3)
    t = load_results(out)
    assert t.attrs["started"] == "2026-01-01T00:00:00+00:00"
    same_numbers(t, load_results(full.output))


def test_second_writer_is_refused(tmp_path):
    out = tmp_path / "out.h5"
    with SweepStore(out):
        with pytest.raises(SimulationError, match="another sweep is writing"):
            SweepStore(out).open()


def test_failing_point_is_reported_and_finished_points_are_kept(tmp_path):
    data = make_spec(tmp_path, evaluator="sweep_helpers:fails_on_big_noise", seeds=1)
    data["axes"][0]["params"]["noise"] = [0.0, 0.1, 0.9]
    with pytest.raises(SimulationError, match="RuntimeError: noise too large"):
        run_sweep(load_spec(data), workers=0, progress=False, allow_code=True)
    store = SweepStore(data["output"]).open()
    assert len(store.records) == 2 * 2 * 2  # the noise 0.0 and 0.1 points were all done first
    store.close()


@pytest.mark.parametrize(
    ("over", "match"),
    [
        ({"evaluator": "no_such_module:evaluate"}, "evaluator: cannot import module 'no_such_module'"),
        ({"evaluator": "sweep_helpers:nope"}, "evaluator: module 'sweep_helpers' has no function 'nope'"),
        ({"base": {"size": 24, "noise": -0.1, "bits": 8, "preset": "pcm"}, "axes": []}, r"point 0 \(base\): noise"),
    ],
)
def test_bad_evaluator_or_point_writes_nothing(tmp_path, over, match):
    data = make_spec(tmp_path / "sub", **over)
    with pytest.raises(ConfigError, match=match):
        run_sweep(load_spec(data), workers=0, progress=False, allow_code=True)
    assert not (tmp_path / "sub").exists()


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        ({"bits": [0]}, ConfigError, r"tile\.adc\.bits: must be an integer in 2\.\.16, got 0 \(point [0-9a-f]{12}\)"),
        ({"preset": ["corrupt"]}, DataError, r"weights\.npz: truncated file \(point [0-9a-f]{12}\)"),
    ],
)
def test_worker_config_error_reaches_the_user_with_its_field_in_every_executor(tmp_path, workers, value, error, match):
    """A ConfigError raised inside a pool worker used to arrive as BrokenProcessPool (it did not unpickle)."""
    data = make_spec(tmp_path, evaluator="sweep_helpers:config_error_in_worker", seeds=1)
    data["axes"] = [{"kind": "grid", "params": value}]
    with pytest.raises(error, match=match):
        run_sweep(load_spec(data), workers=workers, progress=False, allow_code=True)


def test_config_errors_survive_pickling():
    import pickle

    from calibration.errors import FitError, MeasurementError
    from chip_models.texel.aer import AerError

    for cls in (ConfigError, DataError, AerError, MeasurementError, FitError):
        e = pickle.loads(pickle.dumps(cls("a.b", "bad value")))
        assert type(e) is cls and (e.path, e.message, str(e)) == ("a.b", "bad value", "a.b: bad value")


def test_cli_reports_a_bad_axis_and_writes_nothing(tmp_path, capsys):
    from aimc_sim.cli import main

    data = make_spec(tmp_path / "sub")
    data["axes"][0]["params"]["nosie"] = [0.1]
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(data))
    assert main(["sweep", str(spec_file), "--workers", "0", "--allow-code"]) == 2
    err = capsys.readouterr().err
    assert "axes[0].params[nosie]: unknown parameter 'nosie' in base" in err
    assert not (tmp_path / "sub").exists()


def test_not_a_sweep_file_is_a_data_error(tmp_path):
    f = tmp_path / "x.h5"
    with h5py.File(f, "w") as h:
        h["a"] = [1, 2]
    with pytest.raises(DataError, match="not an aimc sweep file"):
        load_results(f)


def test_a_shared_executor_serves_several_sweeps_and_stays_open(tmp_path):
    from aimc_sim.sweep.executors import make_executor

    data = make_spec(tmp_path, seeds=1)
    ref = run_sweep(load_spec(data), output=tmp_path / "ref.h5", workers=0, progress=False, allow_code=True)
    with make_executor(2, None) as executor:
        a = run_sweep(load_spec(data), output=tmp_path / "a.h5", executor=executor, progress=False, allow_code=True)
        b = run_sweep(load_spec(data), output=tmp_path / "b.h5", executor=executor, progress=False, allow_code=True)
        assert not executor.pool._shutdown_thread  # still usable after both sweeps
    same_numbers(load_results(a.output), load_results(ref.output))
    same_numbers(load_results(b.output), load_results(ref.output))


def test_dry_run_lists_points_and_writes_nothing(tmp_path, capsys):
    from aimc_sim.cli import main

    data = make_spec(tmp_path / "sub")
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(data))
    assert main(["sweep", str(spec_file), "--dry-run", "--allow-code"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("32 points (2 seeds each), evaluator sweep_helpers:noisy_matmul") and "... 12 more" in out
    assert not (tmp_path / "sub").exists()


def test_real_s4d_evaluator_gives_the_same_numbers_inline_and_on_two_workers(tmp_path):
    """The shipped S4D model on RRAM tiles (workloads.api:evaluate): executor-independent numbers."""
    data = {
        "base": {
            "model": "s4d_digits_float",
            "hardware": {"tile": {"preset": "pcm-default", "rows": 128, "cols": 256}, "recurrence": "digital"},
            "dataset": {"name": "digits_pixel", "n_test": 10},
        },
        "axes": [{"kind": "grid", "params": {"hardware.tile.preset": ["rram-default"]}}],
        "seeds": [0, 1],
    }
    b = run_sweep(load_spec(data), output=tmp_path / "b.h5", workers=2, progress=False, allow_code=True)
    a = run_sweep(load_spec(data), output=tmp_path / "a.h5", workers=0, progress=False, allow_code=True)
    ta, tb = load_results(a.output), load_results(b.output)
    assert len(ta) == 2 and (ta.columns["energy_j"] > 0).all()
    assert len(set(ta.columns["energy_comp.array"])) == 2  # V²·G·t of the programmed devices: real draws
    same_numbers(ta, tb)
