"""Fast, real evaluators for the sweep tests (importable by worker processes).

``noisy_matmul`` programs a fixed random weight matrix with Gaussian programming noise of
relative size ``noise``, runs a batch of inputs through it, quantises the outputs with a
``bits``-bit ADC and reports the relative output error, an accuracy proxy and an energy and
latency priced per MAC and per conversion.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from aimc_sim.errors import ConfigError, DataError

E_MAC_J = 0.05e-12  # docs/cost.md#array-read-energy: 0.05 pJ per MAC for a 256x256 array at 12.5 uS
FOM_W_J = 10e-15  # docs/cost.md#adc-energy-models, survey-fom: 10 fJ per conversion step


def validate_point(config: dict[str, Any]) -> None:
    """Hook called by the sweep runner for every point before anything runs."""
    if config["noise"] < 0:
        raise ConfigError("noise", f"must be >= 0, got {config['noise']}")


def noisy_matmul(config: dict[str, Any], seed: int) -> dict[str, float]:
    """Relative error of a noisy, ADC-quantised matrix product; energy and latency of the MVMs."""
    n, batch, bits = int(config["size"]), int(config.get("batch", 16)), int(config["bits"])
    model_rng = np.random.default_rng(1234)  # the "trained weights": the same for every point
    w = model_rng.standard_normal((n, n)) / np.sqrt(n)
    x = model_rng.standard_normal((batch, n))
    rng = np.random.default_rng(seed)
    w_prog = w + rng.normal(0.0, config["noise"] * np.abs(w).max(), size=w.shape)
    y_ref = x @ w.T
    y = x @ w_prog.T
    full_scale = np.abs(y_ref).max()
    levels = 2 ** (bits - 1) - 1
    y_q = np.clip(np.round(y / full_scale * levels), -levels, levels) * full_scale / levels
    err = float(np.linalg.norm(y_q - y_ref) / np.linalg.norm(y_ref))
    argmax_ok = float(np.mean(np.argmax(y_q, axis=1) == np.argmax(y_ref, axis=1)))
    time.sleep(float(os.environ.get("SWEEP_TEST_DELAY_S", "0")))  # paces the kill test; not part of the config
    return {
        "accuracy": argmax_ok,
        "rel_error": err,
        "energy_j": batch * (n * n * E_MAC_J + n * FOM_W_J * 2**bits),
        "latency_s": batch * (100e-9 + (bits + 1) * 1e-9 * n / 8),
        "area_m2": n * n * 48 * (22e-9) ** 2 + n / 8 * 1e-9 * bits,
        "preset": str(config.get("preset", "none")),
    }


class FlatResult:
    """A Result-like object: the runner calls ``to_flat_dict()``."""

    def __init__(self, values: dict[str, float]):
        self.values = values

    def to_flat_dict(self) -> dict[str, float]:
        return dict(self.values)


def result_object(config: dict[str, Any], seed: int) -> FlatResult:
    """``noisy_matmul`` wrapped in an object with ``to_flat_dict``."""
    return FlatResult(noisy_matmul(config, seed))


def fails_on_big_noise(config: dict[str, Any], seed: int) -> dict[str, float]:
    """Raises for noise > 0.5 (to test error reporting); otherwise ``noisy_matmul``."""
    if config["noise"] > 0.5:
        raise RuntimeError("noise too large for this device")
    return noisy_matmul(config, seed)


def config_error_in_worker(config: dict[str, Any], seed: int) -> dict[str, float]:
    """Raises a ConfigError (bits == 0) or DataError (preset 'corrupt') while running, as an evaluator
    that validates late would; otherwise ``noisy_matmul``."""
    if config["bits"] == 0:
        raise ConfigError("tile.adc.bits", "must be an integer in 2..16, got 0")
    if config.get("preset") == "corrupt":
        raise DataError("weights.npz", "truncated file")
    return noisy_matmul(config, seed)
