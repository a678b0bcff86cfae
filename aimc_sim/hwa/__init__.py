"""Hardware-aware training (HWA) in torch with the simulator's own device models and tiles in the loop.

``HWAConfig`` (no torch needed) configures it; ``convert_to_analog(net, hwa)`` swaps the dense layers of a
torch network for ``AnalogLinear`` / ``AnalogConv1d`` / ``AnalogConv2d``; ``AnalogBlockRecurrence`` runs a
block-diagonal SSM recurrence on tiles. The torch names are imported lazily: without torch installed,
accessing them raises an ImportError that says how to install it.
"""

from __future__ import annotations

from typing import Any

from aimc_sim.hwa.config import HWAConfig

__all__ = [
    "HWAConfig",
    "AnalogLinear",
    "AnalogConv1d",
    "AnalogConv2d",
    "AnalogBlockRecurrence",
    "AnalogCore",
    "convert_to_analog",
    "set_analog",
]

_LAZY = {
    "AnalogLinear": "layers",
    "AnalogConv1d": "layers",
    "AnalogConv2d": "layers",
    "AnalogBlockRecurrence": "recurrence",
    "AnalogCore": "layers",
    "convert_to_analog": "convert",
    "set_analog": "convert",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"aimc_sim.hwa.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'aimc_sim.hwa' has no attribute {name!r}")
