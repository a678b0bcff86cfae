"""Error types. Every error names the field or input at fault and what is allowed."""

from device_models.schema import AimcError, ConfigError, DataError


class SimulationError(AimcError, RuntimeError):
    """The simulation was asked to do something inconsistent with its state (e.g. time going back)."""


class StorageError(AimcError, OSError):
    """A file could not be written or read (disk full, read-only file system, missing folder); names the file."""


__all__ = ["AimcError", "ConfigError", "DataError", "SimulationError", "StorageError"]
