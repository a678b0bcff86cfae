"""Global and per-column drift compensation of a tile stack (docs/crossbar.md#drift-compensation; aihwkit
``GlobalDriftCompensation`` / ``PerColumnDriftCompensation``).

One-hot inputs (the identity, one vector per word line) go through the full noisy path at t = 0 and at the
read time t; alpha = r0 / r(t) with r the mean |output| of the tile (global) or of each column. The t = 0
readout is taken once, and alpha is reused for the same t or within ``recalibrate_every`` of its calibration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from aimc_sim.cost import events as ev

if TYPE_CHECKING:
    from aimc_sim.crossbar.periphery import TileStack

__all__ = ["DriftCompensation"]


_IDENTITY: dict[tuple[int, int, tuple[int, ...]], np.ndarray] = {}


def _identity(T: int, kr: int, rows: tuple[int, ...]) -> np.ndarray:
    """The readout inputs (T, kr, kr) float32: tile g's first rows[g] word lines one-hot, zero elsewhere.
    Read-only and kept for the last shape asked (stacks of one shape share it; no per-readout fill)."""
    key = (T, kr, rows)
    eye = _IDENTITY.get(key)
    if eye is None:
        eye = np.zeros((T, kr, kr), np.float32)
        for g, nb in enumerate(rows):
            eye[g, np.arange(nb), np.arange(nb)] = 1.0
        eye.flags.writeable = False
        _IDENTITY.clear()
        _IDENTITY[key] = eye
    return eye


class DriftCompensation:
    """The drift-compensation factors of the T tiles of ``stack``, and the readouts behind them."""

    def __init__(self, stack: TileStack):
        self.stack = stack
        self._r0: list[np.ndarray] | None = None
        self._alpha: tuple[float, np.ndarray] | None = None
        self._signs: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the readouts (the ADC ranges changed)."""
        self._r0, self._alpha = None, None

    def readout(self, t: float, store: bool = True) -> list[np.ndarray]:
        """Identity inputs of every tile through the full noisy path at t (ADC at its own range, or at full scale
        with ``readout_range: full_scale``): mean |y|, or the mean of y times the sign of each cell's weight
        (``readout_statistic: signed_mean``), global or per column, per tile; counted in the ledger as
        ``drift_calibration_readout`` plus its conversions."""
        st = self.stack
        T, kr, kc = st.n_tiles, st.k * st.r, st.k * st.c
        rows = np.array(st.blocks_per_tile) * st.r
        eye = _identity(T, kr, tuple(rows))
        y = st._buffer("readout_out", (T, kr, kc))
        adc = st.adc
        if st.config.drift_compensation.readout_range == "full_scale":  # one full-scale cell never clips
            st.adc = [[s._replace(bound=np.ones_like(s.bound)) for s in tile] for tile in adc]
        try:
            st.forward(eye, rows, np.ones((T, kc)), t, y, store, identity=True)
        finally:
            st.adc = adc
        per_col = st.config.drift_compensation.mode == "per_column"
        if st.config.drift_compensation.readout_statistic == "signed_mean":
            y *= self._readout_signs()
        else:
            np.abs(y, out=y)
        out = []
        for g, nb in enumerate(rows):
            yg = y[g, :nb, : st.blocks_per_tile[g] * st.c]
            out.append(yg.mean(axis=0) if per_col else np.array([yg.mean()]))
            if st.ledger is not None:
                st.ledger.add(ev.DRIFT_CALIBRATION_READOUT, int(nb), st.name or None)
        return out

    def _readout_signs(self) -> np.ndarray:
        """(T, k r, k c) sign of every cell's programmed weight (0 off the blocks and on zero weights); kept."""
        st = self.stack
        if self._signs is None:
            W = st.weights_at(0.0)
            self._signs = np.zeros((st.n_tiles, st.k * st.r, st.k * st.c), np.float32)
            for q in range(st.k):
                self._signs[:, q * st.r : (q + 1) * st.r, q * st.c : (q + 1) * st.c] = np.sign(W[:, q])
        return self._signs

    def alphas(self, t: float) -> np.ndarray:
        """(T, k c) factors alpha = r0 / r(t) (one per tile, or per column); 1 at t = 0 or with mode ``none``."""
        st = self.stack
        T, kc = st.n_tiles, st.k * st.c
        dc = st.config.drift_compensation
        if dc.mode == "none" or t == 0.0:
            return np.ones((T, kc))
        if self._alpha is not None:
            t_cal = self._alpha[0]
            if t == t_cal or (dc.recalibrate_every is not None and t_cal <= t < t_cal + dc.recalibrate_every):
                return self._alpha[1]
        if self._r0 is None:
            self._r0 = self.readout(0.0, store=False)  # once: its read is not kept
        alphas = np.ones((T, kc))
        for g, (r0, rt) in enumerate(zip(self._r0, self.readout(t))):
            w = st.blocks_per_tile[g] * st.c
            alphas[g, :w] = np.where(rt > 0, r0 / np.where(rt > 0, rt, 1.0), 1.0)
        self._alpha = (t, alphas)
        return alphas
