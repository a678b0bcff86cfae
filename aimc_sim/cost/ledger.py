"""The cost ledger: counts every hardware event, per layer.

A :class:`Ledger` only counts. Events are typed records (:mod:`aimc_sim.cost.events`); the cost model
(:mod:`aimc_sim.cost.model`) prices each record in joules and seconds. Counts are keyed by
``(layer, event.key)`` (the key is the event's stable name in result tables) and :attr:`Ledger.events`
maps each key back to its record. Energies that are computed from physics during simulation (the array
read energy sum V^2*G*t_read) are recorded as joules directly with :meth:`Ledger.add_energy`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from aimc_sim.cost.events import Event, Named
from aimc_sim.errors import ConfigError


class Ledger:
    """Event counts and physically computed energies, keyed by (layer, name)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], float] = defaultdict(float)
        self.energy_j: dict[tuple[str, str], float] = defaultdict(float)
        self.events: dict[str, Event] = {}
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

    def add(self, event: Event | str, count: float = 1.0, layer: str | None = None) -> None:
        """Count ``count`` occurrences of ``event`` (a string is a :class:`Named` event)."""
        if count:
            key = self._register(Named(event) if isinstance(event, str) else event)
            self.counts[(self.layer if layer is None else layer, key)] += float(count)

    def add_energy(self, component: str, joules: float, layer: str | None = None) -> None:
        """Record energy computed from physics (e.g. the array read energy) for ``component``."""
        if joules:
            self.energy_j[(self.layer if layer is None else layer, component)] += float(joules)

    def merge(self, other: Ledger, scale: float = 1.0) -> None:
        """Add another ledger's counts (times ``scale``) into this one."""
        for event in other.events.values():
            self._register(event)
        for k, v in other.counts.items():
            self.counts[k] += v * scale
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
