"""Latency and throughput of priced ledger work (docs/cost.md, "Latency model").

* Units of a layer work in parallel: work recorded with a ``unit`` (a tile and its periphery) is serial on
  that unit, and a layer takes as long as its busiest unit plus its shared work (events recorded without a
  unit: the layer's digital unit and memory traffic), which runs after the units, not overlapped.
* Layers follow each other: the latency of the ledger's work is the sum over layers.
* With layer pipelining (weight-stationary hardware: every layer has its own tiles), successive inputs
  overlap across layers, so the interval between successive ledgers' worth of work is the slowest layer;
  without it the interval equals the latency.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from aimc_sim.cost.ledger import Ledger

__all__ = ["Timing", "time_ledger"]


@dataclass(frozen=True)
class Timing:
    """Latency (s, sum over layers), interval (s, time between successive ledgers' worth of work in steady
    state), per-layer and per-component latency."""

    latency_s: float
    interval_s: float
    per_layer: dict[str, float]
    per_component: dict[str, float]


def time_ledger(ledger: Ledger, latency_of: dict[str, tuple[float, str]], layer_pipelining: bool) -> Timing:
    """Time ``ledger`` with ``latency_of[key] = (seconds per event, component)`` for every priced key."""
    shared: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for (layer, key), n in ledger.counts.items():
        if key in latency_of:
            t, comp = latency_of[key]
            shared[layer][comp] += (n - ledger.on_units.get((layer, key), 0.0)) * t
    units: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    for (layer, unit, key), n in ledger.unit_counts.items():
        if key in latency_of:
            t, comp = latency_of[key]
            units[layer][unit][comp] += n * t
    per_layer: dict[str, float] = {}
    per_comp: dict[str, float] = defaultdict(float)
    for layer in dict.fromkeys([*shared, *units]):  # first-seen order: the same sums in every process
        parts = dict(shared[layer])
        if units[layer]:
            busiest = max(units[layer].values(), key=lambda c: sum(c.values()))
            for comp, t in busiest.items():
                parts[comp] = parts.get(comp, 0.0) + t
        per_layer[layer] = math.fsum(parts.values())
        for comp, t in parts.items():
            per_comp[comp] += t
    latency = math.fsum(per_layer.values())
    interval = max(per_layer.values(), default=0.0) if layer_pipelining else latency
    return Timing(float(latency), float(interval), per_layer, dict(per_comp))
