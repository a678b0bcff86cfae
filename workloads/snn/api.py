"""One-call evaluation of an SNN sweep point (the same shape as :func:`workloads.api.evaluate`).

``evaluate(point, seed) -> Result`` with ``point`` a plain nested dict::

    {
        "model": "snn_digits",                       # a shipped SNN (workloads.snn.experiments.SHIPPED)
        "hardware": {"backend": "analog",            # analog (crossbar tiles) | float (numpy reference)
                     "tile": "pcm-default", "t": 0.0, "cost_model": "22nm", "current_bits": 16},
        "dataset": {"n_test": 100, "resolution": 1, "seed": 0},   # spike_digits options
        "dt_adaptation": "mapping",                  # optional, with resolution > 1: mapping | tau_scaling | naive
    }

``seed`` drives every hardware random draw; the data (spike trains) depend only on ``dataset``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aimc_sim.errors import ConfigError
from workloads.result import Result
from workloads.snn.data import SpikeDataset, spike_digits
from workloads.snn.experiments import load_shipped
from workloads.snn.hardware import HardwareSNN, evaluate_float
from workloads.snn.model import SNNModel

_KEYS = {"model", "hardware", "dataset", "dt_adaptation"}


@lru_cache(maxsize=8)
def _model(name: str) -> SNNModel:
    return load_shipped(name)


@lru_cache(maxsize=8)
def _data(options: tuple[tuple[str, Any], ...]) -> SpikeDataset:
    opts = dict(options)
    n_test = opts.pop("n_test", None)
    return spike_digits(n_train=1, n_test=n_test, **opts)


def _bind(point: dict[str, Any]) -> tuple[SNNModel, SpikeDataset, dict[str, Any], str, str | None]:
    """Model (at the data's time step), data, hardware fields, backend and dt method of a point (nothing run)."""
    if not isinstance(point, dict):
        raise ConfigError("point", f"must be a mapping with keys {sorted(_KEYS)}, got {point!r}")
    unknown = set(point) - _KEYS
    if unknown:
        raise ConfigError(f"point.{sorted(unknown)[0]}", f"unknown key; allowed: {', '.join(sorted(_KEYS))}")
    model = _model(point.get("model", "snn_digits"))
    ds = dict(point.get("dataset") or {})
    try:
        data = _data(tuple(sorted(ds.items())))
    except TypeError as e:
        raise ConfigError("point.dataset", f"bad option: {e}") from None
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
