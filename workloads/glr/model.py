"""Gated linear recurrence (GLR) with input-dependent (selective) forgetting, Mamba / SelectivBench family.

Block (per layer, on u of shape (B, L, H))::

    z_t = W_in u_t + b_in                 (input projection)
    a_t = sigmoid(W_a u_t + b_a)          (forget gate per channel; ``selective: false``: a = sigmoid(b_a), fixed)
    s_t = a_t * s_{t-1} + (1 - a_t) * z_t (elementwise gated recurrence, s_0 = 0)
    y_t = W_out s_t + b_out               (output projection: the channel mixing)
    h   = LayerNorm(u + GELU(y))

encoder (d_in -> H) before the layers; decoder (H -> classes) after mean-pooling (``pool: mean``) or per step
(``pool: none``). a_t near 0 forgets the state in one step (fast forgetting), a_t near 1 holds it; b = 1 - a keeps
the state a convex combination of the projected inputs, so |s| <= max |z| whatever the gates do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from aimc_sim.config import Config, check, int_in, one_of
from aimc_sim.errors import DataError
from workloads.data.base import SequenceDataset, check_sequences
from workloads.io import load_weights, save_weights
from workloads.result import score
from workloads.s4d.model import gelu, layer_norm, sigmoid

if TYPE_CHECKING:
    from workloads.glr.hardware import HardwareGLR

FAMILY = "glr"
"""The ``family`` entry of a GLR checkpoint's metadata (:mod:`workloads.glr.api` tells GLR from S4D files by it)."""
LinearFn = Callable[[str, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""(matrix name, inputs (n, in), W (out x in), bias) -> outputs (n, out): float or on tiles."""
RecurrenceFn = Callable[[int, np.ndarray, np.ndarray], np.ndarray]
"""(layer, gates a (B, L, H), projected inputs z (B, L, H)) -> states s (B, L, H)."""


@dataclass(frozen=True)
class GLRConfig(Config):
    """Architecture of a GLR classifier (stored in every checkpoint's metadata under ``"model"``)."""

    d_in: int = field(metadata=check(int_in(1, 4096)))
    n_classes: int = field(metadata=check(int_in(2, 100000)))
    d_model: int = field(default=32, metadata=check(int_in(1, 4096)))
    n_layers: int = field(default=2, metadata=check(int_in(1, 64)))
    selective: bool = True
    pool: str = field(default="mean", metadata=check(one_of("mean", "none")))


def matrices(cfg: GLRConfig) -> list[str]:
    """Names of the dense matrices (each ``<name>.weight`` out x in, ``<name>.bias``) in forward order."""
    per_layer = ("in", "gate", "out") if cfg.selective else ("in", "out")
    return ["encoder"] + [f"layers.{i}.{m}" for i in range(cfg.n_layers) for m in per_layer] + ["decoder"]


def expected_shapes(cfg: GLRConfig) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor a checkpoint of ``cfg`` holds (torch ``nn.Linear`` layout: out x in)."""
    H = cfg.d_model
    shapes: dict[str, tuple[int, ...]] = {"encoder.weight": (H, cfg.d_in), "encoder.bias": (H,)}
    for i in range(cfg.n_layers):
        p = f"layers.{i}."
        for m in ("in", "gate", "out"):
            if m != "gate" or cfg.selective:
                shapes |= {p + m + ".weight": (H, H)}
            shapes |= {p + m + ".bias": (H,)}
        shapes |= {p + "norm.weight": (H,), p + "norm.bias": (H,)}
    return shapes | {"decoder.weight": (cfg.n_classes, H), "decoder.bias": (cfg.n_classes,)}


def gated_scan(a: np.ndarray, z: np.ndarray) -> np.ndarray:
    """s_t = a_t * s_{t-1} + (1 - a_t) * z_t over axis 1 of (B, L, H), s_0 = 0."""
    s = np.zeros_like(z)
    state = np.zeros_like(z[:, 0])
    for k in range(z.shape[1]):
        state = a[:, k] * state + (1 - a[:, k]) * z[:, k]
        s[:, k] = state
    return s


def float_linear(name: str, x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The float dense product x W^T + b."""
    del name
    return (x @ W.T + b).astype(x.dtype, copy=False)


class GLRModel:
    """A GLR classifier; build with :meth:`load` or :meth:`random`; ``model.on(hw).evaluate(dataset)``."""

    def __init__(self, config: GLRConfig, weights: dict[str, np.ndarray], metadata: dict[str, Any] | None = None):
        self.config = config
        self.metadata = dict(metadata or {})
        shapes = expected_shapes(config)
        for k, shape in shapes.items():
            if k not in weights:
                raise DataError(k, f"tensor missing from checkpoint (expected shape {shape})")
            a = np.asarray(weights[k])
            if a.shape != shape:
                raise DataError(k, f"must have shape {shape}, got {a.shape}")
            if a.dtype.kind not in "fiu" or not np.all(np.isfinite(a)):
                raise DataError(k, "must be a finite real array")
        self.weights = {k: np.asarray(weights[k], dtype=np.float32) for k in shapes}

    @classmethod
    def random(cls, config: GLRConfig, rng: np.random.Generator) -> GLRModel:
        """An untrained model: weights N(0, 1/fan_in), biases 0, gate biases 1 (a ~ 0.73), norm weights 1."""
        w = {}
        for k, shape in expected_shapes(config).items():
            w[k] = rng.standard_normal(shape) / np.sqrt(shape[1]) if len(shape) == 2 else np.zeros(shape)
        for i in range(config.n_layers):
            w[f"layers.{i}.gate.bias"] = np.ones(config.d_model)
            w[f"layers.{i}.norm.weight"] = np.ones(config.d_model)
        return cls(config, {k: v.astype(np.float32) for k, v in w.items()}, {"model": config.to_dict()})

    @classmethod
    def load(cls, path: str | Path) -> GLRModel:
        """Load a checkpoint written by :meth:`save` (npz, HDF5 or safetensors, config in the metadata); also
        ``workloads.load(path)`` (the ``glr`` family of :mod:`workloads.registry`)."""
        tensors, meta = load_weights(path)
        if "model" not in meta:
            raise DataError(str(path), "no GLR model config in the checkpoint metadata (key 'model')")
        return cls(GLRConfig.from_dict(meta["model"], "model"), tensors, meta)

    def save(self, path: str | Path, training: dict[str, Any] | None = None) -> Path:
        """Write the checkpoint with the model config (and optional training record) in the metadata."""
        meta = {**self.metadata, "family": FAMILY, "model": self.config.to_dict()}
        if training is not None:
            meta["training"] = training
        return save_weights(path, self.weights, meta)

    def check_input(self, x: np.ndarray, name: str = "x") -> np.ndarray:
        """Validate the sequence shape (n, L, d_in) against the model."""
        x = np.asarray(x)
        return check_sequences(x, x.shape[1] if x.ndim == 3 else 1, self.config.d_in, name)

    def run(self, x: np.ndarray, linear: LinearFn, recurrence: RecurrenceFn) -> np.ndarray:
        """The block structure with pluggable dense products and recurrence (float or hardware)."""
        cfg, w = self.config, self.weights
        n, L, _ = x.shape
        H = cfg.d_model

        def dense(name: str, a: np.ndarray) -> np.ndarray:
            return linear(name, a.reshape(-1, a.shape[-1]), w[name + ".weight"], w[name + ".bias"]).reshape(n, L, -1)

        h = dense("encoder", x)
        for i in range(cfg.n_layers):
            p = f"layers.{i}."
            z = dense(p + "in", h)
            g = dense(p + "gate", h) if cfg.selective else np.broadcast_to(w[p + "gate.bias"], (n, L, H))
            s = recurrence(i, sigmoid(g.astype(h.dtype)), z)
            y = dense(p + "out", s)
            h = layer_norm(h + gelu(y), w[p + "norm.weight"], w[p + "norm.bias"])
        if cfg.pool == "mean":
            return linear("decoder", h.mean(axis=1), w["decoder.weight"], w["decoder.bias"])
        return dense("decoder", h)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Float logits (n, classes) or (n, L, classes)."""
        return self.run(self.check_input(x), float_linear, lambda i, a, z: gated_scan(a, z))

    def evaluate(self, dataset: SequenceDataset, n_test: int | None = None) -> float:
        """Float test accuracy on the first ``n_test`` test samples (per-step labels of -1 not scored)."""
        x, y = dataset.test_subset(n_test)
        return score(self.forward(x), y)

    def on(self, hardware: Any) -> HardwareGLR:
        """Bind to a hardware config (object, dict of fields or YAML path)."""
        from workloads.glr.hardware import HardwareGLR

        return HardwareGLR(self, hardware)
