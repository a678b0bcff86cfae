"""Units of measurement columns, converted to SI once at load time.

A CSV header or HDF5 ``units`` attribute names a unit from the tables below; the value is
multiplied by the factor to give SI (S, s, V). Dimensionless columns take no unit (or ``1``).
"""

from __future__ import annotations

CONDUCTANCE = {"S": 1.0, "mS": 1e-3, "uS": 1e-6, "µS": 1e-6, "nS": 1e-9, "pS": 1e-12}
TIME = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9, "min": 60.0, "h": 3600.0, "d": 86400.0}
VOLTAGE = {"V": 1.0, "mV": 1e-3}
DIMENSIONLESS = {"": 1.0, "1": 1.0}

DIMENSIONS: dict[str, dict[str, float]] = {
    "conductance": CONDUCTANCE,
    "time": TIME,
    "voltage": VOLTAGE,
    "dimensionless": DIMENSIONLESS,
}


def si_factor(dimension: str, unit: str) -> float | None:
    """Factor that converts ``unit`` of ``dimension`` to SI, or None if the unit does not belong to it."""
    return DIMENSIONS[dimension].get(unit.strip())


def allowed_units(dimension: str) -> str:
    """Human-readable list of the units accepted for ``dimension``."""
    if dimension == "dimensionless":
        return "no unit (or '1')"
    return ", ".join(u for u in DIMENSIONS[dimension] if u.isascii())
