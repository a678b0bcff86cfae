"""Weight files (npz, HDF5, safetensors via the safetensors package, torch .pt) and checkpoint validation."""

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
    with pytest.raises(DataError, match=r"w\.safetensors: cannot read weight file \(SafetensorError\)"):
        load_weights(path)


def test_unknown_suffix_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="format"):
        save_weights(tmp_path / "w.onnx", {}, {})
    with pytest.raises(DataError, match="read-only"):
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
    """Project keys without metadata: the config is inferred from the shapes; unrelated tensors are an error."""
    m = _model(rng)
    m2 = S4DModel.load(save_weights(tmp_path / "plain.npz", m.weights, {}))
    assert m2.config.to_dict() == m.config.to_dict()
    path = save_weights(tmp_path / "bad.npz", {"fc.weight": np.ones((2, 2))}, {})
    with pytest.raises(DataError, match=r"bad\.npz: checkpoint has neither the project's 'model' metadata"):
        S4DModel.load(path)


def test_safetensors_all_dtypes_incl_bf16_from_torch(tmp_path):
    """A file written by safetensors.torch with BF16, F16, I64, U8 and BOOL tensors reads back exactly."""
    import torch
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(0)
    t = {
        "bf": torch.randn(3, 4, generator=g).to(torch.bfloat16),
        "h": torch.randn(5, generator=g).half(),
        "i": torch.arange(-3, 3),
        "u": torch.arange(4, dtype=torch.uint8),
        "b": torch.tensor([True, False]),
    }
    save_file(t, str(tmp_path / "t.safetensors"), metadata={"other": "tool"})
    got, meta = load_weights(tmp_path / "t.safetensors")
    assert meta == {}
    np.testing.assert_array_equal(got["bf"], t["bf"].float().numpy())
    assert got["bf"].dtype == np.float32 and got["h"].dtype == np.float16 and got["b"].dtype == np.bool_
    for k in ("h", "i", "u", "b"):
        np.testing.assert_array_equal(got[k], t[k].numpy())


def test_pt_state_dict_and_wrapped(tmp_path):
    import torch

    sd = {"w": torch.ones(2, 3, dtype=torch.bfloat16), "b": torch.zeros(2, dtype=torch.float64)}
    torch.save(sd, tmp_path / "a.pt")
    torch.save({"state_dict": sd, "epoch": 3}, tmp_path / "b.pt")
    for name in ("a.pt", "b.pt"):
        got, meta = load_weights(tmp_path / name)
        assert meta == {} and got["w"].dtype == np.float32 and got["b"].dtype == np.float64
    torch.save([1, 2], tmp_path / "c.pt")
    with pytest.raises(DataError, match=r"c\.pt: must hold a state dict"):
        load_weights(tmp_path / "c.pt")
    (tmp_path / "d.pt").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"d\.pt: cannot read weight file"):
        load_weights(tmp_path / "d.pt")
