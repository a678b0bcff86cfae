"""BlockDiagonalMatrix: many equally shaped small matrices packed block-diagonally on tiles, simulated
block by block (a fast path for block-diagonal packing, e.g. the per-channel S4D matrices of ``ssm.md`` 5.3).

Physical picture (identical to an :class:`AnalogMatrix` holding the block-diagonal matrix, one tile per group):
k = min(rows // r, max_outputs // c) blocks of r x c weights sit on the diagonal of each tile, so tile g
receives the concatenated inputs of its k_g blocks on k_g * r word lines and converts k_g * c outputs.
Every periphery step acts on the *tile* exactly as :class:`AnalogTile` does: the noise-management scale is
the abs-max of the whole tile input row, the DAC and ADC kernels are the same (``_kernels.dac_encode``,
``_kernels.adc_accumulate``, one call per tile with the tile's own generator, ADC mismatch, ranges and
drift-compensation factor), the per-column weight scale comes from the dense tile matrix, and the ledger
records the same events and array energy as the dense tile.

What is *not* simulated, and what that assumes: the dense tile multiplies the inputs by every cell; here
only the diagonal blocks are multiplied (one batched 3-D ``np.matmul`` over all blocks of all tiles instead
of k^2 block products per tile). This is exact if the off-block (unused) cells add no current difference:
they are left **unprogrammed at the zero-weight conductance** (g_min for single-device differential pairs,
PCM g_min = 0 S; g_mid for symmetric pairs), the two devices of a pair cancel, and they carry no
programming noise, read noise, drift or stuck faults. Their read energy is still charged at that nominal
conductance. The dense path instead programs those cells to the zero-weight target *with* programming
noise (e.g. PCM half-normal noise around 0 S), so the two paths agree exactly with programming noise off
and statistically with read and output noise on (``tests/test_crossbar_blockdiag.py``). IR drop couples all
cells of a tile, offset mapping needs the off-block cells at g_mid with a shared reference, and iterative
bound management, bit-serial and stochastic-rounding DACs are not implemented here: those configs are
refused (use :class:`AnalogMatrix` on the dense block-diagonal matrix, the reference path).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from aimc_sim.config import require_finite
from aimc_sim.cost import events as ev
from aimc_sim.cost.ledger import Ledger
from aimc_sim.crossbar import _kernels
from aimc_sim.crossbar.config import TileConfig
from aimc_sim.crossbar.devices import resolve_device
from aimc_sim.crossbar.mapping import build_layout, scale_weights
from aimc_sim.crossbar.quantise import n_steps, sar_weights
from aimc_sim.crossbar.threads import blas_limit, tile_pool
from aimc_sim.crossbar.tile import check_tile_args, check_time
from aimc_sim.errors import ConfigError, SimulationError

__all__ = ["BlockDiagonalMatrix", "unsupported_reason"]

_MIN_THREADED_OUTPUTS = 32768  # ADC outputs per tile and call below which a thread hand-off costs more than it saves


def unsupported_reason(config: TileConfig) -> tuple[str, str] | None:
    """(field, reason) if ``config`` cannot use the block-wise fast path, else None."""
    if config.ir_drop.mode != "none":
        return "tile.ir_drop.mode", "IR drop couples all cells of a tile (off-block cells matter)"
    if config.mapping.scheme != "differential":
        return "tile.mapping.scheme", "offset mapping needs the off-block cells at g_mid and a shared reference"
    if config.management.bound != "none":
        return "tile.management.bound", "iterative bound management is only in the dense path"
    if config.dac.bit_serial or config.dac.stochastic_rounding:
        return "tile.dac", "bit-serial and stochastic-rounding DACs are only in the dense path"
    return None


class _Tile:
    """Per-tile programmed state and periphery (the same draws, in the same order, as AnalogTile)."""

    def __init__(self, k: int, state: Any, rng: np.random.Generator, w_max: np.ndarray):
        self.k, self.state, self.rng, self.w_max = k, state, rng, w_max
        self.gain: list[np.ndarray] = []
        self.offset: list[np.ndarray] = []
        self.sar: list[np.ndarray] = []
        self.avg_abs_max, self.avg_count = 1.0, 0
        self.r0: np.ndarray | None = None
        self.alpha: tuple[float, np.ndarray] | None = None


class BlockDiagonalMatrix:
    """``n`` blocks W_q (r x c, given as an (n, r, c) array) on the diagonals of tiles of ``config``;
    ``mvm(x, t)`` returns y[:, q] ~ x[:, q] @ W_q for x of shape (batch, n, r).

    ``per_tile`` caps the blocks per tile (default: as many as fit). Attributes: ``n_tiles``,
    ``utilisation`` (in-block cells over available cells, ``ssm.md`` 5.3), ``blocks_per_tile``. Tile g draws
    from ``rng.spawn(1)[0]`` in tile order, as :class:`AnalogMatrix` objects built one per tile from ``rng``.
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
        self.config, self.ledger, self.name = config, ledger, name
        self.n_blocks, self.n_in, self.n_out, self.k = n, r, c, k
        self.device = resolve_device(config.device, config.device_options)
        zero = build_layout(np.zeros((1, 1)), config.mapping, self.device.g_min, self.device.g_max).targets[0]
        T = -(-n // k)
        self.blocks_per_tile = [min(k, n - g * k) for g in range(T)]
        self._tiles: list[_Tile] = []
        targets = np.zeros((T, k, r, c * zero.size))
        channels = None
        adc = config.adc
        for g, kg in enumerate(self.blocks_per_tile):
            prog_rng, noise_rng = rng.spawn(1)[0].spawn(2)
            dense = np.zeros((kg * r, kg * c))
            for q in range(kg):
                dense[q * r : (q + 1) * r, q * c : (q + 1) * c] = Wb[g * k + q]
            Wn, w_max = scale_weights(dense, config.mapping)
            for q in range(kg):
                lay = build_layout(
                    Wn[q * r : (q + 1) * r, q * c : (q + 1) * c], config.mapping, self.device.g_min, self.device.g_max
                )
                targets[g, q] = lay.targets
                channels = lay.channels
            tg = targets[g, :kg].reshape(kg * r, -1)
            state = self.device.program(tg, prog_rng if config.noise.programming else None)
            tile = _Tile(kg, state, noise_rng, np.concatenate([w_max, np.ones((k - kg) * c)]))
            width = kg * c  # periphery draws as AnalogTile (same order)
            for _ in channels:
                gn = 1.0 + adc.gain_std * prog_rng.standard_normal(width) if adc.gain_std else np.ones(width)
                tile.gain.append(gn)
            for _ in channels:
                o = adc.offset_std * prog_rng.standard_normal(width) if adc.offset_std else np.zeros(width)
                tile.offset.append(o)
            for _ in channels:
                s = sar_weights(adc.bits, adc.cap_mismatch, width, prog_rng) if adc.cap_mismatch and adc.bits else None
                tile.sar.append(s if s is not None else np.empty((width, 0)))
            self._tiles.append(tile)
            if ledger is not None:
                layer = name or None
                ledger.add(ev.ARRAY_CELL, config.rows * config.cols, layer)
                ledger.add(ev.ConverterUnit("adc", adc.bits or None), -(-config.cols // adc.columns_per_adc), layer)
                ledger.add(ev.ConverterUnit("dac", config.dac.bits or None), config.rows, layer)
        self.channels = channels
        self._targets = targets
        self._zero_row_g = float(zero.sum()) * c  # zero-weight conductance of one block's row, off-block cells
        self._bounds: list[list[np.ndarray]] | None = None
        if adc.range == "fixed":
            self._bounds = self._bounds_per_tile(lambda g, ch: np.full(self.blocks_per_tile[g] * c, adc.bound))
        elif adc.range == "max":
            kgs = self.blocks_per_tile
            self._bounds = self._bounds_per_tile(
                lambda g, ch: np.full(kgs[g] * c, kgs[g] * r * self._nominal_max(g, ch))
            )
        self._read_cache: tuple[float, list[np.ndarray], list[np.ndarray | None], np.ndarray] | None = None
        self._ws: dict[str, np.ndarray] = {}
        self._noisy = config.noise.read or config.noise.w_noise > 0 or config.noise.out_noise > 0

    # ------------------------------------------------------------------ helpers
    @property
    def n_tiles(self) -> int:
        """Number of tiles used."""
        return len(self._tiles)

    @property
    def utilisation(self) -> float:
        """In-block (programmed) cells over the cells of all tiles used (``ssm.md`` 5.3)."""
        d = self._targets.shape[-1] // self.n_out
        used = self.n_blocks * self.n_in * self.n_out * d
        return used / (self.n_tiles * self.config.rows * self.config.cols)

    def _nominal_max(self, g: int, ch: Any) -> float:
        t = self._targets[g, : self.blocks_per_tile[g]]
        m = t[..., ch.plus] - (t[..., ch.minus] if ch.minus is not None else 0.0)
        return float(np.abs(m).max() * ch.scale) or 1.0

    def _bounds_per_tile(self, fn: Any) -> list[list[np.ndarray]]:
        """ADC ranges [channel][tile] (k_g * c values each, dtype as AnalogTile keeps them) from fn(g, channel)."""
        return [[fn(g, ch) for g in range(self.n_tiles)] for ch in self.channels]

    def _buffer(self, key: str, shape: tuple[int, ...]) -> np.ndarray:
        buf = self._ws.get(key)
        if buf is None or buf.shape != shape:
            buf = self._ws[key] = np.zeros(shape, np.float32)
        return buf

    def _read(self, t: float) -> tuple[list[np.ndarray], list[np.ndarray | None], np.ndarray]:
        """Per channel: signal (T, k, r, c) and read-noise variance matrices (float32); row sums of G (T, k, r)."""
        if self._read_cache is not None and self._read_cache[0] == t:
            return self._read_cache[1:]
        cfg = self.config
        T, k, r = self.n_tiles, self.k, self.n_in
        nd = self._targets.shape[-1]
        G = np.zeros((T, k, r, nd))
        SD = np.zeros((T, k, r, nd)) if cfg.noise.read else None
        for g, tile in enumerate(self._tiles):
            kg = tile.k
            Gg = np.asarray(self.device.conductance(tile.state, t, None), dtype=np.float64)
            sd = self.device.read_noise_std(tile.state, t) if cfg.noise.read else None
            if cfg.access_resistance > 0:
                f = 1.0 / (1.0 + Gg * cfg.access_resistance)
                Gg = Gg * f
                sd = None if sd is None else sd * f * f
            G[g, :kg] = Gg.reshape(kg, r, nd)
            if SD is not None:
                SD[g, :kg] = sd.reshape(kg, r, nd)
        mats, vars_ = [], []
        for ch in self.channels:
            m = G[..., ch.plus] - (G[..., ch.minus] if ch.minus is not None else 0.0)
            mats.append(np.ascontiguousarray(m * ch.scale, dtype=np.float32))
            if SD is None:
                vars_.append(None)
            else:
                v = SD[..., ch.plus] ** 2 + (SD[..., ch.minus] ** 2 if ch.minus is not None else 0.0)
                vars_.append(np.ascontiguousarray(v * ch.scale**2, dtype=np.float32))
        kg = np.array(self.blocks_per_tile, dtype=float)[:, None, None]
        gsum = G.sum(axis=-1) + (kg - 1.0) * self._zero_row_g  # + the unprogrammed off-block cells of the row
        gsum *= np.arange(k)[None, :, None] < kg  # padding slots of a partly filled last tile
        self._read_cache = (t, mats, vars_, gsum)
        return mats, vars_, gsum

    # ------------------------------------------------------------------ pipeline
    def _row_scale(self, B: int) -> tuple[np.ndarray, bool]:
        m = self.config.management
        T = self.n_tiles
        if m.noise == "abs_max":
            return np.empty(T * B), True
        if m.noise == "average_abs_max":
            return np.repeat([tl.avg_abs_max for tl in self._tiles], B).astype(np.float64), False
        return np.full(T * B, (m.constant_scale if m.noise == "constant" else 1.0) * self.config.dac.bound), False

    def _forward(self, xt: np.ndarray, rows: np.ndarray, alphas: list[np.ndarray], t: float) -> np.ndarray:
        """xt (T, B, k, r) float32 in tile layout -> ADC outputs (T, B, k, c), digitally scaled. Each tile runs
        its DAC -> array -> ADC pass with its own generator; the tiles run on ``threads.tile_threads()`` threads
        (the kernels are ``nogil``, BLAS releases the GIL) when each has enough outputs to pay for the hand-off."""
        cfg = self.config
        T, B, k, r = xt.shape
        c = self.n_out
        mats, vars_, gsum = self._read(t)
        row_scale, abs_max = self._row_scale(B)
        row_scale = row_scale.reshape(T, B)
        dac, adc = cfg.dac, cfg.adc
        quant = dac.bits is not None
        lo = -1.0 if dac.signed else 0.0
        step = (2.0 / n_steps(dac.bits) if dac.signed else 1.0 / (2**dac.bits - 1)) if quant else 1.0
        aquant = adc.bits is not None
        nst = float(n_steps(adc.bits)) if aquant else 1.0
        if aquant and self._bounds is None:
            raise SimulationError(f"tile.adc.range is {adc.range!r}: call calibrate_adc(x) before mvm")
        w2, o2 = cfg.noise.w_noise**2, cfg.noise.out_noise**2
        xn = self._buffer("xn", (T, B, k, r))
        xn2 = self._buffer("xn2", (T, B, k, r))
        out = self._buffer("out", (T, B, k * c))
        sat = np.zeros((T, B), dtype=bool)
        energy = np.zeros(T)
        bad = np.zeros(T, dtype=np.int64)
        ones = np.ones(k * c)
        ones_b = np.ones(B, dtype=np.float32)

        def run(g: int) -> None:
            tile = self._tiles[g]
            w, nb = tile.k * c, int(rows[g])  # the tile's k_g * c outputs of its rows: the dense tile's draws
            xg, xg2 = xn[g].reshape(B, -1), xn2[g].reshape(B, -1)
            bad[g] = _kernels.dac_encode(xt[g].reshape(B, -1), abs_max, row_scale[g], lo, step, quant, xg, xg2)
            e = np.abs(xg) if dac.encoding == "pwm" else xg2  # array read energy: sum_b,i e_bi (row sum of G)_i
            energy[g] = float(ones_b @ e @ gsum[g].ravel())  # batch sum as a GEMV
            extra = o2 + (w2 * xg2.sum(axis=1, dtype=np.float64) if w2 else np.zeros(B))
            kg = tile.k  # (k_g, B, r) views, BLAS-able; the padding slots of a partly filled tile are skipped
            xv, xv2 = xn[g, :, :kg].transpose(1, 0, 2), xn2[g, :, :kg].transpose(1, 0, 2)
            for i, ch in enumerate(self.channels):
                sig = bufs[f"sig{i}"][g]
                np.matmul(xv, mats[i][g, :kg], out=sig[:, :kg].transpose(1, 0, 2))
                var = sig
                if vars_[i] is not None:
                    var = bufs[f"var{i}"][g]
                    np.matmul(xv2, vars_[i][g, :kg], out=var[:, :kg].transpose(1, 0, 2))
                _kernels.adc_accumulate(
                    sig.reshape(B, -1)[:nb, :w],
                    var.reshape(B, -1)[:nb, :w],
                    vars_[i] is not None,
                    extra[:nb],
                    tile.gain[i],
                    tile.offset[i],
                    self._bounds[i][g] if aquant else ones[:w],
                    nst,
                    aquant,
                    self._noisy,
                    ch.coef,
                    row_scale[g, :nb],
                    tile.w_max[:w] * alphas[g][:w],
                    i > 0,
                    out[g][:nb, :w],
                    sat[g, :nb],
                    tile.rng,
                    tile.sar[i],
                )
            out[g, nb:] = 0.0
            out[g, :, w:] = 0.0

        bufs = self._channel_buffers(T, B, k, c, vars_)
        pool = tile_pool() if T > 1 and B * k * c >= _MIN_THREADED_OUTPUTS else None
        if pool is not None:
            list(pool.map(run, range(T)))  # disjoint slices and one generator per tile: deterministic
        else:
            for g in range(T):
                run(g)
        if bad.any():
            require_finite("x", xt)
        self._count(rows, float(energy.sum()))
        return out.reshape(T, B, k, c)

    def _channel_buffers(self, T: int, B: int, k: int, c: int, vars_: list) -> dict[str, np.ndarray]:
        """The per-channel work arrays (T, B, k, c), reused across calls."""
        bufs = {}
        for i, v in enumerate(vars_):
            bufs[f"sig{i}"] = self._buffer(f"sig{i}", (T, B, k, c))
            if v is not None:
                bufs[f"var{i}"] = self._buffer(f"var{i}", (T, B, k, c))
        return bufs

    def _count(self, rows: np.ndarray, e_units: float) -> None:
        led = self.ledger
        if led is None:
            return
        cfg = self.config
        layer = self.name or None
        kg = np.array(self.blocks_per_tile)
        n_in, n_conv = kg * self.n_in, kg * self.n_out * sum(1 for _ in self.channels)
        n_out = kg * self.n_out
        n_adcs = -(-cfg.cols // cfg.adc.columns_per_adc)
        led.add(ev.Conversion("dac", cfg.dac.bits), float(rows @ n_in), layer)
        led.add(ev.Conversion("adc", cfg.adc.bits), float(rows @ n_conv), layer)
        led.add(ev.AdcCycle(cfg.adc.bits), float(rows @ -(-n_conv // n_adcs)), layer)
        led.add(ev.TILE_READ, float(rows.sum()), layer)
        led.add(ev.INT32_ADD, float(rows @ n_out) * (len(self.channels) - 1), layer)
        led.add(ev.FP32_MUL, float(rows @ n_out), layer)
        v2 = cfg.v_read**2
        led.add_energy("array_read", v2 * cfg.t_read * e_units, layer)
        led.add_energy("wl_driver", float(rows @ n_in) * cfg.cols * cfg.line_cap_per_cell * v2, layer)

    def _to_tiles(self, x: np.ndarray) -> np.ndarray:
        """(B, n, r) -> zero-padded tile layout (T, B, k, r) float32."""
        B = x.shape[0]
        T, k, n = self.n_tiles, self.k, self.n_blocks
        xt = self._buffer("xt", (T, B, k, self.n_in))
        if n == T * k:
            xt[...] = x.reshape(B, T, k, self.n_in).transpose(1, 0, 2, 3)
        else:
            for g, kg in enumerate(self.blocks_per_tile):
                xt[g, :, :kg] = x[:, g * k : g * k + kg]
        return xt

    def _check_x(self, x: Any) -> np.ndarray:
        a = np.asarray(x)
        if a.dtype.kind not in "biuf":
            raise ConfigError("x", f"must be a real numeric array, got dtype {a.dtype}")
        shape = (self.n_blocks, self.n_in)
        if a.ndim != 3 or a.shape[1:] != shape:
            raise ConfigError("x", f"must have shape (batch, {shape[0]}, {shape[1]}), got {np.shape(x)}")
        return a

    def _readout(self, t: float) -> list[np.ndarray]:
        """Identity inputs of every tile through the full noisy path (crossbar.md §8), as AnalogTile._readout."""
        T, k, r, c = self.n_tiles, self.k, self.n_in, self.n_out
        eye = np.zeros((T, k * r, k, r), dtype=np.float32)
        eye.reshape(T, k * r, k * r)[:] = np.eye(k * r, dtype=np.float32)
        for g, kg in enumerate(self.blocks_per_tile):
            eye[g, kg * r :] = 0.0
        rows = np.array(self.blocks_per_tile) * r
        y = np.abs(self._forward(eye, rows, [np.ones(k * c) for _ in self._tiles], t))
        per_col = self.config.drift_compensation.mode == "per_column"
        out = []
        for g, kg in enumerate(self.blocks_per_tile):
            yg = y[g, : kg * r, :kg].reshape(kg * r, kg * c)
            out.append(yg.mean(axis=0) if per_col else np.array([yg.mean()]))
            if self.ledger is not None:
                self.ledger.add(ev.DRIFT_CALIBRATION_READOUT, kg * r, self.name or None)
        return out

    def _alphas(self, t: float) -> list[np.ndarray]:
        """Per-tile drift-compensation factors alpha = r0 / r(t) (AnalogTile.drift_alpha), padded to k * c."""
        kc = self.k * self.n_out
        mode = self.config.drift_compensation.mode
        if mode == "none" or t == 0.0:
            return [np.ones(kc) for _ in self._tiles]
        every = self.config.drift_compensation.recalibrate_every
        tl0 = self._tiles[0]
        if tl0.alpha is not None:
            t_cal = tl0.alpha[0]
            if t == t_cal or (every is not None and t_cal <= t < t_cal + every):
                return [tl.alpha[1] for tl in self._tiles]
        if tl0.r0 is None:
            for tl, r0 in zip(self._tiles, self._readout(0.0)):
                tl.r0 = r0
        for tl, rt in zip(self._tiles, self._readout(t)):
            a = np.where(rt > 0, tl.r0 / np.where(rt > 0, rt, 1.0), 1.0)
            tl.alpha = (t, _pad(np.broadcast_to(a, (tl.k * self.n_out,)).copy(), kc, 1.0))
        return [tl.alpha[1] for tl in self._tiles]

    # ------------------------------------------------------------------ public API
    def _update_average_abs_max(self, xt: np.ndarray) -> None:
        """AVERAGE_ABS_MAX (crossbar.md §4): running mean of each tile's max |x| per input vector."""
        if self.config.management.noise != "average_abs_max" or xt.shape[1] == 0:
            return
        require_finite("x", xt)
        B = xt.shape[1]
        m = np.abs(xt).reshape(self.n_tiles, B, -1).max(axis=2)
        for tl, mg in zip(self._tiles, m):
            n0, n1 = tl.avg_count, tl.avg_count + B
            mean = (tl.avg_abs_max * n0 + float(mg.sum())) / n1 if n0 else float(mg.mean())
            tl.avg_abs_max, tl.avg_count = (mean if mean > 0 else 1.0), n1

    def _from_tiles(self, y: np.ndarray) -> np.ndarray:
        """(..., T, B, k, m) tile layout -> (..., B, n, m)."""
        lead = y.shape[:-4]
        T, B, k, m = y.shape[-4:]
        z = np.moveaxis(y, -3, -4).reshape(*lead, B, T * k, m)
        return z[..., : self.n_blocks, :]

    def mvm(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """y[:, q] ~ x[:, q] @ W_q for x of shape (batch, n_blocks, n_in), read ``t`` s after programming."""
        t = check_time(t)
        a = self._check_x(x)
        B = a.shape[0]
        xt = self._to_tiles(a)
        self._update_average_abs_max(xt)
        with blas_limit():
            y = self._forward(xt, np.full(self.n_tiles, B), self._alphas(t), t)
        if self.ledger is not None:
            self.ledger.add(ev.MVM, B * self.n_tiles, self.name or None)
        return self._from_tiles(y).astype(np.result_type(a.dtype, np.float32))

    def run_feedback(self, u: np.ndarray, n_state: int, t: float = 0.0) -> np.ndarray:
        """A recurrence with state feedback through ADC -> DAC (``ssm.md`` 5.1): at step l block q reads
        [s_q(l-1); u[l, :, q]] and outputs [s_q(l); y[l, :, q]], s being the first ``n_state`` outputs (s(-1) = 0).

        u: (L, batch, n_blocks, n_in - n_state) -> y: (L, batch, n_blocks, n_out - n_state), float32. Every step
        is exactly one :meth:`mvm` (same noise draws, ledger and drift compensation) without the per-step
        re-layout and checks."""
        t = check_time(t)
        r, c = self.n_in, self.n_out
        if isinstance(n_state, bool) or not isinstance(n_state, int) or not 0 <= n_state <= min(r, c):
            raise ConfigError("n_state", f"must be an integer in 0..{min(r, c)}, got {n_state!r}")
        a = require_finite("u", u)
        if a.ndim != 4 or a.shape[2:] != (self.n_blocks, r - n_state):
            raise ConfigError("u", f"must have shape (L, batch, {self.n_blocks}, {r - n_state}), got {np.shape(u)}")
        L, B = a.shape[:2]
        T, k = self.n_tiles, self.k
        ut = np.zeros((L, T, B, k, r - n_state), np.float32)
        for g, kg in enumerate(self.blocks_per_tile):
            ut[:, g, :, :kg] = a[:, :, g * k : g * k + kg]
        xt = np.zeros((T, B, k, r), np.float32)
        ys = np.empty((L, T, B, k, c - n_state), np.float32)
        rows = np.full(T, B)
        alphas: list[np.ndarray] = []
        with blas_limit():
            for step in range(L):
                xt[..., n_state:] = ut[step]
                self._update_average_abs_max(xt)
                alphas = alphas or self._alphas(t)  # after the first update, as in mvm (then cached for t)
                y = self._forward(xt, rows, alphas, t)
                xt[..., :n_state] = y[..., :n_state]
                ys[step] = y[..., n_state:]
        if self.ledger is not None:
            self.ledger.add(ev.MVM, L * B * T, self.name or None)
        return self._from_tiles(ys)

    def calibrate_adc(self, x: np.ndarray, t: float = 0.0) -> None:
        """Calibrated ADC ranges: the configured percentile of |analog output| on ``x`` (batch, n, r), per tile
        or per column of each tile, as :meth:`AnalogTile.calibrate_adc` on the dense tile."""
        t = check_time(t)
        a = require_finite("x", self._check_x(x))
        adc = self.config.adc
        if adc.range not in ("calibrated", "per_column"):
            raise ConfigError("tile.adc.range", f"is {adc.range!r}; calibrate_adc needs 'calibrated' or 'per_column'")
        if a.shape[0] == 0:
            raise ConfigError("x", "calibration inputs give an empty ADC range (no input vectors)")
        B = a.shape[0]
        T, k, r, c = self.n_tiles, self.k, self.n_in, self.n_out
        xt = self._to_tiles(a)
        mats, _, _ = self._read(t)
        row_scale, abs_max = self._row_scale(B)
        dac = self.config.dac
        quant = dac.bits is not None
        step = (2.0 / n_steps(dac.bits) if dac.signed else 1.0 / (2**dac.bits - 1)) if quant else 1.0
        xn = np.empty((T * B, k * r), np.float32)
        lo = -1.0 if dac.signed else 0.0
        _kernels.dac_encode(xt.reshape(T * B, -1), abs_max, row_scale, lo, step, quant, xn, np.empty_like(xn))
        xv = xn.reshape(T, B, k, r).transpose(0, 2, 1, 3)

        def bound(g: int, ch: Any) -> np.ndarray:
            kg = self.blocks_per_tile[g]
            i = self.channels.index(ch)
            vals = np.abs(np.matmul(xv[g, :kg], mats[i][g, :kg])).transpose(1, 0, 2).reshape(B, kg * c)
            if adc.range == "per_column":
                b = np.percentile(vals, adc.percentile, axis=0)
            else:
                b = np.full(kg * c, np.percentile(vals, adc.percentile))
            if not np.any(b > 0):
                import warnings

                warnings.warn(
                    f"{self.name!r} tile {g}: calibration outputs are all zero; ADC range set to adc.bound",
                    RuntimeWarning,
                    stacklevel=3,
                )
                b = np.full(kg * c, adc.bound)
            return np.where(b > 0, b, b.max())

        self._bounds = self._bounds_per_tile(bound)
        for tl in self._tiles:
            tl.r0, tl.alpha = None, None

    def weights_at(self, t: float = 0.0) -> np.ndarray:
        """The noise-free effective blocks (n, r, c) held at time t, without periphery."""
        mats, _, _ = self._read(check_time(t))
        W = sum(ch.coef * m.astype(np.float64) for ch, m in zip(self.channels, mats))
        wm = np.stack([tl.w_max for tl in self._tiles]).reshape(self.n_tiles, 1, self.k, self.n_out)
        W = (W * wm.transpose(0, 2, 1, 3)).reshape(self.n_tiles * self.k, self.n_in, self.n_out)
        return W[: self.n_blocks]


def _pad(a: np.ndarray, n: int, fill: float) -> np.ndarray:
    """``a`` (first axis) padded to length n with ``fill``."""
    if a.shape[0] == n:
        return a
    pad = np.full((n - a.shape[0],) + a.shape[1:], fill, dtype=a.dtype)
    return np.concatenate([a, pad])
