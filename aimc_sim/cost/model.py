"""CostModel: prices the events of a :class:`~aimc_sim.cost.ledger.Ledger` in joules, seconds and mm².

A cost model is a YAML file in ``aimc_sim/data/cost/`` for one technology node; every number in it carries
its source. ``CostModel.load("22nm").price(ledger)`` returns a :class:`CostBreakdown` with totals and
per-layer and per-component breakdowns, naming the ADC energy model used (docs/cost.md#adc-energy-models).

Events are typed records (:mod:`aimc_sim.cost.events`, docs/cost.md lists them); each type has one pricing
method: :class:`~aimc_sim.cost.events.Named` events come from the ``events`` table, conversions from the
selected ADC model (``adc.models``, registered in :data:`aimc_sim.cost.adc.ADC_MODELS`) and the DAC model
(ideal converters cost nothing), digital operations from the ``digital`` table at their precision, memory
accesses from the ``memory`` table at their bits. Energies recorded directly with ``Ledger.add_energy``
(the array read energy) are added as they are. Latency: :mod:`aimc_sim.cost.latency` (tiles of a layer in
parallel, layers one after another, pipelined across inputs where the model says so). The optional
``static`` section books always-on power over that latency (component ``static``). Unknown events are
reported in ``CostBreakdown.unpriced``, never silently dropped.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aimc_sim.config import Config, check, in_range, int_in, nonnegative, positive, read_yaml
from aimc_sim.cost.adc import ADC_MODELS, AdcEnergyModel, has_source
from aimc_sim.cost.events import (
    TILE,
    TILE_READ,
    AdcCycle,
    Conversion,
    ConverterUnit,
    DigitalOp,
    Event,
    Inventory,
    Memory,
    MemoryAccess,
    Named,
    Op,
    Precision,
)
from aimc_sim.cost.latency import time_ledger
from aimc_sim.cost.ledger import Ledger
from aimc_sim.cost.scaling import TechnologyScaling
from aimc_sim.errors import ConfigError

__all__ = ["CostModel", "CostBreakdown", "CostModelConfig", "COST_DIR"]

COST_DIR = Path(__file__).resolve().parent.parent / "data" / "cost"


@dataclass(frozen=True)
class EventPrice(Config):
    """Energy (J) and latency (s) of one event, the component it is booked to, and the source."""

    component: str
    energy_j: float = field(metadata=check(nonnegative))
    source: str = field(metadata=check(has_source))
    latency_s: float = field(default=0.0, metadata=check(nonnegative))


@dataclass(frozen=True)
class AreaPrice(Config):
    """Area (mm²) of one counted unit (``*_unit`` inventory events) and its source."""

    component: str
    area_mm2: float = field(metadata=check(nonnegative))
    source: str = field(metadata=check(has_source))


@dataclass(frozen=True)
class AdcModels(Config):
    """The ADC energy models this file parameterises (``models``: registered name -> parameters, see
    :data:`aimc_sim.cost.adc.ADC_MODELS`) and the one used by default (``model``)."""

    model: str
    models: dict[str, Any]

    def validate(self) -> None:
        built = {}
        for name, raw in self.models.items():
            cls = ADC_MODELS.get(name)
            if cls is None:
                raise ConfigError(f"models.{name}", f"unknown ADC model; registered: {', '.join(ADC_MODELS)}")
            built[name] = raw if isinstance(raw, cls) else cls.from_dict(raw, path=f"models.{name}")
        object.__setattr__(self, "models", built)
        if self.model not in built:
            raise ConfigError("model", f"must be one of {', '.join(map(repr, built))}, got {self.model!r}")


@dataclass(frozen=True)
class DigitalPrice(Config):
    """Energy of one add and one multiply at one precision, and the source."""

    add_j: float = field(metadata=check(nonnegative))
    mul_j: float = field(metadata=check(nonnegative))
    source: str = field(metadata=check(has_source))


@dataclass(frozen=True)
class MemoryPrice(Config):
    """Energy of a 64-bit access to one memory level; an access of b bits costs b/64 of it [derived].
    ``scaled``: the energy is scaled to the model's node with the digital energies (on-chip memory)."""

    energy_per_64b_j: float = field(metadata=check(nonnegative))
    bandwidth_bits_per_s: float = field(metadata=check(positive))
    source: str = field(metadata=check(has_source))
    scaled: bool = True


@dataclass(frozen=True)
class LatencyModel(Config):
    """Digital unit and pipelining: the digital unit handles ``datapath_bits`` per cycle at ``clock_hz``, so an
    operation at precision p takes p.bits / (datapath_bits * clock_hz) seconds of its time (narrower
    operands pack more lanes); ``layer_pipelining``: layers overlap on successive inputs (docs/cost.md)."""

    datapath_bits: int = field(metadata=check(int_in(1, 1 << 20)))
    clock_hz: float = field(metadata=check(positive))
    layer_pipelining: bool
    source: str = field(metadata=check(has_source))


@dataclass(frozen=True)
class DacModel(Config):
    """DAC: P(b) = power_1bit_w * 2**(b - 1) (the MNSIM table: 3.9 uW at 1 bit ... 124.8 uW at 6 bits),
    energy = P * conversion_s."""

    power_1bit_w: float = field(metadata=check(nonnegative))
    conversion_s: float = field(metadata=check(nonnegative))
    source: str = field(metadata=check(has_source))


@dataclass(frozen=True)
class StaticPower(Config):
    """Always-on power (leakage, clocking, control, local digital units, on-chip network) that no event prices:
    ``tile_w`` per physical tile present (``tile_unit`` inventory events), ``chip_w`` for the chip. Booked as
    energy over the latency of the priced work, component ``static``: E = dynamic + P_static * latency."""

    tile_w: float = field(metadata=check(nonnegative))
    source: str = field(metadata=check(has_source))
    chip_w: float = field(default=0.0, metadata=check(nonnegative))


@dataclass(frozen=True)
class CostModelConfig(Config):
    """A cost model for one technology node."""

    name: str
    node_nm: float = field(metadata=check(in_range(1.0, 1000.0)))
    description: str
    adc: AdcModels
    dac: DacModel
    events: dict[str, EventPrice]
    digital: dict[str, DigitalPrice] = field(default_factory=dict)
    memory: dict[str, MemoryPrice] = field(default_factory=dict)
    area: dict[str, AreaPrice] = field(default_factory=dict)
    technology: TechnologyScaling | None = None
    latency: LatencyModel | None = None
    static: StaticPower | None = None

    def validate(self) -> None:
        for section, allowed in (("digital", [p.label for p in Precision]), ("memory", [m.value for m in Memory])):
            for key in getattr(self, section):
                if key not in allowed:
                    raise ConfigError(f"{section}.{key}", f"unknown; allowed: {', '.join(allowed)}")


@dataclass
class CostBreakdown:
    """Totals (J, s, mm²) with per-layer and per-component breakdowns; ``adc_model`` names the ADC model.
    ``latency_s``: time of the ledger's work through all layers; ``interval_s``: time between successive
    ledgers' worth of work in steady state (the slowest layer when layers are pipelined)."""

    energy_j: float
    latency_s: float
    interval_s: float
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
            "interval_s": self.interval_s,
            "throughput_hz": self.throughput_hz,
            "area_mm2": self.area_mm2,
            "per_layer": self.per_layer,
            "per_component": self.per_component,
            "latency_per_component": self.latency_per_component,
            "area_per_component": self.area_per_component,
            "adc_model": self.adc_model,
            "cost_model": self.cost_model,
            "unpriced": self.unpriced,
        }

    @property
    def throughput_hz(self) -> float:
        """Ledgers' worth of work per second in steady state (1 / interval_s)."""
        return 1.0 / self.interval_s if self.interval_s > 0 else math.inf

    def table(self) -> str:
        """A short text report (energy in pJ/nJ as fits, per component and per layer)."""
        lines = [
            f"cost model {self.cost_model}; ADC model {self.adc_model}",
            f"total: {self.energy_j:.4g} J, latency {self.latency_s:.4g} s, interval {self.interval_s:.4g} s, "
            f"{self.area_mm2:.4g} mm^2",
        ]
        for k, v in sorted(self.per_component.items(), key=lambda kv: -kv[1]):
            share = v / self.energy_j if self.energy_j else 0.0
            lines.append(f"  {k:<14} {v:.4g} J ({share:6.1%})")
        for layer, d in self.per_layer.items():
            lines.append(f"  layer {layer or '(none)'}: {d['energy_j']:.4g} J, {d['latency_s']:.4g} s")
        if self.unpriced:
            lines.append(f"  UNPRICED events: {', '.join(sorted(self.unpriced))}")
        return "\n".join(lines)


class CostModel:
    """Turns ledger counts into energy, latency and area. Load with :meth:`load`."""

    def __init__(self, config: CostModelConfig, adc_model: str | None = None):
        self.config = config
        name = adc_model or config.adc.model
        if name not in config.adc.models:
            allowed = ", ".join(map(repr, config.adc.models))
            msg = f"must be one of the models {config.name} parameterises ({allowed}), got {name!r}"
            raise ConfigError("cost.adc.model", msg)
        self.adc_model = name
        self._adc: AdcEnergyModel = config.adc.models[name]
        self.digital_scale = config.technology.energy_scale if config.technology is not None else 1.0
        read = config.events.get(TILE_READ.name)
        self.read_window_s = read.latency_s if read is not None else 0.0  # the array read's integration window

    @classmethod
    def load(cls, name_or_path: str | Path = "22nm", adc_model: str | None = None) -> CostModel:
        """A shipped cost model by name (``aimc_sim/data/cost/<name>.yaml``) or a YAML path;
        ``adc_model`` (a registered name the file parameterises) overrides the file's ADC model selection."""
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
        """Name of the ADC model in use, with its key numbers."""
        return f"{self.adc_model}: {self._adc.describe()}"

    def adc(self, bits: int) -> tuple[float, float]:
        """(energy J, latency s after the read) of one conversion with the selected ADC model, of a read whose
        integration window is the ``tile_read`` latency."""
        return self._adc.conversion(bits, self.read_window_s)

    def dac(self, bits: int) -> tuple[float, float]:
        """(energy J, latency s) of one DAC conversion."""
        d = self.config.dac
        return d.power_1bit_w * 2.0 ** (bits - 1) * d.conversion_s, d.conversion_s

    # one pricing method per event type: (energy J, latency s, component), or None if unpriced
    def _named(self, ev: Named) -> tuple[float, float, str] | None:
        p = self.config.events.get(ev.name)
        return None if p is None else (p.energy_j, p.latency_s, p.component)

    def _conversion(self, ev: Conversion) -> tuple[float, float, str]:
        if ev.bits is None:
            return 0.0, 0.0, ev.converter
        return (self.adc(ev.bits) if ev.converter == "adc" else self.dac(ev.bits))[0], 0.0, ev.converter

    def _adc_cycle(self, ev: AdcCycle) -> tuple[float, float, str]:
        return 0.0, (0.0 if ev.bits is None else self.adc(ev.bits)[1]), "adc"

    def digital_energy(self, op: Op, precision: Precision) -> float | None:
        """Energy (J) of one ``op`` at ``precision`` at this model's node, or None if unpriced.

        A precision missing from the ``digital`` table is derived from the nearest listed integer precision
        (integers only): an adder's energy grows with the bits, an array multiplier's with the bits squared
        [derived; Horowitz's own int8 / int32 ratios are 3.3x for add and 15.5x for multiply]."""
        table = self.config.digital
        p = table.get(precision.label)
        if p is not None:
            return (p.add_j if op is Op.ADD else p.mul_j) * self.digital_scale
        listed = [q for q in Precision if q.label in table and not q.is_float]
        if precision.is_float or not listed:
            return None
        near = min(listed, key=lambda q: abs(math.log(precision.bits / q.bits)))
        r = precision.bits / near.bits
        base = table[near.label]
        return (base.add_j * r if op is Op.ADD else base.mul_j * r * r) * self.digital_scale

    def _digital(self, ev: DigitalOp) -> tuple[float, float, str] | None:
        e = self.digital_energy(ev.op, ev.precision)
        lat = self.config.latency
        t = ev.precision.bits / (lat.datapath_bits * lat.clock_hz) if lat is not None else 0.0
        return None if e is None else (e, t, "digital")

    def _memory(self, ev: MemoryAccess) -> tuple[float, float, str] | None:
        p = self.config.memory.get(ev.memory.value)
        if p is None:
            return None
        scale = self.digital_scale if p.scaled else 1.0
        return p.energy_per_64b_j * ev.bits / 64.0 * scale, ev.bits / p.bandwidth_bits_per_s, "memory"

    _PRICERS: dict[type, Callable[..., tuple[float, float, str] | None]] = {
        Named: _named,
        Conversion: _conversion,
        AdcCycle: _adc_cycle,
        DigitalOp: _digital,
        MemoryAccess: _memory,
    }

    def price_event(self, event: Event) -> tuple[float, float, str] | None:
        """(energy J, latency s, component) of one ``event``, or None if the model has no price for it."""
        pricer = self._PRICERS.get(type(event))
        return None if pricer is None else pricer(self, event)

    def _area(self, event: Event) -> tuple[float, str] | None:
        if isinstance(event, Inventory):
            p = self.config.area.get(event.key)
        elif isinstance(event, ConverterUnit):
            p = self.config.area.get(f"{event.converter}_unit")
        else:
            return None
        return (p.area_mm2, p.component) if p is not None else None

    def price(self, ledger: Ledger) -> CostBreakdown:
        """Price every event and recorded energy of ``ledger``; time it with the latency model."""
        if not isinstance(ledger, Ledger):
            raise ConfigError("ledger", f"must be a Ledger, got {type(ledger).__name__}")
        per_layer: dict[str, dict[str, float]] = defaultdict(lambda: {"energy_j": 0.0, "latency_s": 0.0})
        comp: dict[str, float] = defaultdict(float)
        area_comp: dict[str, float] = defaultdict(float)
        unpriced: dict[str, float] = defaultdict(float)
        latency_of: dict[str, tuple[float, str]] = {}
        tiles: dict[str, float] = defaultdict(float)
        for (layer, key), n in ledger.counts.items():
            event = ledger.events[key]
            if event == TILE:
                tiles[layer] += n
            area = self._area(event)
            if area is not None:
                area_comp[area[1]] += n * area[0]
                continue
            p = self.price_event(event)
            if p is None:
                unpriced[key] += n
                continue
            e, t, c = p
            latency_of[key] = (t, c)
            per_layer[layer]["energy_j"] += n * e
            comp[c] += n * e
        for (layer, c), e in ledger.energy_j.items():
            per_layer[layer]["energy_j"] += e
            comp[_ENERGY_COMPONENT.get(c, c)] += e
        pipelined = self.config.latency is not None and self.config.latency.layer_pipelining
        timing = time_ledger(ledger, latency_of, pipelined)
        for layer, t in timing.per_layer.items():
            per_layer[layer]["latency_s"] = t
        for layer, e in self._static_energy(tiles, timing.latency_s).items():
            per_layer[layer]["energy_j"] += e
            comp["static"] += e
        return CostBreakdown(
            energy_j=float(sum(comp.values())),
            latency_s=timing.latency_s,
            interval_s=timing.interval_s,
            area_mm2=float(sum(area_comp.values())),
            per_layer={k: dict(v) for k, v in per_layer.items()},
            per_component=dict(comp),
            latency_per_component=timing.per_component,
            area_per_component=dict(area_comp),
            adc_model=self.adc_model_name,
            cost_model=f"{self.config.name} ({self.config.node_nm:g} nm)",
            unpriced=dict(unpriced),
        )

    def _static_energy(self, tiles: dict[str, float], latency_s: float) -> dict[str, float]:
        """{layer: J} of the always-on power over ``latency_s``: each layer's tiles, and the chip (layer "")."""
        st = self.config.static
        if st is None or latency_s <= 0:
            return {}
        out = {layer: st.tile_w * n * latency_s for layer, n in tiles.items() if st.tile_w and n}
        if st.chip_w:
            out[""] = out.get("", 0.0) + st.chip_w * latency_s
        return out


# Ledger.add_energy component names -> breakdown components
_ENERGY_COMPONENT = {"array_read": "array", "wl_driver": "driver"}
