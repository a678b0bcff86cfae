"""Model weights on disk: npz, HDF5 or safetensors, with a JSON metadata dict (model + training config).

- ``.npz``: one array per tensor, metadata as JSON text in the entry ``__metadata__``.
- ``.h5`` / ``.hdf5``: one dataset per tensor, metadata as JSON text in the root attribute ``metadata``.
- ``.safetensors``: implemented here with numpy + json (no extra dependency), following the format
  spec of https://github.com/huggingface/safetensors: an 8-byte little-endian header length N, an
  N-byte JSON header ``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}``,
  then the raw little-endian tensor bytes. Our metadata dict is stored as JSON under the key ``"aimc"``.

Malformed files raise :class:`aimc_sim.errors.DataError` naming the file and the tensor.
"""

from __future__ import annotations

import json
import struct
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
    "U8": np.uint8,
    "BOOL": np.bool_,
}
_ST_NAMES = {np.dtype(v): k for k, v in _ST_DTYPES.items()}
FORMATS = (".npz", ".h5", ".hdf5", ".safetensors")


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise DataError(str(path), f"unknown weight-file format {suffix!r}; allowed: {', '.join(FORMATS)}")
    return suffix


def save_weights(path: str | Path, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> Path:
    """Write ``tensors`` and the JSON-serialisable ``metadata`` in the format given by the suffix."""
    path = Path(path)
    fmt = _format(path)
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
        _save_safetensors(path, arrays, {"aimc": meta})
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
        else:
            tensors, st_meta = _load_safetensors(path)
            meta = st_meta.get("aimc", "{}")
        return tensors, json.loads(meta)
    except DataError:
        raise
    except (OSError, ValueError, KeyError) as e:
        raise DataError(str(path), f"cannot read weight file: {e}") from None


def _save_safetensors(path: Path, arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    blobs = []
    for name in sorted(arrays):
        a = arrays[name]
        if a.dtype not in _ST_NAMES:
            raise DataError(name, f"dtype {a.dtype} not supported by safetensors writer; allowed: {sorted(_ST_DTYPES)}")
        blob = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {
            "dtype": _ST_NAMES[a.dtype],
            "shape": list(a.shape),
            "data_offsets": [offset, offset + len(blob)],
        }
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the spec recommends 8-byte alignment of the data section
    with path.open("wb") as fh:
        fh.write(struct.pack("<Q", len(text)))
        fh.write(text)
        for blob in blobs:
            fh.write(blob)


def _load_safetensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    raw = path.read_bytes()
    if len(raw) < 8:
        raise DataError(str(path), "truncated safetensors file (no header length)")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise DataError(str(path), f"header length {n} exceeds file size {len(raw)}")
    header = json.loads(raw[8 : 8 + n])
    data = memoryview(raw)[8 + n :]
    meta = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        dtype = _ST_DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise DataError(f"{path}:{name}", f"unsupported dtype {info.get('dtype')!r}")
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        count = int(np.prod(shape)) if shape else 1
        if end > len(data) or end - begin != count * np.dtype(dtype).itemsize:
            raise DataError(
                f"{path}:{name}", f"data_offsets {begin}..{end} do not match shape {shape} ({info['dtype']})"
            )
        tensors[name] = np.frombuffer(data[begin:end], dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape).copy()
    return tensors, meta
