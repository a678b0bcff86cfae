"""The ledger events of a tile stack (docs/crossbar.md#pipeline-of-analogtilemvmx-t, docs/cost.md): its hardware
inventory once, and per call the conversions, tile reads, digital operations and array and word-line energy."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from aimc_sim.cost import events as ev
from aimc_sim.cost.ledger import Ledger
from aimc_sim.crossbar.config import TileConfig

if TYPE_CHECKING:
    from aimc_sim.crossbar.periphery import TileStack

__all__ = ["count_inventory", "count_passes"]


def count_inventory(ledger: Ledger, cfg: TileConfig, name: str) -> None:
    """One tile, its cells, ADCs and DACs (priced for area by the cost model)."""
    layer = name or None
    adc = cfg.adc
    ledger.add(ev.TILE, 1, layer)
    ledger.add(ev.ARRAY_CELL, cfg.rows * cfg.cols, layer)
    ledger.add(ev.ConverterUnit("adc", adc.bits or None), -(-cfg.cols // adc.columns_per_adc), layer)
    dbits = 1 if cfg.dac.bit_serial else cfg.dac.bits
    ledger.add(ev.ConverterUnit("dac", dbits or None), cfg.rows, layer)


def count_passes(stack: TileStack, rows: np.ndarray, e_units: float, reruns: int) -> None:
    """Events of ``rows[g]`` input vectors through tile g of ``stack`` (bound-management reruns included in
    ``rows``, ``reruns`` of them), ``e_units`` the array read energy in V_read^2 t_read units."""
    led, cfg = stack.ledger, stack.config
    layer = stack.name or None
    S = stack.n_slices
    kg = np.array(stack.blocks_per_tile)
    n_in, n_out = kg * stack.r, kg * stack.c
    n_conv = np.array([sum(int(s.gain.size) for s in tile) for tile in stack.adc])
    n_adcs = -(-cfg.cols // cfg.adc.columns_per_adc)
    dbits = 1 if cfg.dac.bit_serial else cfg.dac.bits
    n_parts = S * len(stack.channels) + (1 if stack.layout.offset_coef else 0)
    # (event, work per input vector on each tile): the tiles work in parallel, the busiest sets the time
    per_tile = (
        (ev.Conversion("dac", dbits), n_in * S),
        (ev.Conversion("adc", cfg.adc.bits), n_conv * S),
        (ev.AdcCycle(cfg.adc.bits), -(-n_conv // n_adcs) * S),
        (ev.TILE_READ, np.full_like(n_in, S)),
        (ev.INT32_ADD, n_out * (n_parts - 1)),
        (ev.FP32_MUL, n_out),
    )
    for event, work in per_tile:
        led.add(event, int(rows @ work), layer, stack.unit, float((rows * work).max()))
    if reruns:
        led.add(ev.BOUND_MANAGEMENT_RERUN, reruns, layer)
    v2 = cfg.v_read**2
    led.add_energy("array_read", v2 * cfg.t_read * e_units, layer)
    led.add_energy("wl_driver", int(rows @ n_in) * S * cfg.cols * cfg.line_cap_per_cell * v2, layer)
