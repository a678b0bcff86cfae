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
from aimc_sim.crossbar.threads import blas_limit
from aimc_sim.errors import ConfigError

__all__ = ["TileRead", "check_supported", "read_tile", "program_matrix"]


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
        n_out = self.cols[1] - self.cols[0]
        W = np.zeros((self.mats[0].shape[0], n_out))
        for m, c in zip(self.mats, self.coefs):
            W += c * np.broadcast_to(m, W.shape)
        return (W - self.offset_coef) * self.col[None, :]


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


def _program(config: TileConfig, W: np.ndarray, rng: np.random.Generator, t: float, x: np.ndarray | None) -> list:
    mat = AnalogMatrix(config, W, rng)
    needs_x = config.adc.bits is not None and config.adc.range in ("calibrated", "per_column")
    if needs_x or config.management.noise == "average_abs_max":
        if x is None or len(x) == 0:
            raise ConfigError("x", f"tile.adc.range {config.adc.range!r} / tile.management.noise need inputs")
    if needs_x:
        mat.calibrate_adc(x, t)
    if config.management.noise == "average_abs_max":
        for (r, _), tile in mat.tiles.items():
            r0, r1 = mat.row_blocks[r]
            tile.stack.update_average_abs_max(np.ascontiguousarray(x[None, :, r0:r1]))
    return [read_tile(tile, t, mat.row_blocks[r], mat.col_blocks[c]) for (r, c), tile in mat.tiles.items()]
