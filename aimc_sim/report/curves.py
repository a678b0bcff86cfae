"""``aimc plot``: metric-vs-parameter curves (e.g. accuracy vs time after programming) with intervals over seeds."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aimc_sim.errors import ConfigError
from aimc_sim.report.labels import axis_label, quantity, setting_text
from aimc_sim.report.plots import curves_figure, si_scale, unit_of
from aimc_sim.sweep.analysis import PROPORTIONS, aggregate, describe, determined, resolve_metric
from aimc_sim.sweep.store import ResultTable

__all__ = ["plot_results"]

MAX_INTEGER_CATEGORIES = 8
"""An integer parameter with at most this many values (ADC bits, tile rows) is drawn as categories."""


def _column(table: ResultTable, name: str, what: str) -> str:
    for candidate in (name, f"param/{name}"):
        if candidate in table.columns:
            return candidate
    resolved = resolve_metric(table, name)
    if resolved is None:
        known = ", ".join(c.removeprefix("param/") for c in table.params + table.metrics)
        raise ConfigError(what, f"no column {name!r} in the results; they have: {known}")
    return resolved


def _varying(table: ResultTable, column: str) -> int:
    return len({str(v) for v in table.columns[column]})


def _categorical(table: ResultTable, column: str) -> bool:
    kind = table.columns[column].dtype.kind
    if kind not in "iuf" or quantity(column).categorical:
        return True
    return kind in "iu" and _varying(table, column) <= MAX_INTEGER_CATEGORIES


def plot_results(
    table: ResultTable,
    path: str | Path,
    *,
    x: str | None = None,
    y: str = "accuracy",
    by: Sequence[str] | None = None,
    level: float = 0.95,
    title: str | None = None,
    panel: str | None = None,
) -> Path:
    """One curve of ``y`` (mean over seeds, with a ``level`` interval) against ``x`` per value of ``by``, in one
    panel per value of ``panel`` (if given).

    Defaults: ``x`` is the numeric swept parameter with the most distinct values; ``by`` is every other swept
    parameter that varies (except ``panel``). Integer settings and names are drawn as categories; accuracies keep their
    (Wilson) intervals inside [0, 1]; the figure names the model and the sample counts.
    """
    if len(table) == 0:
        raise ConfigError("results", "the file has no rows to plot")
    y_col = _column(table, y, "y")
    if x is None:
        numeric = [p for p in table.params if table.columns[p].dtype.kind in "iuf" and _varying(table, p) > 1]
        if not numeric:
            raise ConfigError("x", "no numeric swept parameter varies; name one with --x")
        x_col = max(numeric, key=lambda p: _varying(table, p))
    else:
        x_col = _column(table, x, "x")
    panel_cols = [_column(table, panel, "panel")] if panel else []
    if by is None:
        by_cols = [p for p in table.params if p not in (x_col, *panel_cols) and _varying(table, p) > 1]
    else:
        by_cols = [_column(table, b, "by") for b in by]
    groups = aggregate(table, [x_col, *by_cols, *panel_cols], level)
    x_name = x_col.removeprefix("param/")

    def text(cols: list[str], g: Any) -> str:
        return ", ".join(setting_text(c.removeprefix("param/"), g.params[c.removeprefix("param/")]) for c in cols)

    curves: dict[str, dict[str, list]] = {}
    for g in groups:
        curves.setdefault(text(panel_cols, g), {}).setdefault(text(by_cols, g), []).append(
            (g.params[x_name], g.stats[y_col])
        )
    every = [st for cs in curves.values() for pts in cs.values() for _, st in pts]
    factor, unit_label = si_scale([st.mean for st in every], unit_of(y_col))
    categorical = _categorical(table, x_col)
    xs_all = sorted(
        {xv for cs in curves.values() for pts in cs.values() for xv, _ in pts}, key=lambda v: (isinstance(v, str), v)
    )
    panels: dict[str, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for name, cs in curves.items():
        for label, pts in cs.items():
            by_x = dict(pts)
            st = [by_x.get(xv) for xv in xs_all]
            mean = np.array([s.mean if s else np.nan for s in st]) / factor
            low = np.array([s.low if s else np.nan for s in st]) / factor
            high = np.array([s.high if s else np.nan for s in st]) / factor
            panels.setdefault(name, {})[label] = (mean, low, high)
    time_axis = quantity(x_col).unit == "s" and not categorical
    logx = False
    if not categorical:
        xs = np.asarray(xs_all, dtype=float)
        positive = xs[xs > 0]
        wide = positive.size == xs.size and xs.size > 1 and positive.max() / positive.min() > 100
        logx = bool(wide and (xs.size > 2 or time_axis))
    interval = "Wilson" if y_col in PROPORTIONS else "t"
    shown = [x_col, *by_cols, *panel_cols]
    names = list(dict.fromkeys([*shown, *table.params]))
    records = [{c: table.columns[c][i] for c in names} for i in range(len(table))]
    pooled = [
        p for p in table.params if p not in shown and _varying(table, p) > 1 and not determined(records, shown, p)
    ]
    note = describe(table) + (f" · pooled over {', '.join(quantity(p).name for p in pooled)}" if pooled else "")
    name = quantity(y_col).name
    y_label = axis_label(y_col, unit_label if unit_of(y_col) else None)
    return curves_figure(
        xs_all if categorical else np.asarray(xs_all, dtype=float),
        panels,
        path,
        xlabel=quantity(x_col).name if time_axis and logx else axis_label(x_col),  # ticks name the times
        ylabel=y_label,
        title=title
        or f"{name[:1].upper()}{name[1:]} vs {quantity(x_col).name} (mean, {level:.0%} {interval} interval)",
        note=note,
        logx=logx,
        categorical=categorical,
        time_axis=time_axis and logx,
        fraction=y_col in PROPORTIONS,
    )
