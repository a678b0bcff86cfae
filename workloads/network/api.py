"""One-call evaluation of a general-network sweep point (the shape of :func:`workloads.api.evaluate`)::

{
    "model": "path/to/net.onnx",                          # any file of the network family
    "hardware": {"tile": "pcm-default", "t": 3600.0},    # fields of NetworkHardwareConfig
    "dataset": {"name": "path/to/data.npz", "n_test": 100},   # workloads.data.load_dataset(name, ...)
}
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aimc_sim.errors import ConfigError
from workloads.network.graph import Network
from workloads.network.hardware import split
from workloads.result import Result

_KEYS = {"model", "hardware", "dataset"}


@lru_cache(maxsize=8)
def _network(path: str) -> Network:
    from workloads.registry import load

    net = load(path)
    if not isinstance(net, Network):
        raise ConfigError("model", f"{path!r} is not a general network")
    return net


def _bind(point: dict[str, Any]) -> tuple[Any, Any, int | None]:
    """Network on hardware, data set and ``n_test`` of a point (configs built and checked, nothing run)."""
    from workloads.data import load_dataset

    unknown = set(point) - _KEYS
    if unknown:
        raise ConfigError(f"point.{sorted(unknown)[0]}", f"unknown key; allowed: {', '.join(sorted(_KEYS))}")
    net = _network(str(point["model"]))
    ds = dict(point.get("dataset") or {})
    if "name" not in ds:
        raise ConfigError("dataset.name", "required key is missing (a data set name or file)")
    name, n_test = ds.pop("name"), ds.pop("n_test", None)
    return net.on(point.get("hardware") or {}), load_dataset(name, **ds), n_test


def evaluate(point: dict[str, Any], seed: int) -> Result:
    """Evaluate one network sweep point with every hardware draw from ``seed``."""
    hw, data, n_test = _bind(point)
    return hw.evaluate(data, n_test=n_test, seed=seed)


def validate_point(point: dict[str, Any]) -> None:
    """Check a network point without running it: model file, data set, hardware and tile configs, cost model."""
    from aimc_sim.cost import CostModel
    from aimc_sim.crossbar.devices import resolve_device

    hw, data, n_test = _bind(point)
    x, _, _ = split(data, n_test)
    hw.network.check_input(x[:1], "dataset.x_test")
    tile = hw.hw.tile_config()
    resolve_device(tile.device, tile.device_options)
    CostModel.load(hw.hw.cost_model)
