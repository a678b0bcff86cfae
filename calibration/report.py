"""Calibration report: residual plots (PNG, matplotlib Agg) and a plain-text summary per fit.

Each fit's ``residuals`` mapping provides ``x`` (the plotted covariate, SI), ``x_label``,
``x_unit`` (display unit and its SI factor, e.g. ("uS", 1e-6)), ``z`` (standardised residuals) and a
data panel: ``data_x``, ``data_y``, ``data_label``, ``y_unit`` and ``curves`` (list of
(x, y, label, colour); a label starting with '_' stays out of the legend). Plots convert
SI to the display units at this edge only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import stats

from calibration.fitresult import KindFit


def residual_plot(fit: KindFit, out: str | Path) -> Path:
    """Four panels: data with the fitted model, standardised residuals vs x, their histogram, and a QQ plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = fit.residuals
    xu, xf = r["x_unit"]
    yu, yf = r["y_unit"]
    z = np.asarray(r["z"], dtype=float)
    x_axis = f"{r['x_label']} ({xu})" if xu else r["x_label"]
    fig, ax = plt.subplots(2, 2, figsize=(10, 7.5))
    a = ax[0, 0]
    a.plot(np.asarray(r["data_x"]) / xf, np.asarray(r["data_y"]) / yf, ".", ms=3, alpha=0.5, label="data", color="C0")
    for cx, cy, label, color in r["curves"]:
        a.plot(np.asarray(cx) / xf, np.asarray(cy) / yf, "-", lw=1.8, label=label, color=color)
    a.set_xlabel(x_axis)
    a.set_ylabel(f"{r['data_label']} ({yu})" if yu else r["data_label"])
    a.set_title(f"{fit.kind} data and fit")
    a.legend(fontsize=8)
    a = ax[0, 1]
    a.plot(np.asarray(r["x"]) / xf, z, ".", ms=3, alpha=0.5)
    a.axhline(0, color="k", lw=0.8)
    for s in (-2, 2):
        a.axhline(s, color="r", lw=0.8, ls="--")
    a.set_xlabel(x_axis)
    a.set_ylabel("standardised residual")
    a.set_title("residuals vs covariate (dashed: ±2)")
    a = ax[1, 0]
    a.hist(z, bins=min(40, max(10, len(z) // 10)), density=True, alpha=0.7, label="residuals")
    grid = np.linspace(-4, 4, 200)
    a.plot(grid, stats.norm.pdf(grid), "k-", label="N(0, 1)")
    a.set_xlabel("standardised residual")
    a.set_ylabel("density")
    a.legend(fontsize=8)
    a.set_title("residual distribution")
    a = ax[1, 1]
    osm, osr = stats.probplot(z, dist="norm", fit=False)
    a.plot(osm, osr, ".", ms=3)
    lim = [min(osm.min(), osr.min()), max(osm.max(), osr.max())]
    a.plot(lim, lim, "k-", lw=0.8)
    a.set_xlabel("N(0, 1) quantile")
    a.set_ylabel("residual quantile")
    gof = ", ".join(f"{k} {v:.3g}" for k, v in list(fit.result.gof.items())[:3])
    a.set_title(f"QQ plot ({gof})", fontsize=9)
    fig.suptitle(f"{fit.kind} fit to {Path(fit.source).name}")
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def write_report(fits: Sequence[KindFit], directory: str | Path, header: str = "") -> list[Path]:
    """Write ``report.txt`` (fit tables) and one ``<kind>_residuals.png`` per fit into ``directory``."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    text = [header] if header else []
    written = []
    for i, fit in enumerate(fits):
        text += [f"== {fit.kind} fit to {fit.source} ==", fit.result.table(), ""]
        written.append(residual_plot(fit, d / f"{i:02d}_{fit.kind}_residuals.png"))
    report = d / "report.txt"
    report.write_text("\n".join(text) + "\n")
    return [report, *written]
