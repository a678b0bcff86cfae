"""NeuroSim nonlinearity model of the LTP/LTD pulse response (docs/devices.md#compact-models).

Sources: neurosim/MLP_NeuroSim_V3.0 (``Cell.cpp`` RealDevice, ``formula.cpp`` getParamA);
neurosim/DNN_NeuroSim_V2.1 (``Documents/Nonlinearity-NormA.htm``).

G(P) = B·(1 - exp(-P/A)) + G_min, B = (G_max - G_min)/(1 - exp(-P_max/A)), A = a(NL)·P_max.
NeuroSim's NL label is not aihwkit's gamma: convert through a(NL). Only the a(NL) values quoted
in the spec are tabulated here; :func:`param_a` interpolates between them (linearly in 1/a).
"""

from __future__ import annotations

import numpy as np

from device_models.schema import ConfigError

__all__ = ["A_OF_NL", "param_a", "ltp_conductance", "half_pulse_level", "first_to_mean_step"]

# a(NL) of NeuroSim's getParamA table at the NL values quoted in docs/devices.md#compact-models
A_OF_NL = {
    0.04: 31.567, 0.5: 2.5199, 0.61: 2.0633, 0.63: 1.9973, 1.0: 1.2517, 1.46: 0.84868, 1.75: 0.70208,
    1.94: 0.62925, 2.4: 0.49918, 3.68: 0.30064, 4.22: 0.24975, 4.88: 0.20030, 6.76: 0.10025,
}  # fmt: skip


def param_a(nl: float) -> float:
    """a(|NL|): tabulated values, interpolated linearly in 1/a between them (range 0.04..6.76)."""
    x = abs(float(nl))
    keys = np.array(sorted(A_OF_NL))
    if not keys[0] <= x <= keys[-1]:
        raise ConfigError("nl", f"must have |NL| in [{keys[0]:g}, {keys[-1]:g}], got {nl!r}")
    inv = np.interp(x, keys, [1.0 / A_OF_NL[k] for k in keys])
    return float(1.0 / inv)


def ltp_conductance(p: np.ndarray, p_max: int, a: float, g_min: float, g_max: float) -> np.ndarray:
    """LTP conductance (S) after ``p`` pulses: B·(1 - exp(-p/A)) + g_min, A = a·p_max."""
    big_a = a * p_max
    b = (g_max - g_min) / (1.0 - np.exp(-p_max / big_a))
    return b * (1.0 - np.exp(-np.asarray(p, dtype=float) / big_a)) + g_min


def half_pulse_level(a: float) -> float:
    """Normalised LTP conductance after half the pulses: (1 - e^(-0.5/a))/(1 - e^(-1/a))."""
    return float((1.0 - np.exp(-0.5 / a)) / (1.0 - np.exp(-1.0 / a)))


def first_to_mean_step(a: float) -> float:
    """First step over the mean step in the many-pulse limit: (1/a)/(1 - e^(-1/a))."""
    return float((1.0 / a) / (1.0 - np.exp(-1.0 / a)))
