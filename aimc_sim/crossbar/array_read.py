"""The array-read stage of the tile pipeline, written once over a leading tile axis (docs/crossbar.md,
pipeline steps 3-5).

Device read at time t -> access device (1T1R) -> IR drop -> per-channel signal matrices M_c and read-noise
variance matrices S_c, for T tiles each holding k blocks of r x (device columns) cells: arrays of shape
(T, k, r, ...). A dense tile is T = k = 1. Reads are cached per read time (least recently used first out).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from aimc_sim.crossbar import _kernels
from aimc_sim.crossbar.config import TileConfig
from aimc_sim.crossbar.irdrop import IrDropReport, IrDropSolver
from aimc_sim.crossbar.mapping import Channel
from device_models.base import ColumnPairs

__all__ = ["ArrayRead", "ReadCache", "read_arrays"]


@dataclass
class ArrayRead:
    """What the periphery needs of the arrays at one read time.

    ``mats[c]``/``vars[c]``: (T, k, r, width_c) float32 signal and read-noise variance (None without read noise)
    of channel c, in normalised units; ``approx[c]``: (|M_c|, M_c * p) of the aihwkit IR-drop correction (dense
    tiles with ``approx`` only); :attr:`gsum`: the row sums for the array read energy; ``ir_drop``: how the exact
    IR-drop solve went (method, sweeps, convergence, fallback; ``exact`` only).
    """

    t: float
    mats: list[np.ndarray]
    vars: list[np.ndarray | None]
    approx: list[tuple[np.ndarray, np.ndarray]] | None
    row_sums: np.ndarray | None
    reread: Callable[[], ArrayRead] | None = None
    ir_drop: IrDropReport | None = None

    @property
    def gsum(self) -> np.ndarray:
        """(T, k, r) row sums of G (S) for the array read energy; a read made without them (no ledger to charge)
        takes them from a full read (``reread``) when first asked."""
        if self.row_sums is None:
            self.row_sums = self.reread().gsum
        return self.row_sums


def read_arrays(
    config: TileConfig,
    device: Any,
    states: list[Any],
    shape: tuple[int, int, int, int],
    blocks_per_tile: list[int],
    channels: tuple[Channel, ...],
    off_block_row_g: float,
    t: float,
    row_sums: bool = True,
) -> ArrayRead:
    """Read the T tiles of ``states`` (tile g: k_g * r rows of device columns) at time t.

    ``shape`` = (T, k, r, device columns per block); ``off_block_row_g``: conductance (S) of the unprogrammed
    off-block cells in one block's row, charged to the read energy of tiles with k_g > 1 blocks. With read noise
    and no exact IR drop, the device's fused pass (``device.read_pairs``) makes the channel matrices directly
    where it has one; otherwise the device read, access device and channel matrices run one after the other.
    Without ``row_sums`` the fused pass skips the row sums of G, and the read computes them when first asked.
    """
    T, k, r, nd = shape
    new = np.empty if T == 1 and k == 1 else np.zeros  # padding slots of a partly filled last tile read 0
    mats = [new((T, k, r, ch.plus.size), np.float32) for ch in channels]
    vars_: list[np.ndarray | None] = [None] * len(channels)
    if config.noise.read:
        vars_ = [new(m.shape, np.float32) for m in mats]
    row_g = np.zeros((T, k, r))
    fused = config.noise.read and config.ir_drop.mode != "exact"
    fused = fused and _read_fused(config, device, states, blocks_per_tile, channels, mats, vars_, row_g, t, row_sums)
    ir_report = None
    if not fused:
        ir_report = _read_in_steps(config, device, states, shape, blocks_per_tile, channels, mats, vars_, row_g, t)
    approx = None
    if config.ir_drop.mode == "approx":  # dense tiles only
        xi = (r - np.arange(r)) / r  # distance from the sense node, row 0 farthest
        p = (1.0 - (1.0 - xi) ** 2)[:, None]
        approx = [(np.abs(m[0, 0]), (m[0, 0] * p).astype(np.float32)) for m in mats]
    if fused and not row_sums:
        args = (config, device, states, shape, blocks_per_tile, channels, off_block_row_g, t)
        return ArrayRead(t, mats, vars_, approx, None, partial(read_arrays, *args))  # picklable, unlike a lambda
    kgs = np.array(blocks_per_tile, dtype=float)[:, None, None]
    gsum = row_g + (kgs - 1.0) * off_block_row_g  # + the unprogrammed off-block cells of the row
    gsum *= np.arange(k)[None, :, None] < kgs  # padding slots of a partly filled last tile
    return ArrayRead(t, mats, vars_, approx, gsum, ir_drop=ir_report)


def _read_fused(config, device, states, blocks_per_tile, channels, mats, vars_, row_g, t, row_sums) -> bool:
    """Every tile through ``device.read_pairs`` (False, with nothing kept, if the device has no fused pass); the row
    sums of G into ``row_g`` if ``row_sums``."""
    for g, (state, kg) in enumerate(zip(states, blocks_per_tile)):
        pairs = tuple(
            ColumnPairs(
                ch.plus.astype(np.int64, copy=False),
                ch.minus.astype(np.int64, copy=False) if ch.minus is not None else np.empty(0, np.int64),
                float(ch.scale),
                float(ch.scale) ** 2,
                mat[g, :kg].reshape(-1, mat.shape[-1]),
                var[g, :kg].reshape(-1, var.shape[-1]),
            )
            for ch, mat, var in zip(channels, mats, vars_)
        )
        rows = row_g[g, :kg].reshape(-1) if row_sums else None
        if not device.read_pairs(state, t, pairs, config.access_resistance, rows):
            return False
    return True


def _read_in_steps(
    config, device, states, shape, blocks_per_tile, channels, mats, vars_, row_g, t
) -> IrDropReport | None:
    """Device read -> access device -> IR drop -> channel matrices, one step after the other; fills ``mats``,
    ``vars_`` (None entries without read noise) and ``row_g`` (row sums of G before the IR drop); returns the exact
    IR-drop solve's report (None without it)."""
    T, k, r, nd = shape
    single = T == 1 and k == 1  # a dense tile: its read is the array, no copy into a stack
    G = None if single else np.zeros(shape)
    SD = None if single or not config.noise.read else np.zeros(shape)
    for g, (state, kg) in enumerate(zip(states, blocks_per_tile)):
        if config.noise.read:
            Gg, sd = device.read_stats(state, t)
        else:
            Gg, sd = np.asarray(device.conductance(state, t, None), dtype=np.float64), None
        if config.access_resistance > 0:  # 1T1R: g_eff = g / (1 + g R); d g_eff / d g = 1 / (1 + g R)^2
            f = 1.0 / (1.0 + Gg * config.access_resistance)
            Gg = Gg * f
            sd = None if sd is None else sd * f * f
        if single:
            G, SD = Gg.reshape(shape), None if sd is None else sd.reshape(shape)
            break
        G[g, :kg] = Gg.reshape(kg, r, nd)
        if SD is not None:
            SD[g, :kg] = sd.reshape(kg, r, nd)
    row_g[:] = G.sum(axis=-1)
    Gs, ir_report = G, None
    if config.ir_drop.mode == "exact":  # dense tiles only (T = k = 1): the wires couple every cell of a tile
        solver = IrDropSolver(G[0, 0], config.ir_drop.r_wire, config.ir_drop.r_term)
        Gs, ir_report = solver.effective_matrix()[None, None], solver.report
    rows = Gs.reshape(-1, nd)
    sds = SD.reshape(-1, nd) if SD is not None else np.empty((0, nd))
    for ch, mat, var in zip(channels, mats, vars_):  # one pass per channel, no float64 temporaries of the array size
        w = ch.plus.size
        minus = ch.minus if ch.minus is not None else np.empty(0, np.int64)
        # the scales in the reads' dtypes: numpy arithmetic on float32 reads stays in float32
        scale, scale2 = rows.dtype.type(ch.scale), sds.dtype.type(ch.scale**2)
        var_out = var.reshape(-1, w) if var is not None else np.empty((0, w), np.float32)
        _kernels.channel_read(rows, sds, ch.plus, minus, scale, scale2, mat.reshape(-1, w), var_out)
    return ir_report


class ReadCache:
    """The ArrayReads of the last ``size`` read times, least recently used evicted first."""

    def __init__(self, size: int = 4):
        self.size = size
        self._reads: OrderedDict[float, ArrayRead] = OrderedDict()

    def get(self, t: float, read: Any, store: bool = True) -> ArrayRead:
        """The read at t, computed by ``read(t)`` unless cached (and then cached only if ``store``)."""
        rd = self._reads.get(t)
        if rd is None:
            rd = read(t)
            if not store:
                return rd
            self._reads[t] = rd
            while len(self._reads) > self.size:
                self._reads.popitem(last=False)
        else:
            self._reads.move_to_end(t)
        return rd

    def clear(self) -> None:
        self._reads.clear()
