"""Bad sweep specs, points and CLI options: a clear error naming the field or file, and nothing written.

Each case runs the real CLI (``aimc sweep``/``dse``/``report``) in a temporary working directory and
compares a snapshot of that directory before and after. Point errors are checked under ``--dry-run``
and under a real run with the default worker pool.
"""

from __future__ import annotations

import copy
import math
import time

import h5py
import pytest
import yaml
from bad_input import cli_error, cli_refused, snapshot

SPEC = {
    "evaluator": "workloads",
    "base": {
        "model": "s4d_digits_float",
        "hardware": {
            "tile": {"preset": "pcm-default", "rows": 128, "cols": 256, "adc": {"bits": 8}},
            "recurrence": "digital",
            "t": 0.0,
        },
        "dataset": {"name": "digits_pixel", "n_test": 10},
    },
    "axes": [{"kind": "grid", "params": {"hardware.tile.adc.bits": [6, 8]}}],
    "seeds": 2,
    "output": "out/results.h5",
}


def spec_with(**over) -> dict:
    data = copy.deepcopy(SPEC)
    data.update(over)
    return data


def axis(params: dict, kind: str = "grid", **more) -> list[dict]:
    return [{"kind": kind, "params": params, **more}]


def with_base(path: str, value) -> dict:
    data = copy.deepcopy(SPEC)
    *parents, leaf = path.split(".")
    node = data["base"]
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return data


def dump(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False)


NESTED = "base: " + "[" * 100_000 + "]" * 100_000 + "\n"
ALIAS_BOMB = (
    'evaluator: workloads\nbase:\n  a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    "  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n  g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
)

# (id, spec text or bytes, texts the error must contain)
SPEC_CASES = [
    ("binary", b"\x89HDF\r\n\x1a\n\x00\x00\xff\xfe\x00", ["spec.yaml", "not a UTF-8 text file"]),
    ("duplicate-key", "evaluator: workloads\nseeds: 1\nseeds: 2\n", ["spec.yaml", "line 3", "duplicate", "seeds"]),
    ("alias-bomb", ALIAS_BOMB, ["spec.yaml", "anchors and aliases"]),
    ("nested-brackets", NESTED, ["spec.yaml", "nested deeper than 64"]),
    ("malformed", "base: {model: x\naxes: [\n", ["spec.yaml", "malformed YAML (line"]),
    ("tab-indent", "base:\n\tmodel: x\n", ["spec.yaml", "malformed YAML"]),
    ("top-level-list", "- 1\n- 2\n", ["must be a mapping of fields"]),
    ("top-level-string", "just words\n", ["must be a mapping of fields"]),
    ("unknown-field", dump(spec_with(outptu="x.h5")), ["outptu: unknown field"]),
    ("code-evaluator", dump(spec_with(evaluator="subprocess:call")), ["evaluator", "not a registered", "--allow-code"]),
    ("local-code", dump(spec_with(evaluator="my_eval:evaluate")), ["evaluator", "not a registered evaluator"]),
    ("evaluator-form", dump(spec_with(evaluator="os.path.join")), ["evaluator: must be a registered"]),
    ("evaluator-name", dump(spec_with(evaluator="nosuch")), ["evaluator", "'nosuch' is not a registered"]),
    ("evaluator-type", dump(spec_with(evaluator=3)), ["evaluator: must be a string"]),
    ("nan-axis", dump(spec_with(axes=axis({"hardware.t": [0.0, math.nan]}))), ["params[hardware.t][1]", "finite"]),
    ("inf-axis", "axes: [{params: {hardware.t: [.inf]}}]\n" + dump(spec_with()).split("axes:")[0], ["finite"]),
    ("inf-base", dump(with_base("hardware.t", math.inf)), ["base.hardware.t: must be a finite number"]),
    ("nan-range", dump(spec_with(axes=axis({"hardware.t": {"low": math.nan, "high": 1, "count": 2}}))), ["low"]),
    ("seeds-1e12-string", "seeds: 1e12\n", ["seeds", "integer"]),
    ("seeds-1e12-float", "seeds: 1.0e+12\n", ["seeds", "exceed the limit of 10000"]),
    ("seeds-zero", dump(spec_with(seeds=0)), ["seeds: must be a count >= 1"]),
    ("seeds-repeat", dump(spec_with(seeds=[1, 1])), ["seeds: must not repeat"]),
    ("seeds-negative", dump(spec_with(seeds=[-1])), ["seeds: must be integers >= 0"]),
    ("seeds-text", dump(spec_with(seeds="many")), ["seeds"]),
    ("seed-negative", dump(spec_with(seed=-1)), ["seed: must be an integer in 0..2**63-1"]),
    ("seed-huge", dump(spec_with(seed=2**70)), ["seed: must be an integer in 0..2**63-1"]),
    ("range-1e12", dump(spec_with(axes=axis({"hardware.t": {"low": 0, "high": 1, "count": 10**12}}))), ["axes: "]),
    ("random-count-huge", dump(spec_with(axes=axis({"hardware.t": [0.0]}, "random", count=10**9))), ["exceed"]),
    ("random-count-zero", dump(spec_with(axes=axis({"hardware.t": [0.0]}, "random", count=0))), ["axes[0].count"]),
    ("range-backwards", dump(spec_with(axes=axis({"hardware.t": {"low": 2, "high": 1, "count": 2}}))), [".high"]),
    (
        "range-log-zero",
        dump(spec_with(axes=axis({"hardware.t": {"low": 0, "high": 1, "count": 2, "log": True}}))),
        ["low"],
    ),
    ("range-key", dump(spec_with(axes=axis({"hardware.t": {"low": 0, "hi": 1, "count": 2}}))), ["unknown key 'hi'"]),
    ("range-no-count", dump(spec_with(axes=axis({"hardware.t": {"low": 0, "high": 1}}))), ["count"]),
    (
        "random-range-count",
        dump(spec_with(axes=axis({"hardware.t": {"low": 0, "high": 1, "count": 2}}, "random", count=2))),
        ["not used by a random axis"],
    ),
    (
        "grid-count",
        dump(spec_with(axes=axis({"hardware.t": [0.0]}, "grid", count=3))),
        ["only a random axis takes a count"],
    ),
    ("axis-kind", dump(spec_with(axes=axis({"hardware.t": [0.0]}, "spiral"))), ["axes[0].kind: must be one of"]),
    ("axis-empty-params", dump(spec_with(axes=[{"kind": "grid", "params": {}}])), ["axes[0].params"]),
    ("axis-empty-list", dump(spec_with(axes=axis({"hardware.t": []}))), ["at least one value"]),
    ("axis-scalar", dump(spec_with(axes=axis({"hardware.t": 0.5}))), ["must be a list of values or a range"]),
    ("zip-lengths", dump(spec_with(axes=axis({"hardware.t": [0, 1], "hardware.backend": ["analog"]}, "zip"))), ["zip"]),
    ("unknown-param", dump(spec_with(axes=axis({"hardware.tile.adc.bitz": [4]}))), ["unknown parameter 'bitz'"]),
    ("param-syntax", dump(spec_with(axes=axis({"hardware..t": [4]}))), ["must be a dotted path"]),
    ("param-into-value", dump(spec_with(axes=axis({"model.size": [4]}))), ["base.model is a value"]),
    ("param-twice", dump(spec_with(axes=axis({"hardware.t": [0.0]}) + axis({"hardware.t": [1.0]}))), ["already swept"]),
    ("output-empty", dump(spec_with(output="")), ["output: must name an HDF5 file"]),
    (
        "grid-too-big",
        dump(
            spec_with(
                axes=axis(
                    {
                        "hardware.t": {"low": 0, "high": 1, "count": 10**6},
                        "dataset.n_test": {"low": 1, "high": 9, "count": 10**6},
                    }
                )
            )
        ),
        ["2000000000000 points (1000000000000 x 2 seeds) exceed the limit of 100000"],
    ),
]


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "run"])
@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in SPEC_CASES], ids=[c[0] for c in SPEC_CASES])
def test_bad_spec_is_a_clear_error_and_writes_nothing(tmp_path, monkeypatch, capsys, text, expected, dry_run):
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "spec.yaml"
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    t0 = time.monotonic()
    cli_refused(capsys, tmp_path, ["sweep", str(f), *(["--dry-run"] if dry_run else ["--no-progress"])], *expected)
    assert time.monotonic() - t0 < 30  # no hang (10^6 x 10^6 grids, alias bombs)


def test_a_refused_code_evaluator_is_not_imported(tmp_path, monkeypatch, capsys):
    """The trust check runs before any import, in --dry-run too: a local module is never executed."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_eval.py").write_text("open('IMPORTED', 'w').close()\ndef evaluate(c, s):\n    return {}\n")
    f = tmp_path / "spec.yaml"
    f.write_text(dump(spec_with(evaluator="my_eval:evaluate", axes=[])))
    cli_refused(capsys, tmp_path, ["sweep", str(f), "--dry-run"], "not a registered evaluator")
    assert not (tmp_path / "IMPORTED").exists()


# (id, base path, bad value, texts) -- point contents, checked by the shipped evaluator's validate_point
POINT_CASES = [
    ("model-typo", "model", "s4d_digits_flot", ["model: unknown model 's4d_digits_flot'"]),
    ("model-path", "model", "missing.npz", ["missing.npz: no such model file"]),
    ("model-type", "model", 7, ["model: must be a model name"]),
    ("adc-bits-0", "hardware.tile.adc.bits", 0, ["tile.adc.bits: must be an integer in 2..16, got 0"]),
    ("adc-bits-99", "hardware.tile.adc.bits", 99, ["tile.adc.bits"]),
    ("dac-bits", "hardware.tile.dac", {"bits": -1}, ["tile.dac.bits"]),
    ("rows-0", "hardware.tile.rows", 0, ["tile.rows"]),
    ("tile-field", "hardware.tile.colums", 4, ["tile.colums: unknown field"]),
    ("tile-preset", "hardware.tile.preset", "pcm-defalt", ["unknown tile preset 'pcm-defalt'"]),
    ("tile-escape", "hardware.tile.preset", "../sweeps/demo_noise", ["unknown tile preset '../sweeps/demo_noise'"]),
    ("tile-device", "hardware.tile.device", "unobtainium", ["unknown preset 'unobtainium'"]),
    (
        "ideal-g-order",
        "hardware.tile",
        {"preset": "ideal", "device_options": {"g_min": 2e-5, "g_max": 1e-5}},
        ["g_max"],
    ),
    ("ideal-g-negative", "hardware.tile", {"preset": "ideal", "device_options": {"g_min": -1e-6}}, ["g_min"]),
    ("hardware-key", "hardware.foo", 1, ["hardware.foo: unknown field"]),
    ("backend", "hardware.backend", "quantum", ["hardware.backend: must be one of"]),
    ("recurrence", "hardware.recurrence", "psychic", ["hardware.recurrence"]),
    ("read-time", "hardware.t", -1.0, ["hardware.t"]),
    ("prog-noise", "hardware.prog_noise", 2.0, ["hardware.prog_noise"]),
    ("cost-model", "hardware.cost_model", "3nm", ["unknown cost model '3nm'"]),
    ("n-test-1e12", "dataset.n_test", 10**12, ["dataset.n_test: must be an integer in 1..360, got 1000000000000"]),
    ("n-test-0", "dataset.n_test", 0, ["dataset.n_test"]),
    ("n-test-float", "dataset.n_test", 2.5, ["dataset.n_test"]),
    ("dataset-name", "dataset.name", "imagenet", ["dataset.name: must be one of"]),
    ("dataset-option", "dataset.colour", True, ["dataset: bad option"]),
    ("dataset-shape", "dataset.name", "grammar", ["the model expects d_in=1"]),
    ("point-key", "extra", 1, ["point.extra: unknown key"]),
    ("snn-n-test", "model", "snn_digits", ["dataset.n_test"]),  # n_test 10**6 set below for SNN
]


def _point_spec(path: str, value) -> dict:
    data = with_base(path, value)
    if value == "snn_digits":
        data["base"] = {"model": "snn_digits", "dataset": {"n_test": 10**6}, "hardware": {"tile": "pcm-default"}}
    data["axes"] = []
    return data


@pytest.mark.parametrize("mode", ["--dry-run", "default-pool"])
@pytest.mark.parametrize(("path", "value", "expected"), [c[1:] for c in POINT_CASES], ids=[c[0] for c in POINT_CASES])
def test_bad_point_is_caught_before_anything_is_written(tmp_path, monkeypatch, capsys, path, value, expected, mode):
    """validate_point runs on every point in --dry-run and before a real run (default pool) writes anything."""
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "spec.yaml"
    f.write_text(dump(_point_spec(path, value)))
    args = ["sweep", str(f), *(["--dry-run"] if mode == "--dry-run" else ["--no-progress"])]
    assert "point 0 (base)" in cli_refused(capsys, tmp_path, args, *expected)


@pytest.mark.parametrize("workers", [None, 0], ids=["default-pool", "inline"])
def test_error_raised_inside_a_worker_names_the_field_and_leaves_nothing(tmp_path, monkeypatch, capsys, workers):
    """A ConfigError raised while a point runs (not caught by validation) keeps its field under the pool."""
    monkeypatch.chdir(tmp_path)
    data = {
        "evaluator": "sweep_helpers:config_error_in_worker",
        "base": {"size": 8, "noise": 0.0, "bits": 0, "preset": "pcm"},
        "axes": [{"kind": "grid", "params": {"noise": [0.0, 0.1, 0.2]}}],
        "output": "out/r.h5",
    }
    f = tmp_path / "spec.yaml"
    f.write_text(dump(data))
    args = ["sweep", str(f), "--allow-code", "--no-progress", *(["--workers", "0"] if workers == 0 else [])]
    cli_refused(capsys, tmp_path, args, "tile.adc.bits: must be an integer")


# (id, extra CLI options, texts)
OPTION_CASES = [
    ("flush-nan", ["--flush-interval", "nan"], ["flush_interval: must be a finite number"]),
    ("flush-inf", ["--flush-interval", "inf"], ["flush_interval"]),
    ("flush-negative", ["--flush-interval", "-1"], ["flush_interval"]),
    ("workers-negative", ["--workers", "-1"], ["workers: must be an integer >= 0"]),
    ("threads-zero", ["--threads", "0"], ["threads: must be an integer >= 1"]),
    ("scheduler-scheme", ["--scheduler", "foo://host:1"], ["scheduler: must be 'local' or a Dask scheduler address"]),
    ("scheduler-bare", ["--scheduler", "tcp://"], ["scheduler"]),
    ("scheduler-path", ["--scheduler", "/tmp/sock"], ["scheduler"]),
    ("max-points-zero", ["--max-points", "0"], ["max_points: must be an integer in >= 1"]),
    ("max-seeds-negative", ["--max-seeds", "-5"], ["max_seeds"]),
    ("max-points-small", ["--max-points", "3"], ["4 points", "exceed the limit of 3"]),
    ("max-seeds-small", ["--max-seeds", "1"], ["2 seeds exceed the limit of 1"]),
    ("output-is-dir", ["-o", "."], ["output: . is a directory"]),
    ("output-under-file", ["-o", "spec.yaml/r.h5"], ["spec.yaml/r.h5", "is not a folder"]),
    ("output-proc", ["-o", "/proc/aimc-results.h5"], ["/proc/aimc-results.h5", "cannot"]),
    ("output-proc-subdir", ["-o", "/proc/self/aimc/r.h5"], ["/proc/self/aimc/r.h5", "cannot"]),
]


@pytest.mark.parametrize(("options", "expected"), [c[1:] for c in OPTION_CASES], ids=[c[0] for c in OPTION_CASES])
def test_bad_cli_option_is_a_clear_error_and_writes_nothing(tmp_path, monkeypatch, capsys, options, expected):
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "spec.yaml"
    f.write_text(dump(SPEC))
    cli_refused(capsys, tmp_path, ["sweep", "spec.yaml", "--no-progress", *options], *expected)


def test_missing_spec_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    cli_error(capsys, ["sweep", "nope.yaml", "--dry-run"], "nope.yaml: file not found")
    cli_error(capsys, ["sweep", ".", "--dry-run"], ".: file not found")
    assert snapshot(tmp_path) == {}


@pytest.mark.parametrize("kind", ["not-hdf5", "other-hdf5", "other-spec"])
def test_existing_output_that_is_not_this_sweep_is_refused_and_left_unchanged(tmp_path, monkeypatch, capsys, kind):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "results.h5"
    if kind == "not-hdf5":
        out.write_text("my notes")
        expected = "cannot read HDF5 file"
    elif kind == "other-hdf5":
        with h5py.File(out, "w") as h:
            h["x"] = [1, 2]
        expected = "not an aimc sweep file"
    else:
        from aimc_sim.sweep.store import FORMAT

        with h5py.File(out, "w") as h:
            h.attrs["format"] = FORMAT
            g = h.create_group("points")
            g.attrs["columns"] = ["hash"]
            g["hash"] = [b"f" * 64]
        expected = "holds 1 points that are not in this spec"
    f = tmp_path / "spec.yaml"
    f.write_text(dump(SPEC))
    cli_refused(capsys, tmp_path, ["sweep", "spec.yaml", "--no-progress"], "out/results.h5", expected)


REPORT_CASES = [
    ("n-test-zero", ["--n-test", "0"], ["n_test: must be an integer >= 1"]),
    ("n-test-huge", ["--n-test", "1000000000000"], ["dataset.n_test: must be an integer in 1..360"]),
    ("seeds-zero", ["--seeds", "0"], ["seeds: must be an integer >= 1"]),
    ("seeds-huge", ["--seeds", "1000000000000"], ["seeds exceed the limit"]),
    ("hardware-missing", ["--hardware", "nope.yaml"], ["nope.yaml: file not found"]),
    ("hardware-list", ["--hardware", "list.yaml"], ["list.yaml: must hold a mapping"]),
    ("hardware-adc-bits", ["--hardware", "bits0.yaml"], ["tile.adc.bits: must be an integer in 2..16, got 0"]),
    ("hardware-dup", ["--hardware", "dup.yaml"], ["dup.yaml", "duplicate"]),
    ("dataset", ["--dataset", "imagenet"], ["dataset.name"]),
    ("workers", ["--workers", "-2"], ["workers"]),
]


@pytest.mark.parametrize(("options", "expected"), [c[1:] for c in REPORT_CASES], ids=[c[0] for c in REPORT_CASES])
def test_bad_report_input_under_the_default_pool(tmp_path, monkeypatch, capsys, options, expected):
    """``aimc report`` (default worker pool): the field is named, not BrokenProcessPool; nothing written."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "list.yaml").write_text("- 1\n")
    (tmp_path / "bits0.yaml").write_text("tile: {preset: pcm-default, adc: {bits: 0}}\nrecurrence: digital\n")
    (tmp_path / "dup.yaml").write_text("backend: analog\nbackend: float\n")
    cli_refused(capsys, tmp_path, ["report", "s4d_digits_float", "-o", "rep", "--no-progress", *options], *expected)


def test_bad_dse_spec_is_a_clear_error_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "spec.yaml"
    f.write_text(dump({**with_base("hardware.tile.adc.bits", 1), "axes": []}))
    cli_refused(capsys, tmp_path, ["dse", "spec.yaml", "--no-progress"], "tile.adc.bits")
    cli_refused(capsys, tmp_path, ["dse", "missing.h5"], "missing.h5: file not found")
