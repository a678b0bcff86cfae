"""Energy, latency and area accounting: the :class:`Ledger` counts typed events (:mod:`aimc_sim.cost.events`),
a :class:`CostModel` prices them."""

from aimc_sim.cost.adc import ADC_MODELS
from aimc_sim.cost.ledger import Ledger
from aimc_sim.cost.model import CostBreakdown, CostModel, CostModelConfig

__all__ = ["ADC_MODELS", "CostBreakdown", "CostModel", "CostModelConfig", "Ledger"]
