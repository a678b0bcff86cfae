"""Errors of the calibration layer.

``aimc_sim.errors.DataError`` lives one layer up, so calibration defines its own subclass of
:class:`device_models.schema.ConfigError`; both are caught by ``except ConfigError``.
"""

from __future__ import annotations

from device_models.schema import ConfigError


class MeasurementError(ConfigError):
    """A measurement file is invalid. ``path`` names the file and the row or column at fault."""


class FitError(ConfigError):
    """A fit cannot be made or did not converge. ``path`` names the parameter or data set."""


__all__ = ["ConfigError", "FitError", "MeasurementError"]
