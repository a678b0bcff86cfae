"""The outcome of fitting one measurement to one device model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from calibration.mle import FitResult


@dataclass(frozen=True)
class KindFit:
    """One fitted measurement.

    ``result``: estimates and CIs. ``updates``: the device-model config fields the fit sets (SI).
    ``residuals``: arrays for the residual plot (``x``, ``z`` standardised residuals, plus
    kind-specific curves). ``simulate``/``refit`` allow a parametric bootstrap of this fit.
    """

    kind: str
    source: str
    result: FitResult
    updates: dict[str, Any]
    residuals: dict[str, np.ndarray]
    simulate: Callable[[np.ndarray, np.random.Generator], Any] | None = field(default=None, repr=False)
    refit: Callable[[Any], np.ndarray] | None = field(default=None, repr=False)
