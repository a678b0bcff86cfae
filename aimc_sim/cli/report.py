"""``aimc report MODEL --data DATA --hardware HW.yaml -o DIR``: energy/latency/accuracy report over seeds.

MODEL is a shipped model name (``aimc models`` lists them) or a file: an S4D checkpoint (``.safetensors``,
``.npz``, ``.h5``, the project's or the state-spaces reference's, or a torch ``.pt`` state dict) or an SNN
``.nir`` (import options with ``--model-option convention=snntorch`` etc.). DATA is a built-in data set
name or a data file (docs/data.md); the default is ``digits_pixel`` for S4D and ``spike_digits`` for SNNs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

COMMAND = "report"
HELP = "evaluate a model on a hardware config over seeds and write a Markdown + HTML energy report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="shipped model name (aimc models), checkpoint path or .nir file")
    parser.add_argument("--hardware", help="hardware config YAML (fields of the model family); default: defaults")
    parser.add_argument(
        "--data",
        "--dataset",
        dest="dataset",
        default=None,
        help="data set name or data file (.npz/.h5; docs/data.md); default digits_pixel (S4D), spike_digits (SNN)",
    )
    parser.add_argument(
        "--model-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="model load option, repeatable (e.g. NIR import: convention=snntorch, dt=1e-3, time_unit=1e-3)",
    )
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


def _s4d_hardware(hardware: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from workloads.s4d.hardware import hardware_config

    hw = hardware_config(hardware)
    return hw, {"backend": hw.backend, "recurrence": hw.recurrence}


def _snn_hardware(hardware: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from workloads.snn.hardware import hardware_config

    hw = hardware_config({k: v for k, v in hardware.items() if k != "backend"})  # backend is a point key
    return hw, {"backend": hardware.get("backend", "analog")}


def _glr_hardware(hardware: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from workloads.glr.hardware import GLRHardwareConfig
    from workloads.hwconfig import coerce_config

    hw = coerce_config(GLRHardwareConfig, hardware)
    return hw, {"backend": hw.backend, "recurrence": "digital"}


def _network_hardware(hardware: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from workloads.hwconfig import coerce_config
    from workloads.network.hardware import NetworkHardwareConfig

    return coerce_config(NetworkHardwareConfig, hardware), {"backend": "analog"}


# Per registered model family (workloads.registry): its hardware config as shown in the report, and the
# built-in data set used when no --data is given (None: a data file is required).
REPORT_FAMILIES: dict[str, tuple[Any, str | None]] = {
    "s4d": (_s4d_hardware, "digits_pixel"),
    "snn": (_snn_hardware, "spike_digits"),
    "network": (_network_hardware, None),
    "glr": (_glr_hardware, None),
}


def _prepare(model: Any, hardware: dict[str, Any], dataset: str | None, n_test: int) -> dict[str, Any]:
    """Family (from the registry), hardware config, data set and report rows of a report; the whole point is
    checked by the family's ``validate_point`` (model file, data file, hardware) so that a bad input fails
    before the sweep writes anything."""
    from aimc_sim.errors import ConfigError
    from workloads.api import validate_point
    from workloads.registry import family_for

    name = model.get("name") if isinstance(model, dict) else model
    if not isinstance(name, (str, Path)):
        raise ConfigError("model", f"must be a model name, a path or a mapping with 'name', got {model!r}")
    family = family_for(name)
    make_hw, default_data = REPORT_FAMILIES[family.name]
    hw, rows = make_hw(hardware)
    dataset = dataset or default_data
    if dataset is None:
        raise ConfigError("--data", f"a {family.name} model needs a data file (docs/data.md)")
    point = {"model": model, "hardware": hardware, "dataset": {"name": dataset, "n_test": n_test}}
    validate_point(point)
    return {"hw": hw, "rows": {"family": family.name, **rows}, "dataset": dataset, "point": point}


def make_report(
    model: str | dict[str, Any],
    hardware: dict[str, Any],
    folder: Path,
    *,
    hardware_label: str,
    dataset: str | None = None,
    n_test: int = 200,
    seeds: int = 5,
    workers: int | None = None,
    progress: bool = True,
    executor: Any = None,
) -> Any:
    """Evaluate ``model`` on ``hardware`` for ``seeds`` seeds (a resumable sweep in ``folder``) and write the report.

    ``model``: a shipped name, a file path, or ``{"name": ..., **load options}``; ``dataset``: a name or a
    data file path (default: the family's built-in data set).
    """
    from aimc_sim import __version__
    from aimc_sim.errors import ConfigError
    from aimc_sim.report.energy import write_energy_report
    from aimc_sim.sweep import load_results, load_spec, run_sweep

    if seeds < 1:
        raise ConfigError("seeds", f"must be an integer >= 1, got {seeds}")
    if n_test < 1:
        raise ConfigError("n_test", f"must be an integer >= 1, got {n_test}")
    family = _prepare(model, hardware, dataset, n_test)  # validates hardware, model and data before anything runs
    hw, dataset = family["hw"], family["dataset"]
    spec = load_spec(
        {
            "evaluator": "workloads.api:evaluate",
            "base": family["point"],
            "seeds": seeds,
            "output": str(folder / "results.h5"),
        }
    )
    summary = run_sweep(spec, workers=workers, progress=progress, executor=executor)
    table = load_results(summary.output)
    rows = table.rows()
    metrics = [{k: v for k, v in r.items() if k in table.metrics} for r in rows]
    cost, cost_name = cost_model_table(hw.cost_model)
    label = model["name"] if isinstance(model, dict) else model
    context = {
        "model": label,
        "hardware": hardware_label,
        **family["rows"],
        "data set": f"{dataset}, first {n_test} test samples",
        "aimc-sim": __version__,
        "results": summary.output.name,
    }
    return write_energy_report(
        metrics,
        folder,
        title=f"Energy report: {Path(str(label)).stem} on {hardware_label}",
        context=context,
        seeds=[int(r["seed"]) for r in rows],
        hardware=hw.to_dict(),
        cost_model=cost,
        cost_model_name=cost_name,
    )


def _model_spec(model: str, options: list[str]) -> str | dict[str, Any]:
    """The model argument with ``KEY=VALUE`` options (values parsed as YAML scalars)."""
    import yaml

    from aimc_sim.errors import ConfigError

    if not options:
        return model
    spec: dict[str, Any] = {"name": model}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError("--model-option", f"must be KEY=VALUE, got {item!r}")
        spec[key] = yaml.safe_load(value)
    return spec


def run(args: argparse.Namespace) -> int:
    from aimc_sim.config import read_yaml
    from aimc_sim.errors import ConfigError

    hardware = read_yaml(args.hardware) if args.hardware else {}
    if not isinstance(hardware, dict):
        raise ConfigError(str(args.hardware), f"must hold a mapping of hardware fields, got {hardware!r}")
    files = make_report(
        _model_spec(args.model, args.model_option),
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
