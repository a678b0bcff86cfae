"""Weight -> conductance mapping (docs/crossbar.md, pipeline step 3): scaling and clipping, differential pairs,
offset mapping with a digital or analog reference, weight bit slicing with significance factors, conductance levels.

A mapped tile is a :class:`Layout`: the conductance targets of every device column and the conversion
*channels*. A channel is one set of ADC conversions: its normalised analog output is
``x @ (scale * (G[:, plus] - G[:, minus]))`` and it is added digitally to the outputs with weight ``coef``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aimc_sim.crossbar.config import MappingConfig

__all__ = ["Channel", "Layout", "scale_weights", "build_layout"]


@dataclass(frozen=True)
class Channel:
    """One group of ADC conversions. ``plus``/``minus``: device columns (``minus`` None: single-ended).
    ``broadcast``: a reference column whose one output is added to every output (offset mapping)."""

    plus: np.ndarray
    minus: np.ndarray | None
    scale: float
    coef: float
    broadcast: bool = False


@dataclass(frozen=True)
class Layout:
    """Conductance targets (n_in x n_device_columns, S), channels, and the digital offset coefficient:
    outputs get ``- offset_coef * sum_i x_i`` (offset mapping with a digital reference)."""

    targets: np.ndarray
    channels: tuple[Channel, ...]
    offset_coef: float


def scale_weights(W: np.ndarray, cfg: MappingConfig) -> tuple[np.ndarray, np.ndarray]:
    """Clip W as configured and return (W / w_max, w_max) with w_max per column or per tensor (n_out,)."""
    W = np.asarray(W, dtype=np.float64)
    if cfg.clip == "fixed":
        W = np.clip(W, -cfg.clip_value, cfg.clip_value)
    elif cfg.clip == "sigma":
        c = cfg.clip_value * float(W.std())
        if c > 0:
            W = np.clip(W, -c, c)
    a = np.abs(W)
    w_max = a.max(axis=0) if cfg.weight_scaling == "per_column" else np.full(W.shape[1], a.max() if a.size else 0.0)
    w_max = np.where(w_max > 0, w_max, 1.0)
    return W / w_max, w_max


def _levels(g: np.ndarray, g_min: float, dg: float, cell_bits: int | None) -> np.ndarray:
    if cell_bits is None:
        return g
    n = 2**cell_bits - 1
    return g_min + np.rint((g - g_min) / dg * n) / n * dg


def _slice_digits(a: np.ndarray, factors: tuple[float, ...], slice_bits: int) -> tuple[list[np.ndarray], float]:
    """Greedy decomposition of |w| in [0, 1] into slice levels s_k in 0..2**b - 1 (most significant first).
    Returns the levels (least significant first) and L = sum_k f_k (2**b - 1), so |w| ~ sum_k f_k s_k / L."""
    top = 2**slice_bits - 1
    L = float(sum(f * top for f in factors))
    rem = np.rint(a * L)
    digits: list[np.ndarray] = [np.zeros_like(a)] * len(factors)
    for k in range(len(factors) - 1, -1, -1):
        s = np.minimum(np.floor(rem / factors[k] + 1e-9), top)
        digits[k] = s
        rem = rem - s * factors[k]
    return digits, L


def build_layout(Wn: np.ndarray, cfg: MappingConfig, g_min: float, g_max: float) -> Layout:
    """Map normalised weights (|w| <= 1, n_in x n_out) onto device columns."""
    n_in, n_out = Wn.shape
    dg = g_max - g_min
    g_mid = 0.5 * (g_min + g_max)
    if cfg.scheme == "offset":
        g = _levels(g_min + dg * (Wn + 1.0) / 2.0, g_min, dg, cfg.cell_bits)
        cols = np.arange(n_out)
        if cfg.reference == "column":
            ref = np.full((n_in, 1), _levels(np.array(g_mid), g_min, dg, cfg.cell_bits))
            chans = (Channel(cols, None, 2.0 / dg, 1.0), Channel(np.array([n_out]), None, 2.0 / dg, -1.0, True))
            return Layout(np.hstack([g, ref]), chans, 0.0)
        return Layout(g, (Channel(cols, None, 2.0 / dg, 1.0),), 2.0 * g_min / dg + 1.0)

    K = cfg.slices
    d = 2 * K
    targets = np.empty((n_in, n_out * d))
    if K == 1:
        parts, coefs = [Wn], [1.0]
    else:
        digits, L = _slice_digits(np.abs(Wn), cfg.factors, cfg.slice_bits)
        top = 2**cfg.slice_bits - 1
        parts = [np.sign(Wn) * s / top for s in digits]
        coefs = [f * top / L for f in cfg.factors]
    chans = []
    for k, (w, c) in enumerate(zip(parts, coefs)):
        if cfg.variant == "symmetric":
            gp, gn = g_mid + 0.5 * w * dg, g_mid - 0.5 * w * dg
        else:
            gp, gn = g_min + np.maximum(w, 0.0) * dg, g_min + np.maximum(-w, 0.0) * dg
        plus = np.arange(n_out) * d + 2 * k
        minus = plus + 1
        targets[:, plus] = _levels(gp, g_min, dg, cfg.cell_bits)
        targets[:, minus] = _levels(gn, g_min, dg, cfg.cell_bits)
        if cfg.subtract == "analog":
            chans.append(Channel(plus, minus, 1.0 / dg, c))
        else:
            chans += [Channel(plus, None, 1.0 / dg, c), Channel(minus, None, 1.0 / dg, -c)]
    return Layout(targets, tuple(chans), 0.0)
