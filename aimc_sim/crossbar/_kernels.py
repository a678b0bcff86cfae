"""Numba kernels of the tile pipeline (the IR-drop line relaxation is in ``irdrop_lines``).

Each kernel has a plain-numpy reference (``aimc_sim.crossbar.quantise``) and a test comparing the two
(tests/test_crossbar_kernels.py).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, types
from numba.extending import overload


class DacSpec(NamedTuple):
    """The DAC of a tile: outputs rounded to ``step`` and clipped to [lo, 1] when ``quantise``; ``pwm``: the
    read energy of an input is |x'| (pulse length) instead of x'^2 (amplitude)."""

    lo: float
    step: float
    quantise: bool
    pwm: bool


class AdcState(NamedTuple):
    """The frozen state of the ADCs of one conversion channel (one entry per output column).

    ``gain`` (1 + mismatch), ``offset`` (normalised units), ``bound`` (range, normalised units) and
    ``sar`` (outputs x bits: the mismatched SAR bit weights in LSB; no columns for an ideal quantiser).
    """

    gain: np.ndarray
    offset: np.ndarray
    bound: np.ndarray
    sar: np.ndarray


class Conversion(NamedTuple):
    """How a channel is converted: ``n_steps`` of the ADC, ``quantise`` (an ADC with bits), ``noisy`` (draw
    output-referred noise), ``has_var`` (a read-noise variance matrix is given), ``stochastic`` (stochastic
    rounding of the ADC code, docs/crossbar.md, pipeline steps 2 and 6)."""

    n_steps: float
    quantise: bool
    noisy: bool
    has_var: bool
    stochastic: bool


class Digital(NamedTuple):
    """Digital scaling of the ADC codes: out[b, j] (+)= v * coef * col_scale[j] * row_scale[b, j // w], with
    ``row_scale`` (B, G): one input scale per row and per group of w = m / G consecutive outputs (G = 1: one per
    row; G = k: one per packed block, ``management.scope: block``)."""

    coef: float
    row_scale: np.ndarray
    col_scale: np.ndarray
    accumulate: bool


class Draws(NamedTuple):
    """Noise drawn ahead for a block of rows, in the order a Generator draws them in :func:`adc_accumulate`:
    ``normals`` (B, m) and ``uniforms`` (B, m, or no columns without stochastic rounding), float64."""

    normals: np.ndarray
    uniforms: np.ndarray


def _row_normals(rng, b, m):
    """Row b's m standard normals: drawn now from a Generator, or taken from :class:`Draws`."""


def _row_uniforms(rng, b, m):
    """Row b's m uniforms on [0, 1): drawn now from a Generator, or taken from :class:`Draws`."""


@overload(_row_normals, jit_options={"cache": True})
def _row_normals_impl(rng, b, m):
    if isinstance(rng, types.BaseTuple):
        return lambda rng, b, m: rng.normals[b]
    return lambda rng, b, m: rng.standard_normal(m)  # one row at a time: the stream of m scalar draws


@overload(_row_uniforms, jit_options={"cache": True})
def _row_uniforms_impl(rng, b, m):
    if isinstance(rng, types.BaseTuple):
        return lambda rng, b, m: rng.uniforms[b]
    return lambda rng, b, m: rng.random(m)


def _magnitude_bits(x):
    """x (float32 or float64) viewed as signed integers of its width, the mask that clears their sign bit, and the
    bits of inf: without the sign bit the integers order as the magnitudes |x|, NaN above inf. An integer max
    reduction vectorises; a float one does not without fastmath."""


@overload(_magnitude_bits, jit_options={"cache": True})
def _magnitude_bits_impl(x):
    if x.dtype == types.float32:
        return lambda x: (x.view(np.int32), np.int32(0x7FFFFFFF), np.int32(0x7F800000))
    if x.dtype == types.float64:
        return lambda x: (x.view(np.int64), np.int64(0x7FFFFFFFFFFFFFFF), np.int64(0x7FF0000000000000))
    return None


@njit(cache=True, fastmath=False, nogil=True)
def dac_encode(x, abs_max, row_scale, dac, gsum, xn, xn2):
    """Noise management and DAC of each input row (``dac``: a :class:`DacSpec`), and the array read energy.

    Row scale s_b = max_i |x[b, i]| (``abs_max``: written to ``row_scale``; 1 for an all-zero row), else
    read from ``row_scale``. v = x / s_b, rounded to ``step`` and clipped to [lo, 1] if ``quantise``; writes
    the normalised DAC outputs ``xn`` and their squares ``xn2`` (float32). Returns (the number of non-finite
    inputs, which the caller rejects; sum_b,i e_bi gsum[b % G, i] in float64 with e = xn2, or |xn| for
    ``pwm``): the read energy in V_read^2 t_read units for row sums of G ``gsum`` (G, n). The abs-max (NaN
    skipped, as Python's ``max``) is the largest of the magnitudes' bit patterns (:func:`_magnitude_bits`), read
    back as a value: exact, and a vectorised integer max.
    """
    B, n = x.shape
    lo, step, quantise, pwm = dac.lo, dac.step, dac.quantise, dac.pwm
    n_groups = gsum.shape[0]
    acc = np.zeros((n_groups, n))  # per word line: no serial dependency between elements
    inv_step = 1.0 / step if quantise else 0.0
    n_bad = 0
    bits, mask, inf_bits = _magnitude_bits(x)
    zero = bits.dtype.type(0)
    top_value = np.zeros(1, x.dtype)
    top_bits = top_value.view(bits.dtype)
    for b in range(B):
        s = row_scale[b]
        if abs_max:
            row, top = bits[b], zero
            for i in range(n):
                u = bits.dtype.type(row[i] & mask)
                top = max(top, u if u <= inf_bits else zero)  # NaN skipped
            top_bits[0] = top
            m = np.float64(top_value[0])
            s = m if m > 0.0 else 1.0
            row_scale[b] = s
        inv = 1.0 / s
        xb, xnb, xn2b, accb = x[b], xn[b], xn2[b], acc[b % n_groups]  # row views: simpler loops for LLVM
        for i in range(n):
            v = xb[i] * inv
            if not np.isfinite(v):
                n_bad += 1
            if quantise:
                v = min(max(np.rint(v * inv_step) * step, lo), 1.0)
            q, q2 = xn.dtype.type(v), xn2.dtype.type(v * v)  # the values stored (no reload)
            xnb[i] = q
            xn2b[i] = q2
            accb[i] += abs(np.float64(q)) if pwm else np.float64(q2)
    energy = 0.0
    for q in range(n_groups):
        for i in range(n):
            energy += acc[q, i] * gsum[q, i]
    return n_bad, energy


@njit(cache=True, fastmath=False, nogil=True)
def adc_accumulate(sig, var, extra_var, adc, conv, dig, out, sat, rng):
    """Output noise, ADC and digital scaling of one conversion channel (records: :class:`AdcState`,
    :class:`Conversion`, :class:`Digital`).

    v = (sig + sqrt(var + extra_var[b, j // w]) * z) * gain_j + offset_j (w as in :class:`Digital`), with
    z ~ N(0, 1) drawn from ``rng`` in row-major order (one per output, only if ``noisy``; ``rng``: a numpy
    Generator, or the same draws made ahead, :class:`Draws`). If ``quantise``: sat[b, j // w] |= |v| >= bound_j
    (``sat`` (B, G): one flag per row and group of outputs, the outputs behind one input scale), and
    v = step_j * clip(k, -n_steps / 2, n_steps / 2) with step_j = 2 bound_j / n_steps and k = rint(v / step_j)
    for an ideal ADC, or, when ``sar`` (m x bits) has columns, the code of a
    successive-approximation search with the mismatched bit weights sar[j] (in LSB): from the MSB down, keep
    bit k if u >= (accepted weights) + sar[j, k], u = v / step_j + n_steps / 2 + 1/2; k = code - n_steps / 2.
    ``stochastic``: k = floor(v / step_j + r) with r ~ U[0, 1) (ideal ADC), or the SAR input dithered by
    r - 1/2 LSB, one uniform per output after the normals of its row. out[b, j] (+)= v * (coef *
    col_scale[j]) * row_scale[b, j // w].
    """
    B, m = sig.shape
    gain, offset, bound, sar_w = adc.gain, adc.offset, adc.bound, adc.sar
    n_steps, quantise, noisy, has_var, stochastic = (
        conv.n_steps,
        conv.quantise,
        conv.noisy,
        conv.has_var,
        conv.stochastic,
    )
    row_scale, accumulate = dig.row_scale, dig.accumulate
    n_groups = row_scale.shape[1]
    gw = m // n_groups
    nbits = sar_w.shape[1]
    step = np.empty(m)
    inv = np.empty(m)
    cf = np.empty(m)
    lim = 0.5 * n_steps
    for j in range(m):
        step[j] = 2.0 * bound[j] / n_steps
        inv[j] = 1.0 / step[j]
        cf[j] = dig.coef * dig.col_scale[j]
    z = np.zeros(m)
    dither = np.zeros(m)
    vrow = np.empty(m)
    erow, rrow = np.empty(m), np.empty(m)
    e0 = r0 = 0.0
    for b in range(B):
        if noisy:
            z = _row_normals(rng, b, m)
        if stochastic and quantise:
            dither = _row_uniforms(rng, b, m)
        s = False
        if n_groups > 1:  # per-output extra variance and row scale of this row
            for q in range(n_groups):
                erow[q * gw : (q + 1) * gw] = extra_var[b, q]
                rrow[q * gw : (q + 1) * gw] = row_scale[b, q]
        else:  # one group: scalars (the loops over range(m) below stay as fast as without groups)
            e0, r0 = extra_var[b, 0], row_scale[b, 0]
        # analog value at the ADC input: (sig + sqrt(max(e + var, 0)) * z) * gain + offset, one loop per case so
        # that each is a plain (vectorised) loop; with one group, the saturation of the row in the same loop
        sb, vb = sig[b], var[b]
        if not noisy:
            for j in range(m):
                v = np.float64(sb[j]) * gain[j] + offset[j]
                s = s | (abs(v) >= bound[j])
                vrow[j] = v
        elif n_groups > 1:
            for j in range(m):
                s2 = erow[j] + vb[j] if has_var else erow[j]
                s2 = s2 if s2 > 0.0 else 0.0
                vrow[j] = (np.float64(sb[j]) + np.sqrt(s2) * z[j]) * gain[j] + offset[j]
        elif has_var:
            for j in range(m):
                s2 = e0 + vb[j]
                s2 = s2 if s2 > 0.0 else 0.0
                v = (np.float64(sb[j]) + np.sqrt(s2) * z[j]) * gain[j] + offset[j]
                s = s | (abs(v) >= bound[j])
                vrow[j] = v
        else:
            sd0 = np.sqrt(e0 if e0 > 0.0 else 0.0)
            for j in range(m):
                v = (np.float64(sb[j]) + sd0 * z[j]) * gain[j] + offset[j]
                s = s | (abs(v) >= bound[j])
                vrow[j] = v
        if quantise:
            if n_groups > 1:  # saturation per group (the outputs behind one input scale)
                for j in range(m):
                    if abs(vrow[j]) >= bound[j]:
                        sat[b, j // gw] = True
            if nbits:
                for j in range(m):
                    u = vrow[j] * inv[j] + lim + 0.5
                    if stochastic:
                        u += dither[j] - 0.5
                    acc = 0.0
                    code = 0.0
                    for bit in range(nbits - 1, -1, -1):
                        trial = acc + sar_w[j, bit]
                        if u >= trial:
                            acc = trial
                            code += 2.0**bit
                    vrow[j] = min(max(code - lim, -lim), lim) * step[j]
            elif stochastic:
                for j in range(m):
                    vrow[j] = min(max(np.floor(vrow[j] * inv[j] + dither[j]), -lim), lim) * step[j]
            else:
                for j in range(m):
                    vrow[j] = min(max(np.rint(vrow[j] * inv[j]), -lim), lim) * step[j]
        if accumulate:
            for j in range(m):
                out[b, j] += vrow[j] * cf[j] * (rrow[j] if n_groups > 1 else r0)
        else:
            for j in range(m):
                out[b, j] = vrow[j] * cf[j] * (rrow[j] if n_groups > 1 else r0)
        if s and quantise and n_groups == 1:
            sat[b, 0] = True


@njit(cache=True, fastmath=False, nogil=True)
def channel_read(g, sd, plus, minus, scale, scale2, mat, var):
    """One conversion channel's matrices from device reads, in one pass (docs/crossbar.md, pipeline step 4).

    ``g``, ``sd`` (rows, device columns) float64 conductances and read-noise stds (``sd`` with no rows: no
    read noise); ``plus``, ``minus`` the channel's device columns (``minus`` empty: single-ended). Writes
    mat[i, j] = (g[i, plus_j] - g[i, minus_j]) * scale and var[i, j] = (sd[i, plus_j]^2 + sd[i, minus_j]^2) *
    ``scale2`` (= scale**2) in float64, each rounded once to float32: the same operations, in the same order, as
    the numpy form ((g[:, plus] - g[:, minus]) * scale).astype(float32) (tests/test_crossbar_kernels.py).
    """
    rows, w = mat.shape
    has_minus = minus.size > 0
    has_var = sd.shape[0] > 0
    for i in range(rows):
        for j in range(w):
            p = plus[j]
            v = g[i, p]
            if has_minus:
                v = v - g[i, minus[j]]
            mat[i, j] = v * scale
            if has_var:
                a = sd[i, p]
                u = a * a
                if has_minus:
                    b = sd[i, minus[j]]
                    u = u + b * b
                var[i, j] = u * scale2
