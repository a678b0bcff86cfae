"""Bad tile and device configs, model files (S4D, NIR), data files and filesystem conditions.

Each case asserts an aimc-sim error (never a raw traceback type) whose text names the field, file or
node, and that the folder it ran in is unchanged. The filesystem cases mount a small tmpfs (root only)
that fills up, and remount it read-only.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from bad_input import refused, snapshot

# ------------------------------------------------------------------------------------------ tile configs
TILE_CASES = [
    ("preset-typo", "pcm-defalt", {}, "unknown tile preset 'pcm-defalt'"),
    ("preset-escape", "../sweeps/demo_noise", {}, "unknown tile preset '../sweeps/demo_noise'"),
    ("preset-absolute-name", "/etc/passwd", {}, "unknown tile preset '/etc/passwd'"),
    ("preset-as-dict", {"preset": "pcm-default"}, {}, "tile: must be a preset name or a YAML path, got dict"),
    ("rows-zero", "pcm-default", {"rows": 0}, "tile.rows"),
    ("cols-negative", "pcm-default", {"cols": -4}, "tile.cols"),
    ("rows-float", "pcm-default", {"rows": 12.5}, "tile.rows"),
    ("adc-bits-0", "pcm-default", {"adc__bits": 0}, "tile.adc.bits: must be an integer in 2..16, got 0"),
    ("adc-bits-17", "pcm-default", {"adc__bits": 17}, "tile.adc.bits"),
    ("adc-percentile", "pcm-default", {"adc__percentile": 0.0}, "tile.adc.percentile"),
    ("adc-unknown", "pcm-default", {"adc__bitz": 4}, "tile.adc.bitz: unknown field"),
    ("dac-bits", "pcm-default", {"dac__bits": -1}, "tile.dac.bits"),
    ("w-noise-negative", "pcm-default", {"noise__w_noise": -0.1}, "tile.noise.w_noise"),
    ("w-noise-nan", "pcm-default", {"noise__w_noise": float("nan")}, "tile.noise.w_noise"),
    ("out-noise-inf", "pcm-default", {"noise__out_noise": float("inf")}, "tile.noise.out_noise"),
    ("mapping-scheme", "pcm-default", {"mapping__scheme": "quadruple"}, "tile.mapping.scheme"),
    ("mapping-slices", "pcm-default", {"mapping__slices": 9}, "tile.mapping.slices"),
    ("unknown-field", "pcm-default", {"colour": "red"}, "tile.colour: unknown field"),
    ("noise-type", "pcm-default", {"noise": "loud"}, "tile.noise"),
]


@pytest.mark.parametrize(("name", "over", "expected"), [c[1:] for c in TILE_CASES], ids=[c[0] for c in TILE_CASES])
def test_bad_tile_config(tmp_path, monkeypatch, name, over, expected):
    from aimc_sim.crossbar import load_tile_config

    monkeypatch.chdir(tmp_path)
    refused(tmp_path, lambda: load_tile_config(name, **over), expected)


# ---------------------------------------------------------------------------------------- device configs
DEVICE_CASES = [
    ("ideal-g-order", "ideal", {"g_min": 2e-5, "g_max": 1e-5}, "g_max: must exceed g_min"),
    ("ideal-g-negative", "ideal", {"g_min": -1e-6}, "g_min"),
    ("ideal-unknown", "ideal", {"gmax": 1e-5}, "gmax: unknown field"),
    ("ideal-nan", "ideal", {"g_max": float("nan")}, "g_max"),
    ("pcm-g-max", "pcm", {"g_max": -1.0}, "g_max"),
    ("pcm-s-prog", "pcm", {"s_prog": -1.0}, "s_prog"),
    ("pcm-fit", "pcm", {"fit": "hermes_3dev"}, "fit"),
    ("pcm-coeff-nan", "pcm", {"prog_coeffs": [float("nan"), 1.0]}, "prog_coeffs[0]"),
    ("pcm-unknown", "pcm", {"g_maxx": 1e-5}, "g_maxx: unknown field"),
    ("rram-unknown", "rram", {"colour": 1}, "colour: unknown field"),
    ("preset-typo", "pcn", {}, "unknown preset 'pcn'"),
    ("preset-path-missing", "missing.yaml", {}, "unknown preset 'missing.yaml'"),
]


@pytest.mark.parametrize(("name", "over", "expected"), [c[1:] for c in DEVICE_CASES], ids=[c[0] for c in DEVICE_CASES])
def test_bad_device_config(tmp_path, monkeypatch, name, over, expected):
    from aimc_sim.crossbar.devices import resolve_device

    monkeypatch.chdir(tmp_path)
    refused(tmp_path, lambda: resolve_device(name, over), expected, "tile.device")


def _load_tile_file(f: Path) -> object:
    from aimc_sim.crossbar import load_tile_config

    return load_tile_config(f)


def _load_device_file(f: Path) -> object:
    import device_models

    return device_models.load_preset(str(f))


HEADER = b"name: a\nmodel: pcm\ndescription: d\nsource: s\n"
# (id, loader, file content, text) -- every config file goes through device_models.schema.parse_yaml
CONFIG_FILES = [
    ("tile-binary", _load_tile_file, b"\x00\xff\xfe\x00", "not a UTF-8 text file"),
    ("tile-duplicate", _load_tile_file, b"rows: 64\nrows: 128\n", "duplicate or unhashable key 'rows'"),
    ("tile-alias", _load_tile_file, b"adc: &a {bits: 8}\ndac: *a\n", "anchors and aliases"),
    ("tile-list", _load_tile_file, b"- rows\n", "must hold a mapping"),
    ("tile-malformed", _load_tile_file, b"rows: [64\n", "malformed YAML"),
    ("tile-bad-value", _load_tile_file, b"rows: many\n", "tile.rows"),
    ("device-binary", _load_device_file, b"\xff\xfe\x00name: x\n", "not a UTF-8 text file"),
    ("device-duplicate", _load_device_file, b"name: a\nmodel: pcm\nmodel: rram\n", "duplicate or unhashable key"),
    ("device-alias", _load_device_file, b"name: a\nmodel: pcm\nconfig: &c {g_max: 1.0e-5}\nx: *c\n", "anchors"),
    (
        "device-config-list",
        _load_device_file,
        b"name: a\nmodel: pcm\ndescription: d\nsource: s\nconfig: [1]\n",
        "config",
    ),
    (
        "device-bad-value",
        _load_device_file,
        b"name: a\nmodel: pcm\ndescription: d\nsource: s\nconfig: {g_max: -1}\n",
        "g_max",
    ),
]


@pytest.mark.parametrize(
    ("load", "content", "expected"), [c[1:] for c in CONFIG_FILES], ids=[c[0] for c in CONFIG_FILES]
)
def test_bad_config_file(tmp_path, load, content, expected):
    f = tmp_path / "config.yaml"
    f.write_bytes(content)
    refused(tmp_path, lambda: load(f), expected)


# ----------------------------------------------------------------------------------------- model files
def _s4d_file(tmp_path: Path, kind: str) -> tuple[Path, str]:
    from workloads.api import model_path

    good = model_path("s4d_digits_float")
    raw = good.read_bytes()
    if kind == "truncated":
        f = tmp_path / "m.safetensors"
        f.write_bytes(raw[: len(raw) // 2])
        return f, "cannot read weight file"
    if kind == "empty":
        f = tmp_path / "m.safetensors"
        f.write_bytes(b"")
        return f, "cannot read weight file"
    if kind == "text-as-npz":
        f = tmp_path / "m.npz"
        f.write_text("hello")
        return f, "cannot read weight file"
    if kind == "text-as-h5":
        f = tmp_path / "m.h5"
        f.write_text("hello")
        return f, "cannot read weight file"
    if kind == "no-metadata":
        f = tmp_path / "m.npz"
        np.savez(f, a=np.ones(3))
        return f, "checkpoint has neither the project's 'model' me"
    if kind == "suffix":
        f = tmp_path / "m.bin"
        f.write_bytes(raw)
        return f, "unknown weight-file format '.bin'"
    if kind == "missing":
        return tmp_path / "m.npz", "weight file not found"
    if kind == "missing-tensor":
        from workloads.io import load_weights, save_weights

        tensors, meta = load_weights(good)
        tensors.pop("decoder.bias")
        f = tmp_path / "m.npz"
        save_weights(f, tensors, meta)
        return f, "decoder.bias: tensor missing from checkpoint"
    if kind == "nan-weight":
        from workloads.io import load_weights, save_weights

        tensors, meta = load_weights(good)
        tensors["decoder.bias"] = np.full_like(tensors["decoder.bias"], np.nan)
        f = tmp_path / "m.npz"
        save_weights(f, tensors, meta)
        return f, "decoder.bias: must be a finite real array"
    raise AssertionError(kind)


S4D_KINDS = [
    "truncated",
    "empty",
    "text-as-npz",
    "text-as-h5",
    "no-metadata",
    "suffix",
    "missing",
    "missing-tensor",
    "nan-weight",
]


@pytest.mark.parametrize("kind", S4D_KINDS)
def test_bad_s4d_checkpoint_names_file_or_tensor(tmp_path, kind):
    from workloads.s4d.model import S4DModel

    f, expected = _s4d_file(tmp_path, kind)
    names_file = kind not in ("missing-tensor", "nan-weight")  # these name the tensor
    refused(tmp_path, lambda: S4DModel.load(f), expected, *([f.name] if names_file else []))


def _nir_file(tmp_path: Path, kind: str) -> tuple[Path, str]:
    import h5py
    import nir

    graph = nir.NIRGraph.from_list(
        nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2)),
        nir.LIF(tau=np.full(2, 0.01), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2)),
    )
    good = tmp_path / "good.nir"
    nir.write(str(good), graph)
    f = tmp_path / "m.nir"
    if kind == "truncated":
        f.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
        return f, "cannot read as HDF5 (truncated or not an .nir file)"
    if kind == "empty":
        f.write_bytes(b"")
        return f, "NIR file is empty"
    if kind == "text":
        f.write_text("LIF -> Affine")
        return f, "cannot read as HDF5"
    if kind == "non-nir-hdf5":
        with h5py.File(f, "w") as h:
            h["x"] = [1]
        return f, "not a NIR file: no top-level 'node' group"
    if kind == "unknown-node":
        shutil.copy(good, f)
        with h5py.File(f, "r+") as h:
            node = sorted(h["node"]["nodes"])[0]
            del h["node"]["nodes"][node]["type"]
            h["node"]["nodes"][node]["type"] = b"Quantum"
        return f, f"node {node}: unsupported NIR node type Quantum"
    if kind == "missing":
        return f, "NIR file not found"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["truncated", "empty", "text", "non-nir-hdf5", "unknown-node", "missing"])
def test_bad_nir_file_is_a_data_error_naming_file_and_node(tmp_path, kind):
    from aimc_sim.errors import DataError
    from workloads.snn.nir_graph import import_nir

    f, expected = _nir_file(tmp_path, kind)
    refused(tmp_path, lambda: import_nir(f, 1e-3, 1.0), str(f), expected, error=DataError)


# ------------------------------------------------------------------------------------------ data files
GOOD_CSV = "# kind: fefet\namplitude[V],width[us],vt[V]\n1,1,1.43\n2,1,1.52\n3,1,1.61\n"
CSV_CASES = [
    ("binary", b"\xff\xfe\x00\x01", "not a UTF-8 text file"),
    ("empty", b"", "no header line found"),
    ("comments-only", b"# kind: fefet\n", "no header line found"),
    ("ragged", GOOD_CSV.replace("2,1,1.52", "2,1").encode(), "row 2 (line 4)"),
    ("not-a-number", GOOD_CSV.replace("1.52", "one").encode(), "line 4"),
    ("nan", GOOD_CSV.replace("1.52", "nan").encode(), "line 4"),
    ("duplicate-column", GOOD_CSV.replace("width[us]", "vt[V]").encode(), "column 'vt'"),
    ("wrong-kind", GOOD_CSV.replace("kind: fefet", "kind: toaster").encode(), "toaster"),
]


@pytest.mark.parametrize(("content", "expected"), [c[1:] for c in CSV_CASES], ids=[c[0] for c in CSV_CASES])
def test_bad_measurement_file_names_file_and_row(tmp_path, content, expected):
    from calibration.measurements import load_measurement

    f = tmp_path / "m.csv"
    f.write_bytes(content)
    refused(tmp_path, lambda: load_measurement(f), "m.csv", expected)


@pytest.mark.parametrize("kind", ["text", "group"])
def test_bad_measurement_hdf5(tmp_path, kind):
    import h5py

    from calibration.measurements import load_measurement

    f = tmp_path / "m.h5"
    if kind == "text":
        f.write_text("not hdf5")
    else:
        with h5py.File(f, "w") as h:
            h["x"] = [1.0]
    refused(
        tmp_path, lambda: load_measurement(f, group="nope" if kind == "group" else None), "m.h5", "cannot read HDF5"
    )


# ------------------------------------------------------------------------------------ filesystem conditions
def _mount(folder: Path, size: str) -> bool:
    folder.mkdir()
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    return ok.returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs (needs root and mount permission; skipped otherwise)."""
    disk = tmp_path / "disk"
    if not _mount(disk, "256k"):
        pytest.skip("cannot mount a tmpfs here (not root or no mount permission)")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def _sweep_spec(output: Path, seeds: int = 2) -> dict:
    return {
        "evaluator": "sweep_helpers:noisy_matmul",
        "base": {"size": 16, "noise": 0.0, "bits": 8, "preset": "pcm"},
        "axes": [{"kind": "grid", "params": {"noise": [0.0, 0.1, 0.2, 0.3]}}],
        "seeds": seeds,
        "output": str(output),
    }


def _fill(disk: Path, leave: int) -> None:
    """Fill the tmpfs until ``leave`` bytes are free."""
    free = shutil.disk_usage(disk).free
    with open(disk / "filler", "wb") as fh:
        fh.write(b"\0" * max(free - leave, 0))


def test_full_disk_before_the_sweep_is_a_clear_error_and_leaves_nothing(small_disk):
    from aimc_sim.errors import StorageError
    from aimc_sim.sweep import load_spec, run_sweep

    _fill(small_disk, 0)
    spec = load_spec(_sweep_spec(small_disk / "r" / "out.h5"))
    run = lambda: run_sweep(spec, workers=0, progress=False, allow_code=True)  # noqa: E731
    refused(small_disk, run, "out.h5.journal: cannot write the journal: the disk is full", error=StorageError)


def test_disk_filling_up_during_the_sweep_is_a_clear_error_and_leaves_no_temp_file(small_disk):
    from aimc_sim.errors import StorageError
    from aimc_sim.sweep import load_spec, run_sweep

    _fill(small_disk, 12 * 1024)  # room for the journal, not for the HDF5 file
    with pytest.raises(StorageError, match=r"out\.h5: cannot write the result file: the disk is full"):
        run_sweep(load_spec(_sweep_spec(small_disk / "out.h5")), workers=0, progress=False, allow_code=True)
    assert not list(small_disk.glob(".out.h5.tmp*")) and not (small_disk / "out.h5").exists()
    (small_disk / "filler").unlink()  # room again: the resumed run finishes from the journal
    done = run_sweep(load_spec(_sweep_spec(small_disk / "out.h5")), workers=0, progress=False, allow_code=True)
    assert done.n_skipped > 0 and sorted(p.name for p in small_disk.iterdir()) == ["out.h5"]


def test_read_only_disk_reopens_a_complete_result_and_refuses_writes_clearly(small_disk):
    from aimc_sim.errors import StorageError
    from aimc_sim.sweep import load_results, load_spec, run_sweep

    out = small_disk / "out.h5"
    run_sweep(load_spec(_sweep_spec(out)), workers=0, progress=False, allow_code=True)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    before = snapshot(small_disk)
    again = run_sweep(load_spec(_sweep_spec(out)), workers=0, progress=False, allow_code=True)
    assert (again.n_run, again.n_skipped) == (0, 8) and len(load_results(out)) == 8
    with pytest.raises(StorageError, match="the file system is read-only"):
        run_sweep(load_spec(_sweep_spec(out, seeds=3)), workers=0, progress=False, allow_code=True)
    with pytest.raises(StorageError, match="the file system is read-only"):
        run_sweep(load_spec(_sweep_spec(small_disk / "new" / "x.h5")), workers=0, progress=False, allow_code=True)
    assert snapshot(small_disk) == before


def test_cli_on_a_full_disk(small_disk, monkeypatch, capsys):
    from bad_input import cli_refused

    spec = small_disk.parent / "spec.yaml"
    spec.write_text(yaml.safe_dump(_sweep_spec(small_disk / "out.h5")))
    _fill(small_disk, 0)
    args = ["sweep", str(spec), "--workers", "0", "--allow-code", "--no-progress"]
    cli_refused(capsys, small_disk, args, "the disk is full")
