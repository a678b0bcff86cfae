"""One call from measurement files to a fitted preset: :func:`calibrate`."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from calibration.errors import FitError
from calibration.fitresult import KindFit
from calibration.measurements import Measurement, load_measurement
from calibration.preset import base_preset_file, write_preset
from device_models.registry import load_preset

# measurement kind -> (module, function) of its fitter; every fitter is fit(m, model, level=, ci=).
FITTERS: dict[str, tuple[str, str]] = {
    "programming": ("calibration.programming", "fit_programming"),
}


@dataclass(frozen=True)
class Calibration:
    """The fits of one calibration run and the preset they produce."""

    base: str
    fits: tuple[KindFit, ...]

    def write(self, out: str | Path, name: str | None = None, command: str = "") -> Path:
        """Write the fitted preset YAML (loadable by ``device_models.load_preset``)."""
        return write_preset(self.base, self.fits, out, name, command)


def fit_measurement(m: Measurement, model: object, *, level: float = 0.95, ci: str = "wald") -> KindFit:
    """Fit one validated measurement to ``model`` with the fitter of its kind."""
    if m.kind not in FITTERS:
        raise FitError("data", f"no fitter for kind {m.kind!r}; supported: {', '.join(FITTERS)}")
    module, func = FITTERS[m.kind]
    return getattr(importlib.import_module(module), func)(m, model, level=level, ci=ci)


def calibrate(
    base: str, data: Sequence[str | Path | Measurement], *, level: float = 0.95, ci: str = "wald"
) -> Calibration:
    """Fit the device model of preset ``base`` (a shipped name or a YAML path) to measurement files ``data``."""
    base_preset_file(base)
    model = load_preset(base)
    measurements = [d if isinstance(d, Measurement) else load_measurement(d) for d in data]
    if not measurements:
        raise FitError("data", "at least one measurement file is needed")
    return Calibration(base, tuple(fit_measurement(m, model, level=level, ci=ci) for m in measurements))
