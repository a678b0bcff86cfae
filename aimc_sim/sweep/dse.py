"""Design-space exploration: the Pareto front of a chip-parameter sweep, as a table and a figure."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aimc_sim.sweep.analysis import Group, Objective, aggregate, determined, pareto_groups, parse_objectives
from aimc_sim.sweep.store import ResultTable

__all__ = ["DEFAULT_OBJECTIVES", "DseSummary", "analyze_dse"]

DEFAULT_OBJECTIVES = "accuracy:max,energy_j:min,latency_s:min,area_m2|area_mm2:min"


@dataclass(frozen=True)
class DseSummary:
    """Design points (seed means), objectives used, the front mask and the files written."""

    groups: list[Group]
    objectives: list[Objective]
    on_front: np.ndarray
    files: list[Path]


def _short(groups: list[Group]) -> list[str]:
    """Labels naming the varying parameters, leaving out those fixed by earlier ones (as in a zip axis)."""
    varying: list[str] = []
    for k in groups[0].params if groups else []:
        if len({str(g.params[k]) for g in groups}) > 1 and not (
            varying and determined([g.params for g in groups], varying, k)
        ):
            varying.append(k)
    from aimc_sim.report.labels import setting_text

    return [", ".join(setting_text(k, g.params[k], short=True) for k in varying) for g in groups]


def _fmt(v: float) -> str:
    return "" if not math.isfinite(v) else f"{v:.4g}"


def analyze_dse(table: ResultTable, prefix: str | Path, objectives: str | None = None) -> DseSummary:
    """Group ``table`` over seeds, find the Pareto front and write ``<prefix>_pareto.{md,csv,png}``.

    ``objectives`` like ``"accuracy:max,energy_j:min"``; by default :data:`DEFAULT_OBJECTIVES`,
    skipping those the results lack (each name is also looked up as ``extra.<name>``; area as ``area_m2``
    or ``area_mm2``).
    """
    from aimc_sim.report.document import numeric_column
    from aimc_sim.report.labels import axis_label, quantity
    from aimc_sim.report.plots import pareto_figure, si_scale, unit_of
    from aimc_sim.sweep.analysis import PROPORTIONS, describe

    objs = parse_objectives(objectives or DEFAULT_OBJECTIVES, table, required=objectives is not None)
    groups = aggregate(table)
    mask = pareto_groups(groups, objs)
    labels = _short(groups)
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    files = []

    head, *costs = objs
    y = np.array([g.stats[head.column].mean for g in groups])
    y_err = np.array(
        [[y[i] - g.stats[head.column].low, g.stats[head.column].high - y[i]] for i, g in enumerate(groups)]
    )
    xs = {o.column: np.array([g.stats[o.column].mean for g in groups]) for o in costs}
    files.append(
        pareto_figure(
            y,
            y_err,
            xs,
            mask,
            f"{prefix}_pareto.png",
            ylabel=axis_label(head.column),
            labels=labels,
            title=f"Design-space exploration: {len(groups)} designs, Pareto front over "
            + ", ".join(axis_label(o.column, "").replace(" per inference", "") for o in objs),
            note=describe(table),
            fraction=head.column in PROPORTIONS,
        )
    )

    order = sorted(range(len(groups)), key=lambda i: (not mask[i], -y[i] if head.maximize else y[i]))
    scales = {o.column: si_scale([g.stats[o.column].mean for g in groups], unit_of(o.column)) for o in objs}
    params = list(groups[0].params) if groups else []
    header = ["#", "front", *map(axis_label, params)] + [axis_label(o.column, scales[o.column][1]) for o in objs]
    rows = []
    for rank, i in enumerate(order):
        g = groups[i]
        cells = [str(rank + 1), "yes" if mask[i] else "", *(str(g.params[p]) for p in params)]
        for o in objs:
            st, (factor, _) = g.stats[o.column], scales[o.column]
            spread = math.isfinite(st.half_width) and st.half_width > 1e-9 * abs(st.mean)
            if not spread:
                ci = ""
            elif st.method == "wilson":
                ci = f" [{st.low / factor:.3g}, {st.high / factor:.3g}]"
            else:
                ci = f" ± {st.half_width / factor:.2g}"
            cells.append(f"{_fmt(st.mean / factor)}{ci}")
        rows.append(cells)
    md = Path(f"{prefix}_pareto.md")
    lines = [
        "# Design-space exploration",
        "",
        f"{len(groups)} design points, {int(mask.sum())} on the Pareto front of "
        + ", ".join(f"{quantity(o.column).name} ({'max' if o.maximize else 'min'})" for o in objs)
        + ". "
        "Values are means over seeds with their 95 % confidence interval (accuracy: pooled over seeds, Wilson "
        "interval in brackets; other metrics: ± the Student-t interval); the numbers are those in the figure. "
        + describe(table).capitalize()
        + ".",
        "",
        f"![Pareto front]({Path(files[0]).name})",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "".join("---:|" if numeric_column([r[j] for r in rows]) else ":---|" for j in range(len(header))),
        *("| " + " | ".join(r) + " |" for r in rows),
    ]
    md.write_text("\n".join(lines) + "\n")
    files.append(md)
    csv_path = Path(f"{prefix}_pareto.csv")
    with csv_path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "on_front",
                *params,
                *(f"{o.column}_mean" for o in objs),
                *(f"{o.column}_ci95_{end}" for o in objs for end in ("low", "high")),
            ]
        )
        for i in order:
            g = groups[i]
            w.writerow(
                [
                    int(mask[i]),
                    *(g.params[p] for p in params),
                    *(g.stats[o.column].mean for o in objs),
                    *(v for o in objs for v in (g.stats[o.column].low, g.stats[o.column].high)),
                ]
            )
    files.append(csv_path)
    return DseSummary(groups, objs, mask, files)
