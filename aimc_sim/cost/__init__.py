"""Energy, latency and area accounting."""

from aimc_sim.cost.ledger import Ledger

__all__ = ["Ledger"]
