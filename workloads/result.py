"""The result of running a workload on (simulated) hardware, shared by the S4D and SNN workloads.

All quantities are SI and per inference (one input sequence / sample): ``energy_j`` in joules,
``latency_s`` in seconds (the time one inference takes through all layers), ``throughput_per_s`` in
inferences per second (steady state, with layers pipelined where the cost model says so). Breakdowns are
nested dicts ``{layer: {component: joules}}`` and ``{component: joules}``. :meth:`Result.to_flat_dict` gives
scalar columns for sweep tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aimc_sim.cost import Ledger
from aimc_sim.cost.events import ConverterUnit, Inventory
from aimc_sim.errors import DataError


def score(logits: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of argmax(logits) against labels; per-step labels -1 are not scored."""
    pred = logits.argmax(-1)
    y = np.asarray(y)
    if pred.shape != y.shape:
        raise DataError("y", f"labels of shape {y.shape} do not match predictions of shape {pred.shape}")
    valid = y >= 0
    return float((pred[valid] == y[valid]).mean()) if valid.any() else float("nan")


def exclude_programming(ledger: Ledger, at_programming: Ledger) -> Ledger:
    """Remove the events booked while programming (device writes, ADC calibration reads) from a run's
    ``ledger``, keeping the hardware inventory that the cost model prices as area. Returns ``ledger``."""
    ledger.merge(at_programming, scale=-1.0)
    for key, v in at_programming.counts.items():
        if isinstance(at_programming.events[key[1]], (Inventory, ConverterUnit)):
            ledger.counts[key] += v
    return ledger


@dataclass
class Result:
    """Accuracy, cost per inference, hardware usage and model complexity of one evaluation."""

    accuracy: float
    energy_j: float = math.nan
    latency_s: float = math.nan
    throughput_per_s: float = math.nan
    n_samples: int = 0
    energy_per_layer_j: dict[str, float] = field(default_factory=dict)
    energy_per_component_j: dict[str, float] = field(default_factory=dict)
    latency_per_layer_s: dict[str, float] = field(default_factory=dict)
    latency_per_component_s: dict[str, float] = field(default_factory=dict)
    area_mm2: float = math.nan
    n_tiles: int = 0
    utilisation: float = math.nan
    complexity: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def add_cost(self, priced: Any, n: int) -> Result:
        """Fill energy, latency, area and their breakdowns from a priced ledger
        (:class:`aimc_sim.cost.model.CostBreakdown`) that covered ``n`` inferences."""
        self.energy_j = float(priced.energy_j) / n
        self.latency_s = float(priced.latency_s) / n
        self.throughput_per_s = n * float(priced.throughput_hz)
        self.area_mm2 = float(priced.area_mm2)
        self.energy_per_layer_j = {k: d["energy_j"] / n for k, d in priced.per_layer.items()}
        self.latency_per_layer_s = {k: d["latency_s"] / n for k, d in priced.per_layer.items()}
        self.energy_per_component_j = {k: v / n for k, v in priced.per_component.items()}
        self.latency_per_component_s = {k: v / n for k, v in priced.latency_per_component.items()}
        self.extra |= {"adc_model": priced.adc_model, "cost_model": priced.cost_model}
        if priced.unpriced:
            self.extra["unpriced"] = ",".join(sorted(priced.unpriced))
        return self

    def to_flat_dict(self) -> dict[str, float | int | str]:
        """Scalar columns: accuracy, energy_j, ..., ``energy_layer.<layer>``, ``energy_comp.<c>``,
        ``complexity.<metric>`` and the scalar entries of ``extra`` as ``extra.<key>``."""
        out: dict[str, float | int | str] = {
            "accuracy": float(self.accuracy),
            "energy_j": float(self.energy_j),
            "latency_s": float(self.latency_s),
            "throughput_per_s": float(self.throughput_per_s),
            "n_samples": int(self.n_samples),
            "n_tiles": int(self.n_tiles),
            "utilisation": float(self.utilisation),
            "area_mm2": float(self.area_mm2),
        }
        for prefix, d in (
            ("energy_layer", self.energy_per_layer_j),
            ("energy_comp", self.energy_per_component_j),
            ("latency_layer", self.latency_per_layer_s),
            ("latency_comp", self.latency_per_component_s),
            ("complexity", self.complexity),
        ):
            out.update({f"{prefix}.{k}": float(v) for k, v in d.items()})
        for k, v in self.extra.items():
            if isinstance(v, bool):
                out[f"extra.{k}"] = int(v)
            elif isinstance(v, (int, float, str)):
                out[f"extra.{k}"] = v
        return out
