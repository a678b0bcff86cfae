"""Fitting device-model parameters to measured data (layer 2).

``load_measurement`` reads and validates CSV/HDF5 measurements; ``calibrate`` fits the matching
``device_models`` preset by maximum likelihood and returns a :class:`~calibration.api.Calibration`
whose ``write(path)`` produces a preset YAML for ``device_models.load_preset``. See docs/calibration.md.
"""

from calibration.api import FITTERS, Calibration, calibrate, fit_measurement
from calibration.errors import FitError, MeasurementError
from calibration.measurements import KINDS, Measurement, load_measurement, save_csv
from calibration.mle import FitResult, Param, bootstrap_ci, fit_mle

__all__ = [
    "FITTERS",
    "KINDS",
    "Calibration",
    "FitError",
    "FitResult",
    "Measurement",
    "MeasurementError",
    "Param",
    "bootstrap_ci",
    "calibrate",
    "fit_measurement",
    "fit_mle",
    "load_measurement",
    "save_csv",
]
