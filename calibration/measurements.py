"""Loading and validating measured device data from CSV or HDF5.

File formats (documented for users in ``docs/calibration.md``):

* **CSV**: optional ``# key: value`` metadata lines (``kind`` is the important one), then one
  header line whose column names carry their unit in brackets, e.g. ``g_target[uS]``, then one
  row per measurement. Dimensionless columns have no brackets.
* **HDF5**: one dataset per column (1-D, equal lengths) in the root group or in ``group``; each
  dimensional dataset has a ``units`` attribute; the group's ``kind`` attribute names the kind.

Every value is converted to SI (S, s, V) here, once. Problems raise :class:`MeasurementError`
naming the file and the column or the data row (1-based; for CSV also the file line).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from calibration.errors import MeasurementError
from calibration.units import allowed_units, si_factor


@dataclass(frozen=True)
class Column:
    """One column of a measurement kind: its dimension and whether it must be present."""

    name: str
    dimension: str
    required: bool = True
    doc: str = ""


@dataclass(frozen=True)
class Kind:
    """A kind of measurement: its columns, the grouping column and the minimum amount of data."""

    name: str
    doc: str
    columns: tuple[Column, ...]
    min_rows: int
    group_by: str | None = None  # rows are grouped into curves by this id column
    order_by: str | None = None  # strictly increasing within a group (time stamps, pulse numbers)
    min_per_group: int = 1
    one_of: tuple[str, ...] = ()  # exactly one of these optional columns must be present


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "programming",
            "programming target vs achieved conductance, one row per programmed device",
            (
                Column("g_target", "conductance", doc="target conductance"),
                Column("g_achieved", "conductance", doc="conductance read right after programming"),
                Column("device", "dimensionless", required=False, doc="device id"),
            ),
            min_rows=20,
        ),
        Kind(
            "drift",
            "conductance vs time after programming, several reads per device",
            (
                Column("device", "dimensionless", doc="device id (integer)"),
                Column("t", "time", doc="time since the end of programming"),
                Column("g", "conductance", doc="conductance read at t"),
                Column("g_target", "conductance", required=False, doc="programming target of the device"),
            ),
            min_rows=20,
            group_by="device",
            order_by="t",
            min_per_group=3,
        ),
        Kind(
            "pulse",
            "conductance vs pulse number during potentiation and depression",
            (
                Column("sequence", "dimensionless", doc="id of one pulse train on one device"),
                Column("pulse", "dimensionless", doc="pulse number within the sequence (0 = before the first pulse)"),
                Column("polarity", "dimensionless", doc="+1 potentiating, -1 depressing pulse"),
                Column("g", "conductance", doc="conductance read after the pulse"),
            ),
            min_rows=10,
            group_by="sequence",
            order_by="pulse",
            min_per_group=3,
        ),
        Kind(
            "switching",
            "switching probability vs pulse voltage and pulse width (counts of switched trials)",
            (
                Column("voltage", "voltage", doc="pulse amplitude"),
                Column("width", "time", doc="pulse width"),
                Column("n_trials", "dimensionless", doc="number of trials at this condition"),
                Column("n_switched", "dimensionless", doc="number of trials that switched"),
            ),
            min_rows=4,
        ),
        Kind(
            "fefet",
            "FeFET threshold voltage (or read conductance) vs gate-pulse amplitude, one pulse from the erased state",
            (
                Column("amplitude", "voltage", doc="gate-pulse amplitude"),
                Column("width", "time", doc="gate-pulse width"),
                Column("vt", "voltage", required=False, doc="threshold voltage after the pulse"),
                Column("g", "conductance", required=False, doc="conductance read at a fixed gate voltage"),
            ),
            min_rows=8,
            one_of=("vt", "g"),
        ),
    )
}


@dataclass(frozen=True)
class Measurement:
    """Validated measurement data in SI units.

    ``data`` maps column names to float arrays; ``rows`` holds the 1-based data-row number of each
    entry (so later stages can name rows too); ``meta`` holds the file's metadata.
    """

    kind: str
    data: dict[str, np.ndarray]
    source: str
    rows: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, column: str) -> np.ndarray:
        return self.data[column]

    def groups(self) -> list[np.ndarray]:
        """Row indices of each curve (device or sequence), in order of first appearance."""
        key = KINDS[self.kind].group_by
        if key is None:
            return [np.arange(len(self))]
        ids = self.data[key]
        _, first = np.unique(ids, return_index=True)
        return [np.flatnonzero(ids == ids[i]) for i in np.sort(first)]


def _err(source: str, where: str, message: str) -> MeasurementError:
    return MeasurementError(f"{source}: {where}" if where else source, message)


def _parse_header(name: str, source: str) -> tuple[str, str]:
    name = name.strip()
    if "[" in name:
        if not name.endswith("]"):
            raise _err(source, f"column '{name}'", "unit must be written as name[unit], e.g. g_target[uS]")
        base, unit = name[:-1].split("[", 1)
        return base.strip(), unit.strip()
    return name, ""


def _read_csv(path: Path) -> tuple[dict[str, Any], list[tuple[str, str]], list[list[str]], list[int]]:
    meta: dict[str, Any] = {}
    header: list[tuple[str, str]] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    with path.open(newline="") as fh:
        for lineno, line in enumerate(fh, start=1):
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith("#"):
                if header is None and ":" in stripped:
                    key, value = stripped[1:].split(":", 1)
                    meta[key.strip()] = value.strip()
                continue
            fields = next(csv.reader([line]))
            if header is None:
                header = [_parse_header(f, str(path)) for f in fields]
                continue
            rows.append(fields)
            lines.append(lineno)
    if header is None:
        raise _err(str(path), "", "no header line found (expected column names such as g_target[uS])")
    return meta, header, rows, lines


def _read_hdf5(path: Path, group: str | None) -> tuple[dict[str, Any], dict[str, tuple[str, np.ndarray]]]:
    import h5py

    with h5py.File(path, "r") as f:
        g = f[group] if group else f
        meta = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in g.attrs.items()}
        cols = {}
        for name, ds in g.items():
            if not isinstance(ds, h5py.Dataset):
                continue
            unit = ds.attrs.get("units", "")
            unit = unit.decode() if isinstance(unit, bytes) else str(unit)
            arr = np.asarray(ds[()])
            if arr.ndim != 1:
                raise _err(str(path), f"column '{name}'", f"must be a 1-D dataset, got shape {arr.shape}")
            cols[name] = (unit, arr)
    return meta, cols


def _resolve_kind(kind: str | None, meta: dict[str, Any], source: str) -> Kind:
    file_kind = meta.get("kind")
    if kind and file_kind and kind != file_kind:
        raise _err(source, "metadata 'kind'", f"file says kind {file_kind!r} but {kind!r} was requested")
    name = kind or file_kind
    if not name:
        raise _err(source, "metadata 'kind'", f"kind is not given; must be one of {', '.join(KINDS)}")
    if name not in KINDS:
        raise _err(source, "metadata 'kind'", f"must be one of {', '.join(KINDS)}, got {name!r}")
    return KINDS[name]


def load_measurement(path: str | Path, kind: str | None = None, group: str | None = None) -> Measurement:
    """Load and validate a CSV (``.csv``) or HDF5 (``.h5``/``.hdf5``) measurement file.

    ``kind`` overrides or confirms the file's ``kind`` metadata; ``group`` selects an HDF5 group.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise _err(source, "", "file not found")
    if path.suffix.lower() in (".h5", ".hdf5"):
        try:
            meta, cols = _read_hdf5(path, group)
        except (OSError, KeyError) as e:
            raise _err(source, f"group {group!r}" if group else "", f"cannot read HDF5: {e}") from None
        spec = _resolve_kind(kind, meta, source)
        raw = {name: (unit, arr) for name, (unit, arr) in cols.items()}
        line_of = None
    elif path.suffix.lower() == ".csv":
        try:
            meta, header, rows, lines = _read_csv(path)
        except UnicodeDecodeError as e:
            raise _err(source, "", f"not a UTF-8 text file (byte {e.start} is not text)") from None
        spec = _resolve_kind(kind, meta, source)
        for i, r in enumerate(rows):
            if len(r) != len(header):
                raise _err(source, f"row {i + 1} (line {lines[i]})", f"has {len(r)} fields, header has {len(header)}")
        raw = {}
        for j, (name, unit) in enumerate(header):
            if name in raw:
                raise _err(source, f"column '{name}'", "appears twice")
            raw[name] = (unit, [r[j] for r in rows])
        line_of = lines
    else:
        raise _err(source, "", f"unsupported file type {path.suffix!r}; use .csv, .h5 or .hdf5")
    return validate(spec, raw, source, line_of, meta)


def _where(row: int, line_of: list[int] | None, column: str) -> str:
    line = f" (line {line_of[row]})" if line_of else ""
    return f"row {row + 1}{line}, column '{column}'"


def _to_float(values: Any, name: str, source: str, line_of: list[int] | None) -> np.ndarray:
    out = np.empty(len(values))
    for i, v in enumerate(values):
        try:
            x = float(v.strip() if isinstance(v, str) else v)
        except (TypeError, ValueError):
            raise _err(source, _where(i, line_of, name), f"not a number: {v!r}") from None
        if not math.isfinite(x):
            raise _err(source, _where(i, line_of, name), f"value is {v!r}; remove or fill this row")
        out[i] = x
    return out


def validate(
    spec: Kind,
    raw: dict[str, tuple[str, Any]],
    source: str = "<data>",
    line_of: list[int] | None = None,
    meta: dict[str, Any] | None = None,
) -> Measurement:
    """Validate columns ``raw`` (name -> (unit, values)) of kind ``spec`` and convert them to SI."""
    known = {c.name: c for c in spec.columns}
    for name in raw:
        if name not in known:
            raise _err(source, f"column '{name}'", f"unknown for kind '{spec.name}'; allowed: {', '.join(known)}")
    for c in spec.columns:
        if c.required and c.name not in raw:
            raise _err(source, f"column '{c.name}'", f"required for kind '{spec.name}' but missing ({c.doc})")
    if spec.one_of and sum(c in raw for c in spec.one_of) != 1:
        names = " or ".join(f"'{c}'" for c in spec.one_of)
        raise _err(source, f"column {names}", f"kind '{spec.name}' needs exactly one of these columns")
    lengths = {len(v) for _, v in raw.values()}
    if len(lengths) > 1:
        raise _err(source, "", f"columns have different lengths: {sorted(lengths)}")
    n = lengths.pop()
    data: dict[str, np.ndarray] = {}
    for name, (unit, values) in raw.items():
        col = known[name]
        factor = si_factor(col.dimension, unit)
        if factor is None:
            raise _err(
                source,
                f"column '{name}'",
                f"unit {unit!r} is not a {col.dimension} unit; use {allowed_units(col.dimension)}",
            )
        data[name] = _to_float(values, name, source, line_of) * factor
    if n < spec.min_rows:
        raise _err(source, "", f"too few points: kind '{spec.name}' needs at least {spec.min_rows} rows, got {n}")
    _check_values(spec, data, source, line_of)
    _check_order(spec, data, source, line_of)
    return Measurement(spec.name, data, source, np.arange(1, n + 1), dict(meta or {}))


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _check_values(spec: Kind, data: dict[str, np.ndarray], source: str, line_of: list[int] | None) -> None:
    """Physical plausibility in SI; implausible magnitudes usually mean a wrong unit label."""
    for c in spec.columns:
        if c.name not in data:
            continue
        x = data[c.name]
        if c.dimension == "conductance":
            if (x < 0).any():
                i = _first_bad(x < 0)
                raise _err(source, _where(i, line_of, c.name), f"conductance must be >= 0, got {x[i]:g} S")
            if (x > 1.0).any():
                i = _first_bad(x > 1.0)
                raise _err(
                    source,
                    _where(i, line_of, c.name),
                    f"{x[i]:g} S is not a device conductance; is the unit label right (e.g. uS instead of S)?",
                )
        if c.dimension == "time" and (x < 0).any():
            i = _first_bad(x < 0)
            raise _err(source, _where(i, line_of, c.name), f"time must be >= 0, got {x[i]:g} s")
        if c.dimension == "time" and c.name == "width" and (x <= 0).any():
            i = _first_bad(x <= 0)
            raise _err(source, _where(i, line_of, c.name), f"pulse width must be > 0, got {x[i]:g} s")
    for name in ("device", "sequence", "pulse", "n_trials", "n_switched"):
        if name in data and (data[name] != np.round(data[name])).any():
            i = _first_bad(data[name] != np.round(data[name]))
            raise _err(source, _where(i, line_of, name), f"must be an integer, got {data[name][i]:g}")
    if "polarity" in data and not np.isin(data["polarity"], (-1.0, 0.0, 1.0)).all():
        i = _first_bad(~np.isin(data["polarity"], (-1.0, 0.0, 1.0)))
        raise _err(
            source,
            _where(i, line_of, "polarity"),
            f"must be +1, -1 (or 0 for the initial read), got {data['polarity'][i]:g}",
        )
    if "n_trials" in data:
        nt, ns = data["n_trials"], data["n_switched"]
        if (nt < 1).any():
            i = _first_bad(nt < 1)
            raise _err(source, _where(i, line_of, "n_trials"), f"must be >= 1, got {nt[i]:g}")
        if ((ns < 0) | (ns > nt)).any():
            i = _first_bad((ns < 0) | (ns > nt))
            raise _err(source, _where(i, line_of, "n_switched"), f"must be in 0..n_trials={nt[i]:g}, got {ns[i]:g}")
    if "g_target" in data and "g_achieved" in data:
        _check_same_scale(data, "g_target", "g_achieved", source)
    if "g_target" in data and "g" in data:
        _check_same_scale(data, "g_target", "g", source)


def _check_same_scale(data: dict[str, np.ndarray], a: str, b: str, source: str) -> None:
    """Two conductance columns of one device must agree within a factor of 10 (median ratio)."""
    ma, mb = float(np.median(data[a])), float(np.median(data[b]))
    if ma > 0 and mb > 0 and not 0.1 <= mb / ma <= 10.0:
        raise _err(
            source,
            f"columns '{a}' and '{b}'",
            f"inconsistent units: medians are {ma:.3g} S and {mb:.3g} S after conversion (ratio {mb / ma:.3g});"
            " check the unit labels",
        )


def _check_order(spec: Kind, data: dict[str, np.ndarray], source: str, line_of: list[int] | None) -> None:
    if spec.group_by is None:
        return
    ids = data[spec.group_by]
    for gid in np.unique(ids):
        idx = np.flatnonzero(ids == gid)
        if len(idx) < spec.min_per_group:
            raise _err(
                source,
                _where(int(idx[0]), line_of, spec.group_by),
                f"too few points: {spec.group_by} {gid:g} has {len(idx)} rows, at least {spec.min_per_group} needed",
            )
        if spec.order_by:
            x = data[spec.order_by][idx]
            bad = np.flatnonzero(np.diff(x) <= 0)
            if len(bad):
                i = int(idx[bad[0] + 1])
                raise _err(
                    source,
                    _where(i, line_of, spec.order_by),
                    f"must increase strictly within {spec.group_by} {gid:g}: {x[bad[0] + 1]:g} follows {x[bad[0]]:g}",
                )


def save_csv(m: Measurement, path: str | Path, units: dict[str, str], meta: dict[str, Any] | None = None) -> None:
    """Write ``m`` as a CSV in the documented format, converting SI to ``units`` (column -> unit)."""
    spec = KINDS[m.kind]
    cols = [c for c in spec.columns if c.name in m.data]
    header, scaled = [], []
    for c in cols:
        unit = units.get(c.name, "") if c.dimension != "dimensionless" else ""
        factor = si_factor(c.dimension, unit)
        if factor is None:
            raise MeasurementError(f"units.{c.name}", f"use {allowed_units(c.dimension)}, got {unit!r}")
        header.append(f"{c.name}[{unit}]" if unit else c.name)
        scaled.append(m.data[c.name] / factor)
    with Path(path).open("w", newline="") as fh:
        for key, value in {**m.meta, **(meta or {}), "kind": m.kind}.items():
            fh.write(f"# {key}: {value}\n")
        w = csv.writer(fh)
        w.writerow(header)
        for row in zip(*scaled):
            w.writerow([f"{v:.10g}" for v in row])
