"""Error types. Every error names the field or input at fault and what is allowed."""

from device_models.schema import AimcError, ConfigError


class SimulationError(AimcError, RuntimeError):
    """The simulation was asked to do something inconsistent with its state (e.g. time going back)."""


class DataError(ConfigError):
    """Input data (a data set, a measurement file, a checkpoint) is invalid; ``path`` names the row or tensor."""


__all__ = ["AimcError", "ConfigError", "DataError", "SimulationError"]
