"""Differentiable analog layers for torch: ``AnalogLinear``, ``AnalogConv1d`` and ``AnalogConv2d`` (the
block-diagonal recurrence of an SSM, ``AnalogBlockRecurrence``, is in :mod:`aimc_sim.hwa.recurrence`).

Forward: every call programs the current weights afresh on tiles of the configured preset (programming noise,
per-device drift exponents, ADC mismatch: :mod:`aimc_sim.hwa.programming`, i.e. the device model and the tile
code themselves), reads them at a time t drawn from ``HWAConfig.t_range`` with the tile's drift compensation,
and runs the torch periphery (:mod:`aimc_sim.hwa.periphery`): statistically the same as ``AnalogTile.mvm``
(tests/test_hwa_layers.py). Backward: straight-through, the gradient of y_lin = x @ W_eff with
W_eff = W + (W_prog(t) - W).detach() at the hardware's output (``_StraightThrough``): that of the programmed
and drifted weights for x, and that of the ideal layer for W (quantisers, noise and clipping are passed through).

``layer.analog = False`` makes a layer an exact float layer (e.g. for float validation during training).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from aimc_sim.crossbar import TileConfig
from aimc_sim.errors import ConfigError
from aimc_sim.hwa._torch import require_torch
from aimc_sim.hwa.config import HWAConfig
from aimc_sim.hwa.periphery import TorchRead, analog_forward
from aimc_sim.hwa.programming import needs_inputs, program_matrix

torch = require_torch()
nn = torch.nn
F = torch.nn.functional

__all__ = ["AnalogCore", "AnalogLinear", "AnalogConv1d", "AnalogConv2d"]


def _numpy(t: Any) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy()


class AnalogCore:
    """Programming and noise streams of one analog matrix: numpy ``rng`` (programming, read times) and a torch
    generator (per-MVM noise), spawned from ``SeedSequence([hwa.seed, *key])`` (``key``: an int or ints)."""

    def __init__(self, hwa: HWAConfig, key: int | tuple[int, ...], tile: TileConfig | None = None):
        self.hwa = hwa
        self.tile = tile if tile is not None else hwa.tile_config()
        keys = (key,) if isinstance(key, int) else tuple(key)
        prog_seq, noise_seq = np.random.SeedSequence([hwa.seed, *keys]).spawn(2)
        self.rng = np.random.default_rng(prog_seq)
        self._gen_seed = int(noise_seq.generate_state(1, np.uint64)[0] >> np.uint64(1))
        self._gens: dict[str, Any] = {}
        self.last_t: float | None = None

    def generator(self, device: Any) -> Any:
        """The torch generator for per-MVM noise on ``device`` (one per device type)."""
        key = str(device)
        if key not in self._gens:
            self._gens[key] = torch.Generator(device=device).manual_seed(self._gen_seed)
        return self._gens[key]

    def draw_time(self) -> float:
        self.last_t = self.hwa.draw_time(self.rng)
        return self.last_t

    def matmul(self, x: Any, W: Any) -> Any:
        """x (B, n_in) @ W (n_in, n_out) on freshly programmed tiles, with the straight-through gradient."""
        t = self.draw_time()
        x_np = _numpy(x) if needs_inputs(self.tile) else None
        reads = program_matrix(self.tile, _numpy(W), self.rng, t, x_np)
        gen = self.generator(x.device)

        def hardware() -> tuple[Any, Any]:
            y_hw = None if len(reads) == 1 else torch.zeros(x.shape[0], W.shape[1], dtype=x.dtype, device=x.device)
            W_prog = torch.zeros(W.shape, dtype=W.dtype, device=W.device)
            for rd in reads:
                (r0, r1), (c0, c1) = rd.rows, rd.cols
                tr = TorchRead.stack([rd], r1 - r0, c1 - c0, x.dtype, x.device)
                y = analog_forward(x[None, :, r0:r1], tr, self.tile, gen)[0]
                if y_hw is None:  # one tile: its outputs are the layer's
                    y_hw = y.contiguous()
                else:
                    y_hw[:, c0:c1] += y
                W_prog[r0:r1, c0:c1] = torch.as_tensor(rd.effective_weights(), dtype=W.dtype, device=W.device)
            return y_hw, W_prog

        return _StraightThrough.apply(x, W, hardware)


class _StraightThrough(torch.autograd.Function):
    """y = x @ W on the tiles in the forward pass (``hardware()`` -> (y_hw, W_prog)); in the backward pass the
    gradient of y_lin = x @ W_eff with W_eff = W + (W_prog - W).detach(): g @ W_prog^T for x, x^T @ g for W."""

    @staticmethod
    def forward(ctx: Any, x: Any, W: Any, hardware: Any) -> Any:  # type: ignore[override]
        y_hw, W_prog = hardware()
        ctx.save_for_backward(x, W_prog)
        return y_hw

    @staticmethod
    def backward(ctx: Any, g: Any) -> tuple[Any, Any, None]:  # type: ignore[override]
        x, W_prog = ctx.saved_tensors
        gx = g @ W_prog.T if ctx.needs_input_grad[0] else None
        gW = x.T @ g if ctx.needs_input_grad[1] else None
        return gx, gW, None


class _AnalogModule(nn.Module):
    """Shared parts of the analog weight layers: the core, the float switch, the matmul."""

    def _init_core(self, hwa: HWAConfig, key: int, name: str) -> None:
        self.core = AnalogCore(hwa, key)
        self.analog = True
        self.layer_name = name

    def _product(self, x2: Any, W_io: Any) -> Any:
        if not self.analog:
            return x2 @ W_io
        return self.core.matmul(x2, W_io)


class AnalogLinear(_AnalogModule):
    """nn.Linear (weight out x in, bias) on analog tiles; ``key`` seeds its streams."""

    def __init__(self, in_features: int, out_features: int, bias: bool, hwa: HWAConfig, key: int = 0, name: str = ""):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)
        self._init_core(hwa, key, name)

    @classmethod
    def from_float(cls, m: Any, hwa: HWAConfig, key: int = 0, name: str = "") -> AnalogLinear:
        out = cls(m.in_features, m.out_features, m.bias is not None, hwa, key, name)
        with torch.no_grad():
            out.weight.copy_(m.weight)
            if m.bias is not None:
                out.bias.copy_(m.bias)
        return out.to(m.weight.device)

    def forward(self, x: Any) -> Any:
        lead = x.shape[:-1]
        y = self._product(x.reshape(-1, self.in_features), self.weight.T)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*lead, self.out_features)


class _AnalogConvNd(_AnalogModule):
    """Convolution as patches @ W (im2col) on analog tiles: one tile row per input channel x kernel tap."""

    dims = 2

    def __init__(self, conv: Any, hwa: HWAConfig, key: int = 0, name: str = ""):
        super().__init__()
        if conv.groups != 1:
            raise ConfigError(name or "conv", f"groups = {conv.groups}: only groups = 1 has an analog mapping")
        if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            raise ConfigError(name or "conv", "only explicit zero padding has an analog mapping")
        self.weight = nn.Parameter(conv.weight.detach().clone())
        self.bias = nn.Parameter(conv.bias.detach().clone()) if conv.bias is not None else None
        self.out_channels = conv.out_channels
        pad = (1,) * (2 - self.dims)
        self.kernel = pad + tuple(conv.kernel_size)
        self.stride = pad + tuple(conv.stride)
        self.padding = (0,) * (2 - self.dims) + tuple(conv.padding)
        self.dilation = pad + tuple(conv.dilation)
        self._init_core(hwa, key, name)

    @classmethod
    def from_float(cls, m: Any, hwa: HWAConfig, key: int = 0, name: str = "") -> _AnalogConvNd:
        return cls(m, hwa, key, name).to(m.weight.device)

    def forward(self, x: Any) -> Any:
        x4 = x.unsqueeze(2) if self.dims == 1 else x
        B, _, H, W = x4.shape
        cols = F.unfold(x4, self.kernel, self.dilation, self.padding, self.stride)  # (B, C k, L)
        sizes = [
            (n + 2 * p - d * (k - 1) - 1) // s + 1
            for n, p, d, k, s in zip((H, W), self.padding, self.dilation, self.kernel, self.stride)
        ]
        patches = cols.transpose(1, 2).reshape(-1, cols.shape[1])
        y = self._product(patches, self.weight.reshape(self.out_channels, -1).T)
        if self.bias is not None:
            y = y + self.bias
        y = y.reshape(B, sizes[0] * sizes[1], self.out_channels).transpose(1, 2).reshape(B, -1, *sizes)
        return y.squeeze(2) if self.dims == 1 else y


class AnalogConv1d(_AnalogConvNd):
    """nn.Conv1d on analog tiles (groups = 1, zero padding)."""

    dims = 1


class AnalogConv2d(_AnalogConvNd):
    """nn.Conv2d on analog tiles (groups = 1, zero padding)."""

    dims = 2
