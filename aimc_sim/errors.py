"""Error types. Every error names the field or input at fault and what is allowed."""

from device_models.schema import AimcError, ConfigError, DataError


class SimulationError(AimcError, RuntimeError):
    """The simulation was asked to do something inconsistent with its state (e.g. time going back)."""


__all__ = ["AimcError", "ConfigError", "DataError", "SimulationError"]
