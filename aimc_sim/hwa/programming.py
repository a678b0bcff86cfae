"""Programmed tiles as read by the torch layers (numpy side, no torch).

The torch layers never re-implement the device physics or the weight mapping: each forward pass programs the
current weights onto real :class:`aimc_sim.crossbar.AnalogTile` objects (the device model's own ``program``,
``conductance`` and read-noise statistics, the tile's own mapping, ADC mismatch draws, ADC-range calibration
and drift-compensation readout) and hands the torch periphery what one tile read at time t consists of:
per conversion channel the normalised signal matrix M_c(t) and read-noise variance matrix S_c(t), the ADC
gains, offsets and ranges, and the digital column scale w_max * alpha(t).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aimc_sim.crossbar import AnalogMatrix, AnalogTile, TileConfig
from aimc_sim.crossbar.array_read import read_arrays
from aimc_sim.crossbar.devices import resolve_device
from aimc_sim.crossbar.mapping import Layout, build_layout, scale_weights
from aimc_sim.crossbar.storage import stored_state
from aimc_sim.crossbar.threads import blas_limit
from aimc_sim.errors import ConfigError

__all__ = [
    "TileRead",
    "TileGroup",
    "check_supported",
    "effective_weights",
    "group_unsupported",
    "needs_inputs",
    "read_tile",
    "program_matrix",
    "program_group",
]


def effective_weights(
    mats: list[np.ndarray], coefs: list[float], offset_coef: float, col: np.ndarray, n_out: int
) -> np.ndarray:
    """The noise-free weights a read realises, (..., n_in, n_out): channel matrices (..., n_in, width) summed with
    their digital weights, minus the digital offset, times the column scale ``col`` (..., n_out)."""
    W = np.zeros(mats[0].shape[:-1] + (n_out,))
    for m, c in zip(mats, coefs):
        W += c * np.broadcast_to(m, W.shape)
    return (W - offset_coef) * col[..., None, :]


@dataclass(frozen=True)
class TileRead:
    """One programmed tile read at time ``t``: rows [r0, r1) x outputs [c0, c1) of the layer's matrix.

    ``mats`` / ``vars``: per channel, signal (n_in x width) and read-noise variance matrices in normalised units
    (``vars`` None without read noise); ``coefs`` / ``broadcast``: the channel's digital weight and whether its
    one output is added to every output (offset reference column); ``gain`` / ``offset`` / ``bounds``: per channel
    ADC gain, offset and range (``bounds`` None for an ideal ADC); ``col``: w_max * alpha per output;
    ``offset_coef``: digital offset removal of offset mapping; ``avg_abs_max``: the input scale of
    ``average_abs_max`` noise management.
    """

    t: float
    rows: tuple[int, int]
    cols: tuple[int, int]
    mats: list[np.ndarray]
    vars: list[np.ndarray | None]
    coefs: list[float]
    broadcast: list[bool]
    gain: list[np.ndarray]
    offset: list[np.ndarray]
    bounds: list[np.ndarray] | None
    col: np.ndarray
    offset_coef: float
    avg_abs_max: float

    def effective_weights(self) -> np.ndarray:
        """The noise-free weights this read realises, n_in x n_out (drift, programming error, compensation)."""
        return effective_weights(self.mats, self.coefs, self.offset_coef, self.col, self.cols[1] - self.cols[0])


def check_supported(config: TileConfig) -> None:
    """Refuse, naming the field, the tile options the torch periphery does not model."""
    if config.dac.bit_serial:
        raise ConfigError("tile.dac.bit_serial", "bit-serial inputs are not modelled by the torch analog layers")
    if config.adc.cap_mismatch:
        raise ConfigError("tile.adc.cap_mismatch", "SAR capacitor mismatch is not modelled by the torch analog layers")
    if config.ir_drop.mode == "approx":
        raise ConfigError("tile.ir_drop.mode", "'approx' is input dependent; use 'exact' or 'none' for training")


def read_tile(tile: AnalogTile, t: float, rows: tuple[int, int], cols: tuple[int, int]) -> TileRead:
    """What ``tile.mvm(x, t)`` uses besides x: the tile's read at t and its periphery (see module docstring)."""
    rd = tile.stack.read(t)  # matrices (1, 1, rows, width): the one-tile case of the tile pipeline
    adc = tile.adc_state
    chans = tile.layout.channels
    bounds = None
    if tile.config.adc.bits is not None:
        bounds = [np.asarray(a.bound, dtype=np.float64) for a in adc]
    return TileRead(
        t=t,
        rows=rows,
        cols=cols,
        mats=[m[0, 0] for m in rd.mats],
        vars=[None if v is None else v[0, 0] for v in rd.vars],
        coefs=[float(ch.coef) for ch in chans],
        broadcast=[bool(ch.broadcast) for ch in chans],
        gain=[a.gain for a in adc],
        offset=[a.offset for a in adc],
        bounds=bounds,
        col=tile.w_max * tile.drift_alpha(t),
        offset_coef=float(tile.layout.offset_coef),
        avg_abs_max=float(tile.stack._avg_abs_max[0, 0]),
    )


def program_matrix(
    config: TileConfig, W: np.ndarray, rng: np.random.Generator, t: float, x: np.ndarray | None = None
) -> list[TileRead]:
    """Program W (n_in x n_out) on the tiles of an :class:`AnalogMatrix` and read every tile at ``t``.

    ``x`` (batch x n_in) are the inputs about to be multiplied: calibrated ADC ranges are calibrated on them
    (``AnalogMatrix.calibrate_adc``) and ``average_abs_max`` noise management takes its scale from them, as a
    fresh tile given this batch would.
    """
    check_supported(config)
    with blas_limit():  # the small calibration and readout products lose to BLAS thread hand-offs
        return _program(config, W, rng, t, x)


def needs_inputs(config: TileConfig) -> bool:
    """Whether programming needs the inputs about to be multiplied (ADC-range calibration, average abs-max)."""
    calibrated = config.adc.bits is not None and config.adc.range in ("calibrated", "per_column")
    return calibrated or config.management.noise == "average_abs_max"


def _program(config: TileConfig, W: np.ndarray, rng: np.random.Generator, t: float, x: np.ndarray | None) -> list:
    mat = AnalogMatrix(config, W, rng)
    needs_x = config.adc.bits is not None and config.adc.range in ("calibrated", "per_column")
    if needs_inputs(config):
        if x is None or len(x) == 0:
            raise ConfigError("x", f"tile.adc.range {config.adc.range!r} / tile.management.noise need inputs")
    if needs_x:
        mat.calibrate_adc(x, t)
    if config.management.noise == "average_abs_max":
        for (r, _), tile in mat.tiles.items():
            r0, r1 = mat.row_blocks[r]
            tile.stack.update_average_abs_max(np.ascontiguousarray(x[None, :, r0:r1]))
    return [read_tile(tile, t, mat.row_blocks[r], mat.col_blocks[c]) for (r, c), tile in mat.tiles.items()]


def group_unsupported(config: TileConfig) -> tuple[str, str] | None:
    """(field, reason) if :func:`program_group` cannot program ``config``'s tiles in one device call, else None
    (then program one :class:`AnalogMatrix` per tile with :func:`program_matrix`, the reference path)."""
    if config.ir_drop.mode != "none":
        return "tile.ir_drop.mode", "IR drop couples the cells of each tile"
    if config.adc.bits is not None and config.adc.range == "max":
        return "tile.adc.range", "'max' ranges are set from each tile's targets"
    if config.adc.gain_std or config.adc.offset_std:
        return "tile.adc", "ADC mismatch is drawn per tile by the tile code"
    if config.management.noise == "average_abs_max":
        return "tile.management.noise", "the average abs-max is a running mean kept per tile"
    dc = config.drift_compensation
    if dc.readout_range != "adc" or dc.readout_statistic != "abs_mean":
        return "tile.drift_compensation", "the full-scale / signed drift readout is the tile code's"
    return None


@dataclass(frozen=True)
class TileGroup:
    """G tiles of one config, tile g holding the dense matrix W[g] (r x c), programmed in one device-model call.

    Each tile is what ``AnalogMatrix(config, W[g], rng)`` programs (the tile code's own weight scaling per tile,
    mapping, device programming and stored state), and :meth:`read` is what each tile's ``stack.read(t)`` gives,
    stacked: the device draws are per device, so programming the G tiles' devices in one call draws them from
    the same distributions (from one stream). The periphery that is per tile (ADC ranges, drift compensation)
    is the caller's (:mod:`aimc_sim.hwa.recurrence`).
    """

    config: TileConfig
    device: object
    state: object
    layout: Layout
    w_max: np.ndarray  # (G, c) per-column weight scale of each tile
    shape: tuple[int, int, int]  # (G, r, device columns per tile)

    def read(self, t: float) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """The G arrays at time t, per conversion channel: signal matrices (G, r, width) and read-noise variances
        (None without read noise), in normalised units (``read_arrays``, the tile code's array read)."""
        G, r, n_dev = self.shape
        # one stacked array of G blocks for read_arrays (its off-block energy terms are not used here)
        rd = read_arrays(self.config, self.device, [self.state], (1, G, r, n_dev), [G], self.layout.channels, 0.0, t)
        return [m[0] for m in rd.mats], [None if v is None else v[0] for v in rd.vars]


def program_group(config: TileConfig, W: np.ndarray, rng: np.random.Generator) -> TileGroup:
    """Program W (G, r, c) on G tiles of ``config`` (see :class:`TileGroup`); refuses what ``group_unsupported``
    names and matrices that do not fit one tile."""
    check_supported(config)
    bad = group_unsupported(config)
    if bad is not None:
        raise ConfigError(bad[0], f"cannot program a group of tiles in one call: {bad[1]}")
    G, r, c = W.shape
    if r > config.rows or c > config.max_outputs:
        raise ConfigError("weights", f"a {r} x {c} matrix does not fit one {config.rows} x {config.cols} tile")
    device = resolve_device(config.device, config.device_options)
    if config.mapping.weight_scaling == "per_column" and config.mapping.clip != "sigma":
        # column scales and clipping per weight: the tiles side by side as one (r, G c) matrix, in one call
        side, col = scale_weights(W.transpose(1, 0, 2).reshape(r, G * c), config.mapping)
        Wn, w_max = side.reshape(r, G, c).transpose(1, 0, 2), col.reshape(G, c)
    else:  # per tile, as each tile scales its own matrix
        Wn, w_max = np.empty((G, r, c)), np.empty((G, c))
        for g in range(G):
            Wn[g], w_max[g] = scale_weights(W[g], config.mapping)
    layout = build_layout(Wn.reshape(G * r, c), config.mapping, device.g_min, device.g_max)  # per weight: stacks
    state = device.program(layout.targets, rng if config.noise.programming else None)
    shape = (G, r, layout.targets.shape[1])
    return TileGroup(config, device, stored_state(state, config.state_dtype), layout, w_max, shape)
