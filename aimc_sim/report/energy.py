"""The energy report of one model on one hardware config: accuracy over seeds, energy and latency breakdowns.

Input is one flat result dict per seed (``Result.to_flat_dict()``): ``accuracy``, ``energy_j``,
``latency_s`` and the breakdown columns ``energy_layer.<layer>``, ``energy_comp.<component>``,
``latency_layer.<layer>`` (and ``latency_comp.<component>`` if present), ``complexity.<metric>``.
Output: ``report.md`` (PNG files alongside) and a self-contained ``report.html``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aimc_sim.errors import ConfigError
from aimc_sim.report.document import Document
from aimc_sim.report.plots import breakdown_figure, si_scale
from aimc_sim.report.stats import mean_ci, proportion_ci

__all__ = ["ReportFiles", "write_energy_report", "breakdown", "flatten_config"]


@dataclass(frozen=True)
class ReportFiles:
    """The files written by :func:`write_energy_report`."""

    markdown: Path
    html: Path
    figures: list[Path]


def _num(v: Any) -> float:
    """A float from a result cell (None or '' for a missing value -> NaN)."""
    return math.nan if v is None or v == "" else float(v)


def breakdown(results: Sequence[Mapping[str, Any]], prefix: str) -> dict[str, float]:
    """Mean over seeds of every ``<prefix>.<name>`` column, in first-seen order."""
    names = list(dict.fromkeys(k[len(prefix) + 1 :] for r in results for k in r if k.startswith(prefix + ".")))
    return {n: float(np.mean([_num(r.get(f"{prefix}.{n}", 0.0)) for r in results])) for n in names}


def flatten_config(config: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted path, value) for every leaf of a nested mapping/list."""
    if isinstance(config, Mapping):
        out = []
        for k, v in config.items():
            out += flatten_config(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(config, (list, tuple)) and any(isinstance(v, (Mapping, list, tuple)) for v in config):
        out = []
        for i, v in enumerate(config):
            out += flatten_config(v, f"{prefix}[{i}]")
        return out
    return [(prefix, config)]


def _eng(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "n/a"
    factor, label = si_scale([value], unit)
    return f"{value / factor:.4g} {label}"


def _share_rows(values: Mapping[str, float], unit: str) -> list[list[str]]:
    total = sum(values.values())
    factor, label = si_scale(list(values.values()), unit)
    rows = [[k, f"{v / factor:.4g}", f"{100 * v / total:.1f} %" if total > 0 else ""] for k, v in values.items()]
    rows.append(["**total**", f"{total / factor:.4g}", "100 %" if total > 0 else ""])
    return [r + [label] for r in rows]


def _figure_note(context: Mapping[str, Any], results: Sequence[Mapping[str, Any]]) -> str:
    """``model s4d_digits_float · 200 test samples × 5 seeds``: what a figure of the report averages over."""
    samples = sorted({int(_num(r["n_samples"])) for r in results if "n_samples" in r})
    runs = f"{len(results)} seed{'s' if len(results) != 1 else ''}"
    if samples:
        runs = f"{'/'.join(map(str, samples))} test samples × {runs}"
    return f"model {context['model']} · {runs}" if "model" in context else runs


def _fmt_value(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _cost_rows(node: Any, path: str = "") -> list[list[str]]:
    """One row per priced item: a section holding a ``source`` gives (path, its values, the source)."""
    if isinstance(node, Mapping) and ("source" in node or "sources" in node):
        values = [(k, v) for k, v in flatten_config({k: v for k, v in node.items() if k not in ("source", "sources")})]
        text = ", ".join(f"{k}={_fmt_value(v)}" for k, v in values)
        return [[path or "(top)", text, str(node.get("source", node.get("sources")))]]
    if isinstance(node, Mapping):
        rows = []
        for k, v in node.items():
            rows += _cost_rows(v, f"{path}.{k}" if path else str(k))
        return rows
    return [[path, _fmt_value(node), ""]]


def write_energy_report(
    results: Sequence[Mapping[str, Any]],
    folder: str | Path,
    *,
    title: str,
    context: Mapping[str, Any],
    seeds: Sequence[int],
    hardware: Mapping[str, Any] | None = None,
    cost_model: Mapping[str, Any] | None = None,
    cost_model_name: str = "",
    level: float = 0.95,
) -> ReportFiles:
    """Write ``report.md``, ``report.html`` and the breakdown PNGs into ``folder``."""
    if not results:
        raise ConfigError("results", "need at least one evaluated seed")
    if len(seeds) != len(results):
        raise ConfigError("seeds", f"must give one seed per result ({len(results)}), got {len(seeds)}")
    folder = Path(folder)
    accuracies = [_num(r.get("accuracy")) for r in results]
    if all("n_samples" in r for r in results):
        acc = proportion_ci(accuracies, [_num(r["n_samples"]) for r in results], level)
    else:
        acc = mean_ci(accuracies, level)
    energy = mean_ci([_num(r.get("energy_j")) for r in results], level)
    latency = mean_ci([_num(r.get("latency_s")) for r in results], level)
    e_layer, e_comp = breakdown(results, "energy_layer"), breakdown(results, "energy_comp")
    t_layer, t_comp = breakdown(results, "latency_layer"), breakdown(results, "latency_comp")
    complexity = breakdown(results, "complexity")

    doc = Document(title)
    if acc.method == "wilson":
        ci_text = f" ({level:.0%} CI {acc.low:.4f} to {acc.high:.4f} over {acc.trials} classifications, {acc.n} seeds)"
    elif acc.n > 1:
        ci_text = f" ± {acc.half_width:.3f} ({level:.0%} CI over {acc.n} seeds)"
    else:
        ci_text = " (one seed; no CI)"
    doc.paragraph(
        f"Accuracy {acc.mean:.4f}{ci_text}. Energy {_eng(energy.mean, 'J')} and latency "
        f"{_eng(latency.mean, 's')} per inference (means over seeds)."
    )
    figures = []
    note = _figure_note(context, results)
    energy_panels = {"energy per component": e_comp, "energy per layer": e_layer}
    if any(energy_panels.values()):
        figures.append(
            breakdown_figure(
                energy_panels,
                folder / "energy_breakdown.png",
                unit="J",
                title=f"Energy breakdown, cost model {cost_model_name.split(' (')[0] or '(unnamed)'}",
                note=note,
            )
        )
        doc.image(figures[-1], "Energy per inference, by component and by layer (mean over seeds)")
    latency_panels = {"latency per component": t_comp, "latency per layer": t_layer}
    if any(latency_panels.values()):
        figures.append(
            breakdown_figure(
                latency_panels, folder / "latency_breakdown.png", unit="s", title="Latency breakdown", note=note
            )
        )
        doc.image(figures[-1], "Latency per inference, by component and by layer (mean over seeds)")

    doc.heading("Setup")
    doc.table(["item", "value"], [[k, str(v)] for k, v in context.items()] + [["seeds", ", ".join(map(str, seeds))]])

    doc.heading("Accuracy over seeds")
    doc.table(["seed", "accuracy"], [[s, f"{float(r['accuracy']):.4f}"] for s, r in zip(seeds, results)])
    how = (
        "the Wilson score interval of the pooled fraction over all classifications (inside [0, 1])"
        if acc.method == "wilson"
        else "the two-sided Student-t interval mean ± t·s/√n over seeds"
    )
    doc.paragraph(f"Accuracy {acc}; the interval is {how}.")

    for heading, values, unit in (
        ("Energy per layer", e_layer, "J"),
        ("Energy per component", e_comp, "J"),
        ("Latency per layer", t_layer, "s"),
        ("Latency per component", t_comp, "s"),
    ):
        if values:
            doc.heading(heading)
            doc.table(
                [heading.split(" per ")[1], heading.split(" per ")[0].lower(), "share", "unit"],
                _share_rows(values, unit),
            )

    scalars = [
        [k, f"{np.mean([_num(r[k]) for r in results]):.4g}"]
        for k in ("n_tiles", "utilisation", "n_samples")
        if k in results[0]
    ]
    if complexity or scalars:
        doc.heading("Hardware usage and complexity")
        doc.table(["metric", "value"], scalars + [[k, f"{v:.4g}"] for k, v in complexity.items()])

    doc.heading("Cost model")
    if cost_model:
        doc.paragraph(f"Cost model {cost_model_name or '(unnamed)'}: every priced quantity and its source.")
        doc.table(["item", "values", "source"], _cost_rows(cost_model))
    else:
        doc.paragraph("No cost model was given: energies come from the evaluator's own accounting.")
    if hardware:
        doc.heading("Hardware config")
        import yaml

        doc.code(yaml.safe_dump(dict(hardware), sort_keys=False))
    md, page = doc.write(folder)
    return ReportFiles(md, page, figures)
