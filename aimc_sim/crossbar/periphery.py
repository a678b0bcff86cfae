"""TileStack: the tile pipeline written once over a leading tile axis (docs/crossbar.md#pipeline-of-analogtilemvmx-t).

T tiles of one :class:`TileConfig`, tile g holding k_g <= k blocks of r x c weights on its diagonal (inputs
k_g * r word lines, outputs k_g * c). :class:`~aimc_sim.crossbar.tile.AnalogTile` is the one-tile, one-block
case (T = k = 1); :class:`~aimc_sim.crossbar.blockdiag.BlockDiagonalMatrix` is the k-block case. Per tile:

1. noise management: per-row input scale s (abs-max, average abs-max, constant or none), x' = x / s (§4);
2. DAC: uniform quantiser (deterministic or stochastic rounding), or bit-serial 1-bit slices (§2.3, §3.1);
3. array (``array_read``): y_c = x' @ M_c(t) per conversion channel, block by block;
4. analog noise, output-referred: eta_j ~ N(0, sum_i x_i^2 s_ij^2 + w_noise^2 ||x'||^2 + out_noise^2) (§5),
   one extra product (x'^2) @ S(t) instead of a per-weight draw (``test_xb1_output_referred_noise_equivalence``);
5. ADC (``_kernels.adc_accumulate`` with the channel's :class:`AdcState` record): mismatch, saturation,
   quantiser with a fixed, maximal or calibrated range; bound management re-runs the saturated input vectors with
   the saturated scale group's input scale doubled: the tile vector, or under ``scope: block`` each block (§4);
6. digital: outputs times s * w_max * alpha (drift compensation, §8), slice and channel partial sums, offset.

Every tile draws its programming noise and ADC mismatch from its own generator, then its per-MVM noise from a
second one (``tile_rng.spawn(2)``), in the same order whatever T and k are, so one tile reproduces exactly
inside a stack. The ledger receives the same events as the physical tiles (docs/cost.md).
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from aimc_sim.cost import events as ev
from aimc_sim.cost.ledger import Ledger, new_unit
from aimc_sim.crossbar import _kernels
from aimc_sim.crossbar._kernels import AdcState, Conversion, DacSpec, Digital, Draws
from aimc_sim.crossbar.array_read import ArrayRead, ReadCache, read_arrays
from aimc_sim.crossbar.config import TileConfig
from aimc_sim.crossbar.devices import resolve_device
from aimc_sim.crossbar.drift import DriftCompensation
from aimc_sim.crossbar.input_stage import InputStage
from aimc_sim.crossbar.irdrop import approx_ir_drop_factor
from aimc_sim.crossbar.mapping import build_layout, scale_weights
from aimc_sim.crossbar.pcg_stream import fill_rows, stream_source
from aimc_sim.crossbar.quantise import n_steps, sar_weights
from aimc_sim.crossbar.stack_events import count_inventory, count_passes
from aimc_sim.crossbar.storage import DROPPED, stored_state, work_array, workspace
from aimc_sim.crossbar.threads import tile_pool
from aimc_sim.errors import ConfigError, SimulationError

__all__ = ["TileStack"]

IR_DROP_FALLBACK = ev.Named("ir_drop_fallback")
"""A tile replaced an IR-drop model (unpriced, counted): its invalid approximation by the exact solve, or the exact
solve's unconverged line relaxation by the direct solve."""

_DRAWS_PER_BLOCK = 131072  # normals drawn ahead per ADC kernel call (1 MiB; one block for 512 outputs at batch 256)
_MIN_THREADED_OUTPUTS = 32768  # ADC outputs per tile and call below which a thread hand-off costs more than it saves


class TileStack(InputStage):
    """T tiles of ``config``; tile g programs the blocks ``blocks[g]`` ((k_g, r, c) weights) from ``rngs[g]``."""

    def __init__(
        self,
        config: TileConfig,
        blocks: list[np.ndarray],
        rngs: list[np.random.Generator],
        ledger: Ledger | None,
        name: str,
    ):
        self.config, self.ledger, self.name = config, ledger, name
        self.blocks_per_tile = [int(b.shape[0]) for b in blocks]
        self.n_tiles = len(blocks)
        self.k = max(self.blocks_per_tile)
        _, self.r, self.c = blocks[0].shape
        self.device = device = resolve_device(config.device, config.device_options)
        zero = build_layout(np.zeros((1, 1)), config.mapping, device.g_min, device.g_max).targets[0]
        self.states: list[Any] = []
        self.noise_rngs: list[np.random.Generator] = []
        self._noise_src: list[Any] = []  # what the ADC kernel draws noise_rngs[g]'s numbers from (pcg_stream)
        self.adc: list[list[AdcState]] = []  # [tile][channel]
        w_max = np.ones((len(blocks), self.k * self.c))
        adc = config.adc
        for g, (Wb, tile_rng) in enumerate(zip(blocks, rngs)):
            kg, r, c = Wb.shape
            prog_rng, noise_rng = tile_rng.spawn(2)
            dense = np.zeros((kg * r, kg * c))
            for q in range(kg):
                dense[q * r : (q + 1) * r, q * c : (q + 1) * c] = Wb[q]
            Wn, w_max[g, : kg * c] = scale_weights(dense, config.mapping)
            lays = [
                build_layout(Wn[q * r : (q + 1) * r, q * c : (q + 1) * c], config.mapping, device.g_min, device.g_max)
                for q in range(kg)
            ]
            targets = np.stack([lay.targets for lay in lays])  # (k_g, r, device columns)
            lay = lays[-1]
            self.n_dev_cols = targets.shape[-1]
            state = device.program(targets.reshape(kg * r, -1), prog_rng if config.noise.programming else None)
            self.states.append(stored_state(state, config.state_dtype))
            self.noise_rngs.append(noise_rng)
            self._noise_src.append(stream_source(noise_rng))
            widths = [1 if ch.broadcast else kg * ch.plus.size for ch in lay.channels]
            gains = [1.0 + adc.gain_std * prog_rng.standard_normal(w) if adc.gain_std else np.ones(w) for w in widths]
            offs = [adc.offset_std * prog_rng.standard_normal(w) if adc.offset_std else np.zeros(w) for w in widths]
            sars = [
                sar_weights(adc.bits, adc.cap_mismatch, w, prog_rng)
                if adc.cap_mismatch and adc.bits
                else np.empty((w, 0))
                for w in widths
            ]
            bounds = [self._initial_bound(targets, ch, w, kg * r) for ch, w in zip(lay.channels, widths)]
            del targets, lays
            self.adc.append([AdcState(*rec) for rec in zip(gains, offs, bounds, sars)])
            if ledger is not None:  # hardware inventory, priced for area by the cost model
                count_inventory(ledger, config, name)
        self.layout = replace(lay, targets=DROPPED)  # the targets are not kept (memory): see storage.stored_state
        self.channels = lay.channels
        self.w_max = w_max
        self.calibrated = adc.range in ("fixed", "max")
        self._off_block_row_g = float(zero.sum()) * self.c
        self._reads = ReadCache()
        self.unit = new_unit("tiles")  # the cost model times the tiles of one array in parallel
        self._ws = workspace()
        self._avg_abs_max = np.ones((self.n_tiles, self.n_groups))
        self._avg_count = 0
        self.drift = DriftCompensation(self)
        self.ir_drop_fallback: str | None = None
        self._bound_warned = False  # bound management that could not clear a saturation: warned once per stack
        self._call_arrays: dict[str, np.ndarray] = {}  # the work arrays of the current call (_begin_call)
        self._call_rows: tuple[dict, int] | None = None  # (workspace, batch rows) they were sized for
        self._product_keys = [(f"sig{c}", f"var{c}") for c in range(len(self.channels))]
        self._zero_gsum = np.zeros(self.k * self.r)  # the row sums a pass without a ledger charges (read-only)
        self._extra: tuple[tuple, np.ndarray] = ((), np.empty((0, 0)))  # (shape and value, array): _constant_extra
        self._noisy = config.noise.read or config.noise.w_noise > 0 or config.noise.out_noise > 0
        dac = config.dac
        quant = dac.bits is not None
        step = (2.0 / n_steps(dac.bits) if dac.signed else 1.0 / (2**dac.bits - 1)) if quant else 1.0
        self._dac_spec = DacSpec(-1.0 if dac.signed else 0.0, step, quant, dac.encoding == "pwm")

    def __getstate__(self) -> dict[str, Any]:
        """Pickled and copied without the views of the generators' live states (they point into this process's
        generators) and the thread-local workspace; :meth:`__setstate__` takes both anew."""
        skip = ("_noise_src", "_ws", "_call_arrays", "_call_rows")
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._noise_src = [stream_source(rng) for rng in self.noise_rngs]
        self._ws, self._call_arrays, self._call_rows = workspace(), {}, None

    # ------------------------------------------------------------------ construction helpers
    def _initial_bound(self, targets: np.ndarray, ch: Any, width: int, n_rows: int) -> np.ndarray:
        """The ADC range before calibration: ``bound`` (fixed), the largest possible output (max), or 1."""
        adc = self.config.adc
        if adc.range == "fixed":
            return np.full(width, adc.bound)
        if adc.range == "max":
            m = targets[..., ch.plus] - (targets[..., ch.minus] if ch.minus is not None else 0.0)
            return np.full(width, n_rows * (float(np.abs(m).max() * ch.scale) or 1.0))
        return np.ones(width)  # replaced by calibrate()

    @property
    def utilisation(self) -> float:
        """Programmed (in-block) cells over the cells of all tiles."""
        used = sum(self.blocks_per_tile) * self.r * self.n_dev_cols
        return used / (self.n_tiles * self.config.rows * self.config.cols)

    def _buffer(self, key: str, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 work array of the call (:func:`~aimc_sim.crossbar.storage.work_array`): a stack is not
        thread-safe across calls."""
        return work_array(self._ws, key, shape)

    def _begin_call(self, B: int) -> None:
        """Size the work arrays (in the calling thread's workspace) for a call on B input rows per tile, before
        any tile thread uses them, and keep them for the call (``_work``) and the next ones on B rows in this thread
        (views: a buffer the workspace has since replaced by a larger one stays theirs)."""
        self._ws = ws = workspace()
        last = self._call_rows
        if last is not None and last[0] is ws and last[1] == B:  # the same batch in the same thread: kept arrays
            return
        T, kr = self.n_tiles, self.k * self.r
        self._call_arrays = {key: self._buffer(key, (T, B, kr)) for key in ("xn", "xn2")}
        for c, ch in enumerate(self.channels):
            width = self.k * (1 if ch.broadcast else ch.plus.size)
            for key in self._product_keys[c]:
                self._call_arrays[key] = self._buffer(key, (T, B, width))
        self._call_rows = (ws, B)

    def _work(self, key: str, g: int, shape: tuple[int, int]) -> np.ndarray:
        """Tile g's (rows, width) slice of the call's work array ``key`` (T, batch rows of this call, width)."""
        return self._call_arrays[key][g, : shape[0]]

    # ------------------------------------------------------------------ array read
    def read(self, t: float, store: bool = True) -> ArrayRead:
        """The arrays at read time t (cached per t; a read not ``store``d is computed and dropped)."""
        return self._reads.get(t, self._read_arrays, store)

    def _read_arrays(self, t: float) -> ArrayRead:
        """A new read at t; an exact IR-drop solve that fell back to the direct solve is recorded."""
        shape = (self.n_tiles, self.k, self.r, self.n_dev_cols)
        source, priced = (self.config, self.device, self.states), self.ledger is not None  # row sums: read energy
        rd = read_arrays(*source, shape, self.blocks_per_tile, self.channels, self._off_block_row_g, t, priced)
        if rd.ir_drop is not None and rd.ir_drop.fallback is not None:  # the solver has warned
            self._record_ir_drop_fallback(rd.ir_drop.fallback)
        return rd

    def _record_ir_drop_fallback(self, msg: str) -> None:
        """Keep why an IR-drop model was replaced (``ir_drop_fallback``) and count it in the ledger."""
        self.ir_drop_fallback = msg
        if self.ledger is not None:  # recorded with the run's events, not only warned
            self.ledger.add(IR_DROP_FALLBACK, 1, self.name or None)

    def _product(self, xs: np.ndarray, mat: np.ndarray, kg: int, out: np.ndarray) -> np.ndarray:
        """xs (B, k r) times the k_g block matrices ``mat`` (k, r, w) -> out (B, k w), block by block."""
        if self.k == 1:
            return np.matmul(xs, mat[0], out=out)
        B = xs.shape[0]
        xv = xs.reshape(B, self.k, self.r)[:, :kg].transpose(1, 0, 2)
        np.matmul(xv, mat[:kg], out=out.reshape(B, self.k, -1)[:, :kg].transpose(1, 0, 2))
        return out

    # ------------------------------------------------------------------ array, noise, ADC, digital
    def _pass(self, g: int, x, rs, abs_max: bool, rd: ArrayRead, alpha: np.ndarray, out, identity: bool = False):
        """One analog pass of tile g on its rows x (B, k r) (``identity``: x is the identity): writes ``out`` (B, k c);
        returns (saturated rows and scale groups (B, groups of the filled slots), array energy units)."""
        cfg = self.config
        B, kg = x.shape[0], self.blocks_per_tile[g]
        kept = identity and self._keeps_identity(rs, abs_max)
        gsum = rd.gsum[g].ravel() if self.ledger is not None else self._zero_gsum  # energy: ledger only
        slices, energy = self._dac(g, x, rs, abs_max, gsum, kept)
        adc = cfg.adc
        quant = adc.bits is not None
        if quant and not self.calibrated:
            raise SimulationError(f"tile.adc.range is {adc.range!r}: call calibrate_adc(x) before mvm")
        nst = float(n_steps(adc.bits)) if quant else 1.0
        G = rs.shape[1]
        ng = kg if G > 1 else 1  # the scale groups of the k_g filled block slots (the kernel splits w by them)
        rs_used = np.ascontiguousarray(rs[:, :ng]) if ng < G else rs
        sat = np.zeros((B, ng), dtype=bool)
        col = self.w_max[g] * alpha
        first = True
        w2, o2 = cfg.noise.w_noise**2, cfg.noise.out_noise**2
        eye = self._is_identity(slices, B, rd, kept)
        for xs, xs2, factor in slices:
            if w2:
                extra = np.full((B, G), o2) + w2 * xs2.reshape(B, G, -1).sum(axis=2, dtype=np.float64)
                extra = np.ascontiguousarray(extra[:, :ng]) if ng < G else extra
            else:
                extra = self._constant_extra(B, ng, o2)
            for c, ch in enumerate(self.channels):
                state = self.adc[g][c]
                w = state.gain.size
                wk = w // kg if not ch.broadcast else 1
                if eye:  # identity inputs (drift readout): the products are the matrices themselves, exactly
                    sig = rd.mats[c][g, 0]
                    var = sig if rd.vars[c] is None else rd.vars[c][g, 0]
                else:
                    sig_key, var_key = self._product_keys[c]
                    sig = self._product(xs, rd.mats[c][g], kg, self._work(sig_key, g, (B, self.k * wk)))
                    var = sig
                    if rd.vars[c] is not None:
                        var = self._product(xs2, rd.vars[c][g], kg, self._work(var_key, g, (B, self.k * wk)))
                if rd.approx is not None:
                    sig = self._approx_ir(xs, sig, c, rd)
                conv = Conversion(nst, quant, self._noisy, rd.vars[c] is not None, adc.stochastic_rounding)
                if not quant:
                    state = state._replace(bound=np.ones(w))
                if ch.broadcast:
                    ref = np.empty((B, 1), dtype=out.dtype)
                    dig = Digital(1.0, np.ones((B, 1)), np.ones(1), False)
                    self._convert(g, sig, var, extra, state, conv, dig, ref, sat)
                    if first:
                        out[:] = 0.0
                    out += (ch.coef * factor) * ref * rs * col[None, :]  # dense tiles only: G = 1
                else:
                    dig = Digital(ch.coef * factor, rs_used, col[:w], not first)
                    self._convert(g, sig[:, :w], var[:, :w], extra, state, conv, dig, out[:, :w], sat)
                first = False
        if first:  # no input slice (all-zero bit-serial input)
            out[:] = 0.0
        if self.layout.offset_coef:
            sx = sum(f * xs.sum(axis=1, dtype=np.float64) for xs, _, f in slices)
            out -= (self.layout.offset_coef * sx * rs[:, 0])[:, None] * col[None, :]  # dense tiles only: G = 1
        return sat, energy

    def _constant_extra(self, B: int, groups: int, o2: float) -> np.ndarray:
        """The extra output variance (B, groups) without weight noise: out_noise^2 everywhere (kept for the last
        shape, read-only for the kernel)."""
        key, extra = self._extra
        if key != (B, groups, o2):
            extra = np.full((B, groups), o2)
            self._extra = ((B, groups, o2), extra)
        return extra

    def _convert(self, g: int, sig, var, extra, adc: AdcState, conv: Conversion, dig: Digital, out, sat) -> None:
        """The ADC kernel on tile g's outputs. With a PCG64 noise generator, its normals (and dither) are drawn
        ahead by :func:`~aimc_sim.crossbar.pcg_stream.fill_rows` (the same numbers, less than half the time), in
        blocks of rows of at most ``_DRAWS_PER_BLOCK`` draws, in this thread's own work arrays."""
        src, sto = self._noise_src[g], conv.stochastic and conv.quantise
        if isinstance(src, np.random.Generator) or not (conv.noisy or sto):
            _kernels.adc_accumulate(sig, var, extra, adc, conv, dig, out, sat, self.noise_rngs[g])
            return
        B, m = sig.shape
        ws, step = workspace(), max(1, _DRAWS_PER_BLOCK // m)
        rows = min(B, step)
        normals = work_array(ws, "normals", (rows, m if conv.noisy else 0), np.float64)
        uniforms = work_array(ws, "uniforms", (rows, m if sto else 0), np.float64)
        coef, row_scale, col_scale, accumulate = dig
        for b0 in range(0, B, step):
            b1 = min(B, b0 + step)
            draws = Draws(normals[: b1 - b0], uniforms[: b1 - b0])
            fill_rows(src, draws.normals, draws.uniforms)
            rows = slice(b0, b1)
            dig_rows = Digital(coef, row_scale[rows], col_scale, accumulate)
            _kernels.adc_accumulate(sig[rows], var[rows], extra[rows], adc, conv, dig_rows, out[rows], sat[rows], draws)

    def _is_identity(self, slices: list, B: int, rd: ArrayRead, kept: bool) -> bool:
        """Whether the DAC outputs of a one-block tile are exactly the identity (the drift readout; ``kept``: the
        inputs were the identity and the DAC gave them back)."""
        if self.k != 1 or len(slices) != 1 or rd.approx is not None or B != self.r:
            return False
        xs = slices[0][0]
        return kept or bool(np.count_nonzero(xs) == B and np.all(np.diagonal(xs) == 1.0))

    def _approx_ir(self, xs: np.ndarray, sig: np.ndarray, c: int, rd: ArrayRead) -> np.ndarray:
        """aihwkit's IR-drop correction (docs/crossbar.md, pipeline step 4); refused, or made exact, where
        a > approx_limit."""
        irc = self.config.ir_drop
        abs_m, mp = rd.approx[c]
        g_ratio = 1.0 / (irc.r_wire * self.device.g_max)
        a = (self.r / g_ratio) * (np.abs(xs) @ abs_m)
        amax = float(a.max()) if a.size else 0.0
        if amax > irc.approx_limit:
            msg = (
                f"IR-drop approximation invalid: a = {amax:.3g} > approx_limit {irc.approx_limit} "
                "(docs/crossbar.md, pipeline step 4)"
            )
            if irc.on_exceed == "error":
                raise SimulationError(f"{msg}; use tile.ir_drop.mode: exact")
            warnings.warn(f"{msg}; tile {self.name!r} now uses the exact solve", RuntimeWarning, stacklevel=6)
            self._record_ir_drop_fallback(msg)
            self.config = self.config.replace(ir_drop=irc.replace(mode="exact"))
            self._reads.clear()
            return xs @ self.read(rd.t).mats[c][0, 0]
        return sig - (approx_ir_drop_factor(a) * (xs @ mp)).astype(sig.dtype)

    def forward(self, x, rows, alphas: np.ndarray, t: float, out: np.ndarray, store=True, identity=False) -> None:
        """x (T, B, k r) tile inputs -> out (T, B, k c) digitally scaled outputs; tile g uses its first rows[g]
        input rows (the others give 0; ``identity``: x[g] is the identity, the drift readout). The tiles run on
        ``threads.tile_threads()`` threads (the kernels are ``nogil``, BLAS releases the GIL) when each has enough
        outputs to pay for the hand-off."""
        T, B = x.shape[:2]
        rd = self.read(t, store)
        row_scale, abs_max = self.row_scale(B)
        energy = np.zeros(T)
        reruns = np.zeros(T, dtype=np.int64)
        self._begin_call(B)

        def run(g: int) -> None:
            nb = int(rows[g])
            energy[g], reruns[g] = self.run_tile(
                g, x[g, :nb], row_scale[g, :nb], abs_max, rd, alphas[g], out[g], identity
            )

        pool = self.pool(B)
        if pool is not None:
            list(pool.map(run, range(T)))  # disjoint slices and one generator per tile: deterministic
        else:
            for g in range(T):
                run(g)
        if self.ledger is not None:
            count_passes(self, np.asarray(rows, dtype=np.int64) + reruns, float(energy.sum()), int(reruns.sum()))

    def pool(self, B: int) -> Any:
        """The thread pool that runs the tiles of a call on B input rows, or None (one tile, or too few outputs per
        tile to pay for the hand-off)."""
        return tile_pool() if self.n_tiles > 1 and B * self.k * self.c >= _MIN_THREADED_OUTPUTS else None

    def run_tile(self, g: int, x, rs, abs_max: bool, rd: ArrayRead, alpha, out, identity=False) -> tuple[float, int]:
        """Tile g of a call (after :meth:`_begin_call`) on its input rows x (nb, k r) with input scales rs (nb, G)
        (filled when ``abs_max``; doubled in place by bound management): writes out (B, k c), 0 beyond row nb and
        the filled block slots. Returns (array energy units, bound-management re-runs)."""
        nb, kc = x.shape[0], self.blocks_per_tile[g] * self.c
        og = out[:nb]
        sat, energy = self._pass(g, x, rs, abs_max, rd, alpha, og, identity)
        reruns = 0
        if self.config.management.bound == "iterative":
            energy, reruns = self._bound_management(g, x, rs, og, sat, rd, alpha, energy)
        if nb < out.shape[0]:
            out[nb:] = 0.0
        if kc < out.shape[1]:
            out[:, kc:] = 0.0
        return energy, reruns

    def _bound_management(self, g: int, x, rs, out, sat, rd: ArrayRead, alpha, energy: float) -> tuple[float, int]:
        """Iterative bound management (docs/crossbar.md, pipeline step 6) of tile g after its first pass: the input
        vectors x with a saturated scale group are re-run with that group's input scale doubled, at most
        ``max_bound_iterations`` times. One group (``scope: tile``, or a dense tile): the whole tile vector, which is
        one DAC drive, saturated if any of its outputs is. Under ``scope: block`` each block is its own group: only
        the saturated blocks are re-driven (the others' word lines idle) and take the new outputs. Updates ``rs``,
        ``out`` and ``sat``; returns (``energy`` plus the re-runs' array energy units, tile re-reads)."""
        ng, reruns = sat.shape[1], 0
        for _ in range(self.config.management.max_bound_iterations):
            if not sat.any():
                break
            idx = np.flatnonzero(sat.any(axis=1))
            hit = sat[idx]
            rs_sub, x_sub = rs[idx], x[idx]
            rs_sub[:, :ng][hit] *= 2.0
            sub = np.empty((idx.size, out.shape[1]), dtype=out.dtype)
            if ng > 1:
                x_sub.reshape(idx.size, rs.shape[1], -1)[:, :ng][~hit] = 0.0
            sat_sub, e = self._pass(g, x_sub, rs_sub, False, rd, alpha, sub)
            energy += e
            rs[idx] = rs_sub
            if ng > 1:
                keep = np.repeat(hit, self.c, axis=1)
                out[idx, : keep.shape[1]] = np.where(keep, sub[:, : keep.shape[1]], out[idx, : keep.shape[1]])
            else:
                out[idx] = sub
            sat[:] = False
            sat[idx] = sat_sub & hit
            reruns += idx.size
        if sat.any() and not self._bound_warned:
            self._bound_warned = True
            m = self.config.management.max_bound_iterations
            warnings.warn(
                f"tile {self.name!r} ({g}): {int(sat.any(axis=1).sum())} input vectors still saturate the ADC after "
                f"management.max_bound_iterations = {m} doublings of their input scale; their outputs are clipped and "
                f"carry up to 2**{m} times the output noise. An ADC range below the output noise (e.g. per-column "
                "ranges calibrated on small noise-free outputs) saturates on noise alone (docs/crossbar.md, "
                "bound management)",
                RuntimeWarning,
                stacklevel=2,
            )
        return energy, reruns

    def alphas(self, t: float) -> np.ndarray:
        """(T, k c) drift-compensation factors at read time t (:class:`~aimc_sim.crossbar.drift.DriftCompensation`)."""
        return self.drift.alphas(t)

    # ------------------------------------------------------------------ ADC calibration and weights
    def calibrate(self, x: np.ndarray, t: float) -> list[np.ndarray]:
        """Calibrated ADC ranges: the configured percentile of |analog output| on the tile inputs x (T, B, k r),
        per tile or per column (docs/crossbar.md, pipeline step 6). Returns each tile's ranges of its first channel."""
        adc = self.config.adc
        if adc.range not in ("calibrated", "per_column"):
            raise ConfigError("tile.adc.range", f"is {adc.range!r}; calibrate_adc needs 'calibrated' or 'per_column'")
        T, B = x.shape[:2]
        if B == 0:
            raise ConfigError("x", "calibration inputs give an empty ADC range (no input vectors)")
        rd = self.read(t)
        row_scale, abs_max = self.row_scale(B)
        self._begin_call(B)
        for g in range(T):
            kg = self.blocks_per_tile[g]
            slices, _ = self._dac(g, x[g], row_scale[g], abs_max, np.zeros(self.k * self.r))  # no energy charged
            for c, state in enumerate(self.adc[g]):
                w = state.gain.size
                prod = np.empty((B, self.k * rd.mats[c].shape[-1]), np.float32)
                vals = np.concatenate(
                    [np.abs(self._product(xs, rd.mats[c][g], kg, prod))[:, :w] for xs, _, _ in slices]
                )
                if adc.range == "per_column":
                    b = np.percentile(vals, adc.percentile, axis=0)
                else:
                    b = np.full(w, np.percentile(vals, adc.percentile))
                if not np.any(b > 0):  # e.g. an all-zero (pruned) weight block: keep the configured fixed range
                    warnings.warn(
                        f"tile {self.name!r} ({g}): calibration outputs are all zero; ADC range set to adc.bound = "
                        f"{adc.bound}",
                        RuntimeWarning,
                        stacklevel=4,
                    )
                    b = np.full(w, adc.bound)
                self.adc[g][c] = state._replace(bound=np.where(b > 0, b, b.max()))  # an all-zero column: widest
        self.calibrated = True
        self.drift.reset()
        return [tile[0].bound for tile in self.adc]

    def weights_at(self, t: float) -> np.ndarray:
        """The noise-free effective weights (T, k, r, c) held at time t, without periphery."""
        rd = self.read(t)
        W = np.zeros((self.n_tiles, self.k, self.r, self.c))
        for ch, m in zip(self.channels, rd.mats):
            W += ch.coef * m.astype(np.float64)  # a broadcast (reference) channel has one column
        if self.layout.offset_coef:
            W -= self.layout.offset_coef
        return W * self.w_max.reshape(self.n_tiles, self.k, 1, self.c)
