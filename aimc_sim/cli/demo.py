"""``aimc demo``: what the analog core does to a trained network, on a shipped S4D model, in one output folder.

1. accuracy against time after programming (1 s to 1 year) for PCM, RRAM and FeFET devices on the same tile,
   with and without drift compensation (``demo_drift.yaml``);
2. accuracy against the PCM programming-noise scale, read 1 s and 1 day after programming
   (``demo_prog_noise.yaml``);
3. a design-space exploration over ADC bits, tile size, analog or digital SSM recurrence and device family,
   with its Pareto front (``demo_dse.yaml``);
4. the energy report of one configuration (``demo_hardware.yaml``).

The specs are in ``aimc_sim/data/sweeps/``. ``index.html`` (self-contained) and ``index.md`` in the output
folder are a one-page summary: the key numbers, the figures, links to every file and the run time.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COMMAND = "demo"
RUN_TIME = "about 1 min on an idle 2-core machine, up to 6 min under load"
"""The demo's measured wall time (``time aimc demo``: 50 s on an idle 2-core machine in a fresh virtualenv,
1 min 33 s at load average about 1; 4 min 12 s, 4 min 30 s and 6 min 09 s at load averages of about 10, 8
and 11), quoted the same way by ``--help``, the README and docs/sweeps.md."""
HELP = (
    "drift, programming-noise and design-space sweeps plus an energy report on a shipped S4D model, "
    f"summarised on one page ({RUN_TIME})"
)

DATA = Path(__file__).resolve().parents[1] / "data" / "sweeps"
T, DEVICE, COMPENSATION = "hardware.t", "hardware.tile.device", "hardware.tile.drift_compensation.mode"
S_PROG = "hardware.tile.device_options.s_prog"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", default="aimc-out/demo", help="output folder (default aimc-out/demo)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    parser.add_argument(
        "--quick", action="store_true", help="2 values per axis, 1 seed, 30 test samples: a smoke test, not results"
    )
    parser.add_argument("--no-progress", action="store_true", help="do not draw progress bars")


def _spec(name: str, output: Path, quick: bool) -> Any:
    """Load a demo spec; ``quick`` keeps the first two values of each grid axis, the first of each zip axis, one
    seed and 30 test samples."""
    from aimc_sim.config import read_yaml
    from aimc_sim.sweep import load_spec

    data = read_yaml(DATA / name)
    data["output"] = str(output)
    if quick:
        data["seeds"] = 1
        data["base"]["dataset"]["n_test"] = 30
        for axis in data["axes"]:
            keep = 2 if axis.get("kind", "grid") == "grid" else 1
            axis["params"] = {k: v[:keep] if isinstance(v, list) else v for k, v in axis["params"].items()}
    return load_spec(data)


@dataclass
class _Tally:
    """Truthful timings: evaluations computed by this run and reused from earlier runs in the same folder."""

    run: int = 0
    reused: int = 0

    def add(self, summary: Any) -> None:
        self.run += summary.n_run
        self.reused += summary.n_skipped


def _stats(table: Any, params: list[str], metric: str = "accuracy") -> dict[tuple, Any]:
    from aimc_sim.sweep.analysis import aggregate

    groups = aggregate(table, [f"param/{p}" for p in params])
    return {tuple(g.params[p] for p in params): g.stats[metric] for g in groups}


def _acc(st: Any) -> str:
    """``0.975 [0.95, 0.99]``: an accuracy with its 95 % interval."""
    return f"{st.mean:.3f} [{st.low:.2f}, {st.high:.2f}]" if st.n else ""


def _drift_table(table: Any) -> tuple[list[str], list[list[str]]]:
    """Accuracy (Wilson 95 % interval): one row per device and compensation mode, one column per read time."""
    from aimc_sim.report.labels import format_time

    cell = _stats(table, [DEVICE, COMPENSATION, T])
    times = sorted({k[2] for k in cell})
    rows = sorted({k[:2] for k in cell}, key=lambda k: (str(k[0]), str(k[1])))
    body = [
        [dev, comp, *(_acc(cell[(dev, comp, t)]) if (dev, comp, t) in cell else "" for t in times)]
        for dev, comp in rows
    ]
    return ["device", "drift compensation", *(format_time(t) for t in times)], body


def _prog_table(table: Any) -> tuple[list[str], list[list[str]]]:
    from aimc_sim.report.labels import format_time

    cell = _stats(table, [S_PROG, T])
    times = sorted({k[1] for k in cell})
    scales = sorted({k[0] for k in cell})
    body = [[f"{s:g}", *(_acc(cell[(s, t)]) if (s, t) in cell else "" for t in times)] for s in scales]
    return ["σ_prog scale (× measured PCM)", *(f"read after {format_time(t)}" for t in times)], body


def _drift_summary(table: Any) -> str:
    """One sentence per device: accuracy at the first and last read time, with and without compensation."""
    from aimc_sim.report.labels import format_time

    cell = _stats(table, [DEVICE, COMPENSATION, T])
    first, last = min(k[2] for k in cell), max(k[2] for k in cell)
    parts = []
    for dev in dict.fromkeys(k[0] for k in cell):
        modes = [
            f"{'with' if comp != 'none' else 'without'} compensation {cell[(dev, comp, first)].mean:.1%} → "
            f"{cell[(dev, comp, last)].mean:.1%}"
            for comp in dict.fromkeys(k[1] for k in cell)
            if (dev, comp, first) in cell and (dev, comp, last) in cell
        ]
        parts.append(f"**{dev}**: " + "; ".join(modes))
    return f"Accuracy from {format_time(first)} to {format_time(last)} after programming. " + ". ".join(parts) + "."


def _dse_summary(dse: Any) -> tuple[str, float]:
    """The energy spread of the design space (max / min of the seed-mean energies) in words, and the ratio."""
    import numpy as np

    from aimc_sim.report.labels import quantity
    from aimc_sim.report.plots import si_scale

    energy = np.array([g.mean("energy_j") for g in dse.groups])
    accuracy = np.array([g.mean("accuracy") for g in dse.groups])
    lo, hi = int(np.nanargmin(energy)), int(np.nanargmax(energy))
    factor, unit = si_scale(energy, "J")
    labels = _design_labels(dse)
    best = max(np.flatnonzero(dse.on_front), key=lambda i: (accuracy[i], -energy[i]))
    ratio = float(energy[hi] / energy[lo])
    text = (
        f"{len(dse.groups)} designs; energy per inference spans {energy[lo] / factor:.3g}-{energy[hi] / factor:.3g} "
        f"{unit} (**{ratio:.1f}×**): cheapest {labels[lo]} (accuracy {accuracy[lo]:.1%}), most expensive "
        f"{labels[hi]} (accuracy {accuracy[hi]:.1%}). Most accurate design on the Pareto front: {labels[best]} "
        f"({accuracy[best]:.1%}, {energy[best] / factor:.3g} {unit}). {int(dse.on_front.sum())} designs are on the "
        f"Pareto front of {', '.join(quantity(o.column).name for o in dse.objectives)}."
    )
    return text, ratio


def _design_labels(dse: Any) -> list[str]:
    from aimc_sim.report.labels import setting_text

    varying = [k for k in dse.groups[0].params if len({str(g.params[k]) for g in dse.groups}) > 1]
    return [
        ", ".join(setting_text(k, g.params[k], short=True) for k in varying if k != "hardware.tile.cols")
        for g in dse.groups
    ]


def _rows_before(path: Path) -> int:
    from aimc_sim.errors import DataError
    from aimc_sim.sweep import load_results

    try:
        return len(load_results(path)) if path.exists() else 0
    except DataError:
        return 0


def run(args: argparse.Namespace) -> int:
    from aimc_sim.sweep.executors import make_executor

    out = Path(args.output)
    t0 = time.perf_counter()
    with make_executor(args.workers, None) as executor:  # one pool for all four jobs: models load once
        return _demo(args, out, t0, {"executor": executor, "progress": not args.no_progress})


def _demo(args: argparse.Namespace, out: Path, t0: float, opts: dict[str, Any]) -> int:
    from aimc_sim.cli.report import make_report
    from aimc_sim.config import read_yaml
    from aimc_sim.progress import format_duration
    from aimc_sim.report.curves import plot_results
    from aimc_sim.report.document import Document
    from aimc_sim.report.plots import montage_figure
    from aimc_sim.sweep import load_results, run_sweep
    from aimc_sim.sweep.analysis import describe
    from aimc_sim.sweep.dse import analyze_dse

    tally = _Tally()

    def sweep(step: str, spec_file: str, folder: str) -> tuple[Any, Any, Any]:
        print(step, flush=True)
        spec = _spec(spec_file, out / folder / "results.h5", args.quick)
        summary = run_sweep(spec, **opts)
        tally.add(summary)
        return spec, summary, load_results(summary.output)

    drift_spec, drift_run, drift = sweep(
        "1/4 accuracy vs time after programming (PCM, RRAM, FeFET; drift compensation on/off)",
        "demo_drift.yaml",
        "drift",
    )
    drift_png = plot_results(
        drift,
        out / "drift" / "accuracy_vs_time.png",
        x=T,
        by=[DEVICE],
        panel=COMPENSATION,
        title="Accuracy vs time after programming (mean, 95 % Wilson interval)",
    )
    _, prog_run, prog = sweep("2/4 accuracy vs PCM programming noise", "demo_prog_noise.yaml", "prog_noise")
    prog_png = plot_results(
        prog,
        out / "prog_noise" / "accuracy_vs_programming_noise.png",
        x=S_PROG,
        by=[T],
        title="Accuracy vs PCM programming noise (mean, 95 % Wilson interval)",
    )
    _, dse_run, dse_table = sweep(
        "3/4 design-space exploration (recurrence, device, ADC bits, tile size)", "demo_dse.yaml", "dse"
    )
    dse = analyze_dse(dse_table, out / "dse" / "dse")
    dse_text, spread = _dse_summary(dse)

    print("4/4 energy report", flush=True)
    hw_file = DATA / "demo_hardware.yaml"
    n_seeds, n_test = (2, 30) if args.quick else (5, 200)
    before = min(_rows_before(out / "report" / "results.h5"), n_seeds)
    report = make_report(
        drift_spec.base["model"],
        read_yaml(hw_file),
        out / "report",
        hardware_label=hw_file.name,
        n_test=n_test,
        seeds=n_seeds,
        **opts,
    )
    tally.run += n_seeds - before
    tally.reused += before
    elapsed = time.perf_counter() - t0

    model = drift_spec.base["model"]
    doc = Document(f"aimc-sim demo: {model} on simulated analog in-memory tiles")
    doc.paragraph(
        "An S4D sequence classifier (handwritten digits read pixel by pixel; trained with 4-bit quantisation "
        "and 3 % weight noise) with its encoder, mixing and decoder matrices on 128 × 256 crossbar tiles "
        "(`pcm-default` periphery: 8-bit DAC and ADC, differential pairs, 4 % output noise). Every number below "
        "is recomputed by `aimc demo`; intervals are 95 % Wilson intervals over all classifications."
    )
    figures = [drift_png, prog_png, dse.files[0], report.figures[0]]
    slide = montage_figure(figures, out / "summary.png", title=f"{model} on simulated analog in-memory tiles")
    doc.heading("Key results")
    doc.paragraph(_drift_summary(drift))
    doc.paragraph(f"Design space: {dse_text}")
    doc.image(
        slide,
        f"The four figures below on one slide for a talk ([summary.png](summary.png)); model {model}; the test "
        "samples and seeds of each are printed under it.",
    )
    doc.heading("Figures")
    doc.image(drift_png, f"Accuracy vs time after programming; {describe(drift)}.")
    doc.image(prog_png, f"Accuracy vs PCM programming-noise scale; {describe(prog)}.")
    doc.image(dse.files[0], f"Design-space exploration (numbers as in dse/dse_pareto.md); {describe(dse_table)}.")
    doc.image(
        report.figures[0],
        f"Energy per inference by component and by layer; model {model} on {hw_file.name} · {n_test} test "
        f"samples × {n_seeds} seeds.",
    )
    doc.heading("Accuracy vs time after programming")
    doc.table(*_drift_table(drift))
    doc.heading("Accuracy vs programming noise")
    doc.table(*_prog_table(prog))
    doc.heading("Run time")
    total_cpu = sum(float(load_results(s.output).columns["wall_s"].sum()) for s in (drift_run, prog_run, dse_run))
    doc.paragraph(
        f"This run took {format_duration(elapsed)} of wall time and computed {tally.run} evaluations; "
        f"{tally.reused} evaluations were already in the result files of this folder and were reused, not rerun. "
        f"The sweeps' stored evaluations took {format_duration(total_cpu)} of worker time in total."
    )
    doc.heading("Files")
    link = lambda p: f"[{p.relative_to(out).as_posix()}]({p.relative_to(out).as_posix()})"  # noqa: E731
    doc.table(
        ["job", "spec", "files"],
        [
            [
                "drift sweep",
                "`demo_drift.yaml`",
                f"{link(drift_run.output)} ({drift_run.n_points} evaluations), {link(drift_png)}",
            ],
            [
                "programming-noise sweep",
                "`demo_prog_noise.yaml`",
                f"{link(prog_run.output)} ({prog_run.n_points} evaluations), {link(prog_png)}",
            ],
            [
                "design-space exploration",
                "`demo_dse.yaml`",
                f"{link(dse_run.output)} ({dse_run.n_points} evaluations), " + ", ".join(map(link, dse.files)),
            ],
            [
                "energy report",
                f"`{hw_file.name}`",
                f"{link(report.html)}, {link(report.markdown)}, " + ", ".join(map(link, report.figures)),
            ],
        ],
    )
    doc.paragraph(
        "Tables of every point and seed: `aimc export FILE.h5 -o FILE.csv`, or `load_results(FILE).to_pandas()` "
        "/ `.to_xarray()` in Python."
    )
    md, page = doc.write(out, "index")
    print(
        f"demo finished in {format_duration(elapsed)} ({tally.run} evaluations run, {tally.reused} reused); "
        f"DSE energy spread {spread:.1f}x; open {page} (or {md})"
    )
    return 0
