"""User data files: ``.npz`` and HDF5 (``.h5`` / ``.hdf5``) holding inputs and integer labels (docs/data.md).

A file holds either ``x`` and ``y`` (all of it is the test split; the train split is empty) or
``x_train``, ``y_train``, ``x_test``, ``y_test`` (HDF5: datasets at the root). Optional entries: ``kind``
(a string, see below) and ``n_classes`` (an integer; default ``max(y) + 1``).

``kind`` says what the inputs are (argument, else the file's ``kind`` entry, else from the shape):

| kind | x shape | labels | returned as |
|---|---|---|---|
| ``images`` | (N, C, H, W) or (N, H, W) (C = 1 added) | (N,) | :class:`ArrayDataset` |
| ``vectors`` | (N, D) | (N,) | :class:`ArrayDataset` |
| ``sequences`` | (N, L, D) | (N,) or per step (N, L), -1 = not scored | :class:`SequenceDataset` |
| ``spikes`` | (N, T, D) spike raster | (N,) | :class:`workloads.snn.data.SpikeDataset` (time-major) |

Without a kind, 4-D is ``images``, 3-D ``sequences`` and 2-D ``vectors``; (N, H, W) images and (N, T, D)
spike rasters need ``kind`` (in the file or as the argument). Inputs must be finite real numbers (float32 is
kept, other types become float32 unless float64); labels integers >= 0 (>= -1 for per-step labels). Any
other shape, NaN or a missing entry raises :class:`DataError` naming the file, the array and the expected
shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aimc_sim.errors import DataError
from workloads.data.base import SequenceDataset, SplitDataset

SUFFIXES = (".npz", ".h5", ".hdf5")
KINDS = ("images", "vectors", "sequences", "spikes")
_SHAPES = {
    "images": "(N, C, H, W) or (N, H, W)",
    "vectors": "(N, D)",
    "sequences": "(N, L, D)",
    "spikes": "(N, T, D)",
}
_NDIM = {"images": (3, 4), "vectors": (2,), "sequences": (3,), "spikes": (3,)}
_AUTO = {4: "images", 3: "sequences", 2: "vectors"}


@dataclass(frozen=True)
class ArrayDataset(SplitDataset):
    """Images (N, C, H, W) or feature vectors (N, D) with integer labels, train and test split."""

    kind: str = "images"

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample."""
        return tuple(self.x_test.shape[1:])


def is_data_file(name: Any) -> bool:
    """True if ``name`` names a data file (by suffix), so that it is not a built-in data set name."""
    return isinstance(name, (str, Path)) and Path(name).suffix.lower() in SUFFIXES


def _read(path: Path) -> dict[str, Any]:
    src = str(path)
    if not path.is_file():
        raise DataError(src, "data file not found")
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        import h5py

        with h5py.File(path, "r") as f:
            return {k: v[()] for k, v in f.items() if hasattr(v, "shape")}
    except Exception as e:  # numpy and h5py raise their own types on corrupt files
        raise DataError(src, f"cannot read data file ({type(e).__name__}): {e}") from None


def _text(v: Any) -> str:
    v = v.item() if isinstance(v, np.ndarray) else v
    return v.decode() if isinstance(v, bytes) else str(v)


def _inputs(x: Any, where: str, kind: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim not in _NDIM[kind]:
        raise DataError(where, f"{kind} must have shape {_SHAPES[kind]}, got {x.shape}")
    if x.dtype.kind not in "biuf":
        raise DataError(where, f"must hold real numbers, got dtype {x.dtype}")
    if not np.all(np.isfinite(x)):
        bad = np.argwhere(~np.isfinite(x))[0]
        raise DataError(where, f"contains NaN or inf (first at index {tuple(int(i) for i in bad)})")
    if kind == "spikes" and not np.all((x == 0) | (x == 1)):
        raise DataError(where, "a spike raster must hold only 0 and 1")
    if kind == "images" and x.ndim == 3:
        x = x[:, None]
    return x.astype(np.float64 if x.dtype == np.float64 else np.float32, copy=False)


def _labels(y: Any, x: np.ndarray, where: str, kind: str) -> np.ndarray:
    y = np.asarray(y)
    per_step = kind == "sequences" and y.ndim == 2
    want = f"({x.shape[0]},)" + (f" or per step ({x.shape[0]}, {x.shape[1]})" if kind == "sequences" else "")
    if y.shape != (x.shape[0],) and not (per_step and y.shape == x.shape[:2]):
        raise DataError(where, f"labels must have shape {want}, got {y.shape}")
    if y.dtype.kind not in "biuf" or not np.all(np.isfinite(y)) or np.any(y != np.rint(y)):
        raise DataError(where, "labels must be integers (class indices)")
    if y.size and y.min() < (-1 if per_step else 0):
        raise DataError(where, f"labels must be >= {-1 if per_step else 0}, got {y.min()}")
    return y.astype(np.int64)


def load_data_file(path: str | Path, kind: str | None = None) -> Any:
    """Load a user data file (see the module docstring); ``kind`` overrides the file's ``kind`` entry."""
    path = Path(path)
    src = str(path)
    entries = _read(path)
    if {"x_train", "y_train", "x_test", "y_test"} <= set(entries):
        splits = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}
    elif {"x", "y"} <= set(entries):
        splits = {"test": ("x", "y")}
    else:
        raise DataError(src, f"must hold x, y or x_train, y_train, x_test, y_test; found {sorted(entries)}")
    kind = kind or (_text(entries["kind"]) if "kind" in entries else None)
    x_first = np.asarray(entries[splits["test"][0]])
    kind = kind or _AUTO.get(x_first.ndim)
    if kind not in KINDS:
        msg = f"kind must be one of {KINDS}" if kind else f"x must have shape {' or '.join(_SHAPES.values())}"
        raise DataError(f"{src}:{splits['test'][0]}", f"{msg}, got {kind if kind else x_first.shape}")
    arrays: dict[str, np.ndarray] = {}
    for split, (xk, yk) in splits.items():
        x = _inputs(entries[xk], f"{src}:{xk}", kind)
        arrays[f"x_{split}"] = x
        arrays[f"y_{split}"] = _labels(entries[yk], x, f"{src}:{yk}", kind)
    if "train" not in splits:
        arrays["x_train"] = arrays["x_test"][:0]
        arrays["y_train"] = arrays["y_test"][:0]
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise DataError(f"{src}:x_train", f"sample shape {arrays['x_train'].shape[1:]} differs from x_test's")
    top = int(max(arrays["y_train"].max(initial=0), arrays["y_test"].max(initial=0))) + 1
    n_classes = int(entries["n_classes"]) if "n_classes" in entries else max(top, 2)
    if n_classes < top:
        raise DataError(f"{src}:n_classes", f"must be > the largest label {top - 1}, got {n_classes}")
    info = {"source": src, "kind": kind}
    if kind == "sequences":
        return SequenceDataset(path.stem, n_classes=n_classes, info=info, **arrays)
    if kind == "spikes":
        from workloads.snn.data import SpikeDataset

        t_major = {k: (np.swapaxes(v, 0, 1) if k.startswith("x") else v) for k, v in arrays.items()}
        return SpikeDataset(resolution=1, info=info | {"n_classes": n_classes}, **t_major)
    return ArrayDataset(path.stem, n_classes=n_classes, info=info, kind=kind, **arrays)
