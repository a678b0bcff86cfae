"""Weight files (npz, HDF5, hand-written safetensors) and checkpoint validation."""

import json
import struct

import numpy as np
import pytest

from aimc_sim.errors import DataError
from workloads.io import load_weights, save_weights
from workloads.s4d.config import S4DConfig
from workloads.s4d.model import S4DModel


@pytest.mark.parametrize("suffix", [".npz", ".h5", ".safetensors"])
def test_roundtrip_all_formats(tmp_path, rng, suffix):
    t = {"a": rng.standard_normal((3, 4)), "b.c": rng.standard_normal(5).astype(np.float32), "i": np.arange(3)}
    meta = {"model": {"d_in": 1}, "training": {"lr": 0.01, "bits": "ternary"}}
    path = save_weights(tmp_path / f"w{suffix}", t, meta)
    t2, meta2 = load_weights(path)
    assert meta2 == meta
    for k, v in t.items():
        assert t2[k].dtype == v.dtype
        np.testing.assert_array_equal(t2[k], v)


def test_safetensors_layout_follows_spec(tmp_path):
    """8-byte little-endian header length, JSON header with dtype/shape/data_offsets, raw LE data."""
    path = save_weights(tmp_path / "w.safetensors", {"x": np.array([1.0, 2.0], np.float32)}, {"k": 1})
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    assert header["x"] == {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
    assert json.loads(header["__metadata__"]["aimc"]) == {"k": 1}
    np.testing.assert_array_equal(np.frombuffer(raw[8 + n :], "<f4"), [1.0, 2.0])


def test_safetensors_corrupt_offsets(tmp_path):
    path = save_weights(tmp_path / "w.safetensors", {"x": np.zeros(4)}, {})
    raw = bytearray(path.read_bytes())
    path.write_bytes(bytes(raw[:-8]))
    with pytest.raises(DataError, match="x"):
        load_weights(path)


def test_unknown_suffix_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="format"):
        save_weights(tmp_path / "w.pt", {}, {})
    with pytest.raises(DataError, match="not found"):
        load_weights(tmp_path / "none.npz")


def _model(rng):
    return S4DModel.random(S4DConfig(d_in=1, n_classes=3, d_model=4, d_state=4, n_layers=1), rng)


@pytest.mark.parametrize("suffix", [".npz", ".hdf5", ".safetensors"])
def test_model_save_load_same_outputs(tmp_path, rng, suffix):
    m = _model(rng)
    path = m.save(tmp_path / f"m{suffix}", training={"epochs": 1})
    m2 = S4DModel.load(path)
    x = rng.random((2, 8, 1)).astype(np.float32)
    np.testing.assert_array_equal(m.forward(x), m2.forward(x))
    assert m2.metadata["training"] == {"epochs": 1}


def test_checkpoint_missing_tensor_named(tmp_path, rng):
    m = _model(rng)
    w = dict(m.weights)
    del w["layers.0.ssm.C"]
    path = save_weights(tmp_path / "bad.npz", w, {"model": m.config.to_dict()})
    with pytest.raises(DataError, match=r"layers\.0\.ssm\.C.*missing"):
        S4DModel.load(path)


def test_checkpoint_misshaped_tensor_named(tmp_path, rng):
    m = _model(rng)
    w = dict(m.weights) | {"decoder.weight": np.zeros((3, 5))}
    path = save_weights(tmp_path / "bad.safetensors", w, {"model": m.config.to_dict()})
    with pytest.raises(DataError, match=r"decoder\.weight: must have shape \(3, 4\), got \(3, 5\)"):
        S4DModel.load(path)


def test_checkpoint_without_model_config(tmp_path, rng):
    path = save_weights(tmp_path / "bad.npz", _model(rng).weights, {})
    with pytest.raises(DataError, match="'model' config"):
        S4DModel.load(path)
