"""Model weights on disk: npz, HDF5, safetensors or PyTorch ``.pt``, with a JSON metadata dict.

- ``.npz``: one array per tensor, metadata as JSON text in the entry ``__metadata__``.
- ``.h5`` / ``.hdf5``: one dataset per tensor, metadata as JSON text in the root attribute ``metadata``.
- ``.safetensors``: read and written with the ``safetensors`` package; our metadata dict is stored as JSON
  under the header metadata key ``"aimc"``. Every safetensors dtype is read: BF16 becomes float32 (exact:
  a BF16 value is the upper half of a float32), the others their numpy type; FP8 is rejected by name.
- ``.pt`` / ``.pth`` (read only, needs torch): a state dict saved with ``torch.save`` (loaded with
  ``weights_only=True``), or a dict holding one under ``state_dict`` / ``model`` (Lightning, training
  scripts); floating tensors keep their dtype (BF16 -> float32), metadata is empty.

Malformed files raise :class:`aimc_sim.errors.DataError` naming the file and the tensor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from aimc_sim.errors import DataError

_ST_DTYPES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "I64": np.int64,
    "I32": np.int32,
    "I16": np.int16,
    "I8": np.int8,
    "U64": np.uint64,
    "U32": np.uint32,
    "U16": np.uint16,
    "U8": np.uint8,
    "BOOL": np.bool_,
}
FORMATS = (".npz", ".h5", ".hdf5", ".safetensors", ".pt", ".pth")
_READ_ONLY = (".pt", ".pth")


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise DataError(str(path), f"unknown weight-file format {suffix!r}; allowed: {', '.join(FORMATS)}")
    return suffix


def save_weights(path: str | Path, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> Path:
    """Write ``tensors`` and the JSON-serialisable ``metadata`` in the format given by the suffix."""
    path = Path(path)
    fmt = _format(path)
    if fmt in _READ_ONLY:
        raise DataError(str(path), f"{fmt} is read-only here; write .safetensors, .npz or .h5")
    meta = json.dumps(metadata, sort_keys=True)
    arrays = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    if fmt == ".npz":
        np.savez(path, __metadata__=np.array(meta), **arrays)
    elif fmt in (".h5", ".hdf5"):
        import h5py

        with h5py.File(path, "w") as f:
            f.attrs["metadata"] = meta
            for k, v in arrays.items():
                f.create_dataset(k, data=v)
    else:
        from safetensors.numpy import save_file

        bad = [k for k, v in arrays.items() if v.dtype.type not in _ST_DTYPES.values()]
        if bad:
            raise DataError(bad[0], f"dtype {arrays[bad[0]].dtype} cannot be written to safetensors")
        save_file(arrays, str(path), metadata={"aimc": meta})
    return path


def load_weights(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read (tensors, metadata) written by :func:`save_weights` (or any safetensors file)."""
    path = Path(path)
    fmt = _format(path)
    if not path.is_file():
        raise DataError(str(path), "weight file not found")
    try:
        if fmt == ".npz":
            with np.load(path, allow_pickle=False) as z:
                tensors = {k: z[k] for k in z.files if k != "__metadata__"}
                meta = str(z["__metadata__"]) if "__metadata__" in z.files else "{}"
        elif fmt in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as f:
                tensors = {}
                f.visititems(lambda k, v: tensors.__setitem__(k, v[()]) if hasattr(v, "shape") else None)
                meta = f.attrs.get("metadata", "{}")
        elif fmt == ".safetensors":
            tensors, st_meta = _load_safetensors(path)
            meta = st_meta.get("aimc", "{}")
        else:
            tensors, meta = _load_torch(path), "{}"
        return tensors, json.loads(meta)
    except DataError:
        raise
    except Exception as e:  # h5py, numpy, safetensors and torch each raise their own types on corrupt files
        raise DataError(str(path), f"cannot read weight file ({type(e).__name__}): {e}") from None


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata dict of a weight file without reading its tensors where the format allows it (safetensors
    header, HDF5 attribute; npz reads its one metadata entry); ``{}`` for ``.pt`` files."""
    path = Path(path)
    fmt = _format(path)
    if not path.is_file():
        raise DataError(str(path), "weight file not found")
    try:
        if fmt == ".safetensors":
            import safetensors

            with safetensors.safe_open(str(path), framework="numpy") as f:
                meta = (f.metadata() or {}).get("aimc", "{}")
        elif fmt in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as f:
                meta = f.attrs.get("metadata", "{}")
        elif fmt == ".npz":
            with np.load(path, allow_pickle=False) as z:
                meta = str(z["__metadata__"]) if "__metadata__" in z.files else "{}"
        else:
            meta = "{}"
        out = json.loads(meta)
    except Exception as e:  # each reader raises its own types on corrupt files
        raise DataError(str(path), f"cannot read weight file metadata ({type(e).__name__}): {e}") from None
    if not isinstance(out, dict):
        raise DataError(str(path), f"metadata must be a JSON object, got {type(out).__name__}")
    return out


def _from_bytes(name: str, dtype: str, shape: list[int], data: bytes, source: str) -> np.ndarray:
    if dtype == "BF16":
        bits = np.frombuffer(data, dtype="<u2").astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape)
    if dtype not in _ST_DTYPES:
        raise DataError(
            f"{source}:{name}", f"unsupported safetensors dtype {dtype!r}; allowed: BF16, {sorted(_ST_DTYPES)}"
        )
    return np.frombuffer(data, dtype=np.dtype(_ST_DTYPES[dtype]).newbyteorder("<")).reshape(shape).copy()


def _load_safetensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    import safetensors

    raw = path.read_bytes()
    with safetensors.safe_open(str(path), framework="numpy") as f:
        meta = f.metadata() or {}
    entries = safetensors.deserialize(raw)
    return {n: _from_bytes(n, e["dtype"], e["shape"], bytes(e["data"]), str(path)) for n, e in entries}, meta


def _load_torch(path: Path) -> dict[str, np.ndarray]:
    try:
        import torch
    except ImportError:
        raise DataError(str(path), "reading .pt checkpoints needs PyTorch (pip install torch)") from None
    obj = torch.load(str(path), map_location="cpu", weights_only=True)
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "model_state_dict"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise DataError(str(path), "must hold a state dict (name -> tensor), e.g. torch.save(model.state_dict(), path)")
    out = {}
    for k, v in obj.items():
        v = v.detach().cpu()
        out[str(k)] = (v.float() if v.dtype == torch.bfloat16 else v).numpy().copy()
    return out
