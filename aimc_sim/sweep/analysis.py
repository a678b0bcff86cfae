"""Results over seeds: group the rows of a sweep by their parameters, and find the Pareto front."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from aimc_sim.errors import ConfigError
from aimc_sim.report.stats import MeanCI, mean_ci, proportion_ci
from aimc_sim.sweep.pareto import pareto_mask
from aimc_sim.sweep.store import ResultTable

__all__ = [
    "Group",
    "Objective",
    "PROPORTIONS",
    "aggregate",
    "parse_objectives",
    "resolve_metric",
    "pareto_groups",
    "describe",
]

PROPORTIONS = {"accuracy": "n_samples"}
"""Metrics that are fractions of classified samples -> the column with the number of samples. Their interval
over seeds is the Wilson interval over all classifications (inside [0, 1]), not a t-interval."""


@dataclass(frozen=True)
class Group:
    """One design point: its parameter values and the statistics of each metric over its seeds."""

    params: dict[str, Any]
    stats: dict[str, MeanCI]

    def mean(self, metric: str) -> float:
        return self.stats[metric].mean


@dataclass(frozen=True)
class Objective:
    """A result column and whether larger is better."""

    column: str
    maximize: bool

    def __str__(self) -> str:
        return f"{self.column} ({'max' if self.maximize else 'min'})"


def _numeric(table: ResultTable, name: str) -> bool:
    return table.columns[name].dtype.kind in "biuf"


def aggregate(table: ResultTable, params: Sequence[str] | None = None, level: float = 0.95) -> list[Group]:
    """Group rows that share the values of ``params`` (default: every swept parameter) over seeds.

    Accuracies (:data:`PROPORTIONS`) get the pooled fraction and its Wilson interval; other metrics the
    mean and its Student-t interval.
    """
    params = list(table.params if params is None else params)
    metrics = [m for m in table.metrics if _numeric(table, m)]
    keys = [tuple(_key(table.columns[p][i]) for p in params) for i in range(len(table))]
    order: dict[tuple, list[int]] = {}
    for i, k in enumerate(keys):
        order.setdefault(k, []).append(i)
    groups = []
    for key, rows in order.items():
        stats = {m: _stats(table, m, rows, level) for m in metrics}
        groups.append(Group({p.removeprefix("param/"): v for p, v in zip(params, key)}, stats))
    return groups


def _stats(table: ResultTable, metric: str, rows: list[int], level: float) -> MeanCI:
    values = table.columns[metric][rows].astype(np.float64)
    counts = PROPORTIONS.get(metric)
    if counts in table.columns and _numeric(table, counts):
        return proportion_ci(values, table.columns[counts][rows].astype(np.float64), level)
    return mean_ci(values, level)


def determined(records: Sequence[Mapping[str, Any]], by: Sequence[str], column: str) -> bool:
    """True if the values of ``by`` fix the value of ``column`` in every record (e.g. tile cols stepped with
    rows by a zip axis), so ``column`` adds nothing to a label or a grouping by ``by``."""
    seen: dict[tuple[str, ...], str] = {}
    for r in records:
        key = tuple(str(r[b]) for b in by)
        if seen.setdefault(key, str(r[column])) != str(r[column]):
            return False
    return True


def _key(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def resolve_metric(table: ResultTable, name: str) -> str | None:
    """The column for ``name``: itself, or ``extra.<name>`` / ``complexity.<name>`` (None if absent or all NaN)."""
    for candidate in (name, f"extra.{name}", f"complexity.{name}"):
        if (
            candidate in table.columns
            and _numeric(table, candidate)
            and np.isfinite(np.asarray(table.columns[candidate], dtype=float)).any()
        ):
            return candidate
    return None


def parse_objectives(text: str, table: ResultTable, required: bool = True) -> list[Objective]:
    """``"accuracy:max,energy_j:min"`` -> objectives (``a|b:min`` takes the first column present); a missing
    column is an error if ``required``, else it is skipped."""
    out = []
    for i, item in enumerate(filter(None, (s.strip() for s in text.split(",")))):
        name, _, direction = item.partition(":")
        if direction not in ("max", "min"):
            raise ConfigError(f"objectives[{i}]", f"must be NAME:max or NAME:min, got {item!r}")
        found = [c for c in map(lambda n: resolve_metric(table, n), name.split("|")) if c]  # NAME|ALT:dir
        column = found[0] if found else None
        if column is None:
            if required:
                known = ", ".join(m for m in table.metrics if _numeric(table, m))
                raise ConfigError(f"objectives[{i}]", f"no numeric result column {name!r}; the results have: {known}")
            continue
        out.append(Objective(column, direction == "max"))
    if len(out) < 2:
        raise ConfigError("objectives", f"need at least two objectives found in the results, got {len(out)}")
    return out


def pareto_groups(groups: Sequence[Group], objectives: Sequence[Objective]) -> np.ndarray:
    """Mask of the design points (seed means) on the Pareto front of ``objectives``."""
    values = np.array(
        [[g.stats[o.column].mean if o.column in g.stats else math.nan for o in objectives] for g in groups]
    ).reshape(len(groups), len(objectives))
    return pareto_mask(values, [o.maximize for o in objectives])


def _values_text(values: Sequence[Any]) -> str:
    distinct = sorted({str(v) for v in values})
    return (
        distinct[0]
        if len(distinct) == 1
        else f"{distinct[0]}-{distinct[-1]}"
        if len(distinct) > 3
        else "/".join(distinct)
    )


def describe(table: ResultTable) -> str:
    """What a figure of ``table`` shows, in one line: model, data set, samples per evaluation, seeds, points.

    E.g. ``model s4d_digits_float on digits_pixel · 200 test samples × 3 seeds per point · 12 points``.
    """
    try:
        base = table.spec.get("base", {})
    except (KeyError, ValueError, TypeError):
        base = {}
    parts = []
    model = table.columns.get("param/model", [base.get("model")] if base.get("model") is not None else [])
    if len(model):
        models = [m.get("name", m) if isinstance(m, dict) else m for m in model]
        data = base.get("dataset", {})
        on = f" on {data['name']}" if isinstance(data, dict) and "name" in data else ""
        parts.append(f"model {_values_text(models)}{on}")
    seeds = len({int(s) for s in table.columns["seed"]}) if "seed" in table.columns else 0
    n_points = len(aggregate(table)) if len(table) else 0
    samples = ""
    if "n_samples" in table.columns and len(table):
        samples = f"{_values_text(table.columns['n_samples'].astype(int))} test samples × "
    parts.append(f"{samples}{seeds} seed{'s' if seeds != 1 else ''} per point")
    parts.append(f"{n_points} points")
    return " · ".join(parts)
