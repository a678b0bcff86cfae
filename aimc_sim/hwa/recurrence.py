"""The block-diagonal SSM recurrence on analog tiles for training: ``AnalogBlockRecurrence``.

Each forward pass programs the channel tiles afresh and steps the recurrence through the torch periphery
(:mod:`aimc_sim.hwa.periphery`) with the ADC -> DAC state feedback. The tiles of all channels are programmed
as one group (:func:`aimc_sim.hwa.programming.program_group`: one device-model call, the ADC calibration and
the drift-compensation readouts batched over the tiles) unless the tile options need the tile code per tile
(``group_unsupported``) or the last tile of packed channels is partly filled: then one ``AnalogMatrix`` per
tile (``program_matrix``, the reference path). Backward: the straight-through gradient of the linear
recurrence with the programmed matrices at the hardware states (:class:`_SteppedRecurrence`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from aimc_sim.errors import ConfigError
from aimc_sim.hwa._torch import require_torch
from aimc_sim.hwa.config import HWAConfig
from aimc_sim.hwa.layers import AnalogCore, _numpy
from aimc_sim.hwa.periphery import Periphery, TorchRead, calibrate_ranges, drift_alpha
from aimc_sim.hwa.programming import effective_weights, group_unsupported, program_group, program_matrix

torch = require_torch()

__all__ = ["AnalogBlockRecurrence"]

N_CALIBRATION = 32
"""Sequences of a batch whose float states calibrate the recurrent ADC ranges."""


class _SteppedRecurrence(torch.autograd.Function):
    """Out_k = [x_k; y_k] = step(v_k) with v_k = [x_{k-1}; u_k] (x_{-1} = 0) in the forward pass (the hardware),
    and the gradient of out_k = v_k @ Mt (Mt: the programmed matrices, (H, S, S)) at the hardware's v_k in the
    backward pass: the straight-through estimator of the whole recurrence, one small product per step each way.
    u: (B, L, H) -> y: (B, L, H); ``step(v, out)`` writes out (H, B, S) of v (H, B, S), without gradients.

    The step inputs are kept as (L, H, S, B) in memory (v_k is a transposed view of the contiguous block V[k]):
    reductions over the S inputs of a tile row (noise management) then run along a long axis. Step k writes its
    outputs into the block V[k + 1], whose last row then takes y_k out and u_{k + 1} in. The backward keeps one
    step's output gradient and accumulates the weight gradient."""

    @staticmethod
    def forward(ctx: Any, Mt: Any, u: Any, step: Callable[[Any, Any], Any]) -> Any:  # type: ignore[override]
        B, L, H = u.shape
        S = Mt.shape[1]
        V = u.new_empty(L + 1, H, S, B)  # the hardware's inputs of every step (and the last step's outputs)
        us = u.detach().permute(1, 2, 0).contiguous()  # (L, H, B)
        V[0, :, : S - 1] = 0.0
        V[0, :, S - 1] = us[0]
        ys = u.new_empty(L, H, B)
        # the views of every step, made before the loop (one call each): inputs / outputs (H, B, S), their last rows
        blocks, last_rows = V.transpose(2, 3).unbind(0), V[:, :, S - 1].unbind(0)
        y_steps, u_steps = ys.unbind(0), us.unbind(0)
        for k in range(L):
            step(blocks[k], blocks[k + 1])
            y_steps[k].copy_(last_rows[k + 1])
            if k + 1 < L:
                last_rows[k + 1].copy_(u_steps[k + 1])
        ctx.save_for_backward(Mt, V[:L])
        return ys.permute(2, 0, 1).contiguous()  # a strided (B, L, H) view would slow the element-wise ops after it

    @staticmethod
    def backward(ctx: Any, gy: Any) -> tuple[Any, Any, None]:  # type: ignore[override]
        Mt, V = ctx.saved_tensors
        L, H, S, B = V.shape
        gy_steps = gy.permute(1, 2, 0).contiguous()  # (L, H, B): one contiguous block per step
        gu = V.new_empty(L, H, B)
        gM = V.new_zeros(H, S, S) if ctx.needs_input_grad[0] else None  # contiguous: a batched product per step
        # d loss / d out_k of the current step (H, S, B), in the layout of V[k], and d loss / d v_k: two buffers in
        # turn, their last rows and transposes made before the loop
        g = (V.new_zeros(H, S, B), V.new_empty(H, S, B))
        rows, g_t = [b[:, S - 1] for b in g], [b.transpose(1, 2) for b in g]
        vs, gys, gus = V.unbind(0), gy_steps.unbind(0), gu.unbind(0)
        for j, k in enumerate(range(L - 1, -1, -1)):
            i = j % 2
            rows[i].copy_(gys[k])
            if gM is not None:
                gM.baddbmm_(vs[k], g_t[i])
            torch.bmm(Mt, g[i], out=g[1 - i])  # d loss / d v_k: out = v @ Mt, row by row
            gus[k].copy_(rows[1 - i])  # the state rows are d loss / d out_{k-1}
        return gM, gu.permute(2, 0, 1).contiguous(), None


class AnalogBlockRecurrence:
    """The fused SSM recurrence of docs/s4d.md#fused-mapping on analog tiles: H channel blocks M_h (S x S) map
    v_k = [x_{k-1}; u_k] to [x_k; y_k]; the state part of every ADC output is fed back through the DAC at the
    next step. ``hwa.ssm_channels_per_tile`` blocks share one tile (and its noise management, ADC ranges and
    drift compensation), packed on a dense block-diagonal matrix as ``workloads.s4d.hardware``'s reference path.
    Calibrated recurrent ADC ranges are calibrated on the float states of the batch (at most 32 sequences)."""

    def __init__(self, hwa: HWAConfig, key: int | tuple[int, ...]):
        self.hwa = hwa
        self.core = AnalogCore(hwa, key, hwa.ssm_tile_config())
        self._n_channels = 0
        if self.core.tile.management.bound != "none":
            raise ConfigError("tile.management.bound", "bound management is not modelled inside the recurrence")
        if self.core.tile.management.scope == "block" and hwa.ssm_channels_per_tile > 1:
            raise ConfigError(
                "tile.management.scope",
                "per-block noise management of packed channels is not modelled; ssm_channels_per_tile: 1 is the same",
            )

    def _to_tiles(self, v: Any) -> Any:
        """Channel layout (H, B, S) -> tile layout (G, B, k S), zero-padded to G k channels."""
        k = self.hwa.ssm_channels_per_tile
        if k == 1:
            return v
        H, B, S = v.shape
        G = -(-H // k)
        vp = torch.nn.functional.pad(v, (0, 0, 0, 0, 0, G * k - H))
        return vp.reshape(G, k, B, S).transpose(1, 2).reshape(G, B, k * S)

    def _from_tiles(self, y: Any, H: int) -> Any:
        """Tile layout (G, B, k S) -> channel layout (H, B, S)."""
        k = self.hwa.ssm_channels_per_tile
        if k == 1:
            return y
        G, B, kS = y.shape
        return y.reshape(G, B, k, kS // k).transpose(1, 2).reshape(G * k, B, kS // k)[:H]

    def _tile_matrices(self, Mt: np.ndarray) -> np.ndarray:
        """Blocks (H, S, S) in x @ M form -> the G tile matrices (G, k S, k S), block-diagonal, zero-padded."""
        H, S, _ = Mt.shape
        k = self.hwa.ssm_channels_per_tile
        G = -(-H // k)
        W = np.zeros((G, k, S, k, S))
        for q in range(k):
            W[: -(-(H - q) // k), q, :, q, :] = Mt[q::k]
        return W.reshape(G, k * S, k * S)

    def _blocks(self, eff: np.ndarray, H: int) -> np.ndarray:
        """The G tile matrices (G, k S, k S) -> their diagonal blocks (H, S, S)."""
        k = self.hwa.ssm_channels_per_tile
        G, kS, _ = eff.shape
        S = kS // k
        W = eff.reshape(G, k, S, k, S)
        return np.stack([W[:, q, :, q, :] for q in range(k)], axis=1).reshape(G * k, S, S)[:H]

    def _calibration_inputs(self, Mt: Any, u: Any) -> Any:
        """The float inputs [x; u] of every step of the first sequences, tile layout (G, n L, k S) (for one channel
        per tile: a transposed view of (H, S, n L), see :class:`_SteppedRecurrence`)."""
        H, S, _ = Mt.shape
        uc = u[:N_CALIBRATION]
        n, L, _ = uc.shape
        vs = u.new_empty(H, S, L, n)
        vs[:, S - 1] = uc.permute(2, 1, 0)
        vs[:, : S - 1, 0] = 0.0
        state_rows = Mt.transpose(1, 2)[:, : S - 1]  # x_k = state_rows @ [x_{k-1}; u_k]
        inputs, states = vs.unbind(2), vs[:, : S - 1].unbind(2)  # the views of every step, made before the loop
        for step in range(L - 1):
            states[step + 1].copy_(torch.bmm(state_rows, inputs[step]))
        return self._to_tiles(vs.reshape(H, S, L * n).transpose(1, 2))

    def _program_group(self, W: np.ndarray, v_cal: Any, t: float, like: Any) -> tuple[TorchRead, np.ndarray]:
        """Program the G tiles as one group; returns the torch read at t and the effective tile matrices."""
        cfg = self.core.tile
        grp = program_group(cfg, W, self.core.rng)
        gen = self.core.generator(like.device)

        def tens(a: Any) -> Any:
            return torch.as_tensor(a, dtype=like.dtype, device=like.device)

        chans = grp.layout.channels
        widths = [1 if ch.broadcast else W.shape[2] for ch in chans]
        G = W.shape[0]

        def read(tt: float) -> TorchRead:
            mats, vars_ = grp.read(tt)
            return TorchRead(
                mats=[tens(m) for m in mats],
                vars=[None if v is None else tens(v) for v in vars_],
                coefs=[float(ch.coef) for ch in chans],
                broadcast=[bool(ch.broadcast) for ch in chans],
                gain=[tens(np.ones((G, w))) for w in widths],
                offset=[tens(np.zeros((G, w))) for w in widths],
                bounds=None if cfg.adc.bits is None else [tens(np.full((G, w), cfg.adc.bound)) for w in widths],
                col=tens(grp.w_max),
                offset_coef=float(grp.layout.offset_coef),
                avg_abs_max=tens(np.ones(G)),
                mismatch=False,
            )

        rd = read(t)
        with torch.no_grad():
            if cfg.adc.bits is not None and cfg.adc.range in ("calibrated", "per_column"):
                calibrate_ranges(rd, v_cal, cfg, gen)
            dc = cfg.drift_compensation.mode
            if dc != "none" and t != 0.0:
                rd_0 = read(0.0)
                rd_0.bounds = rd.bounds
                rd.col = rd.col * drift_alpha(rd_0, rd, dc == "per_column", cfg, gen)
        col = _numpy(rd.col)
        mats = [_numpy(m) for m in rd.mats]
        return rd, effective_weights(mats, rd.coefs, rd.offset_coef, col, W.shape[2])

    def _program_tiles(self, W: np.ndarray, v_cal: Any, t: float, like: Any) -> tuple[TorchRead, np.ndarray]:
        """The reference path: one ``AnalogMatrix`` per tile (``program_matrix``); a partly filled last tile holds
        only its channels' blocks (padded back to the tile layout: zero weights, unit ADC range, column scale 0)."""
        G, kS, _ = W.shape
        H = self._n_channels
        S = kS // self.hwa.ssm_channels_per_tile
        reads, effs = [], np.zeros(W.shape)
        v_np = _numpy(v_cal)
        for g in range(G):
            n = min(kS, H * S - g * kS)
            rd = program_matrix(self.core.tile, W[g, :n, :n], self.core.rng, t, v_np[g, :, :n])[0]
            reads.append(rd)
            effs[g, :n, :n] = rd.effective_weights()
        return TorchRead.stack(reads, kS, kS, like.dtype, like.device), effs

    def __call__(self, M: Any, u: Any) -> Any:
        """y (B, L, H) of the recurrence with fused matrices M (H, S, S) on inputs u (B, L, H)."""
        H, S, _ = M.shape
        k = self.hwa.ssm_channels_per_tile
        Mt = M.transpose(1, 2)
        cfg = self.core.tile
        if k * S > cfg.rows or k * S > cfg.max_outputs:
            raise ConfigError("hwa.ssm_channels_per_tile", f"{k} blocks of {S} x {S} do not fit one tile")
        with torch.no_grad():
            v_cal = self._calibration_inputs(Mt.detach(), u.detach())
        t = self.core.draw_time()
        W = self._tile_matrices(_numpy(Mt))
        grouped = group_unsupported(cfg) is None and H % k == 0  # a partly filled last tile: per tile
        program = self._program_group if grouped else self._program_tiles
        self._n_channels = H
        tr, eff = program(W, v_cal, t, u)
        M_prog = torch.as_tensor(self._blocks(eff, H), dtype=M.dtype, device=M.device)
        gen = self.core.generator(u.device)
        periphery = Periphery(tr, cfg)

        def step(v: Any, out: Any) -> None:
            if k == 1:
                periphery(v, gen, out)
            else:
                out.copy_(self._from_tiles(periphery(self._to_tiles(v), gen), H))

        return _SteppedRecurrence.apply(Mt + (M_prog - Mt).detach(), u, step)
