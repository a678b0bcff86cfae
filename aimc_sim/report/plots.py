"""Figures for sweeps and reports (matplotlib, Agg backend): curves with error bands, Pareto fronts, breakdowns.

Values are SI; axes show engineering units (pJ, nJ, µs, mm²) chosen per figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["si_scale", "curves_figure", "pareto_figure", "breakdown_figure"]

_PREFIX = [(1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1.0, "")]
_UNITS = {"_j": "J", "_s": "s", "_mm2": "mm²", "_m2": "m²"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def unit_of(column: str) -> str:
    """The SI unit implied by a column name suffix (``energy_j`` -> J), or ''."""
    for suffix, unit in _UNITS.items():
        if column.endswith(suffix) or f"{suffix}." in column:
            return unit
    return ""


def si_scale(values: Sequence[float] | np.ndarray, unit: str) -> tuple[float, str]:
    """(factor, label) to show ``values`` in engineering units: divide by factor, label e.g. 'pJ'."""
    v = np.abs(np.asarray(values, dtype=float))
    v = v[np.isfinite(v) & (v > 0)]
    if unit == "mm²":
        return 1.0, unit
    if unit == "m²":
        return (1e-6, "mm²") if v.size and np.median(v) >= 1e-9 else (1e-12, "µm²")
    if not unit or not v.size:
        return 1.0, unit
    ref = float(np.median(v))
    factor, prefix = _PREFIX[0]
    for f, p in _PREFIX:
        if ref >= f:
            factor, prefix = f, p
    return factor, prefix + unit


def _label(column: str, unit_label: str) -> str:
    name = column.removeprefix("param/").removeprefix("extra.")
    for suffix in _UNITS:
        if unit_label and name.endswith(suffix):
            name = name[: -len(suffix)]
    return f"{name} [{unit_label}]" if unit_label else name


def curves_figure(
    xs: Sequence[float],
    curves: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    path: str | Path,
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    logx: bool = False,
) -> Path:
    """Lines with shaded bands: ``curves[label] = (mean, low, high)`` over ``xs``. Saves a PNG."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.0, 4.5), dpi=120)
    for label, (mean, low, high) in curves.items():
        (line,) = ax.plot(xs, mean, marker="o", ms=4, lw=1.8, label=label)
        ok = np.isfinite(low) & np.isfinite(high)
        if ok.any():
            ax.fill_between(np.asarray(xs)[ok], low[ok], high[ok], color=line.get_color(), alpha=0.2, lw=0)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(curves) > 1 or next(iter(curves), ""):
        ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return _save(fig, path)


def pareto_figure(
    y: np.ndarray,
    y_err: np.ndarray,
    xs: Mapping[str, np.ndarray],
    on_front: np.ndarray,
    path: str | Path,
    *,
    ylabel: str,
    labels: Sequence[str] = (),
    title: str = "Design-space exploration",
) -> Path:
    """One panel per cost objective (x) against the figure of merit ``y`` (e.g. accuracy).

    Dominated design points are grey, the Pareto front (over all objectives) is red; error bars
    are the confidence intervals over seeds. Front points are numbered (best ``y`` first) and the
    ``labels`` of the numbered points are listed in a key beside the panels.
    """
    plt = _plt()
    n = len(xs)
    front = np.flatnonzero(on_front) if len(labels) else np.array([], dtype=int)
    numbered = front[np.argsort(-y[front], kind="stable")]
    longest = max((len(f"{k + 1}: {labels[i]}") for k, i in enumerate(numbered)), default=0)
    key_width = 0.4 + 0.07 * max(longest, 12) if len(numbered) else 0.0  # inches for the monospace key
    fig, axes = plt.subplots(1, n, figsize=(4.4 * n + key_width, 4.2), dpi=120, squeeze=False)
    err = np.where(np.isfinite(y_err), y_err, 0.0)
    for ax, (column, x) in zip(axes[0], xs.items()):
        factor, unit_label = si_scale(x, unit_of(column))
        xv = np.asarray(x, dtype=float) / factor
        ax.errorbar(
            xv[~on_front], y[~on_front], yerr=err[~on_front], fmt="o", color="0.6", ms=5, lw=0.8, label="dominated"
        )
        ax.errorbar(
            xv[on_front], y[on_front], yerr=err[on_front], fmt="*", color="tab:red", ms=11, lw=1.0, label="Pareto front"
        )
        for k, i in enumerate(numbered):
            ax.annotate(
                str(k + 1),
                (xv[i], y[i]),
                textcoords="offset points",
                xytext=(5, 3),
                fontsize=8,
                color="tab:red",
                fontweight="bold",
            )
        positive = xv[np.isfinite(xv) & (xv > 0)]
        if positive.size and positive.max() / positive.min() > 30:
            ax.set_xscale("log")
        ax.set_xlabel(_label(column, unit_label))
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8, frameon=False, loc="lower right")
    fig.suptitle(title)
    if len(numbered):
        share = key_width / fig.get_figwidth()
        key = "\n".join(f"{k + 1}: {labels[i]}" for k, i in enumerate(numbered))
        fig.text(1 - share + 0.01, 0.5, "Pareto front\n" + key, va="center", fontsize=8, family="monospace")
        fig.tight_layout(rect=(0, 0, 1 - share, 1))
    else:
        fig.tight_layout()
    return _save(fig, path)


def breakdown_figure(
    panels: Mapping[str, Mapping[str, float]],
    path: str | Path,
    *,
    unit: str,
    title: str,
) -> Path:
    """One horizontal bar panel per entry of ``panels`` ({panel title: {label: value}}), values in SI ``unit``.

    Each bar is annotated with its value and its share of the panel total.
    """
    plt = _plt()
    panels = {k: v for k, v in panels.items() if v}
    n = max(len(panels), 1)
    height = 1.4 + 0.38 * max((len(v) for v in panels.values()), default=2)
    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, height), dpi=120, squeeze=False)
    cmap = plt.get_cmap("tab10")
    for k, (ax, (name, values)) in enumerate(zip(axes[0], panels.items())):
        labels = list(values)
        v = np.array([values[lab] for lab in labels], dtype=float)
        factor, unit_label = si_scale(v, unit)
        total = v.sum()
        ax.barh(labels, v / factor, color=cmap(k % 10))
        for i, x in enumerate(v):
            share = f" ({x / total:.0%})" if total > 0 else ""
            ax.annotate(
                f"{_num(x / factor)}{share}",
                (x / factor, i),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        ax.invert_yaxis()
        ax.set_xlim(0, max(float(v.max() / factor) * 1.35, 1e-30))
        ax.set_xlabel(f"{unit_label} per inference")
        ax.set_title(name, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def _num(v: float) -> str:
    """3 significant digits, without an exponent above 1000 (5,325; 52.5; 0.00852)."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    _plt().close(fig)
    return path
