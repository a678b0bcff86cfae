"""Crash-safe sweep results: an fsync'ed journal plus an atomically replaced HDF5 file.

Every finished point is appended as one JSON line to ``<output>.journal`` and fsync'ed before
the next one is accepted. The HDF5 file is rebuilt from all known rows into a temporary file in
the same directory, fsync'ed and moved over the old one with :func:`os.replace`, so a reader
(or a SIGKILL at any instant) only ever sees a complete old or a complete new file. On open,
the rows of the HDF5 file and of the journal are merged by point hash (a torn last journal line
is dropped), so a rerun knows exactly which points are finished. After a complete write the
journal is removed.

HDF5 layout (``format = "aimc-sweep/1"``):

* file attributes: ``spec`` (JSON), ``aimc_sim_version``, ``started`` (UTC ISO time of the
  first run), ``updated``, ``n_points``, ``n_expected``, ``complete``;
* group ``points``: one 1-D dataset per column, one row per point. Column names (attribute
  ``columns`` of the group, and ``name`` of each dataset) are ``hash``, ``seed``, ``rng_seed``,
  ``wall_s``, ``config`` (JSON), ``param/<dotted.path>`` for the swept parameters and the keys of
  the evaluator's flat result dict (e.g. ``accuracy``, ``energy_j``) as they are.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aimc_sim.errors import DataError, SimulationError

__all__ = ["ResultTable", "SweepStore", "load_results", "FORMAT"]

FORMAT = "aimc-sweep/1"
_FIXED = ("hash", "seed", "rng_seed", "wall_s", "config")


def utc_now() -> str:
    """Current UTC time, ISO 8601 with seconds."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class ResultTable:
    """Columns of a sweep result file (one row per point) and its attributes."""

    columns: dict[str, np.ndarray]
    attrs: dict[str, Any]

    def __len__(self) -> int:
        return len(self.columns["hash"]) if "hash" in self.columns else 0

    @property
    def spec(self) -> dict[str, Any]:
        """The sweep spec stored in the file."""
        return json.loads(self.attrs["spec"])

    @property
    def params(self) -> list[str]:
        """Names of the swept-parameter columns (``param/...``)."""
        return [c for c in self.columns if c.startswith("param/")]

    @property
    def metrics(self) -> list[str]:
        """Names of the evaluator's result columns."""
        return [c for c in self.columns if c not in _FIXED and not c.startswith("param/")]

    def rows(self) -> list[dict[str, Any]]:
        """The table as a list of row dicts."""
        names = list(self.columns)
        return [{n: _scalar(self.columns[n][i]) for n in names} for i in range(len(self))]

    def to_pandas(self, *, config: bool = False) -> Any:
        """A pandas DataFrame, one row per point and seed (:func:`aimc_sim.sweep.export.to_pandas`)."""
        from aimc_sim.sweep.export import to_pandas

        return to_pandas(self, config=config)

    def to_xarray(self) -> Any:
        """An xarray Dataset with the sweep axes and seed as dimensions (:func:`aimc_sim.sweep.export.to_xarray`)."""
        from aimc_sim.sweep.export import to_xarray

        return to_xarray(self)


def _scalar(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.decode()
    return v.item() if isinstance(v, np.generic) else v


def _dataset_name(column: str) -> str:
    return column.replace("/", "|")


def load_results(path: str | Path) -> ResultTable:
    """Read a sweep HDF5 file; raises :class:`DataError` if it is not one."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise DataError(str(path), "file not found")
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise DataError(str(path), f"not an aimc sweep file (format attribute {f.attrs.get('format')!r})")
            attrs = {k: _scalar(v) for k, v in f.attrs.items()}
            group = f["points"]
            columns = {}
            for name in group.attrs["columns"]:
                name = _scalar(name)
                ds = group[_dataset_name(name)]
                data = ds[()]
                if ds.dtype.kind == "O":
                    data = np.array([_scalar(x) for x in data], dtype=object)
                columns[name] = data
    except OSError as e:
        raise DataError(str(path), f"cannot read HDF5 file: {e}") from None
    return ResultTable(columns, attrs)


def _column_array(values: Sequence[Any]) -> np.ndarray:
    """One typed column: int64, float64 (NaN for missing) or UTF-8 strings ('' for missing)."""
    present = [v for v in values if v is not None]
    if not present:
        return np.full(len(values), math.nan)
    if len(present) == len(values) and all(isinstance(v, (bool, np.bool_)) for v in present):
        return np.array(values, dtype=np.bool_)
    if present and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in present):
        if len(present) == len(values):
            return np.array(values, dtype=np.int64)
    if all(isinstance(v, (int, float, np.number, np.bool_)) for v in present):
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    return np.array(["" if v is None else (v if isinstance(v, str) else json.dumps(v)) for v in values], dtype=object)


def _row_columns(record: Mapping[str, Any]) -> dict[str, Any]:
    row = {
        "hash": record["hash"],
        "seed": record["seed"],
        "rng_seed": record["rng_seed"],
        "wall_s": record["wall_s"],
        "config": json.dumps(record["config"], sort_keys=True),
    }
    row.update({f"param/{k}": v for k, v in record["params"].items()})
    row.update(record["metrics"])
    return row


def _record_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    params = {k[len("param/") :]: v for k, v in row.items() if k.startswith("param/")}
    metrics = {k: v for k, v in row.items() if k not in _FIXED and not k.startswith("param/")}
    return {
        "hash": row["hash"],
        "seed": int(row["seed"]),
        "rng_seed": int(row["rng_seed"]),
        "wall_s": float(row["wall_s"]),
        "config": json.loads(row["config"]),
        "params": params,
        "metrics": {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metrics.items()},
    }


class SweepStore:
    """The result file of one sweep, opened for appending (holds an exclusive lock on the journal)."""

    def __init__(self, output: str | Path):
        self.output = Path(output)
        self.journal = self.output.with_name(self.output.name + ".journal")
        self.records: dict[str, dict[str, Any]] = {}
        self.started = utc_now()
        self._fd: int | None = None

    def open(self) -> SweepStore:
        """Create the folder, take the lock and load every finished row (HDF5 file + journal)."""
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.journal, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise SimulationError(f"{self.output}: another sweep is writing this file") from None
        if self.output.exists():
            table = load_results(self.output)
            self.started = str(table.attrs.get("started", self.started))
            for row in table.rows():
                self.records[row["hash"]] = _record_from_row(row)
        self._read_journal()
        return self

    def _read_journal(self) -> None:
        assert self._fd is not None
        with open(self.journal, "rb") as fh:
            data = fh.read()
        good = 0
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break  # torn write of the last record: drop it
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                break
            good += len(line)
            if entry.get("kind") == "header":
                if not self.output.exists():
                    self.started = entry["started"]
            else:
                self.records[entry["hash"]] = entry
        if good < len(data):
            os.ftruncate(self._fd, good)
            os.fsync(self._fd)
        if good == 0:
            self._write_line({"kind": "header", "started": self.started})

    def _write_line(self, entry: Mapping[str, Any]) -> None:
        assert self._fd is not None
        os.write(self._fd, (json.dumps(entry) + "\n").encode())
        os.fsync(self._fd)

    def add(self, record: Mapping[str, Any]) -> None:
        """Durably record one finished point (returns after fsync)."""
        self._write_line(record)
        self.records[record["hash"]] = dict(record)

    def write_hdf5(self, spec: Mapping[str, Any], version: str, order: Sequence[str], complete: bool) -> None:
        """Rebuild the HDF5 file from every known row, atomically (temp file + fsync + os.replace).

        Rows follow ``order`` (the spec's point order); rows of points not in the spec follow, by hash.
        """
        import h5py

        ordered = [self.records[h] for h in order if h in self.records]
        extra = sorted(set(self.records) - set(order))
        ordered += [self.records[h] for h in extra]
        rows = [_row_columns(r) for r in ordered]
        names = list(_FIXED)
        for row in rows:
            names += [k for k in row if k not in names]
        tmp = self.output.with_name(f".{self.output.name}.tmp{os.getpid()}")
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["spec"] = json.dumps(spec, sort_keys=True)
            f.attrs["aimc_sim_version"] = version
            f.attrs["started"] = self.started
            f.attrs["updated"] = utc_now()
            f.attrs["n_points"] = len(rows)
            f.attrs["n_expected"] = len(order)
            f.attrs["complete"] = bool(complete)
            group = f.create_group("points")
            group.attrs["columns"] = np.array(names, dtype=h5py.string_dtype())
            for name in names:
                arr = _column_array([row.get(name) for row in rows])
                if arr.dtype == object:
                    ds = group.create_dataset(_dataset_name(name), data=arr, dtype=h5py.string_dtype())
                else:
                    ds = group.create_dataset(_dataset_name(name), data=arr)
                ds.attrs["name"] = name
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.output)
        _fsync_dir(self.output.parent)

    def finish(self) -> None:
        """Drop the journal (everything is in the HDF5 file) and release the lock."""
        self.journal.unlink(missing_ok=True)
        self.close()

    def close(self) -> None:
        """Release the lock (the journal stays for the next run)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> SweepStore:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()
