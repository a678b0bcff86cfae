"""The tile periphery in torch, batched over G tiles of equal shape: the pipeline of ``AnalogTile.mvm``
(docs/crossbar.md, pipeline) with the programmed matrices of :mod:`aimc_sim.hwa.programming`.

1. noise management: row scale s = abs-max of the tile input row (0 -> 1), the running average, a constant
   times the DAC bound, or the DAC bound; v = x / s;
2. DAC: round to the 2**bits - 2 steps of [-1, 1] (or 2**bits - 1 of [0, 1]), optionally stochastically, clip;
3. per conversion channel: v @ M_c plus output-referred noise sqrt(v^2 @ S_c + w_noise^2 |v|^2 + out_noise^2) z;
4. ADC: gain and offset mismatch, saturation flag |a| >= bound, round to 2 bound / (2**bits - 2) steps, clip;
5. digital: coef_c * a * s * w_max * alpha summed over channels, digital offset removal; iterative bound
   management re-runs saturated rows with s doubled.

Nothing here is differentiated: the layers wrap it in a straight-through estimator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from aimc_sim.crossbar import TileConfig
from aimc_sim.crossbar.quantise import n_steps
from aimc_sim.hwa._torch import require_torch
from aimc_sim.hwa.programming import TileRead

torch = require_torch()

__all__ = ["TorchRead", "analog_forward"]


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
        )


def _row_scale(x: Any, cfg: TileConfig, rd: TorchRead) -> Any:
    m = cfg.management
    if m.noise == "abs_max":
        s = x.abs().amax(dim=-1)
        return torch.where(s > 0, s, torch.ones_like(s))
    if m.noise == "average_abs_max":
        return rd.avg_abs_max[:, None].expand(x.shape[:-1]).clone()
    scale = (m.constant_scale if m.noise == "constant" else 1.0) * cfg.dac.bound
    return torch.full(x.shape[:-1], scale, dtype=x.dtype, device=x.device)


def _dac(x: Any, s: Any, cfg: TileConfig, gen: Any) -> Any:
    dac = cfg.dac
    v = x / s[..., None]
    if dac.bits is None:
        return v
    lo = -1.0 if dac.signed else 0.0
    step = 2.0 / n_steps(dac.bits) if dac.signed else 1.0 / (2**dac.bits - 1)
    if dac.stochastic_rounding:
        v = torch.floor(v / step + torch.rand(v.shape, generator=gen, dtype=v.dtype, device=v.device)) * step
    else:
        v = torch.round(v / step) * step
    return v.clamp(lo, 1.0)


def _pass(x: Any, s: Any, rd: TorchRead, cfg: TileConfig, gen: Any) -> tuple[Any, Any]:
    """One analog pass of x (G, B, n_in) with row scales s (G, B): outputs (G, B, n_out) and saturation flags."""
    v = _dac(x, s, cfg, gen)
    v2 = v * v
    noise = cfg.noise
    noisy = noise.read or noise.w_noise > 0 or noise.out_noise > 0
    extra = noise.out_noise**2 + (noise.w_noise**2) * v2.sum(dim=-1)
    adc = cfg.adc
    nst = float(n_steps(adc.bits)) if adc.bits is not None else 1.0
    out = torch.zeros(x.shape[:-1] + (rd.col.shape[-1],), dtype=x.dtype, device=x.device)
    sat = torch.zeros(x.shape[:-1], dtype=torch.bool, device=x.device)
    scale = s[..., None] * rd.col[:, None, :]
    for c, M in enumerate(rd.mats):
        a = v @ M
        if noisy:
            var = extra[..., None] + (v2 @ rd.vars[c] if rd.vars[c] is not None else 0.0)
            z = torch.randn(a.shape, generator=gen, dtype=a.dtype, device=a.device)
            a = a + torch.sqrt(var.clamp(min=0.0)) * z
        a = a * rd.gain[c][:, None, :] + rd.offset[c][:, None, :]
        if rd.bounds is not None:
            b = rd.bounds[c][:, None, :]
            sat = sat | (a.abs() >= b).any(dim=-1)
            step = 2.0 * b / nst
            a = torch.clamp(torch.round(a / step), -0.5 * nst, 0.5 * nst) * step
        out = out + rd.coefs[c] * a * scale
    if rd.offset_coef:
        out = out - rd.offset_coef * v.sum(dim=-1, keepdim=True) * scale
    return out, sat


def analog_forward(x: Any, rd: TorchRead, cfg: TileConfig, gen: Any) -> Any:
    """y ~ x @ W on G tiles: x (G, B, n_in) -> (G, B, n_out), drawing every per-MVM noise from ``gen``."""
    s = _row_scale(x, cfg, rd)
    out, sat = _pass(x, s, rd, cfg, gen)
    m = cfg.management
    for _ in range(m.max_bound_iterations if m.bound == "iterative" else 0):
        if not bool(sat.any()):
            break
        s = torch.where(sat, 2.0 * s, s)
        out2, sat2 = _pass(x, s, rd, cfg, gen)
        out = torch.where(sat[..., None], out2, out)
        sat = sat & sat2
    return out
