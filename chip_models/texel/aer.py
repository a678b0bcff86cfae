"""Address-event input: addresses (core, neuron, synapse) with times, validated at the door.

An input event addresses synapse ``synapse`` of neuron ``neuron`` in core ``core`` (docs/texel.md §1):
synapses 0..P−1 are plastic, P..P+S−1 static. Events must be time-ordered and not earlier than
the chip's current time; every check runs before any state changes, so a rejected input leaves
the chip exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aimc_sim.errors import ConfigError
from chip_models.texel.config import InventoryConfig


class AerError(ConfigError):
    """An address event is malformed: bad address, negative time, or out of time order."""


@dataclass(frozen=True)
class SpikeInput:
    """Input address events: times (s), core, neuron (within the core) and synapse indices."""

    t: np.ndarray
    core: np.ndarray
    neuron: np.ndarray
    synapse: np.ndarray

    @classmethod
    def empty(cls) -> SpikeInput:
        z = np.zeros(0, dtype=np.int64)
        return cls(np.zeros(0), z, z, z)

    @classmethod
    def concat(cls, parts: list[SpikeInput]) -> SpikeInput:
        """Merge several inputs into one time-sorted input (stable for equal times)."""
        if not parts:
            return cls.empty()
        t = np.concatenate([p.t for p in parts])
        order = np.argsort(t, kind="stable")
        return cls(
            t[order],
            np.concatenate([p.core for p in parts])[order],
            np.concatenate([p.neuron for p in parts])[order],
            np.concatenate([p.synapse for p in parts])[order],
        )

    def __len__(self) -> int:
        return int(np.asarray(self.t).size)


def _int_field(name: str, a: np.ndarray, hi: int, n: int) -> np.ndarray:
    a = np.asarray(a)
    if a.shape != (n,):
        raise AerError(f"inputs.{name}", f"must be a 1-D array of {n} entries (one per event), got shape {a.shape}")
    if n and a.dtype.kind not in "iu":
        raise AerError(f"inputs.{name}", f"must be integer addresses, got dtype {a.dtype}")
    bad = np.flatnonzero((a < 0) | (a > hi)) if n else np.zeros(0, dtype=int)
    if bad.size:
        i = int(bad[0])
        raise AerError(f"inputs.{name}[{i}]", f"address must be an integer in 0..{hi}, got {int(a[i])}")
    return a.astype(np.int64)


def validate_input(inp: SpikeInput, inv: InventoryConfig, t_now: float) -> SpikeInput:
    """Check addresses, finiteness, sign and order of the events; return them as clean arrays."""
    t = np.asarray(inp.t, dtype=float) if np.asarray(inp.t).dtype.kind in "iuf" else None
    if t is None or t.ndim != 1:
        raise AerError("inputs.t", "must be a 1-D array of real event times (s)")
    n = t.size
    core = _int_field("core", inp.core, inv.cores - 1, n)
    neuron = _int_field("neuron", inp.neuron, inv.neurons_per_core - 1, n)
    synapse = _int_field("synapse", inp.synapse, inv.synapses_per_neuron - 1, n)
    if n:
        bad = np.flatnonzero(~np.isfinite(t) | (t < 0))
        if bad.size:
            i = int(bad[0])
            raise AerError(f"inputs.t[{i}]", f"event time must be a finite number >= 0 s, got {float(t[i])!r}")
        back = np.flatnonzero(np.diff(t) < 0)
        if back.size:
            i = int(back[0]) + 1
            raise AerError(
                f"inputs.t[{i}]", f"events must be in time order: {float(t[i])!r} s comes after {float(t[i - 1])!r} s"
            )
        if t[0] < t_now:
            raise AerError(
                "inputs.t[0]", f"event at {float(t[0])!r} s is earlier than the chip's current time {t_now!r} s"
            )
    return SpikeInput(t, core, neuron, synapse)


def poisson_input(
    rate: float, duration: float, t0: float, inv: InventoryConfig, rng: np.random.Generator, plastic_only: bool = True
) -> SpikeInput:
    """Independent Poisson trains of ``rate`` Hz into every (plastic) synapse, merged and time-sorted.

    Drawn as one total count per synapse and uniform times (the Poisson process conditioned on its
    count), then merged by one sort: the single event source the chip consumes.
    """
    per = inv.plastic_per_neuron if plastic_only else inv.synapses_per_neuron
    n_src = inv.neurons * per
    counts = rng.poisson(rate * duration, n_src)
    src = np.repeat(np.arange(n_src), counts)
    t = t0 + rng.uniform(0.0, duration, src.size)
    order = np.argsort(t, kind="stable")
    t, src = t[order], src[order]
    neuron_global, syn = np.divmod(src, per)
    core, neuron = np.divmod(neuron_global, inv.neurons_per_core)
    return SpikeInput(t, core, neuron, syn)
