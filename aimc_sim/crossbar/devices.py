"""Device resolution for tiles: a preset name or file, via ``device_models.load_preset``.

The name ``ideal`` resolves to the ``ideal`` family (:class:`device_models.ideal.IdealDevice`: a linear
conductance, programmed exactly, no drift, no read noise) unless ``device_models`` ships a preset of that
name. It is the all-off reference that ``data/tiles/ideal.yaml`` uses.
"""

from __future__ import annotations

from typing import Any

from device_models.base import DeviceModel
from device_models.ideal import IdealDevice

__all__ = ["IdealDevice", "resolve_device"]


_CACHE: dict[str, DeviceModel] = {}


def resolve_device(name: str, options: dict[str, Any] | None = None) -> DeviceModel:
    """The device model of a preset name or path, with config ``options`` (``ideal``: :class:`IdealDevice`).

    Models hold only their frozen config, so one instance per (name, options) is cached and shared: building
    many tiles then parses each preset file once.
    """
    import json

    key = json.dumps([name, options or {}], sort_keys=True, default=repr)
    model = _CACHE.get(key)
    if model is None:
        model = _CACHE[key] = _load_device(name, options)
    return model


def _load_device(name: str, options: dict[str, Any] | None) -> DeviceModel:
    import device_models
    from aimc_sim.errors import ConfigError

    try:
        if name == "ideal" and name not in {p.name for p in device_models.list_presets()}:
            return device_models.model_from_dict("ideal", options or {})
        return device_models.load_preset(name, **(options or {}))
    except ConfigError as e:
        raise e.under("tile.device") from None
