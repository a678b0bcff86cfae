"""BlockDiagonalMatrix: many equally shaped small matrices packed block-diagonally on tiles, simulated
block by block (a fast path for block-diagonal packing, e.g. the per-channel S4D matrices of docs/s4d.md#packing).

Physical picture (identical to an :class:`AnalogMatrix` holding the block-diagonal matrix, one tile per group):
k = min(rows // r, max_outputs // c) blocks of r x c weights sit on the diagonal of each tile, so tile g
receives the concatenated inputs of its k_g blocks on k_g * r word lines and converts k_g * c outputs.
The tiles run the same pipeline as :class:`AnalogTile` (:class:`~aimc_sim.crossbar.periphery.TileStack`,
the k-block case): the noise-management scale is the abs-max of the whole tile input row (or of each block
with ``management.scope: block``), the DAC (deterministic, stochastic rounding or bit-serial), ADC mismatch,
ranges, bound management, drift compensation and ledger events are the tile's. Bound management acts per input
scale: with one scale per tile vector (one DAC drive) the vector is saturated when any ADC output of the tile
(any of its k blocks) reaches its range and is re-run with its scale doubled, as on the dense tile holding the
block-diagonal matrix; with ``management.scope: block`` only the saturated blocks are re-driven at doubled
scale, as each block alone on its own tile.

What is *not* simulated, and what that assumes: the dense tile multiplies the inputs by every cell; here
only the diagonal blocks are multiplied (one batched ``np.matmul`` over the blocks of a tile instead of
k^2 block products). This is exact if the off-block (unused) cells add no current difference: they are
left **unprogrammed at the zero-weight conductance** (g_min for single-device differential pairs, PCM
g_min = 0 S; g_mid for symmetric pairs), the two devices of a pair cancel, and they carry no programming
noise, read noise, drift or stuck faults. Their read energy is still charged at that nominal conductance.
The dense path instead programs those cells to the zero-weight target *with* programming noise (e.g. PCM
half-normal noise around 0 S), so the two paths agree exactly with programming noise off and statistically
with read and output noise on (``tests/test_crossbar_blockdiag.py``, ``tests/test_crossbar_blockdiag_features.py``).
IR drop couples all cells of a tile and offset mapping needs the off-block cells at g_mid with a shared
reference: those configs are refused (use :class:`AnalogMatrix` on the dense block-diagonal matrix, the
reference path).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from aimc_sim.config import require_finite
from aimc_sim.cost import events as ev
from aimc_sim.cost.ledger import Ledger
from aimc_sim.crossbar.api import check_feedback_input, feedback_loop
from aimc_sim.crossbar.config import TileConfig
from aimc_sim.crossbar.periphery import TileStack
from aimc_sim.crossbar.stack_events import count_passes
from aimc_sim.crossbar.threads import blas_limit
from aimc_sim.crossbar.tile import check_tile_args, check_time
from aimc_sim.errors import ConfigError

__all__ = ["BlockDiagonalMatrix", "unsupported_reason"]


def unsupported_reason(config: TileConfig) -> tuple[str, str] | None:
    """(field, reason) if ``config`` cannot use the block-wise fast path, else None."""
    if config.ir_drop.mode != "none":
        return "tile.ir_drop.mode", "IR drop couples all cells of a tile (off-block cells matter)"
    if config.mapping.scheme != "differential":
        return "tile.mapping.scheme", "offset mapping needs the off-block cells at g_mid and a shared reference"
    return None


class BlockDiagonalMatrix:
    """``n`` blocks W_q (r x c, given as an (n, r, c) array) on the diagonals of tiles of ``config``;
    ``mvm(x, t)`` returns y[:, q] ~ x[:, q] @ W_q for x of shape (batch, n, r).

    ``per_tile`` caps the blocks per tile (default: as many as fit). Attributes: ``n_tiles``,
    ``utilisation`` (in-block cells over available cells, docs/s4d.md#packing), ``blocks_per_tile``. Tile g draws
    from ``rng.spawn(n_tiles)[g]``, as :class:`AnalogMatrix` objects built one per tile from ``rng``.
    """

    def __init__(
        self,
        config: TileConfig,
        blocks: np.ndarray,
        rng: np.random.Generator,
        ledger: Ledger | None = None,
        name: str = "",
        per_tile: int | None = None,
    ):
        Wb = check_tile_args(config, blocks, rng, name="blocks", ndim=3)
        bad = unsupported_reason(config)
        if bad is not None:
            raise ConfigError(bad[0], f"not supported by the block-diagonal fast path: {bad[1]}")
        n, r, c = Wb.shape
        k = min(config.rows // r, config.max_outputs // c)
        if k < 1:
            raise ConfigError(
                "blocks", f"a {r} x {c} block does not fit a {config.rows} x {config.cols} tile; use AnalogMatrix"
            )
        if per_tile is not None:
            if isinstance(per_tile, bool) or not isinstance(per_tile, int) or per_tile < 1:
                raise ConfigError("per_tile", f"must be an integer >= 1 or None, got {per_tile!r}")
            k = min(k, per_tile)
        self.ledger, self.name = ledger, name
        self.n_blocks, self.n_in, self.n_out, self.k = n, r, c, k
        T = -(-n // k)
        self.blocks_per_tile = [min(k, n - g * k) for g in range(T)]
        self.k = max(self.blocks_per_tile)  # slots per tile in the work arrays
        self.stack = TileStack(
            config, [Wb[g * k : g * k + kg] for g, kg in enumerate(self.blocks_per_tile)], rng.spawn(T), ledger, name
        )

    @property
    def config(self) -> TileConfig:
        return self.stack.config

    @property
    def shape(self) -> tuple[int, int, int]:
        """(n_blocks, n_in, n_out), the shape of the blocks."""
        return self.n_blocks, self.n_in, self.n_out

    @property
    def n_tiles(self) -> int:
        """Number of tiles used."""
        return self.stack.n_tiles

    @property
    def utilisation(self) -> float:
        """In-block (programmed) cells over the cells of all tiles used (docs/s4d.md#packing)."""
        return self.stack.utilisation

    def _to_tiles(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """(B, n, m) -> zero-padded tile layout (T, B, k, m) float32."""
        B, m = x.shape[0], x.shape[-1]
        T, k, n = self.n_tiles, self.k, self.n_blocks
        xt = np.zeros((T, B, k, m), np.float32) if out is None else out
        if n == T * k:
            xt[...] = x.reshape(B, T, k, m).transpose(1, 0, 2, 3)
        else:
            for g, kg in enumerate(self.blocks_per_tile):
                xt[g, :, :kg] = x[:, g * k : g * k + kg]
        return xt

    def _from_tiles(self, y: np.ndarray) -> np.ndarray:
        """(..., T, B, k, m) tile layout -> (..., B, n, m)."""
        lead = y.shape[:-4]
        T, B, k, m = y.shape[-4:]
        z = np.moveaxis(y, -3, -4).reshape(*lead, B, T * k, m)
        return z[..., : self.n_blocks, :]

    def _check_x(self, x: Any) -> np.ndarray:
        a = np.asarray(x)
        if a.dtype.kind not in "biuf":
            raise ConfigError("x", f"must be a real numeric array, got dtype {a.dtype}")
        shape = (self.n_blocks, self.n_in)
        if a.ndim != 3 or a.shape[1:] != shape:
            raise ConfigError("x", f"must have shape (batch, {shape[0]}, {shape[1]}), got {np.shape(x)}")
        return a

    def _step(self, xt: np.ndarray, t: float, alphas: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """One MVM of the tile inputs xt (T, B, k, r) -> ((T, B, k, c) outputs, the alphas used)."""
        T, B = xt.shape[:2]
        st = self.stack
        st.update_average_abs_max(xt.reshape(T, B, -1))
        alphas = st.alphas(t) if alphas is None else alphas  # after the update, as in AnalogTile.mvm
        out = st._buffer("out", (T, B, self.k * self.n_out))
        st.forward(xt.reshape(T, B, -1), np.full(T, B), alphas, t, out)
        return out.reshape(T, B, self.k, self.n_out), alphas

    def mvm(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """y[:, q] ~ x[:, q] @ W_q for x of shape (batch, n_blocks, n_in), read ``t`` s after programming."""
        t = check_time(t)
        a = self._check_x(x)
        B = a.shape[0]
        with blas_limit():
            y, _ = self._step(self._to_tiles(a), t, None)
        if self.ledger is not None:
            self.ledger.add(ev.MVM, B * self.n_tiles, self.name or None)
        return self._from_tiles(y).astype(np.result_type(a.dtype, np.float32))

    def run_feedback(self, u: np.ndarray, n_state: int, t: float = 0.0) -> np.ndarray:
        """A recurrence with state feedback through ADC -> DAC (docs/s4d.md#fused-mapping): at step l block q reads
        [s_q(l-1); u[l, :, q]] and outputs [s_q(l); y[l, :, q]], s being the first ``n_state`` outputs (s(-1) = 0).

        u: (L, batch, n_blocks, n_in - n_state) -> y: (L, batch, n_blocks, n_out - n_state), float32. Every step
        is exactly one :meth:`mvm` (same noise draws, ledger and drift compensation). The tiles exchange no state,
        so each tile runs its L steps on its own (on a thread of ``threads.tile_pool()``, without the per-step
        re-layout, checks and hand-offs); the ledger receives the steps' events in step order afterwards. Under
        ``management.noise: average_abs_max`` the tiles' running input scale is updated step by step, so the
        steps run one :meth:`mvm` after the other (``api.feedback_loop``)."""
        if self.config.management.noise == "average_abs_max":
            return feedback_loop(self, u, n_state, t)
        t = check_time(t)
        a = check_feedback_input(self, u, n_state)
        L, B = a.shape[:2]
        T, k, r, c = self.n_tiles, self.k, self.n_in, self.n_out
        ut = np.zeros((L, T, B, k, r - n_state), np.float32)
        for g, kg in enumerate(self.blocks_per_tile):
            ut[:, g, :, :kg] = a[:, :, g * k : g * k + kg]
        ys = np.empty((L, T, B, k, c - n_state), np.float32)
        energy, reruns = np.zeros((L, T)), np.zeros((L, T), np.int64)
        st = self.stack
        with blas_limit():
            alphas = st.alphas(t)
            rd = st.read(t)
            row_scale, abs_max = st.row_scale(B)
            scales = row_scale.copy()  # bound management doubles a step's scales in place
            st._begin_call(B)

            def run(g: int) -> None:
                xg, out = np.zeros((B, k, r), np.float32), np.zeros((B, k, c), np.float32)
                for step in range(L):
                    xg[..., n_state:] = ut[step, g]
                    if not abs_max:
                        row_scale[g] = scales[g]
                    xr, outr = xg.reshape(B, -1), out.reshape(B, -1)
                    energy[step, g], reruns[step, g] = st.run_tile(g, xr, row_scale[g], abs_max, rd, alphas[g], outr)
                    ys[step, g] = out[..., n_state:]
                    if r == c:  # square blocks: the outputs are the next step's inputs, whose state part they are
                        xg, out = out, xg
                    else:
                        xg[..., :n_state] = out[..., :n_state]

            pool = st.pool(B)
            if pool is not None:
                list(pool.map(run, range(T)))  # one generator per tile, disjoint slices: deterministic
            else:
                for g in range(T):
                    run(g)
        if self.ledger is not None:
            rows = np.full(T, B, dtype=np.int64)
            for e, n in zip(energy, reruns):
                count_passes(st, rows + n, float(e.sum()), int(n.sum()))
            self.ledger.add(ev.MVM, L * B * T, self.name or None)
        return self._from_tiles(ys)

    def calibrate_adc(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Calibrated ADC ranges: the configured percentile of |analog output| on ``x`` (batch, n, r), per tile
        or per column of each tile, as :meth:`AnalogTile.calibrate_adc` on the dense tile. Returns the range
        behind each output (n_blocks, n_out)."""
        t = check_time(t)
        a = require_finite("x", self._check_x(x))
        B = a.shape[0]
        with blas_limit():
            bounds = self.stack.calibrate(self._to_tiles(a).reshape(self.n_tiles, B, -1), t)
        return np.concatenate(bounds).reshape(self.n_blocks, self.n_out)

    def weights_at(self, t: float = 0.0) -> np.ndarray:
        """The noise-free effective blocks (n, r, c) held at time t, without periphery."""
        W = self.stack.weights_at(check_time(t))
        return W.reshape(self.n_tiles * self.k, self.n_in, self.n_out)[: self.n_blocks]
