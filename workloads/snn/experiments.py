"""The shipped SNN and the experiments of issue 7: float vs hardware accuracy, dt adaptation, delay costs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from workloads.snn.data import spike_digits
from workloads.snn.model import SNNModel

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
SHIPPED = {
    # name: (file, dt [s], NIR time unit [s], reset mode used in training)
    "snn_digits": ("snn_digits.nir", 1e-3, 1e-3, "to_value"),
}


def load_shipped(name: str = "snn_digits") -> SNNModel:
    """The shipped trained SNN (``workloads/models/<name>.nir``) with the conventions it was trained with."""
    from aimc_sim.errors import ConfigError

    if name not in SHIPPED:
        raise ConfigError("model", f"must be one of {', '.join(SHIPPED)}, got {name!r}")
    file, dt, unit, reset = SHIPPED[name]
    return SNNModel.from_nir(MODELS_DIR / file, dt=dt, time_unit=unit, reset_mode=reset)


def accuracy(model: SNNModel, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy of the float model on time-major spikes ``x``."""
    return float(np.mean(model.predict(x) == y))


def dt_adaptation(model: SNNModel, ratio: int = 2, seed: int = 0, n_test: int | None = None) -> dict[str, Any]:
    """Accuracy at the training dt and at dt/ratio (same spike events, finer bins) for each adaptation method."""
    coarse = spike_digits(seed=seed, n_train=1, n_test=n_test)
    fine = spike_digits(seed=seed, n_train=1, n_test=n_test, resolution=ratio)
    out: dict[str, Any] = {
        "dt_s": model.dt,
        "new_dt_s": model.dt / ratio,
        "float_at_dt": accuracy(model, coarse.x_test, coarse.y_test),
    }
    for method, sem in (("mapping", "impulse"), ("mapping", "zoh"), ("tau_scaling", "impulse"), ("naive", "impulse")):
        key = method if method != "mapping" else f"mapping_{sem}"
        adapted = model.at_dt(model.dt / ratio, method, sem)
        out[key] = accuracy(adapted, fine.x_test, fine.y_test)
    return out
