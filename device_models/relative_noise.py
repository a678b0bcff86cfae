"""The read law shared by the families whose read noise is relative to the noise-free conductance.

Binary RRAM, FeFET and the pulsed (ECRAM, capacitor, ...) devices read as
G = max(0, G_nf·(1 + read_noise·xi)), xi ~ N(0, 1) fresh per read, followed by the faults of
``config.faults``; each family supplies only its noise-free conductance G_nf(state, t).
"""

from __future__ import annotations

import abc

import numpy as np

from device_models.base import DeviceModel, DeviceState, check_read_time, relative_read_noise
from device_models.faults import apply_faults, faulted_std

__all__ = ["RelativeReadNoiseModel"]


class RelativeReadNoiseModel(DeviceModel):
    """A device model whose config has ``read_noise`` (relative std) and ``faults``."""

    @abc.abstractmethod
    def noise_free(self, state: DeviceState, t: float) -> np.ndarray:
        """Conductance (S) at ``t`` s without read noise and before faults."""

    def conductance(self, state: DeviceState, t: float, rng: np.random.Generator | None) -> np.ndarray:
        check_read_time(t)
        g = relative_read_noise(self.noise_free(state, t), self.config.read_noise, rng)
        return apply_faults(g, state, self.g_min, self.g_max, self.config.faults)

    def read_noise_std(self, state: DeviceState, t: float) -> np.ndarray:
        """read_noise·|G_nf| (S)."""
        check_read_time(t)
        sd = self.config.read_noise * np.abs(self.noise_free(state, t))
        return faulted_std(sd, state, self.config.faults)
