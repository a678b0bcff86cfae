"""Figures for sweeps and reports (matplotlib, Agg backend): curves with error bands, Pareto fronts, breakdowns.

Values are SI; axes show engineering units (pJ, nJ, µs, mm²) chosen per figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["si_scale", "curves_figure", "pareto_figure", "breakdown_figure", "montage_figure"]

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
    from aimc_sim.report.labels import axis_label

    return axis_label(column, unit_label)


def _note(fig: Any, note: str) -> float:
    """Write ``note`` (model, sample counts) under the axes; returns the bottom margin (figure fraction) it needs."""
    if not note:
        return 0.0
    fig.text(0.01, 0.012, note, fontsize=7.5, color="0.35", va="bottom", ha="left", wrap=True)
    return 0.3 / fig.get_figheight()


def _fraction_limits(ax: Any, low: np.ndarray, high: np.ndarray) -> None:
    """Y limits for a fraction (accuracy): inside [0, 1] plus a small margin, never a range past 1."""
    lo = np.nanmin(low) if np.isfinite(low).any() else 0.0
    hi = np.nanmax(high) if np.isfinite(high).any() else 1.0
    ax.set_ylim(max(0.0, lo - 0.05), min(1.0, hi + 0.03) + 0.02)


def _time_ticks(ax: Any, xs: np.ndarray) -> None:
    """Ticks at the read times themselves, named (1 s, 1 h, 1 day, 30 days as "1 month", ...); with more than
    eight read times, at the named times (1 s, 1 min, 1 h, ...) within their range."""
    from aimc_sim.report.labels import TIME_TICKS, format_time

    ticks = [float(v) for v in xs]
    if len(ticks) > 8:
        ticks = [v for v, _ in TIME_TICKS if xs.min() * 0.99 <= v <= xs.max() * 1.01]
    ax.set_xticks(ticks, [format_time(v) for v in ticks])
    ax.minorticks_off()


def curves_figure(
    xs: Sequence[Any],
    panels: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]]],
    path: str | Path,
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    note: str = "",
    logx: bool = False,
    categorical: bool = False,
    time_axis: bool = False,
    fraction: bool = False,
) -> Path:
    """Side-by-side panels ``{panel title: {curve label: (mean, low, high) over xs}}`` sharing the y axis; a
    curve label keeps its colour in every panel. Saves a PNG.

    Continuous ``xs``: lines with shaded interval bands. ``categorical`` (settings such as ADC bits or a device
    name): markers with error bars at evenly spaced categories, curves side by side, no lines between them.
    ``time_axis``: a log axis with named read times (1 h, 1 day, ...). ``fraction``: y kept inside [0, 1].
    ``note`` (model and sample counts) is printed under the axes.
    """
    plt = _plt()
    n_panels = max(len(panels), 1)
    fig, axes = plt.subplots(1, n_panels, figsize=(2.2 + 4.6 * n_panels, 4.6), dpi=120, squeeze=False, sharey=True)
    labels = list(dict.fromkeys(label for curves in panels.values() for label in curves))
    colour = {label: f"C{k % 10}" for k, label in enumerate(labels)}
    n = len(labels)
    for ax, (panel, curves) in zip(axes[0], panels.items()):
        for label, (mean, low, high) in curves.items():
            k = labels.index(label)
            if categorical:
                pos = np.arange(len(xs)) + (k - (n - 1) / 2) * min(0.12, 0.6 / max(n, 1))
                err = np.vstack([mean - low, high - mean])
                err = np.where(np.isfinite(err), err, 0.0)
                ax.errorbar(pos, mean, yerr=err, fmt="o", ms=5, capsize=3, lw=1.2, color=colour[label], label=label)
            else:
                ax.plot(xs, mean, marker="o", ms=4, lw=1.8, color=colour[label], label=label)
                ok = np.isfinite(low) & np.isfinite(high)
                if ok.any():
                    ax.fill_between(np.asarray(xs)[ok], low[ok], high[ok], color=colour[label], alpha=0.18, lw=0)
        if categorical:
            ax.set_xticks(np.arange(len(xs)), [str(x) for x in xs])
            ax.set_xlim(-0.5, len(xs) - 0.5)
        elif logx or time_axis:
            ax.set_xscale("log")
            if time_axis:
                _time_ticks(ax, np.asarray(xs, dtype=float))
        if fraction:
            _fraction_limits(
                ax,
                np.concatenate([c[1] for cs in panels.values() for c in cs.values()]),
                np.concatenate([c[2] for cs in panels.values() for c in cs.values()]),
            )
        ax.set_xlabel(xlabel)
        ax.set_title(panel, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(ylabel)
    if n > 1 or (labels and labels[0]):
        axes[0][-1].legend(fontsize=8, frameon=True, framealpha=0.85, loc="best")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, _note(fig, note), 1, 1))
    return _save(fig, path)


_OFFSETS = [(5, 3), (5, -10), (-12, 3), (-12, -10), (-3, 7), (-3, -15), (8, -3), (-16, -3)]
"""Candidate label offsets (points) around a marker, tried in order; then the same ring twice as far out."""


def _plain_log_axis(ax: Any, span: float) -> None:
    """A log x axis with plain-number ticks (no 10^k notation): finely (1, 1.5, 2, 3, ... x 10^k) when the data
    ``span`` (max / min) is under one decade, at 1, 2, 5 x 10^k up to two decades, else at 10^k."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if span < 10:
        subs: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)
    else:
        subs = (1.0, 2.0, 5.0) if span < 100 else (1.0,)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=subs, numticks=30))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _place_labels(ax: Any, x: np.ndarray, y: np.ndarray, texts: Sequence[str], colors: Sequence[str]) -> None:
    """Annotate each point with its text where it overlaps neither a marker nor an earlier label (greedy over
    candidate offsets, then farther out with a leader line); call after the layout is final."""
    fig = ax.figure
    to_pt = 72.0 / fig.dpi
    pts = ax.transData.transform(np.column_stack([x, y])) * to_pt  # display points
    boxes = [(px - 6, py - 6, px + 6, py + 6) for px, py in pts if np.isfinite(px) and np.isfinite(py)]

    frame = ax.get_window_extent()
    x0, y0, x1, y1 = (v * to_pt for v in (frame.x0, frame.y0, frame.x1, frame.y1))

    def overlap(b: tuple[float, float, float, float]) -> float:
        inside = max(0.0, min(b[2], x1) - max(b[0], x0)) * max(0.0, min(b[3], y1) - max(b[1], y0))
        outside = (b[2] - b[0]) * (b[3] - b[1]) - inside  # a label leaving the axes may hit the title or a neighbour
        return 10 * outside + sum(
            max(0.0, min(b[2], o[2]) - max(b[0], o[0])) * max(0.0, min(b[3], o[3]) - max(b[1], o[1])) for o in boxes
        )

    clusters: list[tuple[float, float, list[str], str]] = []  # markers within 3 pt share one label
    for (px, py), text, color in zip(pts, texts, colors):
        if not (np.isfinite(px) and np.isfinite(py)):
            continue
        for cx, cy, members, _ in clusters:
            if abs(cx - px) < 3 and abs(cy - py) < 3:
                members.append(text)
                break
        else:
            clusters.append((px, py, [text], color))
    for px, py, members, color in clusters:
        text = ",".join(members)
        w, h = 4.8 * len(text) + 1, 8.0
        best = None
        for scale in (1.0, 2.0, 3.0):
            for dx, dy in _OFFSETS:
                b = (px + dx * scale, py + dy * scale, px + dx * scale + w, py + dy * scale + h)
                cost = overlap(b)
                if best is None or cost < best[0]:
                    best = (cost, dx * scale, dy * scale, b, scale)
                if cost == 0:
                    break
            if best is not None and best[0] == 0:
                break
        assert best is not None
        _, dx, dy, b, scale = best
        arrow = {"arrowstyle": "-", "color": color, "lw": 0.5} if scale > 1 else None
        ax.annotate(
            text,
            (px / to_pt, py / to_pt),
            xycoords="figure pixels",
            textcoords="offset points",
            xytext=(dx, dy),
            fontsize=7,
            color=color,
            fontweight="bold",
            arrowprops=arrow,
            va="bottom",
            ha="left",
        )
        boxes.append(b)


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
    note: str = "",
    fraction: bool = False,
) -> Path:
    """One panel per cost objective (x) against the figure of merit ``y`` (e.g. accuracy).

    ``y_err`` is (2, n): the distances from ``y`` down to the interval's low end and up to its high end.
    Dominated design points are grey circles, the Pareto front (over all objectives) red stars. Every point
    is numbered (front first, best ``y`` first), the numbers placed so they overlap no marker or other number,
    and the key beside the panels lists each number's ``labels`` entry (front points marked with a star).
    """
    plt = _plt()
    n = len(xs)
    y = np.asarray(y, dtype=float)
    idx = np.arange(len(y))
    order = (
        np.concatenate(
            [
                idx[on_front][np.argsort(-y[on_front], kind="stable")],
                idx[~on_front][np.argsort(-y[~on_front], kind="stable")],
            ]
        )
        if len(labels)
        else np.array([], dtype=int)
    )
    number = {int(i): k + 1 for k, i in enumerate(order)}
    key_lines = [f"{'*' if on_front[i] else ' '}{number[int(i)]:>3}: {labels[i]}" for i in order]
    longest = max((len(s) for s in key_lines), default=0)
    key_width = 0.4 + 0.062 * max(longest, 12) if key_lines else 0.0  # inches for the monospace key
    height = max(4.4, 1.2 + 0.13 * len(key_lines))
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n + key_width, height), dpi=120, squeeze=False)
    err = np.where(np.isfinite(y_err), y_err, 0.0).reshape(2, -1)
    scaled = {}
    for ax, (column, x) in zip(axes[0], xs.items()):
        factor, unit_label = si_scale(x, unit_of(column))
        xv = np.asarray(x, dtype=float) / factor
        scaled[column] = xv
        ax.errorbar(
            xv[~on_front],
            y[~on_front],
            yerr=err[:, ~on_front],
            fmt="o",
            color="0.55",
            ms=5,
            lw=0.8,
            label="dominated",
        )
        ax.errorbar(
            xv[on_front],
            y[on_front],
            yerr=err[:, on_front],
            fmt="*",
            color="tab:red",
            ms=11,
            lw=1.0,
            label="Pareto front",
        )
        positive = xv[np.isfinite(xv) & (xv > 0)]
        if positive.size and positive.max() / positive.min() > 4:
            _plain_log_axis(ax, positive.max() / positive.min())
        if fraction:
            _fraction_limits(ax, y - err[0], y + err[1])
        ax.set_xlabel(_label(column, unit_label))
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=11)
    bottom = _note(fig, note)
    share = key_width / fig.get_figwidth()
    fig.tight_layout(rect=(0, bottom, 1 - share, 0.97))
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1 - share + 0.005, 0.95))
    if key_lines:
        key = "\n".join(key_lines)
        fig.text(1 - share + 0.01, 0.45, "design (* on the front)\n" + key, va="center", fontsize=7, family="monospace")
        colors = ["tab:red" if on_front[i] else "0.35" for i in order]
        for ax, xv in zip(axes[0], scaled.values()):
            _place_labels(ax, xv[order], y[order], [str(number[int(i)]) for i in order], colors)
    return _save(fig, path)


def breakdown_figure(
    panels: Mapping[str, Mapping[str, float]],
    path: str | Path,
    *,
    unit: str,
    title: str,
    note: str = "",
) -> Path:
    """One horizontal bar panel per entry of ``panels`` ({panel title: {label: value}}), values in SI ``unit``.

    Each bar is annotated with its value and its share of the panel total; ``note`` (model, samples) is
    printed under the panels.
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
    fig.tight_layout(rect=(0, _note(fig, note), 1, 1))
    return _save(fig, path)


def montage_figure(images: Sequence[str | Path], path: str | Path, *, title: str, columns: int = 2) -> Path:
    """Saved PNG figures tiled into one image at their own resolution (a slide), row by row, under ``title``."""
    plt = _plt()
    pictures = [plt.imread(str(p)) for p in images]
    dpi, head = 120, 60  # pixels for the title
    cell_w = max(p.shape[1] for p in pictures)
    rows = [pictures[i : i + columns] for i in range(0, len(pictures), columns)]
    row_h = [max(p.shape[0] for p in row) for row in rows]
    width, height = cell_w * columns, sum(row_h) + head
    fig = plt.figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    top = height - head
    for row, h in zip(rows, row_h):
        for k, picture in enumerate(row):
            ph, pw = picture.shape[:2]
            x = k * cell_w + (cell_w - pw) / 2
            ax = fig.add_axes((x / width, (top - ph) / height, pw / width, ph / height))
            ax.imshow(picture, interpolation="none")
            ax.axis("off")
        top -= h
    fig.suptitle(title, fontsize=16, y=1 - 0.35 * head / height)
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
