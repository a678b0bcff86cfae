"""Mapping an SNN onto the TEXEL-style chip model (``chip_models.texel``) where it fits.

TEXEL (Greatorex et al., Nat. Commun. 16, 2025) has ``cores x neurons_per_core`` AdExp/DPI neurons,
each with ``plastic_per_neuron`` binary excitatory plastic synapses (weight ``w_max`` when
rho > theta_rho, else ~0) and a few static synapses of fixed weight; input arrives as address events
(core, neuron, synapse); there are no programmable delays and no non-spiking readout.

:func:`texel_fit` checks the spiking layers of a layered :class:`SNNModel` against that inventory
(the non-spiking LI readout stays on the host, fed by the chip's output events) and lists every
reason they do not fit. :func:`run_layer_on_texel` runs one binary, excitatory layer that fits: weight
``W[i, j] > 0`` sets synapse ``i`` of neuron ``j`` high; an input spike of channel ``i`` at step
``t`` becomes an address event at ``(t + 1) dt`` to synapse ``i`` of every neuron.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aimc_sim.errors import ConfigError
from workloads.snn.model import SNNModel


@dataclass
class TexelFit:
    """Whether a model fits the chip, and why not (one reason per line, naming the layer)."""

    fits: bool
    reasons: list[str] = field(default_factory=list)
    neurons_needed: int = 0
    neurons_available: int = 0


def texel_fit(model: SNNModel, config: Any = None) -> TexelFit:
    """Check fan-in, neuron count, weight sign/levels, delays and readout against the chip inventory."""
    from chip_models.texel import TexelConfig

    cfg = config if config is not None else TexelConfig.default()
    inv = cfg.inventory
    reasons = []
    spiking = [lay for lay in model.layers if lay.neurons.spiking]
    needed = sum(lay.shape[1] for lay in spiking)
    if needed > inv.neurons:
        reasons.append(f"needs {needed} neurons, the chip has {inv.neurons} ({inv.cores} x {inv.neurons_per_core})")
    for i, lay in enumerate(spiking):
        n_in, _ = lay.shape
        if n_in > inv.plastic_per_neuron:
            reasons.append(f"layers[{i}]: fan-in {n_in} > {inv.plastic_per_neuron} plastic synapses per neuron")
        w = lay.weight
        if np.any(w < 0):
            reasons.append(f"layers[{i}]: signed weights; plastic synapses are excitatory only")
        levels = np.unique(np.abs(w[w != 0]))
        if levels.size > 1:
            reasons.append(f"layers[{i}]: {levels.size} weight levels; plastic synapses are binary")
        if lay.delay_kind is not None and np.any(lay.delays > 0):
            reasons.append(f"layers[{i}]: {lay.delay_kind} delays; the chip has no programmable delays")
        if lay.recurrent is not None:
            reasons.append(f"layers[{i}]: recurrent weights need on-chip routing of outputs (not modelled)")
        if lay.neurons.kind != "lif":
            reasons.append(f"layers[{i}]: {lay.neurons.kind} neurons; the chip has AdExp/DPI neurons")
    return TexelFit(not reasons, reasons, needed, inv.neurons)


def run_layer_on_texel(
    weights: np.ndarray, spikes: np.ndarray, dt: float, rng: np.random.Generator, config: Any = None
) -> tuple[np.ndarray, Any]:
    """Run one binary excitatory layer (``weights`` n_in x n_out, > 0 = high) on the chip.

    ``spikes``: ``(T, n_in)`` binary input of one sample. Returns the output spike count per neuron
    (n_out,) and the chip's :class:`ChipResult` (its ``ledger`` holds the events).
    """
    from chip_models.texel import SpikeInput, TexelChip, TexelConfig

    cfg = config if config is not None else TexelConfig.default(learning={"plastic_enable": False})
    inv = cfg.inventory
    w = np.asarray(weights, dtype=float)
    x = np.asarray(spikes)
    if w.ndim != 2 or np.any(w < 0):
        raise ConfigError("weights", "must be a non-negative 2-D (n_in x n_out) matrix (binary excitatory synapses)")
    n_in, n_out = w.shape
    if n_in > inv.plastic_per_neuron or n_out > inv.neurons:
        raise ConfigError(
            "weights",
            f"shape {w.shape} does not fit: at most {inv.plastic_per_neuron} inputs x {inv.neurons} neurons",
        )
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ConfigError("spikes", f"must have shape (T, {n_in}), got {x.shape}")
    if not (np.isfinite(dt) and dt > 0):
        raise ConfigError("dt", f"must be a finite number > 0 (s), got {dt!r}")
    chip = TexelChip(cfg, rng)
    rho = np.zeros((inv.neurons, inv.plastic_per_neuron))
    rho[:n_out, :n_in] = (w > 0).T
    chip.set_rho(rho)
    chip.set_plastic_enable(False)
    t_idx, ch = np.nonzero(x)
    ev_t = np.repeat((t_idx + 1) * dt, n_out)
    neuron = np.tile(np.arange(n_out), t_idx.size)
    syn = np.repeat(ch, n_out)
    core, local = np.divmod(neuron, inv.neurons_per_core)
    order = np.argsort(ev_t, kind="stable")
    inp = SpikeInput(ev_t[order], core[order], local[order], syn[order])
    res = chip.run(inp, (x.shape[0] + 1) * dt)
    counts = np.bincount(res.spike_neuron, minlength=inv.neurons)[:n_out]
    res.ledger = chip.ledger
    return counts, res
