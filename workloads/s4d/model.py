"""S4D, Binary S4D and GSU sequence classifiers: numpy inference from trained checkpoints.

Block (docs/s4d.md#block; https://github.com/state-spaces/s4/blob/main/example.py):
encoder -> n_layers x [S4D -> GELU -> Conv1d(H->2H, k=1) + GLU -> residual -> LayerNorm] -> mean-pool -> decoder.
Variants (Stan & Rhodes 2024, arXiv 2401.00955): "binary" replaces GELU by the spike s = [y > 0] (Eq. 12);
"gsu" replaces GELU + GLU by GSU(y) = (Ter(y) W^T + b) * (y Ter(W)^T + c) (Eqs. 17-18), followed by
LayerNorm and GELU.

Checkpoints hold the continuous SSM parameters; the deployed (discretised, quantised, pruned) tensors are
computed at load time by the same rules that the training code uses (:mod:`workloads.s4d.quant`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import erf

from aimc_sim.errors import ConfigError, DataError
from workloads.data.base import SequenceDataset, check_sequences
from workloads.io import load_weights, save_weights
from workloads.result import score
from workloads.s4d.config import S4DConfig
from workloads.s4d.quant import bits_per_weight, quantise, quantise_abar, ternarise
from workloads.s4d.ssm import discretise, fused_matrix, init_ssm, ssm_fft, ssm_fused, ssm_kernel, ssm_recurrence

if TYPE_CHECKING:
    from workloads.s4d.hardware import HardwareS4D

LinearFn = Callable[[str, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
SSMFn = Callable[[int, np.ndarray], np.ndarray]


def expected_shapes(cfg: S4DConfig) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor a checkpoint of ``cfg`` must hold (torch ``nn.Linear`` layout: out x in)."""
    H, P = cfg.d_model, cfg.n_modes
    shapes: dict[str, tuple[int, ...]] = {"encoder.weight": (H, cfg.d_in), "encoder.bias": (H,)}
    for i in range(cfg.n_layers):
        p = f"layers.{i}."
        shapes |= {
            p + "ssm.log_dt": (H,),
            p + "ssm.log_A_real": (H, P),
            p + "ssm.A_imag": (H, P),
            p + "ssm.C": (H, P, 2),
            p + "ssm.D": (H,),
            p + "norm.weight": (H,),
            p + "norm.bias": (H,),
        }
        if cfg.variant == "gsu":
            shapes |= {p + "mix.weight": (H, H), p + "mix.bias_b": (H,), p + "mix.bias_c": (H,)}
        else:
            shapes |= {p + "mix.weight": (2 * H, H), p + "mix.bias": (2 * H,)}
    shapes |= {"decoder.weight": (cfg.n_classes, H), "decoder.bias": (cfg.n_classes,)}
    return shapes


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as torch.nn.GELU()."""
    return (0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))).astype(x.dtype, copy=False)


def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """LayerNorm over the last axis (biased variance, as torch)."""
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return ((x - mu) / np.sqrt(var + eps) * w + b).astype(x.dtype, copy=False)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return (0.5 * (1.0 + np.tanh(0.5 * x))).astype(x.dtype, copy=False)


@dataclass
class DeployedLayer:
    """Discretised, quantised and pruned tensors of one layer as they are mapped onto hardware."""

    dA: np.ndarray
    dB: np.ndarray
    C: np.ndarray
    D: np.ndarray
    mode_mask: np.ndarray
    channel_mask: np.ndarray
    M: np.ndarray
    mix: dict[str, np.ndarray]
    norm_w: np.ndarray
    norm_b: np.ndarray
    n_clamped: int
    n_collapsed: int


class S4DModel:
    """A trained S4D-family classifier; build with :meth:`load` (or :meth:`random` for tests)."""

    def __init__(self, config: S4DConfig, weights: dict[str, np.ndarray], metadata: dict[str, Any] | None = None):
        self.config = config
        self.metadata = dict(metadata or {})
        shapes = expected_shapes(config)
        missing = [k for k in shapes if k not in weights]
        if missing:
            raise DataError(missing[0], f"tensor missing from checkpoint (expected shape {shapes[missing[0]]})")
        for k, shape in shapes.items():
            a = np.asarray(weights[k])
            if a.shape != shape:
                raise DataError(k, f"must have shape {shape}, got {a.shape}")
            if a.dtype.kind not in "fiu" or not np.all(np.isfinite(a)):
                raise DataError(k, "must be a finite real array")
        self.weights = {k: np.asarray(weights[k]) for k in shapes}  # as stored (saved back unchanged)
        w64 = {k: v.astype(np.float64) for k, v in self.weights.items()}
        self.layers = [self._deploy(w64, i) for i in range(config.n_layers)]
        self.encoder = (quantise(w64["encoder.weight"], config.bits("encoder"), 0), w64["encoder.bias"])
        self.decoder = (quantise(w64["decoder.weight"], config.bits("decoder"), 0), w64["decoder.bias"])

    # ----------------------------------------------------------------- construction
    @classmethod
    def load(cls, path: str | Path, **overrides: Any) -> S4DModel:
        """Load a checkpoint (npz, HDF5, safetensors or torch ``.pt``); ``overrides`` replace config fields.

        The project's own files carry their config in the metadata. A state dict without it (the state-spaces
        reference ``S4Model``, or the project's keys saved from torch) is mapped and its config inferred from
        the tensor shapes (:mod:`workloads.s4d.checkpoint`).
        """
        from workloads.s4d.checkpoint import project_tensors

        tensors, meta = load_weights(path)
        if "model" in meta:
            fields = meta["model"]
        else:
            tensors, fields = project_tensors(tensors, str(path))
            meta = {**meta, "model": fields, "source": "inferred from tensor shapes"}
        cfg = S4DConfig.from_dict({**fields, **overrides}, "model")
        return cls(cfg, tensors, meta)

    @classmethod
    def random(
        cls, config: S4DConfig, rng: np.random.Generator, dt_range: tuple[float, float] = (1e-3, 1e-1)
    ) -> S4DModel:
        """An untrained model with S4D initialisation, Delta log-uniform in ``dt_range`` (tests, training)."""
        H = config.d_model
        w: dict[str, np.ndarray] = {}
        for k, shape in expected_shapes(config).items():
            fan_in = shape[-1] if len(shape) == 2 else 1
            w[k] = rng.standard_normal(shape) / np.sqrt(fan_in) if len(shape) == 2 else np.zeros(shape)
        for i in range(config.n_layers):
            p = f"layers.{i}."
            ssm = init_ssm(H, config.n_modes, rng, config.init, *dt_range)
            w |= {p + "ssm." + k: v for k, v in ssm.items()}
            w[p + "norm.weight"] = np.ones(H)
        return cls(config, w, {"model": config.to_dict()})

    def save(self, path: str | Path, training: dict[str, Any] | None = None) -> Path:
        """Write the checkpoint with the model config (and optional training config) in the metadata."""
        meta = {**self.metadata, "model": self.config.to_dict()}
        if training is not None:
            meta["training"] = training
        return save_weights(path, self.weights, meta)

    def with_config(self, **changes: Any) -> S4DModel:
        """The same weights under a changed config, e.g. ``with_config(w_bits=4)`` for PTQ."""
        return S4DModel(self.config.replace(**changes), self.weights, self.metadata)

    def _deploy(self, w: dict[str, np.ndarray], i: int) -> DeployedLayer:
        cfg, p = self.config, f"layers.{i}."
        dA, dB = discretise(w[p + "ssm.log_dt"], w[p + "ssm.log_A_real"], w[p + "ssm.A_imag"], cfg.discretisation)
        dA, n_clamped, n_collapsed = quantise_abar(dA, cfg.a_bits, cfg.clamp_eps)
        qB = quantise(np.stack([dB.real, dB.imag], -1), cfg.bits("B"), 0)
        qC = quantise(w[p + "ssm.C"], cfg.bits("C"), 0)
        D = quantise(w[p + "ssm.D"], cfg.bits("D"), None)
        if cfg.variant == "gsu":
            W = w[p + "mix.weight"]
            mix = {"W": quantise(W, cfg.bits("mix"), 0), "terW": ternarise(W, cfg.gsu_alpha, None)}
            mix |= {"b": w[p + "mix.bias_b"], "c": w[p + "mix.bias_c"]}
            used_by_mix = np.ones(cfg.d_model, dtype=bool)
        else:
            mix = {"W": quantise(w[p + "mix.weight"], cfg.bits("mix"), 0), "b": w[p + "mix.bias"]}
            used_by_mix = np.any(mix["W"] != 0, axis=0)
        dB, C = qB[..., 0] + 1j * qB[..., 1], qC[..., 0] + 1j * qC[..., 1]
        mode_mask = np.ones(dA.shape, dtype=bool)
        channel_mask = np.ones(cfg.d_model, dtype=bool)
        if cfg.prune:  # docs/s4d.md#quantisation: unreachable/unobservable modes, channels unused by mixing
            mode_mask = (dB != 0) & (C != 0)
            channel_mask = used_by_mix & mode_mask.any(axis=1) | (D != 0) & used_by_mix
            dB, C = np.where(mode_mask, dB, 0), np.where(mode_mask, C, 0)
        M = fused_matrix(*_compact(dA, dB, C, mode_mask), D)
        norm = (w[p + "norm.weight"], w[p + "norm.bias"])
        return DeployedLayer(dA, dB, C, D, mode_mask, channel_mask, M, mix, *norm, n_clamped, n_collapsed)

    # ----------------------------------------------------------------- inference
    def check_input(self, x: np.ndarray, name: str = "x") -> np.ndarray:
        """Validate the sequence shape (n, L, d_in) against the model."""
        x = np.asarray(x)
        L = x.shape[1] if x.ndim == 3 else 1
        return check_sequences(x, L, self.config.d_in, name)

    def forward(self, x: np.ndarray, mode: str = "recurrent") -> np.ndarray:
        """Float logits (n, classes) or (n, L, classes); ``mode``: "fft", "recurrent" or "fused"."""
        x = self.check_input(x)
        if mode not in ("fft", "recurrent", "fused"):
            raise ConfigError("mode", f"must be one of 'fft', 'recurrent', 'fused', got {mode!r}")

        return self.run(x, lambda i, u: self.ssm_forward(i, u, mode), _float_linear)

    def ssm_forward(self, i: int, u: np.ndarray, mode: str = "recurrent") -> np.ndarray:
        """Float SSM of layer ``i`` on u (B, L, H) as FFT convolution, complex recurrence or fused real loop."""
        lay = self.layers[i]
        if mode == "fft":
            return ssm_fft(u, ssm_kernel(lay.dA, lay.dB, lay.C, u.shape[1]), lay.D)
        if mode == "recurrent":
            return ssm_recurrence(u, lay.dA, lay.dB, lay.C, lay.D).astype(u.dtype)
        return ssm_fused(u, lay.M)

    def ssm_states(self, i: int, u: np.ndarray) -> np.ndarray:
        """Real states [x_r; x_i] of layer ``i``'s fused recurrence *before* each step: (B, L, H, 2P_eff)."""
        M = self.layers[i].M
        B_, L, H = u.shape
        S = M.shape[1] - 1
        Mt = np.swapaxes(M, 1, 2).astype(u.dtype)
        v = np.zeros((H, B_, S + 1), dtype=u.dtype)
        out = np.zeros((B_, L, H, S), dtype=u.dtype)
        for k in range(L):
            out[:, k] = np.swapaxes(v[:, :, :S], 0, 1)
            v[:, :, S] = u[:, k].T
            v[:, :, :S] = np.matmul(v, Mt)[:, :, :S]
        return out

    def run(self, x: np.ndarray, ssm: SSMFn, linear: LinearFn) -> np.ndarray:
        """The block structure with pluggable SSM and dense-product implementations (float or hardware)."""
        cfg = self.config
        n, L, _ = x.shape
        H = cfg.d_model
        h = linear("encoder", x.reshape(n * L, -1), *self.encoder).reshape(n, L, H)
        for i in range(cfg.n_layers):
            h = self.block(i, h, ssm, linear)
        if cfg.pool == "mean":
            return linear("decoder", h.mean(axis=1), *self.decoder)
        return linear("decoder", h.reshape(n * L, H), *self.decoder).reshape(n, L, -1)

    def block(self, i: int, h: np.ndarray, ssm: SSMFn, linear: LinearFn) -> np.ndarray:
        """Layer ``i`` on h (n, L, H): SSM, activation and mixing (GLU or GSU), residual, LayerNorm (and GELU
        after GSU); the unit that general networks host as one op (:mod:`workloads.network.sequence_ops`)."""
        cfg, lay = self.config, self.layers[i]
        n, L, H = h.shape
        y = ssm(i, h) * lay.channel_mask
        y2 = y.reshape(n * L, H)
        name = f"layers.{i}.mix"
        if cfg.variant == "gsu":
            a = ternarise(y2, cfg.gsu_alpha, -1)
            z = linear(name + ".ter_x", a, lay.mix["W"], lay.mix["b"]) * linear(
                name + ".ter_w", y2, lay.mix["terW"], lay.mix["c"]
            )
        else:
            a = gelu(y2) if cfg.variant == "s4d" else (y2 > 0).astype(y2.dtype)
            z = linear(name, a, lay.mix["W"], lay.mix["b"])
            z = z[:, :H] * sigmoid(z[:, H:])
        z = z.reshape(n, L, H)
        h = layer_norm(h + z if cfg.residual else z, lay.norm_w, lay.norm_b)
        return gelu(h) if cfg.variant == "gsu" else h

    def accuracy(self, x: np.ndarray, y: np.ndarray, mode: str = "recurrent") -> float:
        """Float accuracy on (x, y); per-step labels of -1 are ignored."""
        return score(self.forward(x, mode), y)

    def evaluate(self, dataset: SequenceDataset, n_test: int | None = None, mode: str = "recurrent") -> float:
        """Float test accuracy on ``dataset`` (first ``n_test`` samples)."""
        x, y = dataset.test_subset(n_test)
        return self.accuracy(x, y, mode)

    def on(self, hardware: Any) -> HardwareS4D:
        """Bind to a hardware config (object, dict or YAML path): ``model.on(hw).evaluate(dataset)``."""
        from workloads.s4d.hardware import HardwareS4D

        return HardwareS4D(self, hardware)

    # ----------------------------------------------------------------- reporting
    def complexity(self, recurrence: str = "analog") -> dict[str, float]:
        """Parameters, weight bits, MACs / accumulates (ACs) per step and ADC conversions per step
        (docs/s4d.md#cost-report)."""
        cfg = self.config
        H, L_unused = cfg.d_model, None
        del L_unused
        bw = {c: bits_per_weight(cfg.bits(c)) for c in ("encoder", "B", "C", "D", "mix", "decoder")}
        abits = bits_per_weight(cfg.a_bits)
        params = sum(int(np.prod(s)) for s in expected_shapes(cfg).values())
        n_bits = self.encoder[0].size * bw["encoder"] + self.decoder[0].size * bw["decoder"]
        n_bits += (H + cfg.n_classes) * 32
        macs = float(self.encoder[0].size)
        acs = 0.0
        adc = float(H)
        kept = 0
        for lay in self.layers:
            modes = int(lay.mode_mask[lay.channel_mask].sum())
            chans = int(lay.channel_mask.sum())
            kept += modes
            n_bits += 2 * modes * (abits + bw["B"] + bw["C"]) + chans * bw["D"] + 2 * H * 32
            mix_w = lay.mix["W"]
            n_bits += mix_w.size * bw["mix"] + sum(v.size for k, v in lay.mix.items() if k not in ("W", "terW")) * 32
            nnz_ssm = float(np.count_nonzero(lay.M[lay.channel_mask]))
            macs += nnz_ssm
            if recurrence == "analog":
                adc += chans * lay.M.shape[1]
            ternary_w = cfg.bits("mix") == "ternary"
            if cfg.variant == "gsu":
                acs += float(np.count_nonzero(mix_w) + np.count_nonzero(lay.mix["terW"]))
                macs += H  # the Hadamard product
                adc += 2 * H
            elif cfg.variant == "binary" or ternary_w:
                acs += float(np.count_nonzero(mix_w))
                adc += 2 * H
            else:
                macs += float(np.count_nonzero(mix_w))
                adc += 2 * H
        return {
            "params": float(params),
            "weight_bits": float(n_bits),
            "macs_per_step": macs,
            "acs_per_step": acs,
            "adc_per_step": adc,
            "kept_modes": float(kept),
            "clamped_modes": float(sum(lay.n_clamped for lay in self.layers)),
        }


def _compact(dA: np.ndarray, dB: np.ndarray, C: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, ...]:
    """Move each channel's kept modes first and drop the mode slots no channel uses (pruning)."""
    if mask.all():
        return dA, dB, C
    order = np.argsort(~mask, axis=1, kind="stable")
    p_eff = max(int(mask.sum(axis=1).max()), 1)
    take = order[:, :p_eff]
    keep = np.take_along_axis(mask, take, 1)
    pick = [np.where(keep, np.take_along_axis(a, take, 1), 0) for a in (dA, dB, C)]
    return tuple(pick)


def _float_linear(name: str, x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    del name
    return (x @ W.T.astype(x.dtype, copy=False) + b).astype(x.dtype, copy=False)
