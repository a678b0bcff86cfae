"""Single-device physics of memristive devices, vectorised over arrays (layer 1).

Load a model with :func:`load_preset` (``"pcm"``, ``"rram"``, ...; see :func:`list_presets`),
then ``program`` → ``conductance(state, t, rng)`` → ``pulse``.
"""

from device_models.base import DeviceModel, DeviceState
from device_models.pcm import global_drift_compensation
from device_models.registry import PresetInfo, list_presets, load_preset, model_from_dict
from device_models.schema import AimcError, ConfigError

__all__ = [
    "AimcError",
    "ConfigError",
    "DeviceModel",
    "DeviceState",
    "PresetInfo",
    "global_drift_compensation",
    "list_presets",
    "load_preset",
    "model_from_dict",
]
