"""Crash-safe sweep results: an fsync'ed journal plus an atomically replaced HDF5 file.

Every finished point is appended as one JSON line to ``<output>.journal`` and fsync'ed before
the next one is accepted. The HDF5 file is rebuilt from all known rows into a temporary file in
the same directory, fsync'ed and moved over the old one with :func:`os.replace`, so a reader
(or a SIGKILL at any instant) only ever sees a complete old or a complete new file. On open,
the rows of the HDF5 file and of the journal are merged by point hash (a torn last journal line
is dropped), so a rerun knows exactly which points are finished. After a complete write the
journal is removed.

HDF5 layout (``format = "aimc-sweep/1"``):

* file attributes: ``spec`` (JSON), ``started`` (UTC ISO time of the first run), ``updated``,
  ``n_points``, ``n_expected``, ``complete``, and the provenance of the last write
  (:func:`aimc_sim.sweep.provenance.provenance`): ``aimc_sim_version``, ``git_commit``,
  ``python_version``, ``numpy_version``, ``numba_version``, ``scipy_version``, ``h5py_version``;
* group ``points``: one 1-D dataset per column, one row per point. Column names (attribute
  ``columns`` of the group, and ``name`` of each dataset) are ``hash``, ``seed``, ``rng_seed``,
  ``wall_s``, ``config`` (JSON), ``param/<dotted.path>`` for the swept parameters and the keys of
  the evaluator's flat result dict (e.g. ``accuracy``, ``energy_j``) as they are.
"""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aimc_sim.errors import ConfigError, DataError, SimulationError, StorageError

__all__ = ["ResultTable", "SweepStore", "check_output", "load_results", "storage_error", "FORMAT"]

FORMAT = "aimc-sweep/1"
_FIXED = ("hash", "seed", "rng_seed", "wall_s", "config")


def utc_now() -> str:
    """Current UTC time, ISO 8601 with seconds."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "a part of the path is not a folder",
}


def storage_error(path: Path, error: OSError, doing: str) -> StorageError:
    """A clear error for a failed file operation: the file, what was being done and why (disk full, ...)."""
    reason = _REASONS.get(error.errno or 0)
    if reason is None:
        import shutil

        try:
            full = shutil.disk_usage(path.parent if path.parent.exists() else ".").free < 1 << 20
        except OSError:
            full = False
        reason = "the disk is full" if full else (error.strerror or str(error))
    return StorageError(f"{path}: cannot {doing}: {reason}")


def journal_path(output: Path) -> Path:
    """The journal file of a result file."""
    return output.with_name(output.name + ".journal")


def _temp_files(output: Path) -> list[Path]:
    return list(output.parent.glob(f".{output.name}.tmp*")) if output.parent.is_dir() else []


def check_output(output: Path, expected: set[str], force_new: bool = False) -> set[str] | None:
    """Check the output location before a run; returns the finished hashes if ``output`` is complete
    for ``expected`` and has no journal (nothing to do, nothing opened for writing), else None.

    An existing file holding points that are not in ``expected`` (another spec) is refused unless
    ``force_new``; a folder, or a location where no file can be created, is a clear error.
    """
    if output.is_dir():
        raise ConfigError("output", f"{output} is a directory; give an HDF5 file name")
    if output.exists() and not force_new:
        table = load_results(output)
        held = {str(h) for h in table.columns.get("hash", [])}
        foreign = held - expected
        if foreign:
            raise ConfigError(
                "output",
                f"{output} holds {len(foreign)} points that are not in this spec (a different spec wrote it); "
                "choose another output or pass --force-new to replace it",
            )
        if held >= expected and not journal_path(output).exists():
            return held
    folder = output.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise StorageError(f"{output}: cannot create the result file: {folder} is not a folder")
    if not os.access(folder, os.W_OK):
        why = "the file system is read-only" if _read_only(folder) else "permission denied"
        raise StorageError(f"{output}: cannot create the result file in {folder}: {why}")
    return None


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


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

    def __init__(self, output: str | Path, force_new: bool = False):
        self.output = Path(output)
        self.journal = journal_path(self.output)
        self.records: dict[str, dict[str, Any]] = {}
        self.started = utc_now()
        self.force_new = force_new
        self._fd: int | None = None
        self._created: list[Path] = []  # folders this store made (removed again if it fails empty)
        self._journal_points = 0

    def open(self) -> SweepStore:
        """Create the folder, take the lock, remove stale temporary files and load every finished row
        (HDF5 file + journal); with ``force_new`` an existing result is discarded instead."""
        folder = self.output.parent
        missing = []
        while not folder.exists() and folder != folder.parent:
            missing.append(folder)
            folder = folder.parent
        new_journal = not self.journal.exists()
        try:
            for d in reversed(missing):
                d.mkdir()
                self._created.append(d)
            self._fd = os.open(self.journal, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as e:
            self._remove_created()
            raise storage_error(self.journal, e, "create the journal") from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise SimulationError(f"{self.output}: another sweep is writing this file") from None
        for tmp in _temp_files(self.output):  # we hold the lock: every temp file is a dead writer's
            tmp.unlink(missing_ok=True)
        if self.force_new:
            self.output.unlink(missing_ok=True)
            os.ftruncate(self._fd, 0)
        if self.output.exists():
            table = load_results(self.output)
            self.started = str(table.attrs.get("started", self.started))
            for row in table.rows():
                self.records[row["hash"]] = _record_from_row(row)
        try:
            self._read_journal()
        except OSError as e:
            if new_journal:
                self.journal.unlink(missing_ok=True)
            self.close()
            self._remove_created()
            raise storage_error(self.journal, e, "write the journal") from None
        return self

    def _remove_created(self) -> None:
        for d in reversed(self._created):
            try:
                d.rmdir()
            except OSError:
                break
        self._created = []

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
                self._journal_points += 1
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
        try:
            self._write_line(record)
        except OSError as e:
            raise storage_error(self.journal, e, "append a finished point to the journal") from None
        self.records[record["hash"]] = dict(record)
        self._journal_points += 1

    def write_hdf5(
        self, spec: Mapping[str, Any], provenance: Mapping[str, str], order: Sequence[str], complete: bool
    ) -> None:
        """Rebuild the HDF5 file from every known row, atomically (temp file + fsync + os.replace);
        ``provenance`` (versions, git commit) goes into the file attributes. The temporary file is removed
        if anything fails (a full disk is reported as a StorageError naming the file).

        Rows follow ``order`` (the spec's point order); rows of points not in the spec follow, by hash.
        """
        tmp = self.output.with_name(f".{self.output.name}.tmp{os.getpid()}")
        try:
            self._write_temp(tmp, spec, provenance, order, complete)
            os.replace(tmp, self.output)
            _fsync_dir(self.output.parent)
        except OSError as e:
            raise storage_error(self.output, e, "write the result file") from None
        finally:
            tmp.unlink(missing_ok=True)

    def _write_temp(
        self, tmp: Path, spec: Mapping[str, Any], provenance: Mapping[str, str], order: Sequence[str], complete: bool
    ) -> None:
        import h5py

        ordered = [self.records[h] for h in order if h in self.records]
        extra = sorted(set(self.records) - set(order))
        ordered += [self.records[h] for h in extra]
        rows = [_row_columns(r) for r in ordered]
        names = list(_FIXED)
        for row in rows:
            names += [k for k in row if k not in names]
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["spec"] = json.dumps(spec, sort_keys=True)
            for key, value in provenance.items():
                f.attrs[key] = value
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

    def __exit__(self, exc_type: object, *exc: object) -> None:
        """Release the lock; after a failure that recorded no point, remove the journal and new folders too."""
        if exc_type is not None and self._journal_points == 0 and self._fd is not None:
            self.journal.unlink(missing_ok=True)
            self.close()
            self._remove_created()
        self.close()
