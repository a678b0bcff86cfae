"""Single-device physics of memristive devices, vectorised over arrays (layer 1)."""

from device_models.base import DeviceModel, DeviceState
from device_models.schema import AimcError, ConfigError

__all__ = ["AimcError", "ConfigError", "DeviceModel", "DeviceState"]
