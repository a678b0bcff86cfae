"""``aimc demo``: a small, real tour of the three jobs on a shipped S4D model, in one output folder.

1. a noise-robustness sweep over the PCM and RRAM tile presets (accuracy vs noise, error bands over seeds);
2. a small design-space exploration over ADC bits and tile size (Pareto front of accuracy, energy,
   latency and area);
3. an energy report of one configuration (per-layer and per-component energy and latency).

The specs are ``aimc_sim/data/sweeps/demo_noise.yaml``, ``demo_dse.yaml`` and ``demo_hardware.yaml``;
``index.md`` / ``index.html`` in the output folder open with the three figures.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

COMMAND = "demo"
HELP = "run a small noise sweep, DSE and energy report on a shipped S4D model (a few minutes on 2 cores)"

DATA = Path(__file__).resolve().parents[1] / "data" / "sweeps"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", default="aimc-out/demo", help="output folder (default aimc-out/demo)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    parser.add_argument("--quick", action="store_true", help="fewer points, seeds and test samples (a smoke test)")
    parser.add_argument("--no-progress", action="store_true", help="do not draw progress bars")


def _spec(name: str, output: Path, quick: bool) -> Any:
    """Load a demo spec; ``quick`` keeps the first two values of each axis, one seed and 30 test samples."""
    from aimc_sim.config import read_yaml
    from aimc_sim.sweep import load_spec

    data = read_yaml(DATA / name)
    data["output"] = str(output)
    if quick:
        data["seeds"] = 1
        data["base"]["dataset"]["n_test"] = 30
        for axis in data["axes"]:
            axis["params"] = {k: v[:2] if isinstance(v, list) else v for k, v in axis["params"].items()}
    return load_spec(data)


def _noise_table(table: Any) -> tuple[list[str], list[list[str]]]:
    """Accuracy (mean ± 95 % CI over seeds): one row per noise level, one column per tile preset."""
    from aimc_sim.sweep.analysis import aggregate

    preset, noise = "hardware.tile.preset", "hardware.tile.noise.w_noise"
    groups = aggregate(table, [f"param/{preset}", f"param/{noise}"])
    presets = list(dict.fromkeys(g.params[preset] for g in groups))
    levels = sorted({g.params[noise] for g in groups})
    cell = {(g.params[preset], g.params[noise]): g.stats["accuracy"] for g in groups}

    def fmt(st: Any) -> str:
        return f"{st.mean:.3f}" + (f" ± {st.half_width:.3f}" if st.n > 1 else "")

    rows = [[f"{lv:g}", *(fmt(cell[(p, lv)]) if (p, lv) in cell else "" for p in presets)] for lv in levels]
    return ["w_noise (× w_max)", *presets], rows


def run(args: argparse.Namespace) -> int:
    from aimc_sim.sweep.executors import make_executor

    out = Path(args.output)
    t0 = time.perf_counter()
    with make_executor(args.workers, None) as executor:  # one pool for all three jobs: models load once
        return _demo(args, out, t0, {"executor": executor, "progress": not args.no_progress})


def _demo(args: argparse.Namespace, out: Path, t0: float, opts: dict[str, Any]) -> int:
    from aimc_sim.cli.report import make_report
    from aimc_sim.config import read_yaml
    from aimc_sim.report.curves import plot_results
    from aimc_sim.report.document import Document
    from aimc_sim.sweep import load_results, run_sweep
    from aimc_sim.sweep.dse import analyze_dse

    print("1/3 noise-robustness sweep (PCM and RRAM presets)", flush=True)
    noise_spec = _spec("demo_noise.yaml", out / "noise" / "results.h5", args.quick)
    noise = run_sweep(noise_spec, **opts)
    noise_png = plot_results(load_results(noise.output), out / "noise" / "accuracy_vs_noise.png", by=None)

    print("2/3 design-space exploration (ADC bits x tile size)", flush=True)
    dse_spec = _spec("demo_dse.yaml", out / "dse" / "results.h5", args.quick)
    dse_run = run_sweep(dse_spec, **opts)
    dse = analyze_dse(load_results(dse_run.output), out / "dse" / "dse")

    print("3/3 energy report", flush=True)
    hw_file = DATA / "demo_hardware.yaml"
    report = make_report(
        noise_spec.base["model"],
        read_yaml(hw_file),
        out / "report",
        hardware_label=hw_file.name,
        n_test=30 if args.quick else 200,
        seeds=2 if args.quick else 5,
        **opts,
    )

    doc = Document("aimc-sim demo")
    doc.paragraph(
        f"Model {noise_spec.base['model']} on simulated crossbar tiles. Finished in "
        f"{time.perf_counter() - t0:.0f} s; every number below is recomputed by `aimc demo`."
    )
    doc.image(noise_png, "Accuracy vs noise for the PCM and RRAM presets (mean and 95 % CI over seeds)")
    doc.image(dse.files[0], "Design-space exploration: red stars are the Pareto front")
    doc.image(report.figures[0], "Energy per inference by component and by layer")
    doc.heading("Accuracy vs noise")
    doc.table(*_noise_table(load_results(noise.output)))
    doc.heading("Files")
    doc.table(
        ["job", "files"],
        [
            ["noise sweep", f"noise/{noise.output.name} ({noise.n_points} points), noise/{noise_png.name}"],
            [
                "DSE",
                f"dse/{dse_run.output.name} ({dse_run.n_points} points), "
                + ", ".join(f"dse/{f.name}" for f in dse.files),
            ],
            ["energy report", "report/report.md, report/report.html"],
        ],
    )
    doc.paragraph(
        f"Pareto front: {int(dse.on_front.sum())} of {len(dse.groups)} design points over "
        + ", ".join(map(str, dse.objectives))
        + "."
    )
    md, page = doc.write(out, "index")
    print(f"demo finished in {time.perf_counter() - t0:.0f} s; open {page} (or {md})")
    return 0
