"""Energy bookkeeping of the chip (docs/texel.md §5 power model, docs/circuits.md §7):

E = P_static·T + N_spk·E_spk + N_sop·E_sop + N_hop·E_hop + N_write·E_write
    + Σ_links N_routed,link·e_hop,link,

with the counts taken from the chip's :class:`aimc_sim.cost.Ledger` and the prices from the chip
config (``energy`` section of ``texel.yaml``, each number with its source).
"""

from __future__ import annotations

from aimc_sim.cost import Ledger
from aimc_sim.cost.events import DEVICE_WRITE, NEURON_SPIKE, ROUTER_EVENT, SYNAPTIC_EVENT
from aimc_sim.errors import ConfigError
from chip_models.texel.config import EnergyConfig, RoutingConfig
from chip_models.texel.router import ROUTER_HOP


def energy_report(
    ledger: Ledger, duration: float, cfg: EnergyConfig, routing: RoutingConfig | None = None
) -> dict[str, float]:
    """Energy (J) per component over ``duration`` seconds, the total and the mean power (W).
    With ``routing``, the packets routed on each link class are priced at that link's ``e_hop``."""
    if not duration > 0:
        raise ConfigError("duration", f"must be > 0 s, got {duration!r}")
    parts = {
        "static": cfg.static_power * duration,
        "spikes": cfg.e_spike * ledger.total(NEURON_SPIKE),
        "synaptic_events": cfg.e_synaptic_event * ledger.total(SYNAPTIC_EVENT),
        "router_events": cfg.e_router_event * ledger.total(ROUTER_EVENT),
        "device_writes": cfg.e_device_write * ledger.total(DEVICE_WRITE),
    }
    if routing is not None:
        parts["routed_hops"] = sum(
            getattr(routing, cls).e_hop * ledger.total(event) for cls, event in ROUTER_HOP.items()
        )
    total = sum(parts.values())
    return {**parts, "total": total, "power": total / duration}
