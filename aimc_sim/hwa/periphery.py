"""The tile periphery in torch, batched over G tiles of equal shape: the pipeline of ``AnalogTile.mvm``
(docs/crossbar.md, pipeline) with the programmed matrices of :mod:`aimc_sim.hwa.programming`.

1. noise management: row scale s = abs-max of the tile input row (0 -> 1), the running average, a constant
   times the DAC bound, or the DAC bound; v = x / s;
2. DAC: round to the 2**bits - 2 steps of [-1, 1] (or 2**bits - 1 of [0, 1]), optionally stochastically, clip;
3. per conversion channel: v @ M_c plus output-referred noise sqrt(v^2 @ S_c + w_noise^2 |v|^2 + out_noise^2) z;
4. ADC: gain and offset mismatch, saturation flag |a| >= bound, round to 2 bound / (2**bits - 2) steps, clip;
5. digital: coef_c * a * s * w_max * alpha summed over channels, digital offset removal; iterative bound
   management re-runs saturated rows with s doubled.

Per tile of a group (:func:`aimc_sim.hwa.programming.program_group`), also what the tile code does between
programming and the first MVM: calibrated ADC ranges (``calibrate_ranges``, ``TileStack.calibrate``) and the
drift-compensation readout of identity inputs (``drift_alpha``, ``TileStack.alphas``).

Nothing here is differentiated: the layers wrap it in a straight-through estimator.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from aimc_sim.crossbar import TileConfig
from aimc_sim.crossbar.quantise import n_steps
from aimc_sim.hwa._torch import require_torch
from aimc_sim.hwa.programming import TileRead

torch = require_torch()

__all__ = ["TorchRead", "Periphery", "analog_forward", "calibrate_ranges", "drift_alpha"]


def _pad(a: np.ndarray, shape: tuple[int, ...], fill: float) -> np.ndarray:
    out = np.full(shape, fill, dtype=np.float64)
    out[tuple(slice(0, n) for n in a.shape)] = a
    return out


@dataclass
class TorchRead:
    """G tile reads stacked as tensors, padded to n_in x n_out (padding: zero weights, unit ADC range, col 0)."""

    mats: list[Any]
    vars: list[Any | None]
    coefs: list[float]
    broadcast: list[bool]
    gain: list[Any]
    offset: list[Any]
    bounds: list[Any] | None
    col: Any
    offset_coef: float
    avg_abs_max: Any
    mismatch: bool = True  # False: every ADC gain is 1 and every offset 0 (the step is then skipped, exactly)

    @classmethod
    def stack(cls, reads: list[TileRead], n_in: int, n_out: int, dtype: Any, device: Any) -> TorchRead:
        def tens(arrs: list[np.ndarray], width: int, fill: float, rows: int | None = None) -> Any:
            shape = (width,) if rows is None else (rows, width)
            return torch.tensor(np.stack([_pad(a, shape, fill) for a in arrs]), dtype=dtype, device=device)

        first = reads[0]
        n_ch = len(first.mats)
        widths = [1 if first.broadcast[c] else n_out for c in range(n_ch)]
        mats = [tens([r.mats[c] for r in reads], widths[c], 0.0, n_in) for c in range(n_ch)]
        has_var = first.vars[0] is not None
        vars_ = [tens([r.vars[c] for r in reads], widths[c], 0.0, n_in) if has_var else None for c in range(n_ch)]
        bounds = None
        if first.bounds is not None:
            bounds = [tens([r.bounds[c] for r in reads], widths[c], 1.0) for c in range(n_ch)]
        return cls(
            mats=mats,
            vars=vars_,
            coefs=first.coefs,
            broadcast=first.broadcast,
            gain=[tens([r.gain[c] for r in reads], widths[c], 1.0) for c in range(n_ch)],
            offset=[tens([r.offset[c] for r in reads], widths[c], 0.0) for c in range(n_ch)],
            bounds=bounds,
            col=tens([r.col for r in reads], n_out, 0.0),
            offset_coef=first.offset_coef,
            avg_abs_max=torch.tensor([r.avg_abs_max for r in reads], dtype=dtype, device=device),
            mismatch=any(np.any(g != 1.0) or np.any(o != 0.0) for r in reads for g, o in zip(r.gain, r.offset)),
        )


@dataclass
class _Channel:
    """One conversion channel of a ``Periphery`` with the DAC step and the ADC 1 / step folded in: products of the
    DAC codes with ``Mt`` (and of their squares with ``St``) are in ADC steps. M^T, S^T (G, width, n_in); the
    output-noise variance (``out_var``, plus ``w_var`` times the sum of squared codes), ADC gain and offset and the
    saturation threshold (None: no ADC) in ADC steps (G, width, 1); ``digital``: the factor of the ADC codes."""

    Mt: Any
    St: Any | None
    out_var: Any
    w_var: Any
    gain: Any
    offset: Any
    saturation: Any | None
    digital: Any

    @classmethod
    def fold(cls, rd: TorchRead, c: int, in_step: float, n_adc_steps: float, o2: float, w2: float) -> _Channel:
        digital = rd.col[:, :, None] * rd.coefs[c]  # (G, n_out, 1): the codes' factor, then the row scales
        out_scale: Any = 1.0  # 1 / ADC step
        saturation = None
        if rd.bounds is not None:
            step = 2.0 * rd.bounds[c][:, :, None] / n_adc_steps
            out_scale, digital = step.reciprocal(), digital * step
            saturation = rd.bounds[c][:, :, None] * out_scale
        scale = out_scale * in_step
        return cls(
            Mt=(rd.mats[c].transpose(1, 2) * scale).contiguous(),
            St=None if rd.vars[c] is None else (rd.vars[c].transpose(1, 2) * scale**2).contiguous(),
            out_var=torch.full_like(rd.mats[c][:, :1].transpose(1, 2), o2) * out_scale**2,
            w_var=w2 * scale**2,
            gain=rd.gain[c][:, :, None],
            offset=rd.offset[c][:, :, None] * out_scale,
            saturation=saturation,
            digital=digital,
        )


class Periphery:
    """The torch periphery of the G tile reads ``rd`` (stacked), with everything that does not depend on the inputs
    computed once: call it on x (G, B, n_in) for y ~ x @ W (G, B, n_out), drawing every per-MVM noise from ``gen``.
    ``rd`` must not change while the object is used (the recurrence calls one object at every step)."""

    def __init__(self, rd: TorchRead, cfg: TileConfig):
        self.rd = rd
        m, dac, noise, adc = cfg.management, cfg.dac, cfg.noise, cfg.adc
        self.noise_management = m.noise
        self.fixed_scale = (m.constant_scale if m.noise == "constant" else 1.0) * dac.bound
        self.dac_codes: tuple[int, int] | None = None  # (lowest, highest) DAC code; the step is 1 / highest
        if dac.bits is not None:
            self.dac_codes = (-(n_steps(dac.bits) // 2), n_steps(dac.bits) // 2) if dac.signed else (0, 2**dac.bits - 1)
        self.stochastic_dac = dac.stochastic_rounding
        # abs-max inputs are within [-1, 1] up to rounding (|x| * (top / s) <= top (1 + 3 2^-24) rounds to top): the
        # codes of a signed, rounding DAC cannot leave [-top, top], so its clip changes nothing and is skipped
        self.dac_clip = not (m.noise == "abs_max" and dac.signed and not dac.stochastic_rounding)
        self.noisy = noise.read or noise.w_noise > 0 or noise.out_noise > 0
        self.w2, self.o2 = noise.w_noise**2, noise.out_noise**2
        self.need_v2 = self.noisy and (noise.w_noise > 0 or rd.vars[0] is not None)
        nst = float(n_steps(adc.bits)) if adc.bits is not None else 1.0
        self.lim = 0.5 * nst
        self.iterative = m.bound == "iterative" and rd.bounds is not None
        self.max_iterations = m.max_bound_iterations
        self.in_step = 1.0 / self.dac_codes[1] if self.dac_codes is not None else 1.0  # DAC outputs: codes * in_step
        self.channels = [_Channel.fold(rd, c, self.in_step, nst, self.o2, self.w2) for c in range(len(rd.mats))]
        self._scratch: dict[Any, Any] = {}  # temporaries of a pass, reused by the next pass (the recurrence's steps)

    def _buffer(self, key: Any, shape: Any, like: Any) -> Any:
        """A scratch tensor of ``shape`` (dtype and device of ``like``) that this object hands out again for ``key``
        at the next pass: the recurrence calls one object at every step, whose temporaries then stay in cache."""
        buf = self._scratch.get(key)
        if buf is None or buf.shape != shape:
            buf = self._scratch[key] = like.new_empty(shape)
        return buf

    def row_scale(self, xt: Any) -> Any:
        """Noise management: the input scale of every row of x, (G, 1, B), from xt = x^T (G, n_in, B)."""
        if self.noise_management == "abs_max":  # max |x| as max(max x, -min x): two reductions, no |x| tensor
            s = torch.maximum(xt.amax(dim=-2, keepdim=True), xt.amin(dim=-2, keepdim=True).neg_())
            return s.masked_fill_(s == 0, 1.0)
        shape = (xt.shape[0], 1, xt.shape[-1])
        if self.noise_management == "average_abs_max":
            return self.rd.avg_abs_max[:, None, None].expand(shape).clone()
        return torch.full(shape, self.fixed_scale, dtype=xt.dtype, device=xt.device)

    def dac_codes_of(self, xt: Any, s: Any, gen: Any, out: Any = None) -> Any:
        """The DAC codes (G, n_in, B) of x with row scales s (G, 1, B), from xt = x^T (G, n_in, B): x / s (as
        x * (1 / s), as the tile kernel) in DAC steps, rounded (stochastically if configured) and clipped to whole
        codes; the DAC outputs are codes * ``in_step``. Without a DAC: x / s. The (G, n_in, B) layout is the memory
        order of the recurrence's inputs, along whose contiguous axis the scales then broadcast; ``out``: a
        (G, n_in, B) tensor for the codes."""
        if self.dac_codes is None:
            return torch.mul(xt, s.reciprocal(), out=out)
        lo, top = self.dac_codes
        v = torch.mul(xt, s.reciprocal().mul_(top), out=out)
        if self.stochastic_dac:  # drawn in x's (G, B, n_in) order
            r = torch.rand(xt.transpose(-1, -2).shape, generator=gen, dtype=v.dtype, device=v.device)
            v = v.add_(r.transpose(-1, -2)).floor_()
        else:
            v = v.round_()
        return v.clamp_(lo, top) if self.dac_clip else v

    def _pass(self, xt: Any, s: Any, gen: Any, track_sat: bool, out: Any = None) -> tuple[Any, Any]:
        """One analog pass of x with row scales s (G, 1, B), from xt = x^T (G, n_in, B): outputs y^T (G, n_out, B)
        (into ``out`` (G, n_out, B) if given) and, if ``track_sat``, saturation flags (G, 1, B) (else None). The
        products are computed as M^T v^T, so that the element-wise periphery runs along the long batch axis. The
        products take the DAC codes and give ADC steps (see :class:`_Channel`)."""
        rd = self.rd
        vt = self.dac_codes_of(xt, s, gen, self._buffer("codes", xt.shape, xt))
        v2t = torch.mul(vt, vt, out=self._buffer("codes^2", vt.shape, vt)) if self.need_v2 else None
        sum_v2 = v2t.sum(dim=-2, keepdim=True) if self.w2 > 0 else None
        acc = None  # the sum over channels, (G, n_out, B)
        sat = torch.zeros(s.shape, dtype=torch.bool, device=s.device) if track_sat else None
        for c, ch in enumerate(self.channels):
            a = torch.bmm(ch.Mt, vt)  # (G, width, B)
            if self.noisy:
                z = self._buffer(("normals", c), a.shape, a).normal_(generator=gen)
                extra = ch.out_var if sum_v2 is None else ch.out_var + ch.w_var * sum_v2
                if ch.St is not None:  # a sum of squares: never negative
                    var = torch.baddbmm(extra, ch.St, v2t, out=self._buffer(("variance", c), a.shape, a))
                    a = a.addcmul_(var.sqrt_(), z)
                else:
                    a = a.add_(z.mul_(extra**0.5))
            if rd.mismatch:
                a = a * ch.gain + ch.offset
            if ch.saturation is not None:
                if track_sat:
                    sat = sat | (a.abs() >= ch.saturation).any(dim=-2, keepdim=True)
                a = a.round_().clamp_(-self.lim, self.lim)  # codes, as the ADC kernel
            term = a.mul_(ch.digital) if a.shape[-2] == ch.digital.shape[-2] else a * ch.digital  # broadcast ref.
            if acc is None:
                acc = term.mul_(s) if out is None else torch.mul(term, s, out=out)
            else:
                acc.addcmul_(term, s)
        if rd.offset_coef:
            acc.sub_(rd.offset_coef * self.in_step * vt.sum(dim=-2, keepdim=True) * (s * rd.col[:, :, None]))
        return acc, sat

    def __call__(self, x: Any, gen: Any, out: Any = None) -> Any:
        """y ~ x @ W (G, B, n_out) of x (G, B, n_in), written into ``out`` (G, B, n_out) if given."""
        xt = x.transpose(-1, -2)
        out_t = None if out is None else out.transpose(-1, -2)
        s = self.row_scale(xt)
        yt, sat = self._pass(xt, s, gen, self.iterative, out_t)
        for _ in range(self.max_iterations if self.iterative else 0):
            if not bool(sat.any()):
                break
            s = torch.where(sat, 2.0 * s, s)
            yt2, sat2 = self._pass(xt, s, gen, True)
            yt = torch.where(sat, yt2, yt) if out_t is None else out_t.copy_(torch.where(sat, yt2, yt))
            sat = sat & sat2
        return yt.transpose(-1, -2)


def analog_forward(x: Any, rd: TorchRead, cfg: TileConfig, gen: Any) -> Any:
    """y ~ x @ W on G tiles: x (G, B, n_in) -> (G, B, n_out), drawing every per-MVM noise from ``gen``."""
    return Periphery(rd, cfg)(x, gen)


def _knock_out(vals: Any, k: int) -> tuple[Any, Any]:
    """(values, indices) of the k largest entries along the last axis, descending, as ``torch.topk`` (ties
    counted, NaN largest): k rounds of a max and knocking the maximum's one entry out of a copy. For a small k
    cheaper than ``topk``, which selects row by row."""
    work = vals.clone()
    values = vals.new_empty(*vals.shape[:-1], k)
    indices = torch.empty(values.shape, dtype=torch.long, device=vals.device)
    for i in range(k):
        m, idx = work.max(dim=-1, keepdim=True)
        values[..., i : i + 1] = m
        indices[..., i : i + 1] = idx
        work.scatter_(-1, idx, float("-inf"))
    return values, indices


def _largest(vals: Any, k: int, chunks: int = 64) -> Any:
    """The k largest values along the last axis, descending: ``torch.topk(vals, k).values``. When the axis splits
    into ``chunks`` strided chunks of at least 4 k values, from the k chunks with the largest maxima (they hold all
    of the k largest: a value outside them is exceeded by those k maxima), i.e. from a fast reduction and two
    small selections (``_knock_out``) instead of one selection per row over the whole axis."""
    n = vals.shape[-1]
    if n % chunks or n // chunks < 4 * k or k > chunks:
        return torch.topk(vals, k, dim=-1).values
    strided = vals.unflatten(-1, (n // chunks, chunks))  # chunk j: the values j, j + chunks, j + 2 chunks, ...
    best = _knock_out(strided.amax(dim=-2), k)[1]
    candidates = strided.gather(-1, best.unsqueeze(-2).expand(*strided.shape[:-1], k))
    return _knock_out(candidates.flatten(-2), k)[0]


def _upper_percentile(vals: Any, q: float) -> Any:
    """``np.percentile(vals, q, axis=-1)`` (linear interpolation) of vals (G, m, n) -> (G, m), from the few
    largest values when q is high (the 99.9th percentile of 2048 values needs the top 4)."""
    n = vals.shape[-1]
    pos = q / 100.0 * (n - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, n - 1)
    top = _largest(vals, n - lo).double()  # descending: ascending index i is n - 1 - i
    a, b = top[..., n - 1 - lo], top[..., n - 1 - hi]
    return a + (b - a) * (pos - lo)


def calibrate_ranges(rd: TorchRead, x: Any, cfg: TileConfig, gen: Any) -> None:
    """Set ``rd.bounds`` as ``TileStack.calibrate`` on tile inputs x (G, N, n_in): the ``adc.percentile`` of the
    noise-free |analog output| of each tile's DAC outputs, per column (``per_column``) or per tile (``calibrated``);
    a tile with all-zero outputs keeps ``adc.bound``, an all-zero column takes its tile's widest range."""
    adc = cfg.adc
    p = Periphery(rd, cfg)
    xt = x.transpose(1, 2)
    codes = p.dac_codes_of(xt, p.row_scale(xt), gen)
    bounds = []
    for M in rd.mats:
        vals = torch.bmm(M.transpose(1, 2) * p.in_step, codes).abs_()  # (G, w, N): the percentile along the last axis
        G, w = vals.shape[:2]
        if adc.range == "per_column":
            b = _upper_percentile(vals, adc.percentile)
        else:
            b = _upper_percentile(vals.reshape(G, 1, -1), adc.percentile).expand(G, w)
        dead = ~(b > 0).any(dim=1)
        if bool(dead.any()):
            warnings.warn(
                f"{int(dead.sum())} of {G} tiles: calibration outputs are all zero; ADC range set to adc.bound = "
                f"{adc.bound}",
                RuntimeWarning,
                stacklevel=3,
            )
            b = torch.where(dead[:, None], torch.full_like(b, adc.bound), b)
        b = torch.where(b > 0, b, b.amax(dim=1, keepdim=True))
        bounds.append(b.to(x.dtype))
    rd.bounds = bounds


def drift_alpha(rd_0: TorchRead, rd_t: TorchRead, per_column: bool, cfg: TileConfig, gen: Any) -> Any:
    """Drift compensation as ``TileStack.alphas``: identity inputs through the full noisy path of each tile read
    at 0 (``rd_0``) and at t (``rd_t``, both with col = w_max); alpha = r0 / r(t) with r the mean |output| per
    tile (G, 1) or per column (G, n_out) (1 where r(t) = 0)."""
    G, n_in = rd_t.mats[0].shape[:2]
    eye = torch.eye(n_in, dtype=rd_t.col.dtype, device=rd_t.col.device).expand(G, n_in, n_in)
    dims = (1,) if per_column else (1, 2)
    r0, rt = (analog_forward(eye, rd, cfg, gen).abs().mean(dim=dims) for rd in (rd_0, rd_t))
    alpha = torch.where(rt > 0, r0 / torch.where(rt > 0, rt, torch.ones_like(rt)), torch.ones_like(rt))
    return alpha if per_column else alpha[:, None]
