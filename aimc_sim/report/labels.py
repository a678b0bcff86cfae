"""Human names and units for sweep parameters and result columns, one home for every figure and table.

``axis_label("hardware.tile.adc.bits")`` -> ``"ADC resolution [bits]"``. Unknown paths fall back to their last
component with underscores as spaces, plus the SI unit implied by the column suffix (``_j`` -> J), so every
axis gets a readable name; add an entry here when a new parameter is swept often.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Quantity", "quantity", "axis_label", "setting_text", "format_time", "TIME_TICKS"]


@dataclass(frozen=True)
class Quantity:
    """A swept parameter or result column: its human name, its unit ('' if none) and whether its values are
    settings from a small set (drawn as categories, not on a continuous axis)."""

    name: str
    unit: str = ""
    categorical: bool = False
    short: str = ""
    """A compact format for keys and legends, ``{}`` standing for the value (e.g. ``ADC {} b``)."""


_KNOWN: dict[str, Quantity] = {
    "hardware.t": Quantity("time after programming", "s"),
    "hardware.tile.adc.bits": Quantity("ADC resolution", "bits", True, "ADC {} b"),
    "hardware.tile.dac.bits": Quantity("DAC resolution", "bits", True, "DAC {} b"),
    "hardware.tile.rows": Quantity("tile rows", "cells", True, "{} rows"),
    "hardware.tile.cols": Quantity("tile columns", "cells", True, "{} cols"),
    "hardware.tile.preset": Quantity("tile preset", "", True),
    "hardware.tile.device": Quantity("device", "", True),
    "hardware.tile.mapping.slices": Quantity("bit slices per weight", "", True, "{} slices"),
    "hardware.tile.mapping.scheme": Quantity("weight mapping", "", True),
    "hardware.tile.drift_compensation.mode": Quantity("drift compensation", "", True, "{} compensation"),
    "hardware.tile.noise.w_noise": Quantity("additive weight noise", "× w_max"),
    "hardware.tile.noise.out_noise": Quantity("output noise", "× full-scale row"),
    "hardware.tile.device_options.s_prog": Quantity("PCM programming-noise scale", "× measured σ_prog"),
    "hardware.prog_noise": Quantity("programming noise σ_p", "× G_max"),
    "hardware.recurrence": Quantity("SSM recurrence", "", True, "{} recurrence"),
    "hardware.backend": Quantity("backend", "", True),
    "hardware.cost_model": Quantity("cost model", "", True),
    "accuracy": Quantity("accuracy", "fraction correct"),
    "energy_j": Quantity("energy per inference", "J"),
    "latency_s": Quantity("latency per inference", "s"),
    "area_m2": Quantity("area", "m²"),
    "area_mm2": Quantity("area", "mm²"),
    "n_tiles": Quantity("tiles", "", True),
    "utilisation": Quantity("tile utilisation", "fraction"),
}
_SUFFIX_UNITS = {"_j": "J", "_s": "s", "_mm2": "mm²", "_m2": "m²"}


def quantity(column: str) -> Quantity:
    """The :class:`Quantity` of a parameter path or result column (``param/`` and ``extra.`` prefixes ignored)."""
    path = column.removeprefix("param/").removeprefix("extra.")
    if path in _KNOWN:
        return _KNOWN[path]
    name = path.rsplit(".", 1)[-1]
    for suffix, unit in _SUFFIX_UNITS.items():
        if name.endswith(suffix):
            return Quantity(name[: -len(suffix)].replace("_", " "), unit)
    return Quantity(name.replace("_", " "))


def axis_label(column: str, unit: str | None = None) -> str:
    """``"name [unit]"`` (``unit`` overrides the quantity's own, e.g. a scaled ``µJ``); just the name if unitless."""
    q = quantity(column)
    u = q.unit if unit is None else unit
    return f"{q.name} [{u}]" if u else q.name


def setting_text(path: str, value: object, *, short: bool = False) -> str:
    """A parameter value in words: ``ADC resolution 6 bits``, ``device pcm``, ``time after programming 1 day``;
    ``short``: the compact form for keys (``ADC 6 b``, ``pcm``, ``1 day``)."""
    q = quantity(path)
    text = format_time(float(value)) if q.unit == "s" and isinstance(value, (int, float)) else str(value)
    if short:
        return q.short.format(text) if q.short else text
    return f"{q.name} {text}" + (f" {q.unit}" if q.unit and q.unit != "s" else "")


TIME_TICKS = [
    (1.0, "1 s"),
    (60.0, "1 min"),
    (3600.0, "1 h"),
    (86400.0, "1 day"),
    (7 * 86400.0, "1 week"),
    (30 * 86400.0, "1 month"),
    (365.25 * 86400.0, "1 year"),
    (10 * 365.25 * 86400.0, "10 years"),
]
"""Named read times for a time-after-programming axis."""


def format_time(seconds: float) -> str:
    """A read time as the named tick it equals (``3600`` -> ``1 h``), else in seconds (``20 s``)."""
    for value, name in TIME_TICKS:
        if abs(seconds - value) <= 1e-6 * value:
            return name
    return f"{seconds:g} s"
