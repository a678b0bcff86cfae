"""One-call evaluation of an SNN sweep point (the same shape as :func:`workloads.api.evaluate`).

``evaluate(point, seed) -> Result`` with ``point`` a plain nested dict::

    {
        "model": "snn_digits",                       # a shipped SNN (workloads.snn.experiments.SHIPPED),
                                                     # a path to an .nir file, or {"name": <either>, **import options}
                                                     # (import options: convention, dt, time_unit, discretisation,
                                                     #  reset_mode, threshold_comparison, reset_delay, recurrent_start)
        "hardware": {"backend": "analog",            # analog (crossbar tiles) | float (numpy reference)
                     "tile": "pcm-default", "t": 0.0, "cost_model": "22nm", "current_bits": 16},
        "dataset": {"n_test": 100, "resolution": 1, "seed": 0},   # spike_digits options (name "spike_digits"),
                                                     # or {"name": <data file path>, "n_test": ...}, or the path alone
        "dt_adaptation": "mapping",                  # optional, with resolution > 1: mapping | tau_scaling | naive
    }

A user ``.nir`` file is imported with :meth:`SNNModel.from_nir` (``convention="nir"`` needs ``dt`` and
``time_unit``; an exporter preset such as ``snntorch`` sets them). A data file is read as a spike raster
(``workloads.data.load_dataset(path, kind="spikes")``, docs/data.md). ``seed`` drives every hardware random
draw; the data depend only on ``dataset``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from aimc_sim.errors import ConfigError, DataError
from workloads.result import Result
from workloads.snn.data import SpikeDataset, spike_digits
from workloads.snn.experiments import SHIPPED, load_shipped
from workloads.snn.hardware import HardwareSNN, evaluate_float
from workloads.snn.model import SNNModel

_KEYS = {"model", "hardware", "dataset", "dt_adaptation"}
DEFAULT_DATASET = "spike_digits"


def model_spec(spec: Any) -> tuple[str, dict[str, Any]]:
    """``(name or path, import options)`` of a point's ``model`` entry."""
    if isinstance(spec, (str, Path)):
        return str(spec), {}
    if isinstance(spec, dict) and isinstance(spec.get("name"), (str, Path)):
        return str(spec["name"]), {k: v for k, v in spec.items() if k != "name"}
    raise ConfigError("model", f"must be a shipped SNN name, an .nir path or a mapping with 'name', got {spec!r}")


@lru_cache(maxsize=8)
def _model(name: str, options_json: str) -> SNNModel:
    options = json.loads(options_json)
    if name in SHIPPED and not options:
        return load_shipped(name)
    if Path(name).suffix.lower() != ".nir":
        raise ConfigError("model", f"must be one of {', '.join(SHIPPED)} or an .nir file, got {name!r}")
    try:
        return SNNModel.from_nir(Path(name), **options)
    except TypeError as e:
        raise ConfigError("model", f"bad NIR import option: {e}") from None


def load_model(spec: Any) -> SNNModel:
    """The SNN of a point's ``model`` entry (cached)."""
    name, options = model_spec(spec)
    return _model(name, json.dumps(options, sort_keys=True))


@lru_cache(maxsize=8)
def _data(options: tuple[tuple[str, Any], ...]) -> SpikeDataset:
    opts = dict(options)
    name = opts.pop("name", DEFAULT_DATASET)
    n_test = opts.pop("n_test", None)
    if name != DEFAULT_DATASET:
        from workloads.data import load_dataset

        if opts:
            raise ConfigError("dataset", f"a data file takes only n_test, got {sorted(opts)}")
        data = load_dataset(name, kind="spikes")
        return SpikeDataset(data.x_train, data.y_train, data.x_test[:, :n_test], data.y_test[:n_test], 1, data.info)
    try:
        return spike_digits(n_train=1, n_test=n_test, **opts)
    except TypeError as e:
        raise ConfigError("point.dataset", f"bad option for spike_digits: {e}") from None


def load_data(spec: Any) -> SpikeDataset:
    """The spike data of a point's ``dataset`` entry: spike_digits options, a data file path, or a mapping."""
    ds = {"name": str(spec)} if isinstance(spec, (str, Path)) else dict(spec or {})
    return _data(tuple(sorted(ds.items())))


def check_fit(model: SNNModel, data: SpikeDataset) -> None:
    """The data's channel count must be the model's input width."""
    n_in = model.layers[0].shape[0]
    if data.x_test.shape[2] != n_in:
        shape = model.metadata.get("input_shape", [n_in])
        raise DataError(
            "dataset", f"spikes have {data.x_test.shape[2]} channels; the model takes {n_in} (input shape {shape})"
        )


def _bind(point: dict[str, Any]) -> tuple[SNNModel, SpikeDataset, dict[str, Any], str, str | None]:
    """Model (at the data's time step), data, hardware fields, backend and dt method of a point (nothing run)."""
    if not isinstance(point, dict):
        raise ConfigError("point", f"must be a mapping with keys {sorted(_KEYS)}, got {point!r}")
    unknown = set(point) - _KEYS
    if unknown:
        raise ConfigError(f"point.{sorted(unknown)[0]}", f"unknown key; allowed: {', '.join(sorted(_KEYS))}")
    model = load_model(point.get("model", "snn_digits"))
    data = load_data(point.get("dataset"))
    check_fit(model, data)
    method = point.get("dt_adaptation")
    if data.resolution > 1:
        model = model.at_dt(model.dt / data.resolution, method or "mapping")
    elif method is not None:
        raise ConfigError("point.dt_adaptation", "needs dataset.resolution > 1")
    hw = dict(point.get("hardware") or {})
    backend = hw.pop("backend", "analog")
    if backend not in ("analog", "float"):
        raise ConfigError("point.hardware.backend", f"must be one of 'analog', 'float', got {backend!r}")
    return model, data, hw, backend, method


def evaluate(point: dict[str, Any], seed: int) -> Result:
    """Evaluate one SNN sweep point (see the module docstring)."""
    model, data, hw, backend, method = _bind(point)
    if backend == "float":
        res = evaluate_float(model, data.x_test, data.y_test)
    else:
        res = HardwareSNN(model, hw).evaluate(data, seed=seed)
    res.extra["dt_adaptation"] = method or "none"
    return res


def validate_point(point: dict[str, Any]) -> None:
    """Check an SNN sweep point without running it: model, data options, dt adaptation, hardware and tile."""
    from aimc_sim.crossbar.devices import resolve_device

    model, _, hw, backend, _ = _bind(point)
    if backend == "analog":
        tile = HardwareSNN(model, hw).hw.tile_config()
        resolve_device(tile.device, tile.device_options)
