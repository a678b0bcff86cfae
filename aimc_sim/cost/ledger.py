"""The cost ledger: counts every hardware event, per layer.

A :class:`Ledger` only counts. Event names are the vocabulary of the cost model
(:mod:`aimc_sim.cost.model`), which prices each event in joules and seconds. Energies that are
computed from physics during simulation (the array read energy sum V^2*G*t_read) are recorded
as joules directly with :meth:`Ledger.add_energy`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager


class Ledger:
    """Event counts and physically computed energies, keyed by (layer, name)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], float] = defaultdict(float)
        self.energy_j: dict[tuple[str, str], float] = defaultdict(float)
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

    def add(self, event: str, count: float = 1.0, layer: str | None = None) -> None:
        """Count ``count`` occurrences of ``event``."""
        if count:
            self.counts[(self.layer if layer is None else layer, event)] += float(count)

    def add_energy(self, component: str, joules: float, layer: str | None = None) -> None:
        """Record energy computed from physics (e.g. the array read energy) for ``component``."""
        if joules:
            self.energy_j[(self.layer if layer is None else layer, component)] += float(joules)

    def merge(self, other: Ledger, scale: float = 1.0) -> None:
        """Add another ledger's counts (times ``scale``) into this one."""
        for k, v in other.counts.items():
            self.counts[k] += v * scale
        for k, v in other.energy_j.items():
            self.energy_j[k] += v * scale

    def total(self, event: str) -> float:
        """Total count of ``event`` over all layers."""
        return sum(v for (_, e), v in self.counts.items() if e == event)

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
