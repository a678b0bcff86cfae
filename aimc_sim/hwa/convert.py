"""``convert_to_analog``: swap the dense layers of any torch network for analog ones (hardware-aware training).

nn.Linear -> AnalogLinear, nn.Conv1d -> AnalogConv1d, nn.Conv2d -> AnalogConv2d. A module with its own
``to_analog(hwa, key)`` method (e.g. the S4D and SNN training models) converts itself. Modules that only
normalise, pool, embed or activate stay digital. Any other module holding weights has no analog mapping: it
is refused with an error naming it, unless listed in ``digital`` (kept digital on purpose).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aimc_sim.errors import ConfigError
from aimc_sim.hwa._torch import require_torch
from aimc_sim.hwa.config import HWAConfig
from aimc_sim.hwa.layers import AnalogConv1d, AnalogConv2d, AnalogLinear

torch = require_torch()
nn = torch.nn

__all__ = ["convert_to_analog", "set_analog", "ANALOG_MAPPINGS", "DIGITAL_MODULES"]

ANALOG_MAPPINGS: dict[type, Any] = {nn.Linear: AnalogLinear, nn.Conv1d: AnalogConv1d, nn.Conv2d: AnalogConv2d}
"""Float module type -> analog class (with ``from_float(module, hwa, key, name)``)."""

DIGITAL_MODULES: tuple[type, ...] = (
    nn.LayerNorm,
    nn.GroupNorm,
    nn.modules.batchnorm._BatchNorm,
    nn.Embedding,
    nn.PReLU,
)
"""Modules with parameters that stay in digital logic (normalisation, embedding look-up, activations)."""


def _as_config(hwa: Any) -> HWAConfig:
    if isinstance(hwa, HWAConfig):
        return hwa
    if isinstance(hwa, str):
        return HWAConfig(tile=hwa)
    if isinstance(hwa, dict):
        return HWAConfig.from_dict(hwa, "hwa")
    raise ConfigError("hwa", f"must be an HWAConfig, a tile preset name or a dict, got {type(hwa).__name__}")


def convert_to_analog(module: Any, hwa: Any = "pcm-default", digital: Iterable[str] = ()) -> Any:
    """Replace every mapped layer of ``module`` (in place; also returned) by its analog twin on ``hwa``'s tiles.

    ``hwa``: an :class:`HWAConfig`, a tile preset name or a dict of its fields. ``digital``: qualified module
    names (as in ``named_modules``) to keep digital. Layer i (in ``named_modules`` order) seeds its noise
    streams with (hwa.seed, i). Raises ConfigError naming the first layer that holds weights but has no
    analog mapping.
    """
    cfg = _as_config(hwa)
    keep = set(digital)
    names = {name for name, _ in module.named_modules()}
    unknown = sorted(keep - names)
    if unknown:
        raise ConfigError("digital", f"no module named {unknown[0]!r} in the network")
    if type(module) in ANALOG_MAPPINGS or hasattr(module, "to_analog"):
        return _convert(module, "", cfg, keep, [0])
    _convert_children(module, "", cfg, keep, [0])
    return module


def _convert(m: Any, name: str, cfg: HWAConfig, keep: set[str], counter: list[int]) -> Any:
    key = counter[0]
    counter[0] += 1
    if hasattr(m, "to_analog"):
        m.to_analog(cfg, key)
        return m
    return ANALOG_MAPPINGS[type(m)].from_float(m, cfg, key, name)


def _convert_children(module: Any, prefix: str, cfg: HWAConfig, keep: set[str], counter: list[int]) -> None:
    for child_name, child in module.named_children():
        name = f"{prefix}.{child_name}" if prefix else child_name
        if name in keep:
            continue
        if type(child) in ANALOG_MAPPINGS or hasattr(child, "to_analog"):
            setattr(module, child_name, _convert(child, name, cfg, keep, counter))
            continue
        own = list(child.parameters(recurse=False))
        if own and not isinstance(child, DIGITAL_MODULES) and not getattr(child, "analog_layer", False):
            mapped = ", ".join(t.__name__ for t in ANALOG_MAPPINGS)
            raise ConfigError(
                name,
                f"layer of type {type(child).__name__} holds weights but has no analog mapping "
                f"(mapped: {mapped}); list it in digital=[...] to keep it digital",
            )
        _convert_children(child, name, cfg, keep, counter)


def set_analog(module: Any, on: bool) -> Any:
    """Switch every analog layer of ``module`` between the hardware forward (True) and exact float (False)."""
    for m in module.modules():
        if hasattr(m, "analog"):
            m.analog = bool(on)
    return module
