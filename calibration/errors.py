"""Errors of the calibration layer.

Both derive from :class:`device_models.schema.ConfigError` (measurement errors through
:class:`~device_models.schema.DataError`), so ``except ConfigError`` catches them.
"""

from __future__ import annotations

from device_models.schema import ConfigError, DataError


class MeasurementError(DataError):
    """A measurement file is invalid. ``path`` names the file and the row or column at fault."""


class FitError(ConfigError):
    """A fit cannot be made or did not converge. ``path`` names the parameter or data set."""


__all__ = ["ConfigError", "DataError", "FitError", "MeasurementError"]
