"""ADC energy and latency per conversion: the models of docs/cost.md#adc-energy-models, registered by name.

Published models disagree by up to ~300x at 8 bits, so every cost result names the model used.
A model is one frozen config class (its parameters and ``source``, loaded from the cost-model YAML's
``adc.models.<name>``) with :meth:`~AdcEnergyModel.conversion` and :meth:`~AdcEnergyModel.describe`,
plus one line in :data:`ADC_MODELS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

from aimc_sim.config import Config, check, int_in, nonnegative, positive
from aimc_sim.errors import ConfigError

__all__ = [
    "ADC_MODELS",
    "AdcEnergyModel",
    "NeuroSimSar",
    "MurmannBound",
    "MnsimTable",
    "MnsimEntry",
    "SurveyFom",
    "CcoAdc",
]


def has_source(x: object) -> str | None:
    """Validator: a non-empty source string."""
    return None if isinstance(x, str) and x.strip() else "must name the source of the numbers (non-empty string)"


class AdcEnergyModel(Protocol):
    """An ADC energy model: (energy J, latency s) of one conversion at ``bits`` of a read whose integration
    window is ``window_s`` (the array read time). The latency is the conversion's time after the read; models
    of converters that sample after the read (SAR, flash) ignore the window."""

    source: str

    def conversion(self, bits: int, window_s: float = 0.0) -> tuple[float, float]: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class NeuroSimSar(Config):
    """NeuroSim SAR ADC, circuit-level per-node fit (``SarADC.cpp``): P = a log2 L + b with L = 2**bits levels,
    latency (log2 L + 1) cycles, E = P * latency; the column (voltage-divider) term is excluded.
    Source: NeuroSim V1.4 ``SarADC.cpp`` (22 nm LP fit) [paper], docs/cost.md#adc-energy-models."""

    a_w: float = field(metadata=check(nonnegative))
    b_w: float = field(metadata=check(nonnegative))
    cycle_s: float = field(metadata=check(positive))
    source: str = field(metadata=check(has_source))

    def conversion(self, bits: int, window_s: float = 0.0) -> tuple[float, float]:
        lat = (bits + 1) * self.cycle_s
        return (self.a_w * bits + self.b_w) * lat, lat

    def describe(self) -> str:
        return f"NeuroSim SAR fit (a={self.a_w:g} W/bit, b={self.b_w:g} W, cycle {self.cycle_s:g} s)"


@dataclass(frozen=True)
class MurmannBound(Config):
    """Murmann ADC-survey bound as in the Accelergy ADC plug-in: FOM_S = min(c0 - c1 ln f, cap) dB,
    SNDR = 6.02 N + 1.76 dB, E = 1 / (2 * 10**((FOM_S - SNDR) / 10)); latency 1 / f.
    Source: Accelergy ``adc_plug_in`` ``model.py`` [paper], docs/cost.md#adc-energy-models."""

    c0_db: float
    c1_db: float
    cap_db: float
    sample_rate_hz: float = field(metadata=check(positive))
    source: str = field(metadata=check(has_source))

    def conversion(self, bits: int, window_s: float = 0.0) -> tuple[float, float]:
        fom_s = min(self.c0_db - self.c1_db * math.log(self.sample_rate_hz), self.cap_db)
        sndr = 6.02 * bits + 1.76
        return 1.0 / (2.0 * 10.0 ** ((fom_s - sndr) / 10.0)), 1.0 / self.sample_rate_hz

    def describe(self) -> str:
        return f"Murmann/Accelergy FOM bound at {self.sample_rate_hz:g} Hz"


@dataclass(frozen=True)
class MnsimEntry(Config):
    """One published ADC of the MNSIM table."""

    name: str
    bits: int = field(metadata=check(int_in(1, 16)))
    power_w: float = field(metadata=check(positive))
    rate_hz: float = field(metadata=check(positive))


@dataclass(frozen=True)
class MnsimTable(Config):
    """MNSIM table of published ADCs: the entry with the fewest bits >= the request (else the most bits);
    latency (bits_e + 2) / f_s and E = P * latency, as MNSIM codes it (P / f_s would be (bits + 2) times less).
    Source: MNSIM 2.0 ``Hardware_Model/ADC.py`` [paper], docs/cost.md#adc-energy-models."""

    entries: tuple[MnsimEntry, ...]
    source: str = field(metadata=check(has_source))

    def validate(self) -> None:
        if not self.entries:
            raise ConfigError("entries", "must list at least one ADC")

    def conversion(self, bits: int, window_s: float = 0.0) -> tuple[float, float]:
        fit = [e for e in self.entries if e.bits >= bits]
        e = min(fit, key=lambda e: e.bits) if fit else max(self.entries, key=lambda e: e.bits)
        lat = (e.bits + 2) / e.rate_hz
        return e.power_w * lat, lat

    def describe(self) -> str:
        return f"MNSIM published-ADC table ({', '.join(e.name for e in self.entries)})"


@dataclass(frozen=True)
class SurveyFom(Config):
    """Survey Walden figure of merit: E = max(FOM_W * 2**bits, floor); latency (bits + 1) SAR clock cycles.
    Source: FOM_W 5-20 fJ/step from the Murmann ADC survey; floor and clock [proposal]
    (docs/cost.md#adc-energy-models)."""

    fom_w_j: float = field(metadata=check(positive))
    floor_j: float = field(metadata=check(nonnegative))
    clock_hz: float = field(metadata=check(positive))
    source: str = field(metadata=check(has_source))

    def conversion(self, bits: int, window_s: float = 0.0) -> tuple[float, float]:
        return max(self.fom_w_j * 2.0**bits, self.floor_j), (bits + 1) / self.clock_hz

    def describe(self) -> str:
        return f"survey FOM_W {self.fom_w_j:g} J/step, floor {self.floor_j:g} J"


@dataclass(frozen=True)
class CcoAdc(Config):
    """Current-controlled-oscillator ADC: the column current drives a ring oscillator whose edges a counter
    counts, one LSB per ``lsb_s`` at full scale, for the whole integration window of the read. The oscillator
    and counter draw ``power_w`` while they run, so E = power_w * window (power x time) with
    window = max(read window, 2**bits * lsb_s): at least the time to count a full-scale code. The conversion
    overlaps the read; only a full-scale count longer than the read window adds latency.
    Source: a published voltage/current-controlled-oscillator ADC for in-memory computing, 32 levels in 10 ns
    for < 5.2 pJ (doi:10.1145/3451212) [paper] (docs/cost.md#adc-energy-models, cco)."""

    power_w: float = field(metadata=check(positive))
    lsb_s: float = field(metadata=check(positive))
    source: str = field(metadata=check(has_source))

    def conversion(self, bits: int, window_s: float = 0.0) -> tuple[float, float]:
        full_scale = 2.0**bits * self.lsb_s
        return self.power_w * max(window_s, full_scale), max(0.0, full_scale - window_s)

    def describe(self) -> str:
        return f"CCO ADC {self.power_w:g} W while counting, {self.lsb_s:g} s/LSB, E = P x integration window"


ADC_MODELS: dict[str, type[Config]] = {
    "neurosim-sar": NeuroSimSar,
    "murmann-bound": MurmannBound,
    "mnsim-table": MnsimTable,
    "survey-fom": SurveyFom,
    "cco": CcoAdc,
}
"""Registered ADC energy models by name; a cost-model YAML parameterises any of them under ``adc.models``."""
