"""Uniform symmetric per-channel quantisers and ternarisation (docs/s4d.md#quantisation).

- b bits: Q = 2^(b-1) - 1 levels per side, s = max|w|/Q per output channel, q(w) = s*clip(round(w/s), -Q, Q).
- ternary (TWN rule): delta = 0.7*mean|w| per channel, t(w) = s*sign(w)*[|w| > delta], s = mean of the kept |w|.
- GSU ternarisation Ter(z) (Stan & Rhodes 2024, Eq. 18): +1 if z >= alpha*max|z|, -1 if z <= -alpha*max|z|, else 0.

The torch training code (``workloads/training/s4d_quant.py``) implements the same forward functions with a
straight-through estimator; ``tests/test_s4d_quant.py`` checks that the two agree.
"""

from __future__ import annotations

import numpy as np

from aimc_sim.errors import ConfigError

BITS = (8, 6, 4, 3, 2)
"""Allowed integer bit widths; ``None`` means float and ``"ternary"`` the ternary quantiser."""


def check_bits(value: object, path: str) -> int | str | None:
    """Validate a bit-width setting: None (float), one of BITS, or "ternary"."""
    if (
        value is None
        or value == "ternary"
        or (isinstance(value, int) and not isinstance(value, bool) and value in BITS)
    ):
        return value  # type: ignore[return-value]
    raise ConfigError(path, f"must be null (float), 'ternary' or one of {', '.join(map(str, BITS))}, got {value!r}")


def bits_per_weight(bits: int | str | None) -> float:
    """Memory bits per weight: 32 for float, log2(3) for ternary."""
    if bits is None:
        return 32.0
    return float(np.log2(3.0)) if bits == "ternary" else float(bits)


def quantise(w: np.ndarray, bits: int | str | None, axis: int | None = 0) -> np.ndarray:
    """Fake-quantise ``w`` (float result) with one scale per index along ``axis`` (None: per tensor)."""
    if bits is None:
        return w
    red = tuple(i for i in range(w.ndim) if i != axis) if axis is not None else None
    a = np.abs(w)
    if bits == "ternary":
        delta = 0.7 * a.mean(axis=red, keepdims=True)
        keep = a > delta
        n_keep = keep.sum(axis=red, keepdims=True)
        s = np.where(n_keep > 0, (a * keep).sum(axis=red, keepdims=True) / np.maximum(n_keep, 1), 0.0)
        return s * np.sign(w) * keep
    Q = 2 ** (int(bits) - 1) - 1
    s = a.max(axis=red, keepdims=True) / Q
    s = np.where(s > 0, s, 1.0)
    return s * np.clip(np.round(w / s), -Q, Q)


def ternarise(z: np.ndarray, alpha: float = 0.15, axis: int | None = -1) -> np.ndarray:
    """GSU Ter(z) in {-1, 0, +1}; the max is over ``axis`` (features) or the whole array (None)."""
    thr = alpha * np.abs(z).max(axis=axis, keepdims=axis is not None)
    return (z >= thr).astype(z.dtype) * (thr > 0) - (z <= -thr).astype(z.dtype) * (thr > 0)


def quantise_abar(
    dA: np.ndarray, bits: int | str | None, eps: float = 1e-4, w_max: float | None = None
) -> tuple[np.ndarray, int, int]:
    """Cartesian quantisation of complex Abar (H, P), clamped to |Abar| <= 1 - eps (docs/s4d.md#stability).

    The scale is per channel (max-abs) or, with ``w_max``, fixed: s = w_max/Q ("scale 1" of test E1b).

    Returns (quantised Abar, number of clamped modes, number of collapsed modes). A mode is
    collapsed if its quantised |Abar| is smaller than the float one by more than 10 % of (1 - |Abar|),
    i.e. its time constant shrank noticeably.
    """
    if bits is None:
        return dA, 0, 0
    parts = np.stack([dA.real, dA.imag], axis=-1)
    if w_max is None or bits == "ternary":
        parts = quantise(parts, bits, axis=0)
    else:
        Q = 2 ** (int(bits) - 1) - 1
        parts = w_max / Q * np.clip(np.round(parts * Q / w_max), -Q, Q)
    q = parts[..., 0] + 1j * parts[..., 1]
    mag = np.abs(q)
    clamp = mag > 1.0 - eps
    q = np.where(clamp, q / np.maximum(mag, 1e-300) * (1.0 - eps), q)
    collapsed = np.abs(q) < np.abs(dA) - 0.1 * (1.0 - np.abs(dA))
    return q, int(clamp.sum()), int(collapsed.sum())
