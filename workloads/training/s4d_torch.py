"""Torch twin of :mod:`workloads.s4d.model` for training (CPU): same block, same quantisers, plus STE,
noise injection and surrogate gradients.

The SSM kernel is computed from the *fused real matrix* M of each channel (docs/s4d.md#fused-mapping), so that
noise injected on M during training is the same perturbation that programming noise puts on the
crossbar: with v_k = [x_{k-1}; u_k], y_k = m_x . x_{k-1} + m_u u_k and x_k = A_s x_{k-1} + b u_k, hence
K_0 = m_u and K_l = m_x . A_s^(l-1) b for l >= 1 (L - 1 small mat-vecs, independent of the batch), then FFT
convolution. Without noise this equals the complex S4D kernel (test E1 in numpy).

Quantisers (docs/s4d.md#quantisation): forward = :func:`workloads.s4d.quant.quantise` rules, backward =
straight-through.
Noise injection: w~ = q(w) + eps, eps ~ N(0, (sigma_tr * max|q(w)|)^2) per tensor, no gradient; for M the max is
per row of M (= per crossbar column, the per-column weight scaling of the tiles).
Surrogates (Stan & Rhodes 2024, Eqs. 13-14): arctan 1/(1 + (pi x)^2), fast sigmoid 1/(alpha |x| + 1)^2, alpha = 25.

Hardware-aware training (``to_analog``, called by :func:`aimc_sim.hwa.convert_to_analog`): encoder, mixing and
decoder products run on :class:`aimc_sim.hwa.AnalogCore` tiles and, with ``ssm_recurrence: analog``, the
fused recurrence runs step by step on :class:`aimc_sim.hwa.AnalogBlockRecurrence` (as ``workloads.s4d.hardware``
maps it) instead of the FFT convolution.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from aimc_sim.errors import ConfigError
from workloads.s4d.config import S4DConfig
from workloads.s4d.model import expected_shapes
from workloads.s4d.ssm import replica_index


def quant_forward(w: torch.Tensor, bits: int | str | None, axis: int | None = 0) -> torch.Tensor:
    """Quantised value (no gradient logic); same rules as the numpy quantiser."""
    if bits is None:
        return w
    red = [i for i in range(w.dim()) if i != axis] if axis is not None else list(range(w.dim()))
    a = w.abs()
    if bits == "ternary":
        delta = 0.7 * a.mean(dim=red, keepdim=True)
        keep = (a > delta).to(w.dtype)
        n_keep = keep.sum(dim=red, keepdim=True)
        s = (a * keep).sum(dim=red, keepdim=True) / n_keep.clamp(min=1)
        return s * torch.sign(w) * keep
    Q = 2 ** (int(bits) - 1) - 1
    s = a.amax(dim=red, keepdim=True) / Q
    s = torch.where(s > 0, s, torch.ones_like(s))
    return s * torch.clamp(torch.round(w / s), -Q, Q)


def fake_quant(w: torch.Tensor, bits: int | str | None, axis: int | None = 0) -> torch.Tensor:
    """Quantise in the forward pass with a straight-through gradient (max-abs scale: no clipping region)."""
    if bits is None:
        return w
    return w + (quant_forward(w.detach(), bits, axis) - w).detach()


def add_noise(w: torch.Tensor, sigma: float, axis: int | None = None) -> torch.Tensor:
    """w + N(0, (sigma * max|w|)^2), max per tensor or per index along ``axis``; the noise has no gradient."""
    if sigma <= 0:
        return w
    with torch.no_grad():
        if axis is None:
            wmax = w.abs().max()
        else:
            red = [i for i in range(w.dim()) if i != axis]
            wmax = w.abs().amax(dim=red, keepdim=True)
        eps = torch.randn_like(w) * sigma * wmax
    return w + eps


def ternarise_ste(z: torch.Tensor, alpha: float, dim: int | None) -> torch.Tensor:
    """GSU Ter(z) (Eq. 18, inclusive threshold) with a straight-through gradient."""
    with torch.no_grad():
        thr = alpha * (z.abs().amax(dim=dim, keepdim=True) if dim is not None else z.abs().max())
        t = (z >= thr).to(z.dtype) * (thr > 0) - (z <= -thr).to(z.dtype) * (thr > 0)
    return z + (t - z).detach()


class Spike(torch.autograd.Function):
    """Heaviside s = [x > 0] with a surrogate derivative."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, surrogate: str) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.surrogate = surrogate
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, g: torch.Tensor):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        if ctx.surrogate == "arctan":
            d = 1.0 / (1.0 + (math.pi * x) ** 2)
        else:
            d = 1.0 / (25.0 * x.abs() + 1.0) ** 2
        return g * d, None


class TorchS4D(nn.Module):
    """Trainable S4D / Binary S4D / GSU stack whose state dict matches :func:`expected_shapes`."""

    def __init__(
        self,
        cfg: S4DConfig,
        rng: np.random.Generator,
        surrogate: str = "arctan",
        dropout: float = 0.0,
        dt_range: tuple[float, float] = (1e-3, 1e-1),
        abar_max: float | None = None,
    ):
        super().__init__()
        from workloads.s4d.model import S4DModel

        if abar_max is not None and not (0.0 < abar_max < 1.0 and cfg.discretisation == "zoh"):
            raise ConfigError("abar_max", f"must be in (0, 1) with the zoh discretisation, got {abar_max!r}")
        self.cfg, self.surrogate, self.sigma, self.abar_max = cfg, surrogate, 0.0, abar_max
        init = S4DModel.random(cfg, rng, dt_range).weights
        self.params = nn.ParameterDict(
            {k.replace(".", "__"): nn.Parameter(torch.tensor(v, dtype=torch.float32)) for k, v in init.items()}
        )
        self.drop = nn.Dropout(dropout)
        self.analog = False
        self.cores: dict[str, Any] = {}
        self.recurrences: list[Any] = []
        self.ssm_replicas = 1  # state replicas of the analog recurrence (workloads.s4d.ssm.replica_index)

    def to_analog(self, hwa: Any, key: int = 0) -> None:
        """Put every dense product (and the recurrence, if ``hwa.ssm_recurrence`` is analog) on analog tiles."""
        from aimc_sim.hwa import AnalogBlockRecurrence, AnalogCore

        cfg = self.cfg
        mix = ["mix.ter_x", "mix.ter_w"] if cfg.variant == "gsu" else ["mix"]
        names = ["encoder"] + [f"layers.{i}.{m}" for i in range(cfg.n_layers) for m in mix] + ["decoder"]
        self.cores = {name: AnalogCore(hwa, (key, j)) for j, name in enumerate(names)}
        n_rec = cfg.n_layers if hwa.ssm_recurrence == "analog" else 0
        self.recurrences = [AnalogBlockRecurrence(hwa, (key, len(names) + i)) for i in range(n_rec)]
        self.analog = True

    def _lin(self, name: str, x: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
        """x @ W^T (W: out x in), on analog tiles when converted and switched on."""
        if not (self.analog and name in self.cores):
            return x @ W.T
        lead = x.shape[:-1]
        return self.cores[name].matmul(x.reshape(-1, x.shape[-1]), W.T).reshape(*lead, W.shape[0])

    def p(self, name: str) -> torch.Tensor:
        return self.params[name.replace(".", "__")]

    def state_numpy(self) -> dict[str, np.ndarray]:
        """Tensors by checkpoint name (float32 numpy); log_A_real as the pole bound leaves it."""
        out = {k: self.p(k).detach().numpy().copy() for k in expected_shapes(self.cfg)}
        for i in range(self.cfg.n_layers):
            out[f"layers.{i}.ssm.log_A_real"] = torch.log(self.decay(i)).detach().numpy()
        return out

    def decay(self, i: int) -> torch.Tensor:
        """-Re(A) (H, P) of layer i; with ``abar_max`` at least -ln(abar_max) / Delta, so that every ZOH pole
        |Abar| = exp(-Delta |Re A|) <= abar_max (a margin against programming error and drift of Abar)."""
        pre = f"layers.{i}.ssm."
        a = torch.exp(self.p(pre + "log_A_real"))
        if self.abar_max is None:
            return a
        dt = torch.exp(self.p(pre + "log_dt"))[:, None]
        return torch.maximum(a, -math.log(self.abar_max) / dt)

    def _w(self, name: str, axis: int | None = 0) -> torch.Tensor:
        return add_noise(fake_quant(self.p(name), self.cfg.w_bits, axis), self.sigma if self.training else 0.0)

    def fused(self, i: int) -> torch.Tensor:
        """Fused real matrices M (H, 2P+1, 2P+1) of layer i, quantised (and noisy in training)."""
        cfg, pre = self.cfg, f"layers.{i}.ssm."
        P = cfg.n_modes
        dt = torch.exp(self.p(pre + "log_dt"))[:, None]
        Ar, Ai = -self.decay(i), self.p(pre + "A_imag")
        A = torch.complex(Ar, Ai)
        dtA = dt * A
        if cfg.discretisation == "zoh":
            dA = torch.exp(dtA)
            dB = (dA - 1.0) / A
        else:
            den = 1.0 - dtA / 2.0
            dA, dB = (1.0 + dtA / 2.0) / den, dt / den
        ab = torch.stack([dA.real, dA.imag], -1)
        if cfg.a_bits is not None:
            ab = fake_quant(ab, cfg.a_bits, 0)
            mag = torch.sqrt((ab**2).sum(-1, keepdim=True))
            ab = torch.where(mag > 1 - cfg.clamp_eps, ab / mag * (1 - cfg.clamp_eps), ab)
        bb = fake_quant(torch.stack([dB.real, dB.imag], -1), cfg.w_bits, 0)
        C = fake_quant(self.p(pre + "C"), cfg.w_bits, 0)
        D = fake_quant(self.p(pre + "D"), cfg.w_bits, None)
        H = cfg.d_model
        idx = torch.arange(P)
        state = torch.zeros(H, 2 * P, 2 * P + 1)
        state[:, idx, idx] = ab[..., 0]
        state[:, idx, P + idx] = -ab[..., 1]
        state[:, P + idx, idx] = ab[..., 1]
        state[:, P + idx, P + idx] = ab[..., 0]
        state[:, idx, 2 * P] = bb[..., 0]
        state[:, P + idx, 2 * P] = bb[..., 1]
        out = torch.cat([2 * C[..., 0], -2 * C[..., 1]], dim=1)
        row = torch.einsum("hs,hsj->hj", out, state)
        row = row + torch.nn.functional.pad(D[:, None], (2 * P, 0))
        M = torch.cat([state, row[:, None, :]], dim=1)
        if self.training and self.sigma > 0:  # one w_max per crossbar column = per row of M (per-column scaling)
            with torch.no_grad():
                eps = torch.randn_like(M) * self.sigma * M.abs().amax(dim=2, keepdim=True)
            M = M + eps
        return M

    def ssm(self, i: int, u: torch.Tensor) -> torch.Tensor:
        """y = K * u with K from the fused matrix (see module docstring); u is (B, L, H). On analog tiles: the
        recurrence itself."""
        M = self.fused(i)
        if self.analog and self.recurrences:
            if self.ssm_replicas > 1:
                idx, scale = (torch.as_tensor(a) for a in replica_index(M.shape[1], self.ssm_replicas))
                M = M[:, idx][:, :, idx] * scale.to(M.dtype)
            return self.recurrences[i](M, u)
        S = M.shape[1] - 1
        As, b, mx, mu = M[:, :S, :S], M[:, :S, S], M[:, S, :S], M[:, S, S]
        L = u.shape[1]
        ks = [mu]
        v = b
        for _ in range(L - 1):
            ks.append((mx * v).sum(-1))
            v = torch.einsum("hij,hj->hi", As, v)
        K = torch.stack(ks, dim=-1)  # (H, L)
        n = 2 * L
        y = torch.fft.irfft(torch.fft.rfft(u, n=n, dim=1) * torch.fft.rfft(K.T, n=n, dim=0)[None], n=n, dim=1)
        return y[:, :L]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        H = cfg.d_model
        h = self._lin("encoder", x, self._w("encoder.weight")) + self.p("encoder.bias")
        for i in range(cfg.n_layers):
            y = self.ssm(i, h)
            pre = f"layers.{i}."
            if cfg.variant == "gsu":
                W = self._w(pre + "mix.weight")
                terW = ternarise_ste(self.p(pre + "mix.weight"), cfg.gsu_alpha, None)
                noisy_terW = add_noise(terW, self.sigma if self.training else 0.0)
                gate = self._lin(pre + "mix.ter_x", ternarise_ste(y, cfg.gsu_alpha, -1), W) + self.p(pre + "mix.bias_b")
                z = gate * (self._lin(pre + "mix.ter_w", y, noisy_terW) + self.p(pre + "mix.bias_c"))
            else:
                a = nn.functional.gelu(y) if cfg.variant == "s4d" else Spike.apply(y, self.surrogate)
                z = self._lin(pre + "mix", self.drop(a), self._w(pre + "mix.weight")) + self.p(pre + "mix.bias")
                z = z[..., :H] * torch.sigmoid(z[..., H:])
            z = self.drop(z)
            h = nn.functional.layer_norm(
                h + z if cfg.residual else z, (H,), self.p(pre + "norm.weight"), self.p(pre + "norm.bias")
            )
            if cfg.variant == "gsu":
                h = nn.functional.gelu(h)
        if cfg.pool == "mean":
            h = h.mean(dim=1)
        return self._lin("decoder", h, self._w("decoder.weight")) + self.p("decoder.bias")
