"""One call from measurement files to a fitted preset: :func:`calibrate`."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from calibration.errors import FitError
from calibration.fitresult import KindFit
from calibration.measurements import Measurement, load_measurement
from calibration.mle import bootstrap_ci
from calibration.preset import base_preset_file, write_preset
from device_models.registry import load_preset

# measurement kind -> (module, function) of its fitter; every fitter is fit(m, model, level=, ci=).
FITTERS: dict[str, tuple[str, str]] = {
    "programming": ("calibration.programming", "fit_programming"),
    "drift": ("calibration.drift", "fit_drift"),
    "switching": ("calibration.switching", "fit_switching"),
    "fefet": ("calibration.fefet_vt", "fit_fefet"),
    "pulse": ("calibration.pulse", "fit_pulse"),
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
    base: str,
    data: Sequence[str | Path | Measurement],
    *,
    level: float = 0.95,
    ci: str = "wald",
    n_boot: int = 200,
    rng: np.random.Generator | None = None,
) -> Calibration:
    """Fit the device model of preset ``base`` (a shipped name or a YAML path) to measurement files ``data``.

    ``ci``: ``"wald"``, ``"profile"`` or ``"bootstrap"`` (parametric, ``n_boot`` refits drawn with ``rng``).
    """
    base_preset_file(base)
    if ci == "bootstrap" and rng is None:
        raise FitError("rng", "a numpy Generator is required for bootstrap intervals")
    model = load_preset(base)
    measurements = [d if isinstance(d, Measurement) else load_measurement(d) for d in data]
    if not measurements:
        raise FitError("data", "at least one measurement file is needed")
    fits = []
    for m in measurements:
        fit = fit_measurement(m, model, level=level, ci="wald" if ci == "bootstrap" else ci)
        if ci == "bootstrap":
            fit = replace(fit, result=bootstrap_ci(fit.result, fit.simulate, fit.refit, rng, n_boot))
        fits.append(fit)
    return Calibration(base, tuple(fits))
