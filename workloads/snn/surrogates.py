"""Surrogate gradients for s = H(v - theta) (docs/snn.md#surrogate-gradients), as plain numpy for reference and tests.

Each entry gives the forward shape ``g(x)`` whose derivative is the surrogate ``g'(x)``, x = v - theta.
The torch training script uses the same formulas (``workloads/training/snn_train.py``).
"""

from __future__ import annotations

import numpy as np


def atan(x: np.ndarray, alpha: float = 2.0) -> np.ndarray:
    """ATan forward shape (1/pi) arctan((pi/2) alpha x) + 1/2 (SpikingJelly)."""
    return np.arctan(np.pi / 2 * alpha * x) / np.pi + 0.5


def atan_grad(x: np.ndarray, alpha: float = 2.0) -> np.ndarray:
    """alpha / (2 (1 + ((pi/2) alpha x)^2)); peak alpha/2 at x = 0."""
    return alpha / (2 * (1 + (np.pi / 2 * alpha * x) ** 2))


def fast_sigmoid(x: np.ndarray, alpha: float = 25.0) -> np.ndarray:
    """SuperSpike forward shape x / (1 + alpha |x|) (Zenke & Ganguli 2018; snnTorch default alpha = 25)."""
    return x / (1 + alpha * np.abs(x))


def fast_sigmoid_grad(x: np.ndarray, alpha: float = 25.0) -> np.ndarray:
    """1 / (alpha |x| + 1)^2; peak 1 at x = 0."""
    return 1.0 / (alpha * np.abs(x) + 1) ** 2


def boxcar_grad(x: np.ndarray, width: float = 1.0) -> np.ndarray:
    """1 where |x| < width/2, else 0 (SiLIF code)."""
    return (np.abs(x) < width / 2).astype(float)
