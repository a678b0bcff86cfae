"""Torch twin of :mod:`workloads.glr.model` for training (CPU): the same block, with the dense products on
:class:`aimc_sim.hwa.AnalogCore` tiles after ``to_analog`` (hardware-aware training; the gated recurrence stays
digital, as ``workloads.glr.hardware`` maps it)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from workloads.glr.model import GLRConfig, GLRModel, expected_shapes, matrices


def gated_scan(a: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """s_t = a_t * s_{t-1} + (1 - a_t) * z_t over dim 1 of (B, L, H), s_0 = 0."""
    state = torch.zeros_like(z[:, 0])
    out = []
    for k in range(z.shape[1]):
        state = a[:, k] * state + (1 - a[:, k]) * z[:, k]
        out.append(state)
    return torch.stack(out, dim=1)


class TorchGLR(nn.Module):
    """Trainable GLR whose state dict maps one-to-one onto :func:`workloads.glr.model.expected_shapes`."""

    def __init__(self, cfg: GLRConfig, rng: np.random.Generator):
        super().__init__()
        self.cfg = cfg
        init = GLRModel.random(cfg, rng).weights
        self.params = nn.ParameterDict(
            {k.replace(".", "__"): nn.Parameter(torch.tensor(v, dtype=torch.float32)) for k, v in init.items()}
        )
        self.analog = False
        self.cores: dict[str, Any] = {}

    def p(self, name: str) -> torch.Tensor:
        return self.params[name.replace(".", "__")]

    def to_analog(self, hwa: Any, key: int = 0) -> None:
        """Put every dense matrix on analog tiles of ``hwa`` (an :class:`aimc_sim.hwa.HWAConfig`)."""
        from aimc_sim.hwa import AnalogCore

        self.cores = {name: AnalogCore(hwa, (key, j)) for j, name in enumerate(matrices(self.cfg))}
        self.analog = True

    def dense(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """x W^T + b of matrix ``name``, on its analog core when converted and switched on."""
        W, b = self.p(name + ".weight"), self.p(name + ".bias")
        if not (self.analog and name in self.cores):
            return x @ W.T + b
        lead = x.shape[:-1]
        return self.cores[name].matmul(x.reshape(-1, x.shape[-1]), W.T).reshape(*lead, W.shape[0]) + b

    def state_numpy(self) -> dict[str, np.ndarray]:
        """Tensors by checkpoint name (float32 numpy)."""
        return {k: self.p(k).detach().numpy().copy() for k in expected_shapes(self.cfg)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        h = self.dense("encoder", x)
        for i in range(cfg.n_layers):
            p = f"layers.{i}."
            z = self.dense(p + "in", h)
            g = self.dense(p + "gate", h) if cfg.selective else self.p(p + "gate.bias").expand_as(z)
            s = gated_scan(torch.sigmoid(g), z)
            y = self.dense(p + "out", s)
            h = nn.functional.layer_norm(
                h + nn.functional.gelu(y), (cfg.d_model,), self.p(p + "norm.weight"), self.p(p + "norm.bias")
            )
        if cfg.pool == "mean":
            h = h.mean(dim=1)
        return self.dense("decoder", h)
