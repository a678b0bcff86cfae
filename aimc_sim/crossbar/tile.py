"""AnalogTile: one crossbar array and its periphery computing batched MVMs (crossbar.md §1).

Pipeline of ``mvm(x, t)`` for a batch x (batch x n_in):

1. noise management: per-row input scale s (abs-max, constant or none), x' = x / s (§4);
2. DAC: uniform quantiser on [-1, 1] (or [0, 1] unsigned), or bit-serial 1-bit slices (§2.3, §3.1);
3. array: y_c = x' @ M_c(t) per conversion channel, with M_c the normalised conductance differences read
   from the device model at time t (drift, frozen programming noise, stuck devices), IR drop folded in
   exactly (``exact``) or by the aihwkit cubic (``approx``, refused where it is known to be wrong, §6.4);
4. analog noise, *output-referred*: for independent zero-mean per-weight perturbations eps_ij ~ N(0, s_ij^2)
   redrawn at each MVM, y_j = sum_i x_i (w_ij + eps_ij) has exactly the distribution of
   sum_i x_i w_ij + eta_j with eta_j ~ N(0, sum_i x_i^2 s_ij^2), independent across j and across the batch
   (crossbar.md §5). So the read noise costs one extra product (x'^2) @ S(t) and one normal per output
   instead of a batch x rows x cols tensor. Tested by ``test_xb1_output_referred_noise_equivalence``.
   Constant weight noise adds w_noise^2 ||x'||^2, output noise out_noise^2;
5. ADC: gain/offset mismatch (frozen), saturation, uniform quantiser with a fixed, maximal or calibrated
   (per tile or per column) range; bound management re-runs saturated rows with half the input (§4);
6. digital: outputs times s * w_max * alpha (drift compensation, §8), slice/pair partial sums, offset removal.

Every step records its events in the ledger (see docs/cost.md for the names).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from aimc_sim.config import require_finite
from aimc_sim.cost import events as ev
from aimc_sim.cost.ledger import Ledger
from aimc_sim.crossbar import _kernels
from aimc_sim.crossbar.config import TileConfig
from aimc_sim.crossbar.devices import resolve_device
from aimc_sim.crossbar.irdrop import IrDropSolver, approx_ir_drop_factor
from aimc_sim.crossbar.mapping import build_layout, scale_weights
from aimc_sim.crossbar.quantise import n_steps, sar_weights
from aimc_sim.crossbar.threads import blas_limit
from aimc_sim.errors import ConfigError, SimulationError

__all__ = ["AnalogTile", "check_time"]


def check_time(t: Any) -> float:
    """A read time (s after programming): finite and >= 0."""
    if isinstance(t, bool) or not isinstance(t, (int, float, np.floating, np.integer)) or not math.isfinite(t) or t < 0:
        raise ConfigError("t", f"must be a finite time >= 0 s, got {t!r}")
    return float(t)


def check_tile_args(config: Any, weights: Any, rng: Any, name: str = "weights", ndim: int = 2) -> np.ndarray:
    """Validate the arguments every array object takes; returns the weights as a finite float64 array."""
    if not isinstance(config, TileConfig):
        raise ConfigError("config", f"must be a TileConfig, got {type(config).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise ConfigError("rng", f"must be a numpy.random.Generator, got {type(rng).__name__}")
    W = require_finite(name, weights).astype(np.float64)
    if W.ndim != ndim or 0 in W.shape:
        what = "(n_in x n_out)" if ndim == 2 else "(n_blocks, n_in, n_out)"
        raise ConfigError(name, f"must be a non-empty {ndim}-D array {what}, got shape {W.shape}")
    return W


class _Read:
    """Per-read-time matrices: signal M_c and variance S_c per channel (float32), row sums of G (S)."""

    def __init__(
        self,
        t: float,
        mats: list[np.ndarray],
        vars_: list[np.ndarray | None],
        gsum: np.ndarray,
        approx: list[tuple[np.ndarray, np.ndarray]] | None,
    ):
        self.t, self.mats, self.vars, self.gsum, self.approx = t, mats, vars_, gsum, approx


class AnalogTile:
    """A rows x cols array programmed from a signed weight matrix W (n_in x n_out); ``mvm(x, t)`` ~ x @ W.

    ``rng`` draws the programming noise now; the tile spawns its own generator for the per-MVM noise, so a
    sequence of calls is reproducible from the seed. ``ledger`` (optional) receives every event, charged to
    the layer ``name`` (or the ledger's current scope when ``name`` is empty).
    """

    def __init__(
        self,
        config: TileConfig,
        weights: np.ndarray,
        rng: np.random.Generator,
        ledger: Ledger | None = None,
        name: str = "",
    ):
        W = check_tile_args(config, weights, rng)
        if W.shape[0] > config.rows or W.shape[1] > config.max_outputs:
            raise ConfigError(
                "weights",
                f"shape {W.shape} does not fit the tile: at most {config.rows} inputs x {config.max_outputs} outputs "
                f"({config.rows}x{config.cols} cells, {config.mapping.devices_per_weight} devices per weight); "
                "use AnalogMatrix",
            )
        self.config, self.ledger, self.name = config, ledger, name
        self.n_in, self.n_out = W.shape
        self.device = resolve_device(config.device, config.device_options)
        prog_rng, self._rng = rng.spawn(2)
        Wn, self.w_max = scale_weights(W, config.mapping)
        self.layout = build_layout(Wn, config.mapping, self.device.g_min, self.device.g_max)
        self.state = self.device.program(self.layout.targets, prog_rng if config.noise.programming else None)
        adc = config.adc
        widths = [1 if ch.broadcast else ch.plus.size for ch in self.layout.channels]
        self._gain = [1.0 + adc.gain_std * prog_rng.standard_normal(w) if adc.gain_std else np.ones(w) for w in widths]
        self._offset = [adc.offset_std * prog_rng.standard_normal(w) if adc.offset_std else np.zeros(w) for w in widths]
        self._sar = [
            sar_weights(adc.bits, adc.cap_mismatch, w, prog_rng) if adc.cap_mismatch and adc.bits else np.empty((w, 0))
            for w in widths
        ]
        self._bounds: list[np.ndarray] | None = None
        if adc.range == "fixed":
            self._bounds = [np.full(w, adc.bound) for w in widths]
        elif adc.range == "max":
            self._bounds = [
                np.full(w, self.n_in * self._nominal_max(ch)) for w, ch in zip(widths, self.layout.channels)
            ]
        self._read_cache: _Read | None = None
        self._ws: dict[str, np.ndarray] = {}
        self._avg_abs_max, self._avg_count = 1.0, 0
        self._r0: np.ndarray | None = None
        self._alpha: tuple[float, np.ndarray] | None = None
        self._noisy = config.noise.read or config.noise.w_noise > 0 or config.noise.out_noise > 0
        if ledger is not None:  # hardware inventory, priced for area by the cost model
            layer = name or None
            ledger.add(ev.ARRAY_CELL, config.rows * config.cols, layer)
            ledger.add(ev.ConverterUnit("adc", adc.bits or None), -(-config.cols // adc.columns_per_adc), layer)
            dbits = 1 if config.dac.bit_serial else config.dac.bits
            ledger.add(ev.ConverterUnit("dac", dbits or None), config.rows, layer)

    # ------------------------------------------------------------------ mapping helpers
    def _nominal_max(self, ch) -> float:
        g = self.layout.targets
        m = g[:, ch.plus] - (g[:, ch.minus] if ch.minus is not None else 0.0)
        return float(np.abs(m).max() * ch.scale) or 1.0

    @property
    def utilisation(self) -> float:
        """Programmed cells over available cells."""
        return self.layout.targets.size / (self.config.rows * self.config.cols)

    def _read(self, t: float) -> _Read:
        """Conductances at time t (noise-free drifted state) folded into the channel matrices."""
        if self._read_cache is not None and self._read_cache.t == t:
            return self._read_cache
        cfg = self.config
        G = np.asarray(self.device.conductance(self.state, t, None), dtype=np.float64)
        sd = self.device.read_noise_std(self.state, t) if cfg.noise.read else None
        if cfg.access_resistance > 0:  # 1T1R: g_eff = g / (1 + g R); d g_eff / d g = 1 / (1 + g R)^2
            f = 1.0 / (1.0 + G * cfg.access_resistance)
            G = G * f
            sd = None if sd is None else sd * f * f
        Gs = G
        if cfg.ir_drop.mode == "exact":
            Gs = IrDropSolver(G, cfg.ir_drop.r_wire, cfg.ir_drop.r_term).effective_matrix()
        mats, vars_ = [], []
        for ch in self.layout.channels:
            m = Gs[:, ch.plus] - (Gs[:, ch.minus] if ch.minus is not None else 0.0)
            mats.append(np.ascontiguousarray(m * ch.scale, dtype=np.float32))
            if sd is None:
                vars_.append(None)
            else:
                v = sd[:, ch.plus] ** 2 + (sd[:, ch.minus] ** 2 if ch.minus is not None else 0.0)
                vars_.append(np.ascontiguousarray(v * ch.scale**2, dtype=np.float32))
        approx = None
        if cfg.ir_drop.mode == "approx":
            xi = (self.n_in - np.arange(self.n_in)) / self.n_in  # distance from the sense node, row 0 farthest
            p = (1.0 - (1.0 - xi) ** 2)[:, None]
            approx = [(np.abs(m), (m * p).astype(np.float32)) for m in mats]
        self._read_cache = _Read(t, mats, vars_, G.sum(axis=1), approx)
        return self._read_cache

    def _buffer(self, key: str, shape: tuple[int, ...]) -> np.ndarray:
        """A reused float32 work array (fresh large allocations cost page faults on every MVM). The
        returned array is only valid until the next call with the same key: a tile is not thread-safe."""
        buf = self._ws.get(key)
        if buf is None or buf.shape != shape:
            buf = self._ws[key] = np.empty(shape, np.float32)
        return buf

    # ------------------------------------------------------------------ periphery
    def _row_scale(self, B: int) -> tuple[np.ndarray, bool]:
        """Input scales (noise management, crossbar.md §4): (array, True) means abs-max, computed by the DAC."""
        m = self.config.management
        b = self.config.dac.bound
        if m.noise == "abs_max":
            return np.empty(B), True
        if m.noise == "average_abs_max":
            return np.full(B, self._avg_abs_max), False
        return np.full(B, (m.constant_scale if m.noise == "constant" else 1.0) * b), False

    def _update_average_abs_max(self, x: np.ndarray) -> None:
        """Running mean of max |x| per vector over every vector seen (AVERAGE_ABS_MAX, crossbar.md §4)."""
        if x.shape[0] == 0:
            return
        m = np.abs(x).max(axis=1)
        n0, n1 = self._avg_count, self._avg_count + x.shape[0]
        mean = (self._avg_abs_max * n0 + float(m.sum())) / n1 if n0 else float(m.mean())
        self._avg_abs_max, self._avg_count = (mean if mean > 0 else 1.0), n1

    def _dac(self, x: np.ndarray, row_scale: np.ndarray, abs_max: bool, gsum: np.ndarray):
        """Input slices [(x', x'^2, digital factor)], and the array read energy in V_read^2 t_read units.
        Fills ``row_scale`` when ``abs_max``; rejects non-finite inputs."""
        dac = self.config.dac
        pwm = dac.encoding == "pwm"
        quant = dac.bits is not None
        lo = -1.0 if dac.signed else 0.0
        step = (2.0 / n_steps(dac.bits) if dac.signed else 1.0 / (2**dac.bits - 1)) if quant else 1.0
        if dac.stochastic_rounding and quant:
            require_finite("x", x)
            if abs_max:
                a = np.abs(x).max(axis=1)
                row_scale[:] = np.where(a > 0, a, 1.0)
            v = x / row_scale[:, None]
            v = np.clip(np.floor(v / step + self._rng.random(v.shape)) * step, lo, 1.0)
            xn, xn2 = v.astype(np.float32), (v * v).astype(np.float32)
        else:
            xn = self._buffer("xn", x.shape)
            xn2 = self._buffer("xn2", x.shape)
            if _kernels.dac_encode(x, abs_max, row_scale, lo, step, quant, xn, xn2):
                require_finite("x", x)  # raises, naming the first bad index
        # array read energy in V_read^2 t_read units: sum_b,i e_bi * (sum_j G_ij), e = x'^2 or |x'| (PWM)
        energy = float((np.abs(xn) if pwm else xn2).sum(axis=0, dtype=np.float64) @ gsum)
        if not dac.bit_serial:
            return [(xn, xn2, 1.0)], energy
        top = (n_steps(dac.bits) // 2) if dac.signed else 2**dac.bits - 1
        k = np.rint(xn.astype(np.float64) * top).astype(np.int64)
        sgn, mag = np.sign(k), np.abs(k)
        slices, energy = [], 0.0
        for bit in range(int(top).bit_length()):  # every magnitude bit is one array read, as in hardware
            xb = (sgn * ((mag >> bit) & 1)).astype(np.float32)
            xb2 = np.abs(xb)
            energy += float((xb2 @ gsum).sum())
            slices.append((xb, xb2, float(2**bit) / top))
        return slices, energy

    def _pass(
        self, x: np.ndarray, row_scale: np.ndarray, abs_max: bool, rd: _Read, alpha: np.ndarray, out: np.ndarray
    ) -> np.ndarray:
        """One full analog pass of the rows of x; writes ``out`` and returns the per-row saturation flags."""
        cfg = self.config
        B = x.shape[0]
        slices, e_units = self._dac(x, row_scale, abs_max, rd.gsum)
        adc = cfg.adc
        quant = adc.bits is not None
        nst = float(n_steps(adc.bits)) if quant else 1.0
        bounds = self._bounds
        if quant and bounds is None:
            raise SimulationError(f"tile.adc.range is {adc.range!r}: call calibrate_adc(x) before mvm")
        sat = np.zeros(B, dtype=bool)
        col = self.w_max * alpha
        first = True
        w2, o2 = cfg.noise.w_noise**2, cfg.noise.out_noise**2
        ones = np.ones(B)
        for xs, xs2, factor in slices:
            extra = np.full(B, o2) + (w2 * xs2.sum(axis=1, dtype=np.float64) if w2 else 0.0)
            for c, ch in enumerate(self.layout.channels):
                sig = np.matmul(xs, rd.mats[c], out=self._buffer(f"sig{c}", (B, rd.mats[c].shape[1])))
                var = sig
                if rd.vars[c] is not None:
                    var = np.matmul(xs2, rd.vars[c], out=self._buffer(f"var{c}", (B, rd.vars[c].shape[1])))
                if rd.approx is not None:
                    sig = self._approx_ir(xs, sig, c, rd)
                bnd = bounds[c] if quant else np.ones(sig.shape[1])
                if ch.broadcast:
                    ref = np.empty((B, 1), dtype=out.dtype)
                    _kernels.adc_accumulate(
                        sig,
                        var,
                        rd.vars[c] is not None,
                        extra,
                        self._gain[c],
                        self._offset[c],
                        bnd,
                        nst,
                        quant,
                        self._noisy,
                        1.0,
                        ones,
                        np.ones(1),
                        False,
                        ref,
                        sat,
                        self._rng,
                        self._sar[c],
                    )
                    if first:
                        out[:] = 0.0
                    out += (ch.coef * factor) * ref * row_scale[:, None] * col[None, :]
                else:
                    _kernels.adc_accumulate(
                        sig,
                        var,
                        rd.vars[c] is not None,
                        extra,
                        self._gain[c],
                        self._offset[c],
                        bnd,
                        nst,
                        quant,
                        self._noisy,
                        ch.coef * factor,
                        row_scale,
                        col,
                        not first,
                        out,
                        sat,
                        self._rng,
                        self._sar[c],
                    )
                first = False
        if first:  # no input slice (all-zero bit-serial input)
            out[:] = 0.0
        if self.layout.offset_coef:
            sx = sum(f * xs.sum(axis=1, dtype=np.float64) for xs, _, f in slices)
            out -= (self.layout.offset_coef * sx * row_scale)[:, None] * col[None, :]
        self._count(B, slices, e_units)
        return sat

    def _approx_ir(self, xs: np.ndarray, sig: np.ndarray, c: int, rd: _Read) -> np.ndarray:
        """aihwkit's IR-drop correction (crossbar.md §6.4); refused (or made exact) where a > approx_limit."""
        irc = self.config.ir_drop
        abs_m, mp = rd.approx[c]
        g_ratio = 1.0 / (irc.r_wire * self.device.g_max)
        a = (self.n_in / g_ratio) * (np.abs(xs) @ abs_m)
        amax = float(a.max()) if a.size else 0.0
        if amax > irc.approx_limit:
            if irc.on_exceed == "error":
                raise SimulationError(
                    f"IR-drop approximation invalid: a = {amax:.3g} > approx_limit {irc.approx_limit} "
                    "(crossbar.md §6.4); use tile.ir_drop.mode: exact"
                )
            import warnings

            warnings.warn(
                f"IR-drop approximation invalid (a = {amax:.3g}); using the exact solve for this tile",
                RuntimeWarning,
                stacklevel=4,
            )
            self.config = self.config.replace(ir_drop=irc.replace(mode="exact"))
            self._read_cache = None
            rd2 = self._read(rd.t)
            return xs @ rd2.mats[c]
        return sig - (approx_ir_drop_factor(a) * (xs @ mp)).astype(sig.dtype)

    def _count(self, B: int, slices: list, e_units: float) -> None:
        led = self.ledger
        if led is None:
            return
        cfg = self.config
        layer = self.name or None
        S = len(slices)
        dbits = 1 if cfg.dac.bit_serial else cfg.dac.bits
        n_conv = sum(1 if ch.broadcast else ch.plus.size for ch in self.layout.channels)
        n_adcs = -(-cfg.cols // cfg.adc.columns_per_adc)
        led.add(ev.Conversion("dac", dbits), B * S * self.n_in, layer)
        led.add(ev.Conversion("adc", cfg.adc.bits), B * S * n_conv, layer)
        led.add(ev.AdcCycle(cfg.adc.bits), B * S * -(-n_conv // n_adcs), layer)
        led.add(ev.TILE_READ, B * S, layer)
        n_parts = S * len(self.layout.channels) + (1 if self.layout.offset_coef else 0)
        led.add(ev.INT32_ADD, B * self.n_out * (n_parts - 1), layer)
        led.add(ev.FP32_MUL, B * self.n_out, layer)
        v2 = cfg.v_read**2
        led.add_energy("array_read", v2 * cfg.t_read * e_units, layer)
        led.add_energy("wl_driver", B * S * self.n_in * cfg.cols * cfg.line_cap_per_cell * v2, layer)

    # ------------------------------------------------------------------ public API
    def _check_x(self, x: Any) -> tuple[np.ndarray, bool]:
        a = np.asarray(x)
        if a.dtype.kind not in "biuf":
            raise ConfigError("x", f"must be a real numeric array, got dtype {a.dtype}")
        vec = a.ndim == 1
        if vec:
            a = a[None, :]
        if a.ndim != 2 or a.shape[1] != self.n_in:
            raise ConfigError("x", f"must have shape (batch, {self.n_in}) or ({self.n_in},), got {np.shape(x)}")
        if a.dtype not in (np.float32, np.float64):
            a = a.astype(np.float32)
        return np.ascontiguousarray(a), vec

    def _forward(self, x: np.ndarray, t: float, alpha: np.ndarray) -> np.ndarray:
        rd = self._read(t)
        row_scale, abs_max = self._row_scale(x.shape[0])
        out = np.empty((x.shape[0], self.n_out), dtype=np.result_type(x.dtype, np.float32))
        sat = self._pass(x, row_scale, abs_max, rd, alpha, out)
        m = self.config.management
        it = 0
        while m.bound == "iterative" and sat.any() and it < m.max_bound_iterations:
            idx = np.flatnonzero(sat)
            row_scale[idx] *= 2.0
            sub = np.empty((idx.size, self.n_out), dtype=out.dtype)
            sat_sub = self._pass(x[idx], row_scale[idx], False, rd, alpha, sub)
            out[idx] = sub
            sat[:] = False
            sat[idx] = sat_sub
            if self.ledger is not None:
                self.ledger.add(ev.BOUND_MANAGEMENT_RERUN, idx.size, self.name or None)
            it += 1
        return out

    def _readout(self, t: float) -> np.ndarray:
        """Identity inputs through the full noisy path (crossbar.md §8): mean |y| (global) or per column."""
        y = np.abs(self._forward(np.eye(self.n_in, dtype=np.float32), t, np.ones(self.n_out)))
        if self.ledger is not None:
            self.ledger.add(ev.DRIFT_CALIBRATION_READOUT, self.n_in, self.name or None)
        return y.mean(axis=0) if self.config.drift_compensation.mode == "per_column" else np.array([y.mean()])

    def drift_alpha(self, t: float) -> np.ndarray:
        """The drift-compensation factor alpha = r0 / r(t) (one value, or one per column); 1 at t = 0."""
        t = check_time(t)
        mode = self.config.drift_compensation.mode
        if mode == "none" or t == 0.0:
            return np.ones(self.n_out)
        every = self.config.drift_compensation.recalibrate_every
        if self._alpha is not None:
            t_cal = self._alpha[0]
            if t == t_cal or (every is not None and t_cal <= t < t_cal + every):
                return self._alpha[1]
        if self._r0 is None:
            self._r0 = self._readout(0.0)
        r = self._readout(t)
        alpha = np.broadcast_to(np.where(r > 0, self._r0 / np.where(r > 0, r, 1.0), 1.0), (self.n_out,)).copy()
        self._alpha = (t, alpha)
        return alpha

    def mvm(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """y ~ x @ W for x of shape (batch, n_in) (or (n_in,)), read at ``t`` seconds after programming."""
        t = check_time(t)
        xa, vec = self._check_x(x)
        if self.config.management.noise == "average_abs_max":
            require_finite("x", xa)
            self._update_average_abs_max(xa)
        with blas_limit():
            y = self._forward(xa, t, self.drift_alpha(t))
        if self.ledger is not None:
            self.ledger.add(ev.MVM, xa.shape[0], self.name or None)
        return y[0] if vec else y

    def calibrate_adc(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Set calibrated ADC ranges to the configured percentile of |analog output| on ``x`` (per tile or per
        column, crossbar.md §3.3). Returns the bounds (normalised units) of the first channel."""
        t = check_time(t)
        xa, _ = self._check_x(x)
        adc = self.config.adc
        if adc.range not in ("calibrated", "per_column"):
            raise ConfigError("tile.adc.range", f"is {adc.range!r}; calibrate_adc needs 'calibrated' or 'per_column'")
        if xa.shape[0] == 0:
            raise ConfigError("x", "calibration inputs give an empty ADC range (no input vectors)")
        rd = self._read(t)
        slices, _ = self._dac(xa, *self._row_scale(xa.shape[0]), rd.gsum)
        bounds = []
        for c in range(len(self.layout.channels)):
            vals = np.concatenate([np.abs(xs @ rd.mats[c]) for xs, _, _ in slices], axis=0)
            if adc.range == "per_column":
                b = np.percentile(vals, adc.percentile, axis=0)
            else:
                b = np.full(vals.shape[1], np.percentile(vals, adc.percentile))
            if not np.any(b > 0):  # e.g. an all-zero (pruned) weight block: keep the configured fixed range
                import warnings

                warnings.warn(
                    f"tile {self.name!r}: calibration outputs are all zero; ADC range set to adc.bound = {adc.bound}",
                    RuntimeWarning,
                    stacklevel=2,
                )
                b = np.full(vals.shape[1], adc.bound)
            bounds.append(np.where(b > 0, b, b.max()))  # an all-zero column takes the widest range
        self._bounds = bounds
        self._r0, self._alpha = None, None
        return bounds[0]

    def weights_at(self, t: float = 0.0) -> np.ndarray:
        """The noise-free effective weights (n_in x n_out) the array holds at time t, without periphery."""
        rd = self._read(check_time(t))
        W = np.zeros((self.n_in, self.n_out))
        for ch, m in zip(self.layout.channels, rd.mats):
            W += ch.coef * (m if not ch.broadcast else np.broadcast_to(m, W.shape))
        if self.layout.offset_coef:
            W -= self.layout.offset_coef
        return W * self.w_max
