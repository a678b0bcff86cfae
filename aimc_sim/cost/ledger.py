"""The cost ledger: counts every hardware event, per layer.

A :class:`Ledger` only counts. Events are typed records (:mod:`aimc_sim.cost.events`); the cost model
(:mod:`aimc_sim.cost.model`) prices each record in joules and seconds. Counts are keyed by
``(layer, event.key)`` (the key is the event's stable name in result tables) and :attr:`Ledger.events`
maps each key back to its record. Energies that are computed from physics during simulation (the array
read energy sum V^2*G*t_read) are recorded as joules directly with :meth:`Ledger.add_energy`.

For latency, work done by a hardware unit that runs in parallel with the other units of its layer (a tile)
is also counted per ``unit`` (:func:`new_unit` names one); the cost model takes a layer's time as its
busiest unit plus the work of the layer's shared units (events recorded without a unit).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count as _counter

from aimc_sim.cost.events import Event, Named
from aimc_sim.errors import ConfigError

_UNIT_IDS = _counter()


def new_unit(kind: str) -> str:
    """A fresh name for a hardware unit that works in parallel with the others of its layer (e.g. a tile)."""
    return f"{kind}#{next(_UNIT_IDS)}"


class Ledger:
    """Event counts and physically computed energies, keyed by (layer, name)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], float] = defaultdict(float)
        self.energy_j: dict[tuple[str, str], float] = defaultdict(float)
        self.events: dict[str, Event] = {}
        self.unit_counts: dict[tuple[str, str, str], float] = defaultdict(float)
        self.on_units: dict[tuple[str, str], float] = defaultdict(float)
        self._layer: list[str] = [""]

    @property
    def layer(self) -> str:
        """The layer that events are currently charged to."""
        return self._layer[-1]

    @contextmanager
    def scope(self, layer: str) -> Iterator[Ledger]:
        """Charge events inside the ``with`` block to ``layer``."""
        self._layer.append(layer)
        try:
            yield self
        finally:
            self._layer.pop()

    def _register(self, event: Event) -> str:
        key = event.key
        known = self.events.setdefault(key, event)
        if known != event:
            raise ConfigError("event", f"{event!r} has the key {key!r} of another event, {known!r}")
        return key

    def add(
        self,
        event: Event | str,
        count: float = 1.0,
        layer: str | None = None,
        unit: str | None = None,
        unit_count: float | None = None,
    ) -> None:
        """Count ``count`` occurrences of ``event`` (a string is a :class:`Named` event). ``unit``: the parallel
        hardware unit doing them; ``unit_count``: how many of them that unit does one after another (default
        ``count``; less when ``count`` sums several units recorded together, e.g. the tiles of a block array)."""
        if count:
            key = self._register(Named(event) if isinstance(event, str) else event)
            layer = self.layer if layer is None else layer
            self.counts[(layer, key)] += float(count)
            if unit is not None:
                self.on_units[(layer, key)] += float(count)
                self.unit_counts[(layer, unit, key)] += float(count if unit_count is None else unit_count)

    def add_energy(self, component: str, joules: float, layer: str | None = None) -> None:
        """Record energy computed from physics (e.g. the array read energy) for ``component``."""
        if joules:
            self.energy_j[(self.layer if layer is None else layer, component)] += float(joules)

    def merge(self, other: Ledger, scale: float = 1.0) -> None:
        """Add another ledger's counts (times ``scale``) into this one."""
        for event in other.events.values():
            self._register(event)
        for mine, theirs in ((self.counts, other.counts), (self.unit_counts, other.unit_counts)):
            for k, v in theirs.items():
                mine[k] += v * scale
        for k, v in other.on_units.items():
            self.on_units[k] += v * scale
        for k, v in other.energy_j.items():
            self.energy_j[k] += v * scale

    def total(self, event: Event | str) -> float:
        """Total count of ``event`` (a record or its key) over all layers."""
        key = event if isinstance(event, str) else event.key
        return sum(v for (_, e), v in self.counts.items() if e == key)

    def layers(self) -> list[str]:
        """Layer names seen, in first-seen order."""
        seen: dict[str, None] = {}
        for layer, _ in list(self.counts) + list(self.energy_j):
            seen.setdefault(layer, None)
        return list(seen)

    def to_dict(self) -> dict[str, dict[str, float]]:
        """``{"counts": {"layer/event": n}, "energy_j": {"layer/component": J}}``."""
        return {
            "counts": {f"{lay}/{ev}": v for (lay, ev), v in self.counts.items()},
            "energy_j": {f"{lay}/{c}": v for (lay, c), v in self.energy_j.items()},
        }

    def __repr__(self) -> str:
        return f"Ledger({len(self.counts)} counters, {len(self.energy_j)} energies)"
