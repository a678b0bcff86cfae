"""GLR as a registered model family: its checkpoints are told from S4D's by the metadata (not the suffix),
``workloads.load`` and ``aimc report`` run them, and the float result equals the model's own."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import safetensors
import yaml

import workloads
from aimc_sim.cli import main
from aimc_sim.errors import ConfigError, DataError
from aimc_sim.sweep import load_results
from workloads import api
from workloads.data import make_grammar_task
from workloads.glr import GLRConfig, GLRModel
from workloads.io import load_weights, save_weights
from workloads.registry import family_for
from workloads.s4d.config import S4DConfig
from workloads.s4d.model import S4DModel


@pytest.fixture(scope="module")
def grammar():
    return make_grammar_task(n_train=32, n_test=16, seq_len=10, seed=1)


def _glr(data, seed=0) -> GLRModel:
    cfg = GLRConfig(d_in=data.d_in, n_classes=data.n_classes, d_model=8)
    return GLRModel.random(cfg, np.random.default_rng(seed))


@pytest.mark.parametrize("suffix", [".safetensors", ".npz", ".h5"])
def test_glr_and_s4d_checkpoints_share_suffixes_and_load_as_their_family(tmp_path, grammar, suffix):
    glr = _glr(grammar)
    glr.save(tmp_path / f"glr{suffix}")
    S4DModel.random(S4DConfig(d_in=2, n_classes=3, d_model=4, d_state=4, n_layers=1), np.random.default_rng(0)).save(
        tmp_path / f"s4d{suffix}"
    )
    assert family_for(tmp_path / f"glr{suffix}").name == "glr"
    assert family_for(tmp_path / f"s4d{suffix}").name == "s4d"
    loaded = workloads.load(tmp_path / f"glr{suffix}")
    assert isinstance(loaded, GLRModel)
    np.testing.assert_array_equal(loaded.forward(grammar.x_test), glr.forward(grammar.x_test))
    assert isinstance(workloads.load(tmp_path / f"s4d{suffix}"), S4DModel)


def test_the_family_key_is_in_the_safetensors_header(tmp_path, grammar):
    path = _glr(grammar).save(tmp_path / "glr.safetensors")
    with safetensors.safe_open(str(path), framework="numpy") as f:
        assert json.loads(f.metadata()["aimc"])["family"] == "glr"


def test_metadata_decides_not_the_suffix(tmp_path, grammar):
    """The same tensors are GLR or not by the metadata alone; a legacy GLR file (no family key) is recognised by
    its config, and an explicit other family wins over the config."""
    tensors, meta = load_weights(_glr(grammar).save(tmp_path / "a.safetensors"))
    legacy = {k: v for k, v in meta.items() if k != "family"}
    save_weights(tmp_path / "legacy.safetensors", tensors, legacy)
    save_weights(tmp_path / "other.safetensors", tensors, {**legacy, "family": "s4d"})
    assert family_for(tmp_path / "legacy.safetensors").name == "glr"
    assert family_for(tmp_path / "other.safetensors").name == "s4d"


def test_corrupt_file_goes_to_the_default_family_error(tmp_path, grammar):
    path = _glr(grammar).save(tmp_path / "glr.safetensors")
    path.write_bytes(path.read_bytes()[:40])
    assert family_for(path).name == "s4d"
    with pytest.raises(DataError, match="glr.safetensors: cannot read weight file"):
        workloads.load(path)


def test_sweep_point_and_report_cli(tmp_path, grammar):
    glr = _glr(grammar)
    path = glr.save(tmp_path / "glr.safetensors")
    data = tmp_path / "grammar.npz"
    np.savez(data, x_train=grammar.x_train, y_train=grammar.y_train, x_test=grammar.x_test, y_test=grammar.y_test)
    point = {"model": str(path), "hardware": {"backend": "float"}, "dataset": {"name": str(data), "n_test": 16}}
    res = api.evaluate(point, seed=0)
    assert res.accuracy == pytest.approx(glr.evaluate(grammar, 16))
    hw = tmp_path / "hw.yaml"
    hw.write_text(yaml.safe_dump({"tile": "pcm-default", "t": 60.0}))
    out = tmp_path / "rep"
    args = ["report", str(path), "--data", str(data), "--hardware", str(hw), "-o", str(out)]
    assert main([*args, "--n-test", "16", "--seeds", "1", "--workers", "0", "--no-progress"]) == 0
    table = load_results(out / "results.h5")
    assert len(table) == 1
    for key in ("accuracy", "energy_j", "latency_s"):
        assert all(math.isfinite(v) for v in table.columns[key])
    assert "| family | glr |" in (out / "report.md").read_text()


def test_bad_glr_point_names_the_field(tmp_path, grammar):
    path = _glr(grammar).save(tmp_path / "glr.safetensors")
    with pytest.raises(ConfigError, match="model.w_bits"):
        api.validate_point({"model": {"name": str(path), "w_bits": 4}, "dataset": {"name": "digits_pixel"}})
    with pytest.raises(ConfigError, match="dataset"):
        api.validate_point({"model": str(path), "dataset": {"name": "digits_pixel"}})
