"""Channel pruning that frees tiles (QS4D "structural pruning", docs/s4d.md#pruning-whole-channels-that-frees-tiles).

An S4D layer has H independent single-input single-output SSM channels; on tiles each channel is one fused
(2P+1) x (2P+1) block, k channels per tile (docs/s4d.md#packing). Removing modes (the existing ``prune``) leaves
every channel in place, so no tile is freed. Here whole channels are removed and the rest re-packed:

- **Importance** of channel h in layer i: s_h = rms(y_h) * ||W_mix[:, h]||_2, the RMS of the channel's SSM output
  over calibration sequences (float model) times the norm of the mixing column it feeds: the size of its
  contribution to the mixing pre-activation, before the GELU.
- **Pruning** keeps the ``n_keep`` most important channels of every layer: the deployed layer's channel mask
  drops the others (their output is 0, as for channels the mode pruning of ``prune: true`` drops), so
  ``workloads.s4d.hardware`` packs only the kept channels: ceil(n_keep / k) SSM tiles per layer. The kept
  channels are recorded in the checkpoint metadata (``channel_keep``; :func:`apply_pruning` after loading). The residual
  stream keeps its H features (encoder, LayerNorm and mixing outputs are unchanged): only the SSM is pruned.
- Choose ``n_keep`` as a multiple of k to free whole tiles (:func:`tiles_per_layer`).
"""

from __future__ import annotations

import numpy as np

from aimc_sim.errors import ConfigError
from workloads.s4d.model import S4DModel


def channel_importance(model: S4DModel, x_cal: np.ndarray) -> list[np.ndarray]:
    """Per layer, the importance s_h = rms(y_h) * ||W_mix[:, h]||_2 of every channel on ``x_cal`` (n, L, d_in)."""
    rms: dict[int, np.ndarray] = {}

    def ssm(i: int, u: np.ndarray) -> np.ndarray:
        y = model.ssm_forward(i, u, "fft")
        rms[i] = np.sqrt(np.mean(y.astype(np.float64) ** 2, axis=(0, 1)))
        return y

    def linear(name: str, a: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        del name
        return (a @ W.T.astype(a.dtype) + b).astype(a.dtype)

    model.run(model.check_input(x_cal, "x_cal"), ssm, linear)
    scores = []
    for i, lay in enumerate(model.layers):
        col_norm = np.linalg.norm(lay.mix["W"], axis=0)  # (H,): the column fed by channel h
        scores.append(rms[i] * col_norm * lay.channel_mask)
    return scores


def keep_masks(scores: list[np.ndarray], n_keep: int) -> list[np.ndarray]:
    """Boolean masks keeping the ``n_keep`` highest-scoring channels of every layer (ties: lower index)."""
    out = []
    for i, s in enumerate(scores):
        if not 1 <= n_keep <= len(s):
            raise ConfigError("n_keep", f"must be in [1, {len(s)}] (channels of layer {i}), got {n_keep}")
        order = np.argsort(-s, kind="stable")
        mask = np.zeros(len(s), dtype=bool)
        mask[order[:n_keep]] = True
        out.append(mask)
    return out


def prune_channels(model: S4DModel, keep: list[np.ndarray]) -> S4DModel:
    """A new model with the channels not in ``keep`` (one boolean mask of length H per layer) removed from every
    SSM layer. The weights are untouched (the kept channels deploy exactly as before, whatever the quantiser's
    scale rule); the kept channel indices go into the metadata (``channel_keep``), and :func:`apply_pruning`
    re-applies them to a loaded checkpoint."""
    cfg = model.config
    if len(keep) != cfg.n_layers or any(np.shape(k) != (cfg.d_model,) for k in keep):
        raise ConfigError("keep", f"must be {cfg.n_layers} boolean masks of length {cfg.d_model}")
    idx = [np.flatnonzero(np.asarray(k, dtype=bool)).tolist() for k in keep]
    return apply_pruning(S4DModel(cfg, model.weights, {**model.metadata, "channel_keep": idx}))


def apply_pruning(model: S4DModel) -> S4DModel:
    """Mask (in place) every channel that the metadata's ``channel_keep`` does not list; returns ``model``."""
    keep = model.metadata.get("channel_keep")
    if keep is None:
        return model
    if len(keep) != len(model.layers):
        raise ConfigError("channel_keep", f"must list the kept channels of all {len(model.layers)} layers")
    for lay, idx in zip(model.layers, keep):
        mask = np.zeros(len(lay.channel_mask), dtype=bool)
        mask[np.asarray(idx, dtype=int)] = True
        lay.channel_mask = lay.channel_mask & mask
    return model


def tiles_per_layer(n_channels: int, channels_per_tile: int) -> int:
    """SSM tiles of one layer: ceil(n_channels / k) (docs/s4d.md#packing, when 2P+1 fits in a tile)."""
    return -(-n_channels // channels_per_tile)
