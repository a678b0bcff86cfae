"""What every workload's hardware config shares: the tile (preset name, YAML path or dict of fields) and
accepting a config object, a dict of fields or a YAML path at the boundary."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from aimc_sim.config import Config
from aimc_sim.errors import ConfigError

C = TypeVar("C", bound=Config)


def resolve_tile(tile: str | dict[str, Any], **overrides: Any) -> Any:
    """The :class:`aimc_sim.crossbar.TileConfig` of a preset name, a YAML path or a dict of tile fields (its
    ``preset`` key names the base, default ``pcm-default``), with ``overrides`` on top."""
    from aimc_sim.crossbar import load_tile_config

    fields = {"preset": tile} if isinstance(tile, str) else dict(tile)
    base = fields.pop("preset", "pcm-default")
    return load_tile_config(base, **(fields | overrides))


def coerce_config(cls: type[C], hardware: Any) -> C:
    """``hardware`` as a ``cls``: the object itself, a dict of its fields, a YAML path, or None (defaults)."""
    if isinstance(hardware, cls):
        return hardware
    if isinstance(hardware, (str, Path)):
        return cls.from_yaml(hardware, "hardware")
    if hardware is None or isinstance(hardware, dict):
        return cls.from_dict(hardware or {}, "hardware")
    raise ConfigError("hardware", f"must be a config, a dict or a YAML path, got {type(hardware).__name__}")
