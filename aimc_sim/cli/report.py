"""``aimc report MODEL --hardware HW.yaml``: energy/latency/accuracy report (Markdown + HTML) over seeds."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

COMMAND = "report"
HELP = "evaluate a model on a hardware config over seeds and write a Markdown + HTML energy report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="shipped model name (e.g. s4d_digits_float) or checkpoint path")
    parser.add_argument("--hardware", help="hardware config YAML (workloads S4D hardware fields); default: defaults")
    parser.add_argument("--dataset", default="digits_pixel", help="data set name (default digits_pixel)")
    parser.add_argument("--n-test", type=int, default=200, help="test samples per seed (default 200)")
    parser.add_argument("--seeds", type=int, default=5, help="hardware seeds (programming noise draws; default 5)")
    parser.add_argument("-o", "--output", default="aimc-out/report", help="output folder (default aimc-out/report)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    parser.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")


def cost_model_table(name: str) -> tuple[dict[str, Any], str]:
    """The named cost model as a nested dict (every number with its source) and a descriptive name."""
    from aimc_sim.cost import CostModel

    model = CostModel.load(name)
    return model.config.to_dict(), f"{model.config.name} (ADC model {model.adc_model_name})"


def make_report(
    model: str,
    hardware: dict[str, Any],
    folder: Path,
    *,
    hardware_label: str,
    dataset: str = "digits_pixel",
    n_test: int = 200,
    seeds: int = 5,
    workers: int | None = None,
    progress: bool = True,
    executor: Any = None,
) -> Any:
    """Evaluate ``model`` on ``hardware`` for ``seeds`` seeds (a resumable sweep in ``folder``) and write the report."""
    from aimc_sim import __version__
    from aimc_sim.errors import ConfigError
    from aimc_sim.report.energy import write_energy_report
    from aimc_sim.sweep import load_results, load_spec, run_sweep
    from workloads.s4d.hardware import hardware_config

    if seeds < 1:
        raise ConfigError("seeds", f"must be an integer >= 1, got {seeds}")
    if n_test < 1:
        raise ConfigError("n_test", f"must be an integer >= 1, got {n_test}")
    hw = hardware_config(hardware)  # validates the hardware fields before anything runs
    spec = load_spec(
        {
            "evaluator": "workloads.api:evaluate",
            "base": {"model": model, "hardware": hardware, "dataset": {"name": dataset, "n_test": n_test}},
            "seeds": seeds,
            "output": str(folder / "results.h5"),
        }
    )
    summary = run_sweep(spec, workers=workers, progress=progress, executor=executor)
    table = load_results(summary.output)
    rows = table.rows()
    metrics = [{k: v for k, v in r.items() if k in table.metrics} for r in rows]
    cost, cost_name = cost_model_table(hw.cost_model)
    context = {
        "model": model,
        "hardware": hardware_label,
        "backend": hw.backend,
        "recurrence": hw.recurrence,
        "data set": f"{dataset}, first {n_test} test samples",
        "aimc-sim": __version__,
        "results": summary.output.name,
    }
    return write_energy_report(
        metrics,
        folder,
        title=f"Energy report: {Path(model).stem} on {hardware_label}",
        context=context,
        seeds=[int(r["seed"]) for r in rows],
        hardware=hw.to_dict(),
        cost_model=cost,
        cost_model_name=cost_name,
    )


def run(args: argparse.Namespace) -> int:
    from aimc_sim.config import read_yaml
    from aimc_sim.errors import ConfigError

    hardware = read_yaml(args.hardware) if args.hardware else {}
    if not isinstance(hardware, dict):
        raise ConfigError(str(args.hardware), f"must hold a mapping of hardware fields, got {hardware!r}")
    files = make_report(
        args.model,
        hardware,
        Path(args.output),
        hardware_label=Path(args.hardware).name if args.hardware else "default hardware",
        dataset=args.dataset,
        n_test=args.n_test,
        seeds=args.seeds,
        workers=args.workers,
        progress=not args.no_progress,
    )
    print(f"wrote {files.markdown} and {files.html}")
    return 0
