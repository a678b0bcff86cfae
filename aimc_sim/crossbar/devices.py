"""Device resolution for tiles: a preset name or file, via ``device_models.load_preset``.

The name ``ideal`` resolves to :class:`IdealDevice` (a linear conductance, programmed exactly, no drift,
no read noise) unless ``device_models`` ships a preset of that name. It is the all-off reference that
``data/tiles/ideal.yaml`` uses; it holds no device physics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from aimc_sim.errors import ConfigError
from device_models.base import DeviceModel, DeviceState

__all__ = ["IdealDevice", "resolve_device", "read_noise_abs_std"]


class IdealDevice(DeviceModel):
    """Exact programming, constant conductance, no noise; conductance range [g_min, g_max] in siemens."""

    name = "ideal"

    def __init__(self, g_min: float = 0.0, g_max: float = 25e-6):
        from aimc_sim.config import in_range

        for key, value in (("g_min", g_min), ("g_max", g_max)):
            msg = in_range(0.0, 1.0)(value)
            if msg:
                raise ConfigError(f"tile.device_options.{key}", f"{msg} (siemens)")
        if not g_max > g_min:
            raise ConfigError("tile.device_options.g_max", f"must be > g_min ({g_min:g} S), got {g_max:g} S")
        self._g_min, self._g_max = float(g_min), float(g_max)

    @property
    def g_min(self) -> float:
        return self._g_min

    @property
    def g_max(self) -> float:
        return self._g_max

    def program(self, g_target: np.ndarray, rng: np.random.Generator) -> DeviceState:
        g = np.clip(np.asarray(g_target, dtype=np.float64), self._g_min, self._g_max)
        return DeviceState(g0=g.copy(), g_target=g)

    def conductance(self, state: DeviceState, t: float, rng: np.random.Generator | None) -> np.ndarray:
        return state.g0

    def read_noise_std(self, state: DeviceState, t: float) -> np.ndarray:
        """Relative read-noise standard deviation: zero."""
        return np.zeros_like(state.g0)


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

    if name == "ideal" and name not in {p.name for p in device_models.list_presets()}:
        if options:
            unknown = sorted(set(options) - {"g_min", "g_max"})
            if unknown:
                raise ConfigError(
                    f"tile.device_options.{unknown[0]}", "unknown option; the ideal device has g_min, g_max"
                )
            return IdealDevice(**options)
        return IdealDevice()
    try:
        return device_models.load_preset(name, **(options or {}))
    except ConfigError as e:
        raise e.under("tile.device") from None


class _UnitNormal:
    """A stand-in generator whose normal draws are all 1: reading with it returns G + sigma (see below)."""

    def standard_normal(self, size: Any = None, dtype: Any = np.float64) -> np.ndarray:
        return np.ones(() if size is None else size, dtype=dtype)


def read_noise_abs_std(model: DeviceModel, state: DeviceState, t: float) -> np.ndarray:
    """Per-device absolute read-noise standard deviation (S) at time t.

    Uses the model's ``read_noise_std(state, t)`` when it has one. Otherwise it probes the model's own
    ``conductance``: read noise enters every preset as G = f(G_d + sigma * xi) with one standard normal
    xi per device and f the identity or a clip at 0 (devices.md §1.1 step 4), so reading with xi = 1
    and subtracting the noise-free read gives sigma exactly (0 for stuck devices). A model that draws
    anything else per read is rejected.
    """
    fn = getattr(model, "read_noise_std", None)
    if fn is not None:
        return np.asarray(fn(state, t), dtype=np.float64)
    try:
        g1 = model.conductance(state, t, _UnitNormal())  # type: ignore[arg-type]
    except AttributeError as e:
        from aimc_sim.errors import ConfigError

        raise ConfigError("tile.noise.read", f"cannot derive the read noise of {model.name!r}: {e}") from None
    g0 = model.conductance(state, t, None)
    return np.abs(np.asarray(g1, dtype=np.float64) - np.asarray(g0, dtype=np.float64))
