"""Uniform quantisers of the DAC and ADC (docs/crossbar.md, pipeline steps 2 and 6), in plain numpy.

These are the references of the numba kernels in ``_kernels.py`` (tests/test_crossbar_kernels.py
compares them) and run the stochastic-rounding paths, which the kernels do not implement.
"""

from __future__ import annotations

import numpy as np

from aimc_sim.errors import ConfigError

__all__ = ["n_steps", "uniform_quantise", "sar_weights", "dac_encode_ref", "adc_accumulate_ref"]


def n_steps(bits: int) -> int:
    """Quantiser steps across the full signed range: 2**bits - 2 (8 bits -> 254 steps, 255 levels).
    See docs/crossbar.md, pipeline steps 2 and 6. A signed quantiser needs at least 2 bits (3 levels)."""
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 2 <= bits <= 16:
        raise ConfigError("bits", f"must be an integer in 2..16, got {bits!r}")
    return 2**bits - 2


def uniform_quantise(
    v: np.ndarray,
    bound: float | np.ndarray,
    bits: int,
    stochastic: bool = False,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Q(v) = clip(step * round(v / step), -bound, bound) with step = 2 bound / (2**bits - 2).

    Stochastic rounding uses step * floor(v / step + u), u ~ U[0, 1) from ``rng`` (unbiased inside the range).
    """
    b = np.asarray(bound, dtype=np.float64)
    if b.size == 0 or not np.all(np.isfinite(b)) or np.any(b <= 0):
        raise ConfigError("bound", f"must be finite and > 0 (a non-empty range), got {bound!r}")
    step = 2.0 * b / n_steps(bits)
    v = np.asarray(v, dtype=np.float64)
    if stochastic:
        if rng is None:
            raise ConfigError("rng", "stochastic rounding needs a numpy Generator")
        q = np.floor(v / step + rng.random(v.shape)) * step
    else:
        q = np.rint(v / step) * step
    return np.clip(q, -b, b)


def dac_encode_ref(x, abs_max, row_scale, lo, step, quantise):
    """Numpy reference of ``_kernels.dac_encode``; returns (xn, xn2, row_scale) for finite x."""
    if abs_max:
        s = np.abs(x).max(axis=1)
        s = np.where(s > 0, s, 1.0)
    else:
        s = np.asarray(row_scale, dtype=np.float64)
    v = x * (1.0 / s)[:, None]
    if quantise:
        v = np.clip(np.rint(v * (1.0 / step)) * step, lo, 1.0)
    return v.astype(np.float32), (v * v).astype(np.float32), s


def sar_weights(bits: int, sigma_u: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Mismatched SAR bit weights in LSB, one row per ADC: 2**k (1 + sigma_u xi_k / sqrt(2**k)).

    See docs/crossbar.md, pipeline step 6."""
    k = 2.0 ** np.arange(bits)
    return k * (1.0 + sigma_u * rng.standard_normal((n, bits)) / np.sqrt(k))


def adc_accumulate_ref(
    sig,
    var,
    extra_var,
    gain,
    offset,
    bound,
    n_st,
    quantise,
    noisy,
    coef,
    row_scale,
    col_scale,
    rng,
    sar_w=None,
    stochastic=False,
):
    """Numpy reference of ``_kernels.adc_accumulate`` (non-accumulating form); returns (out, sat (B, G)).
    ``extra_var`` and ``row_scale`` are (B, G): one value per row and group of m / G outputs."""
    v = sig.astype(np.float64)
    B, m = sig.shape
    G = row_scale.shape[1]
    extra_var = np.repeat(extra_var, m // extra_var.shape[1], axis=1)
    row_scale = np.repeat(row_scale, m // row_scale.shape[1], axis=1)
    z, dither = np.zeros((B, m)), np.zeros((B, m))
    for b in range(B):  # per row: the normals, then (stochastic rounding) the uniforms
        if noisy:
            z[b] = rng.standard_normal(m)
        if stochastic and quantise:
            dither[b] = rng.random(m)
    if noisy:
        s2 = extra_var + (var if var is not None else 0.0)
        v = v + np.sqrt(np.maximum(s2, 0.0)) * z
    v = v * gain + offset
    sat = np.zeros((B, G), dtype=bool)
    if quantise:
        sat = (np.abs(v) >= bound).reshape(B, G, -1).any(axis=2)
        step = 2.0 * bound / n_st
        if sar_w is not None and sar_w.shape[1]:
            u = v * (1.0 / step) + 0.5 * n_st + 0.5 + (dither - 0.5 if stochastic else 0.0)
            acc = np.zeros_like(u)
            code = np.zeros_like(u)
            for bit in range(sar_w.shape[1] - 1, -1, -1):
                trial = acc + sar_w[:, bit][None, :]
                keep = u >= trial
                acc = np.where(keep, trial, acc)
                code = code + keep * 2.0**bit
            k = code - 0.5 * n_st
        elif stochastic:
            k = np.floor(v * (1.0 / step) + dither)
        else:
            k = np.rint(v * (1.0 / step))
        v = np.clip(k, -0.5 * n_st, 0.5 * n_st) * step
    return v * (coef * col_scale)[None, :] * row_scale, sat
