"""CostModel: prices the events of a :class:`~aimc_sim.cost.ledger.Ledger` in joules, seconds and mm².

A cost model is a YAML file in ``aimc_sim/data/cost/`` for one technology node; every number in it carries
its source. ``CostModel.load("22nm").price(ledger)`` returns a :class:`CostBreakdown` with totals and
per-layer and per-component breakdowns, naming the ADC energy model used (crossbar.md §9.3).

Event names (docs/cost.md lists them all): plain names (``digital_add``, ``neuron_spike``, ...) are looked
up in ``events``; ``adc_conversion@<b>b`` / ``adc_cycle@<b>b`` are priced by the selected ADC model and
``dac_conversion@<b>b`` by the DAC model; ``@ideal`` converters cost nothing. Energies recorded directly
with ``Ledger.add_energy`` (the array read energy) are added as they are. Latency is the sum of event
latencies: a serial upper bound (no overlap between tiles or layers). Unknown events are reported in
``CostBreakdown.unpriced``, never silently dropped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aimc_sim.config import Config, check, in_range, int_in, nonnegative, positive, read_yaml
from aimc_sim.cost import adc as adc_models
from aimc_sim.cost.ledger import Ledger
from aimc_sim.errors import ConfigError

__all__ = ["CostModel", "CostBreakdown", "CostModelConfig", "COST_DIR", "ADC_MODELS"]

COST_DIR = Path(__file__).resolve().parent.parent / "data" / "cost"
ADC_MODELS = ("A", "B", "C", "D")


def _source(x: Any) -> str | None:
    return None if isinstance(x, str) and x.strip() else "must name the source of the numbers (non-empty string)"


@dataclass(frozen=True)
class EventPrice(Config):
    """Energy (J) and latency (s) of one event, the component it is booked to, and the source."""

    component: str
    energy_j: float = field(metadata=check(nonnegative))
    source: str = field(metadata=check(_source))
    latency_s: float = field(default=0.0, metadata=check(nonnegative))


@dataclass(frozen=True)
class AreaPrice(Config):
    """Area (mm²) of one counted unit (``*_unit`` inventory events) and its source."""

    component: str
    area_mm2: float = field(metadata=check(nonnegative))
    source: str = field(metadata=check(_source))


@dataclass(frozen=True)
class NeuroSimSar(Config):
    """ADC model A parameters (per-node fit)."""

    a_w: float = field(metadata=check(nonnegative))
    b_w: float = field(metadata=check(nonnegative))
    cycle_s: float = field(metadata=check(positive))
    source: str = field(metadata=check(_source))


@dataclass(frozen=True)
class MurmannBound(Config):
    """ADC model B parameters."""

    c0_db: float
    c1_db: float
    cap_db: float
    sample_rate_hz: float = field(metadata=check(positive))
    source: str = field(metadata=check(_source))


@dataclass(frozen=True)
class MnsimEntry(Config):
    """One published ADC of the MNSIM table."""

    name: str
    bits: int = field(metadata=check(int_in(1, 16)))
    power_w: float = field(metadata=check(positive))
    rate_hz: float = field(metadata=check(positive))


@dataclass(frozen=True)
class MnsimTable(Config):
    """ADC model C: the MNSIM table (entries transcribed so far)."""

    entries: tuple[MnsimEntry, ...]
    source: str = field(metadata=check(_source))

    def validate(self) -> None:
        if not self.entries:
            raise ConfigError("entries", "must list at least one ADC")


@dataclass(frozen=True)
class SurveyFom(Config):
    """ADC model D parameters."""

    fom_w_j: float = field(metadata=check(positive))
    floor_j: float = field(metadata=check(nonnegative))
    clock_hz: float = field(metadata=check(positive))
    source: str = field(metadata=check(_source))


@dataclass(frozen=True)
class AdcModels(Config):
    """The four ADC energy models (crossbar.md §9.3) and the default selection."""

    model: Literal["A", "B", "C", "D"]
    A: NeuroSimSar
    B: MurmannBound
    C: MnsimTable
    D: SurveyFom


@dataclass(frozen=True)
class DacModel(Config):
    """DAC: P(b) = power_1bit_w * 2**(b - 1) (the MNSIM table: 3.9 uW at 1 bit ... 124.8 uW at 6 bits),
    energy = P * conversion_s."""

    power_1bit_w: float = field(metadata=check(nonnegative))
    conversion_s: float = field(metadata=check(nonnegative))
    source: str = field(metadata=check(_source))


@dataclass(frozen=True)
class CostModelConfig(Config):
    """A cost model for one technology node."""

    name: str
    node_nm: float = field(metadata=check(in_range(1.0, 1000.0)))
    description: str
    adc: AdcModels
    dac: DacModel
    events: dict[str, EventPrice]
    area: dict[str, AreaPrice] = field(default_factory=dict)
    static_power_w: float = field(default=0.0, metadata=check(nonnegative))
    static_power_source: str = "no static power booked"


@dataclass
class CostBreakdown:
    """Totals (J, s, mm²) with per-layer and per-component breakdowns; ``adc_model`` names the ADC model."""

    energy_j: float
    latency_s: float
    area_mm2: float
    per_layer: dict[str, dict[str, float]]
    per_component: dict[str, float]
    latency_per_component: dict[str, float]
    area_per_component: dict[str, float]
    adc_model: str
    cost_model: str
    unpriced: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (HDF5/JSON friendly)."""
        return {
            "energy_j": self.energy_j,
            "latency_s": self.latency_s,
            "area_mm2": self.area_mm2,
            "per_layer": self.per_layer,
            "per_component": self.per_component,
            "latency_per_component": self.latency_per_component,
            "area_per_component": self.area_per_component,
            "adc_model": self.adc_model,
            "cost_model": self.cost_model,
            "unpriced": self.unpriced,
        }

    def table(self) -> str:
        """A short text report (energy in pJ/nJ as fits, per component and per layer)."""
        lines = [
            f"cost model {self.cost_model}; ADC model {self.adc_model}",
            f"total: {self.energy_j:.4g} J, {self.latency_s:.4g} s (serial), {self.area_mm2:.4g} mm^2",
        ]
        for k, v in sorted(self.per_component.items(), key=lambda kv: -kv[1]):
            share = v / self.energy_j if self.energy_j else 0.0
            lines.append(f"  {k:<14} {v:.4g} J ({share:6.1%})")
        for layer, d in self.per_layer.items():
            lines.append(f"  layer {layer or '(none)'}: {d['energy_j']:.4g} J, {d['latency_s']:.4g} s")
        if self.unpriced:
            lines.append(f"  UNPRICED events: {', '.join(sorted(self.unpriced))}")
        return "\n".join(lines)


_SUFFIX = re.compile(r"^(?P<base>[a-z_]+)@(?P<bits>\d+b|ideal)$")


class CostModel:
    """Turns ledger counts into energy, latency and area. Load with :meth:`load`."""

    def __init__(self, config: CostModelConfig, adc_model: str | None = None):
        self.config = config
        model = adc_model or config.adc.model
        if model not in ADC_MODELS:
            raise ConfigError("cost.adc.model", f"must be one of {', '.join(map(repr, ADC_MODELS))}, got {model!r}")
        self.adc_model = model

    @classmethod
    def load(cls, name_or_path: str | Path = "22nm", adc_model: str | None = None) -> CostModel:
        """A shipped cost model by name (``aimc_sim/data/cost/<name>.yaml``) or a YAML path;
        ``adc_model`` ("A".."D") overrides the file's ADC model selection."""
        p = Path(name_or_path)
        if p.suffix not in (".yaml", ".yml"):
            p = COST_DIR / f"{name_or_path}.yaml"
            if not p.is_file():
                names = sorted(f.stem for f in COST_DIR.glob("*.yaml"))
                raise ConfigError("cost", f"unknown cost model {name_or_path!r}; available: {', '.join(names)}")
        return cls(CostModelConfig.from_dict(read_yaml(p), path="cost"), adc_model)

    def with_adc_model(self, adc_model: str) -> CostModel:
        """The same cost model with another ADC energy model."""
        return CostModel(self.config, adc_model)

    @property
    def adc_model_name(self) -> str:
        """Human-readable name of the ADC model in use, with its key numbers."""
        a = self.config.adc
        return {
            "A": f"A: NeuroSim SAR fit (a={a.A.a_w:g} W/bit, b={a.A.b_w:g} W, cycle {a.A.cycle_s:g} s)",
            "B": f"B: Murmann/Accelergy FOM bound at {a.B.sample_rate_hz:g} Hz",
            "C": f"C: MNSIM published-ADC table ({', '.join(e.name for e in a.C.entries)})",
            "D": f"D: survey FOM_W {a.D.fom_w_j:g} J/step, floor {a.D.floor_j:g} J",
        }[self.adc_model]

    def adc(self, bits: int) -> tuple[float, float]:
        """(energy J, latency s) of one conversion with the selected ADC model."""
        a = self.config.adc
        if self.adc_model == "A":
            return adc_models.neurosim_sar(bits, a.A.a_w, a.A.b_w, a.A.cycle_s)
        if self.adc_model == "B":
            return adc_models.murmann_bound(bits, a.B.sample_rate_hz, a.B.c0_db, a.B.c1_db, a.B.cap_db)
        if self.adc_model == "C":
            return adc_models.mnsim_table(bits, [(e.bits, e.power_w, e.rate_hz) for e in a.C.entries])
        return adc_models.survey_fom(bits, a.D.fom_w_j, a.D.floor_j, a.D.clock_hz)

    def dac(self, bits: int) -> tuple[float, float]:
        """(energy J, latency s) of one DAC conversion."""
        d = self.config.dac
        return d.power_1bit_w * 2.0 ** (bits - 1) * d.conversion_s, d.conversion_s

    def price_event(self, event: str) -> tuple[float, float, str] | None:
        """(energy J, latency s, component) of one ``event``, or None if the model has no price for it."""
        m = _SUFFIX.match(event)
        if m:
            base, bits_s = m.group("base"), m.group("bits")
            bits = None if bits_s == "ideal" else int(bits_s[:-1])
            if base == "adc_conversion":
                return (0.0, 0.0, "adc") if bits is None else (self.adc(bits)[0], 0.0, "adc")
            if base == "adc_cycle":
                return (0.0, 0.0, "adc") if bits is None else (0.0, self.adc(bits)[1], "adc")
            if base == "dac_conversion":
                return (0.0, 0.0, "dac") if bits is None else (self.dac(bits)[0], 0.0, "dac")
            return None
        if event == "static_seconds":
            return self.config.static_power_w, 0.0, "static"
        p = self.config.events.get(event)
        if p is None:
            return None
        return p.energy_j, p.latency_s, p.component

    def _area(self, event: str) -> tuple[float, str] | None:
        m = _SUFFIX.match(event)
        base = m.group("base") if m else event
        p = self.config.area.get(base)
        return (p.area_mm2, p.component) if p is not None else None

    def price(self, ledger: Ledger) -> CostBreakdown:
        """Price every event and recorded energy of ``ledger``."""
        if not isinstance(ledger, Ledger):
            raise ConfigError("ledger", f"must be a Ledger, got {type(ledger).__name__}")
        per_layer: dict[str, dict[str, float]] = defaultdict(lambda: {"energy_j": 0.0, "latency_s": 0.0})
        comp: dict[str, float] = defaultdict(float)
        lat_comp: dict[str, float] = defaultdict(float)
        area_comp: dict[str, float] = defaultdict(float)
        unpriced: dict[str, float] = defaultdict(float)
        for (layer, event), n in ledger.counts.items():
            area = self._area(event)
            if area is not None:
                area_comp[area[1]] += n * area[0]
            p = self.price_event(event)
            if p is None:
                if area is None:
                    unpriced[event] += n
                continue
            e, t, c = p
            per_layer[layer]["energy_j"] += n * e
            per_layer[layer]["latency_s"] += n * t
            comp[c] += n * e
            lat_comp[c] += n * t
        for (layer, c), e in ledger.energy_j.items():
            per_layer[layer]["energy_j"] += e
            comp[_ENERGY_COMPONENT.get(c, c)] += e
        return CostBreakdown(
            energy_j=float(sum(comp.values())),
            latency_s=float(sum(lat_comp.values())),
            area_mm2=float(sum(area_comp.values())),
            per_layer={k: dict(v) for k, v in per_layer.items()},
            per_component=dict(comp),
            latency_per_component=dict(lat_comp),
            area_per_component=dict(area_comp),
            adc_model=self.adc_model_name,
            cost_model=f"{self.config.name} ({self.config.node_nm:g} nm)",
            unpriced=dict(unpriced),
        )


# Ledger.add_energy component names -> breakdown components
_ENERGY_COMPONENT = {"array_read": "array", "wl_driver": "driver"}
