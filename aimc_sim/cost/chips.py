"""Published AIMC chips as presets, and their benchmark operation on the simulator's tiles and cost model.

A chip preset (``aimc_sim/data/cost/chips/<name>.yaml``) holds the chip's own numbers, each with its source and
tag: the tile geometry and converters (a tile preset plus overrides), the number of cores that work in
parallel, the technology node, and per benchmark operation (one full-array MVM at the chip's precision, with
the reads per MVM of its read mode) the reported energy efficiency (TOPS/W) and throughput (TOPS).
:func:`evaluate_chip` programs one tile with random weights, runs the benchmark on it and prices it with the
default cost model moved to the chip's node (digital energies scaled, the tile read time as the array read
latency). No cost constant is fitted to a chip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aimc_sim.config import Config, check, int_in, nonnegative, positive, read_yaml
from aimc_sim.cost.adc import ADC_MODELS, has_source
from aimc_sim.cost.events import TILE
from aimc_sim.cost.ledger import Ledger
from aimc_sim.cost.model import COST_DIR, CostModel, CostModelConfig
from aimc_sim.errors import ConfigError

__all__ = ["ChipPreset", "ChipResult", "CHIP_DIR", "chip_names", "load_chip", "evaluate_chip"]

CHIP_DIR = COST_DIR / "chips"
METRICS = {"tops_per_w": "TOPS/W", "tops": "TOPS"}


@dataclass(frozen=True)
class Reported(Config):
    """A published number and where it is published."""

    value: float = field(metadata=check(positive))
    source: str = field(metadata=check(has_source))


@dataclass(frozen=True)
class Benchmark(Config):
    """One reported operation: a full-array MVM done in ``reads_per_mvm`` array reads."""

    name: str
    reported: dict[str, Reported]
    reads_per_mvm: int = field(default=1, metadata=check(int_in(1, 64)))

    def validate(self) -> None:
        for k in self.reported:
            if k not in METRICS:
                raise ConfigError(f"reported.{k}", f"unknown metric; allowed: {', '.join(METRICS)}")
        if not self.reported:
            raise ConfigError("reported", "must give at least one published number")


@dataclass(frozen=True)
class Technology(Config):
    """The chip's node (a row of the Stillmaker & Baas table) and supply."""

    node: str
    vdd_v: float = field(metadata=check(positive))


@dataclass(frozen=True)
class ChipPreset(Config):
    """A published chip: its tile, cores, node, benchmark operations and the source of every number."""

    name: str
    title: str
    citation: str = field(metadata=check(has_source))
    weights: tuple[int, int]
    cores: int = field(metadata=check(int_in(1, 1 << 20)))
    tile: dict[str, Any]
    technology: Technology
    numbers: dict[str, str]
    benchmarks: tuple[Benchmark, ...]
    adc_model: str | None = None
    static_w_per_core: float = field(default=0.0, metadata=check(nonnegative))
    notes: str = ""

    def validate(self) -> None:
        for k, v in self.numbers.items():
            if has_source(v):
                raise ConfigError(f"numbers.{k}", "must name the source of the number (non-empty string)")
        for key, given in (("adc_model", self.adc_model is not None), ("static_w_per_core", self.static_w_per_core)):
            if given and key not in self.numbers:
                raise ConfigError(f"numbers.{key}", f"must name the source of {key} (the chip's own architecture)")
        if self.adc_model is not None and self.adc_model not in ADC_MODELS:
            raise ConfigError(
                "adc_model", f"must be a registered ADC model ({', '.join(ADC_MODELS)}), got {self.adc_model!r}"
            )


@dataclass(frozen=True)
class ChipResult:
    """Reported against simulated numbers of one benchmark: ``{metric: (reported, simulated)}``, the simulated
    energy (J) and time (s) of one MVM on one core, the cost breakdown per component (J per MVM) and the ADC
    model that priced it."""

    chip: str
    benchmark: str
    metrics: dict[str, tuple[float, float]]
    energy_per_mvm_j: float
    time_per_mvm_s: float
    per_component_j: dict[str, float]
    adc_model: str = ""

    def factors(self) -> dict[str, float]:
        """max(sim/ref, ref/sim) per metric."""
        return {k: max(s / r, r / s) for k, (r, s) in self.metrics.items()}


def chip_names() -> list[str]:
    """The shipped chip presets."""
    return sorted(p.stem for p in CHIP_DIR.glob("*.yaml"))


def load_chip(name_or_path: str | Path) -> ChipPreset:
    """A shipped chip preset by name or a YAML path."""
    p = Path(name_or_path)
    if p.suffix not in (".yaml", ".yml"):
        p = CHIP_DIR / f"{name_or_path}.yaml"
        if not p.is_file():
            raise ConfigError("chip", f"unknown chip {name_or_path!r}; available: {', '.join(chip_names())}")
    return ChipPreset.from_dict(read_yaml(p), path="chip")


def chip_cost_model(chip: ChipPreset, t_read: float, base: str = "22nm", adc_model: str | None = None) -> CostModel:
    """The ``base`` cost model moved to the chip's node and supply, with the tile read time as read latency, the
    chip's own always-on power per core (if published) and ADC model (``adc_model`` overrides it)."""
    data = read_yaml(COST_DIR / f"{base}.yaml")
    data["name"] = f"{base}@{chip.name}"
    tech = data["technology"]
    tech["node"], tech["vdd_v"] = chip.technology.node, chip.technology.vdd_v
    tech["source"] += f"; moved to {chip.technology.node} at {chip.technology.vdd_v:g} V for {chip.name}"
    data["events"]["tile_read"]["latency_s"] = t_read
    data["events"]["tile_read"]["source"] = f"the chip preset's read time {t_read:g} s ({chip.name})"
    if chip.static_w_per_core:
        data["static"] = {"tile_w": chip.static_w_per_core, "source": chip.numbers["static_w_per_core"]}
    return CostModel(CostModelConfig.from_dict(data, path="cost"), adc_model or chip.adc_model)


def evaluate_chip(chip: ChipPreset, adc_model: str | None = None, batch: int = 16, seed: int = 0) -> list[ChipResult]:
    """Run every benchmark of ``chip`` on one simulated core (noise off: the cost does not depend on it)."""
    from aimc_sim.crossbar import AnalogTile, load_tile_config

    tile_fields = dict(chip.tile)
    preset = tile_fields.pop("preset", "pcm-default")
    tile_fields["noise"] = {"programming": False, "read": False, "out_noise": 0.0}
    cfg = load_tile_config(preset, **tile_fields)
    cm = chip_cost_model(chip, cfg.t_read, adc_model=adc_model)
    rng = np.random.default_rng(seed)
    n_in, n_out = chip.weights
    ledger = Ledger()
    tile = AnalogTile(cfg, rng.uniform(-1.0, 1.0, (n_in, n_out)), rng, ledger, name=chip.name)
    t = 3600.0
    tile.mvm(rng.uniform(-1.0, 1.0, (2, n_in)), t=t)  # drift calibration at t happens once, before the benchmark
    ops = 2.0 * n_in * n_out  # one multiply and one add per weight
    results = []
    for bench in chip.benchmarks:
        before = Ledger()
        before.merge(ledger)
        x = rng.uniform(-1.0, 1.0, (batch, n_in))
        for _ in range(bench.reads_per_mvm):
            tile.mvm(x, t=t)
        work = Ledger()  # the benchmark's events only, on the one tile present
        work.merge(ledger)
        work.merge(before, scale=-1.0)
        work.add(TILE, 1, layer=chip.name)
        priced = cm.price(work)
        e_mvm = priced.energy_j / batch
        t_mvm = priced.interval_s / batch
        sim = {"tops_per_w": ops / e_mvm / 1e12, "tops": chip.cores * ops / t_mvm / 1e12}
        metrics = {k: (r.value, sim[k]) for k, r in bench.reported.items()}
        comps = {k: v / batch for k, v in priced.per_component.items() if v}
        results.append(ChipResult(chip.name, bench.name, metrics, e_mvm, t_mvm, comps, cm.adc_model))
    return results
