"""The interface every device model implements (see ARCHITECTURE.md, "Main interfaces").

All models are vectorised over arrays of devices, use SI units (siemens, seconds, volts) and
take an explicit ``numpy.random.Generator`` for every random draw. Per-device random draws
(for example a PCM drift exponent) are made once in :meth:`DeviceModel.program` and kept in
the returned :class:`DeviceState`, so one device follows one trajectory over repeated reads.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np

from device_models.schema import ConfigError


class ColumnPairs(NamedTuple):
    """Combinations of device columns read together (a crossbar's conversion channel): for every row i,
    mat[i, j] = (G[i, plus[j]] - G[i, minus[j]]) * scale and var[i, j] = (sd[i, plus[j]]^2 + sd[i, minus[j]]^2)
    * scale2, computed in float64 and rounded once to float32 (``minus`` empty: the plus column alone)."""

    plus: np.ndarray
    minus: np.ndarray
    scale: float
    scale2: float
    mat: np.ndarray
    var: np.ndarray


@dataclass
class DeviceState:
    """The programmed state of an array of devices (all arrays share one shape).

    ``g0``: conductance right after programming (S). ``per_device``: model-specific per-device
    draws (drift exponents, thresholds, domain coercive voltages, ...), each broadcastable to the
    array shape or carrying extra trailing axes. ``stuck``: 0 = healthy, 1 = stuck at g_min,
    2 = stuck at g_max. ``cycles``: write cycles seen by each device (endurance).
    """

    g0: np.ndarray
    g_target: np.ndarray
    per_device: dict[str, np.ndarray] = field(default_factory=dict)
    stuck: np.ndarray | None = None
    cycles: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.g0.shape


def check_read_time(t: object) -> float:
    """The read time ``t`` (s since programming) as a float; ConfigError unless finite and >= 0."""
    if isinstance(t, bool) or not (isinstance(t, (int, float)) and math.isfinite(t) and t >= 0):
        raise ConfigError("t", f"must be a finite time >= 0 s, got {t!r}")
    return float(t)


def relative_read_noise(g: np.ndarray, sigma: float, rng: np.random.Generator | None) -> np.ndarray:
    """``max(0, g * (1 + sigma * xi))`` with fresh xi ~ N(0, 1); ``g`` itself when rng is None or sigma is 0."""
    if rng is None or sigma <= 0:
        return g
    return np.maximum(g * (1.0 + sigma * rng.standard_normal(np.shape(g))), 0.0)


class DeviceModel(abc.ABC):
    """A memristive device model. Subclasses hold a frozen config dataclass in ``self.config``.

    ``family`` is the model family, the key of ``device_models.registry.MODELS`` (``"pcm"``, ``"rram"``, ...);
    it never changes. ``name`` is the preset's name (``load_preset`` sets it; the family until then).
    """

    family: ClassVar[str] = "device"
    name: str = "device"
    config_type: ClassVar[type]
    """The family's frozen config dataclass; its defaults are the family's default device."""

    def __init__(self, config: Any = None) -> None:
        self.config = config if config is not None else self.config_type()

    @property
    def g_min(self) -> float:
        """Lowest programmable conductance (S); by default the config's ``g_min``."""
        return self.config.g_min

    @property
    def g_max(self) -> float:
        """Highest programmable conductance (S); by default the config's ``g_max``."""
        return self.config.g_max

    @property
    def bounds(self) -> tuple[float, float]:
        """Documented physical bounds (S) of every conductance the model returns (default [0, inf))."""
        return 0.0, float("inf")

    @abc.abstractmethod
    def program(self, g_target: np.ndarray, rng: np.random.Generator) -> DeviceState:
        """Program devices to ``g_target`` (S): programming noise, faults, per-device draws."""

    @abc.abstractmethod
    def conductance(self, state: DeviceState, t: float, rng: np.random.Generator | None) -> np.ndarray:
        """Conductance (S) at time ``t`` (s) after programming, with drift and fresh read noise.

        ``rng=None`` returns the noise-free (expected-trajectory) conductance.
        """

    @abc.abstractmethod
    def read_noise_std(self, state: DeviceState, t: float) -> np.ndarray:
        """Absolute standard deviation (S) of the fresh read noise of each device at ``t`` s.

        A read is ``conductance(state, t, rng) = f(conductance(state, t, None) + sd * xi)`` with one
        ``xi ~ N(0, 1)`` per device and ``f`` the identity or a clip at 0; this returns ``sd``
        (0 for stuck devices, scaled by the endurance window shrink). Tiles use it for
        output-referred read noise (docs/crossbar.md, pipeline step 5).
        """

    def read_stats(self, state: DeviceState, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(noise-free conductance, read-noise std) at ``t`` (S): ``conductance(state, t, None)`` and
        :meth:`read_noise_std` in one call (families override it with a fused pass)."""
        return np.asarray(self.conductance(state, t, None), dtype=np.float64), self.read_noise_std(state, t)

    def read_pairs(self, state: DeviceState, t: float, pairs: tuple, r_access: float, row_g: np.ndarray | None) -> bool:
        """:meth:`read_stats` at ``t`` through a series access resistance ``r_access`` (ohm; 0: none), combined into
        the column pairs ``pairs`` (:class:`ColumnPairs`, filled in place) with the row sums of
        the conductances in ``row_g`` (None: not wanted), in one fused pass, bit for bit what those steps give one
        after the other.
        Returns False, touching nothing, where the family or this state has no fused pass (the default)."""
        return False

    def pulse(
        self,
        state: DeviceState,
        polarity: np.ndarray | int,
        amplitude: np.ndarray | float,
        width: np.ndarray | float,
        rng: np.random.Generator,
    ) -> DeviceState:
        """Apply one pulse per device (polarity +1 potentiates, -1 depresses, 0 leaves it)."""
        raise NotImplementedError(f"{type(self).__name__} has no pulsed-update law")
