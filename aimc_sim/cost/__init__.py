"""Energy, latency and area accounting: the :class:`Ledger` counts events, a :class:`CostModel` prices them."""

from aimc_sim.cost.ledger import Ledger
from aimc_sim.cost.model import ADC_MODELS, CostBreakdown, CostModel, CostModelConfig

__all__ = ["ADC_MODELS", "CostBreakdown", "CostModel", "CostModelConfig", "Ledger"]
