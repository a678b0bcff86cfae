"""Configuration of hardware-aware training (HWA): which tile, which read times, how the recurrence is mapped."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from aimc_sim.config import Config, check, int_in
from aimc_sim.errors import ConfigError

__all__ = ["HWAConfig", "add_t_range_argument"]


def add_t_range_argument(parser: Any, flag: str, default: tuple[float, float]) -> None:
    """The command-line option of ``HWAConfig.t_range`` (two floats, validated by HWAConfig)."""
    parser.add_argument(
        flag,
        type=float,
        nargs=2,
        default=default,
        metavar=("T_MIN", "T_MAX"),
        help=f"read-time range in s sampled per batch, log-uniform in 1 + t (default {default[0]:g} {default[1]:g})",
    )


@dataclass(frozen=True)
class HWAConfig(Config):
    """Hardware-aware training on tiles of ``tile`` (a preset name in ``aimc_sim/data/tiles`` or a YAML path),
    with ``tile_overrides`` (``load_tile_config`` keyword overrides, e.g. ``{"adc__bits": 6}``).

    Every training forward pass programs the weights afresh (programming noise and per-device drift draws of the
    device model) and reads them at a time t drawn from ``t_range`` (s after programming): ``log_uniform`` in
    1 + t, or ``uniform``. ``seed`` seeds the numpy programming generator and the torch noise generator.
    ``ssm_channels_per_tile``: channels of a block-diagonal recurrence packed per tile (1: one channel per
    tile, so noise management, ADC ranges and drift compensation are per channel); ``ssm_adc_range``: ADC
    range of the recurrent tiles, ``per_column`` / ``calibrated`` (calibrated on the float states of each
    batch, as ``workloads.s4d.hardware`` calibrates on training sequences) or ``tile`` (the preset's);
    ``ssm_recurrence``: ``analog`` (the recurrence on tiles) or ``digital`` (only the dense layers on tiles).
    """

    tile: str = "pcm-default"
    tile_overrides: dict[str, Any] = field(default_factory=dict)
    t_range: tuple[float, float] = (0.0, 0.0)
    t_sampling: Literal["log_uniform", "uniform"] = "log_uniform"
    seed: int = field(default=0, metadata=check(int_in(0)))
    ssm_channels_per_tile: int = field(default=1, metadata=check(int_in(1)))
    ssm_adc_range: Literal["per_column", "calibrated", "tile"] = "per_column"
    ssm_recurrence: Literal["analog", "digital"] = "analog"

    def validate(self) -> None:
        for i, v in enumerate(self.t_range):
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ConfigError(f"t_range[{i}]", f"must be a finite read time >= 0 s, got {v!r}")
        if self.t_range[0] > self.t_range[1]:
            raise ConfigError("t_range", f"must be [t_min, t_max] with t_min <= t_max, got {list(self.t_range)}")
        self.tile_config()  # unknown presets and bad overrides fail here, naming the field

    def tile_config(self) -> Any:
        """The resolved :class:`aimc_sim.crossbar.TileConfig` (errors under ``tile``)."""
        from aimc_sim.crossbar import load_tile_config

        return load_tile_config(self.tile, **self.tile_overrides)

    def ssm_tile_config(self) -> Any:
        """The tile config of the recurrent tiles (``ssm_adc_range`` applied when the ADC quantises)."""
        tile = self.tile_config()
        if self.ssm_adc_range == "tile" or tile.adc.bits is None:
            return tile
        return tile.replace(adc=tile.adc.replace(range=self.ssm_adc_range))

    def draw_time(self, rng: np.random.Generator) -> float:
        """A read time from ``t_range`` (one draw of ``rng``, even for a fixed time, so streams do not shift)."""
        u = float(rng.random())
        lo, hi = self.t_range
        if self.t_sampling == "uniform":
            return lo + u * (hi - lo)
        return (1.0 + lo) * ((1.0 + hi) / (1.0 + lo)) ** u - 1.0
