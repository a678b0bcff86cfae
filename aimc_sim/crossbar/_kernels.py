"""Numba kernels of the tile pipeline and of the iterative IR-drop solver.

Each kernel has a plain-numpy reference (``aimc_sim.crossbar.quantise`` for the periphery, the tests
for the IR-drop sweeps) and a test comparing the two (tests/test_crossbar_kernels.py).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange, types
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


@njit(cache=True, fastmath=False, nogil=True)
def dac_encode(x, abs_max, row_scale, dac, gsum, xn, xn2):
    """Noise management and DAC of each input row (``dac``: a :class:`DacSpec`), and the array read energy.

    Row scale s_b = max_i |x[b, i]| (``abs_max``: written to ``row_scale``; 1 for an all-zero row), else
    read from ``row_scale``. v = x / s_b, rounded to ``step`` and clipped to [lo, 1] if ``quantise``; writes
    the normalised DAC outputs ``xn`` and their squares ``xn2`` (float32). Returns (the number of non-finite
    inputs, which the caller rejects; sum_b,i e_bi gsum[b % G, i] in float64 with e = xn2, or |xn| for
    ``pwm``): the read energy in V_read^2 t_read units for row sums of G ``gsum`` (G, n). The abs-max uses
    four independent running maxima (exact: max does not depend on the order) so that the loop is not bound
    by one dependency chain.
    """
    B, n = x.shape
    lo, step, quantise, pwm = dac.lo, dac.step, dac.quantise, dac.pwm
    n_groups = gsum.shape[0]
    acc = np.zeros((n_groups, n))  # per word line: no serial dependency between elements
    inv_step = 1.0 / step if quantise else 0.0
    n_bad = 0
    n4 = n - n % 4
    for b in range(B):
        s = row_scale[b]
        if abs_max:
            m0 = m1 = m2 = m3 = 0.0
            for i in range(0, n4, 4):
                m0 = max(m0, abs(x[b, i]))
                m1 = max(m1, abs(x[b, i + 1]))
                m2 = max(m2, abs(x[b, i + 2]))
                m3 = max(m3, abs(x[b, i + 3]))
            for i in range(n4, n):
                m0 = max(m0, abs(x[b, i]))
            m = max(max(m0, m1), max(m2, m3))
            s = m if m > 0.0 else 1.0
            row_scale[b] = s
        inv = 1.0 / s
        for i in range(n):
            v = x[b, i] * inv
            if not np.isfinite(v):
                n_bad += 1
            if quantise:
                v = min(max(np.rint(v * inv_step) * step, lo), 1.0)
            xn[b, i] = v
            xn2[b, i] = v * v
            acc[b % n_groups, i] += abs(np.float64(xn[b, i])) if pwm else np.float64(xn2[b, i])
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
        for j in range(m):  # analog value at the ADC input
            v = np.float64(sig[b, j])
            if noisy:
                e = erow[j] if n_groups > 1 else e0
                s2 = e + var[b, j] if has_var else e
                s2 = s2 if s2 > 0.0 else 0.0
                v += np.sqrt(s2) * z[j]
            vrow[j] = v * gain[j] + offset[j]
        if quantise:
            if n_groups > 1:  # saturation per group (the outputs behind one input scale)
                for j in range(m):
                    if abs(vrow[j]) >= bound[j]:
                        sat[b, j // gw] = True
            else:
                for j in range(m):
                    s = s | (abs(vrow[j]) >= bound[j])
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
        if s:
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


@njit(cache=True, fastmath=False)
def line_factor(diag, gw):
    """Thomas pivots of symmetric tridiagonal chains: each row of ``diag`` is one chain's diagonal and
    -``gw`` the off-diagonal. Returns 1 / pivot per node."""
    nch, L = diag.shape
    inv = np.empty((nch, L))
    for c in range(nch):
        p = diag[c, 0]
        inv[c, 0] = 1.0 / p
        for k in range(1, L):
            p = diag[c, k] - gw * gw * inv[c, k - 1]
            inv[c, k] = 1.0 / p
    return inv


@njit(cache=True, fastmath=False)
def _row_chains(g, inv_w, gw, src_w, B, W, omega, blend):
    """Every row chain solved exactly (Thomas) given the column voltages ``B``. Into ``W`` (R, C, K) directly,
    or, when ``blend``, into a one-row scratch y and then W[i] <- W[i] + omega (y - W[i])."""
    R, C = g.shape
    K = W.shape[2]
    y = np.empty((C, K))
    for i in range(R):
        out = y if blend else W[i]
        for j in range(C):
            gij = g[i, j]
            p = inv_w[i, j]
            for k in range(K):
                r = gij * B[i, j, k]
                if j == 0:
                    r += src_w[i, k]
                else:
                    r += gw * out[j - 1, k]
                out[j, k] = r * p
        for j in range(C - 2, -1, -1):
            f = gw * inv_w[i, j]
            for k in range(K):
                out[j, k] += f * out[j + 1, k]
        if blend:
            for j in range(C):
                for k in range(K):
                    W[i, j, k] += omega * (y[j, k] - W[i, j, k])


@njit(cache=True, fastmath=False)
def _col_chains(g, inv_b, gw, src_b, W, out, B, omega, blend):
    """Every column chain solved exactly (Thomas) given the row voltages ``W``, into ``out`` (R, C, K); when
    ``blend``, each finished row of ``out`` then moves B[i] <- B[i] + omega (out[i] - B[i]) (out is B otherwise)."""
    R, C = g.shape
    K = out.shape[2]
    for i in range(R):
        for j in range(C):
            gij = g[i, j]
            p = inv_b[j, i]
            for k in range(K):
                r = gij * W[i, j, k]
                if i == R - 1:
                    r += src_b[j, k]
                if i > 0:
                    r += gw * out[i - 1, j, k]
                out[i, j, k] = r * p
    for i in range(R - 1, -1, -1):
        for j in range(C):
            f = gw * inv_b[j, i]
            for k in range(K):
                if i < R - 1:
                    out[i, j, k] += f * out[i + 1, j, k]
                if blend:
                    B[i, j, k] += omega * (out[i, j, k] - B[i, j, k])


@njit(cache=True, fastmath=False)
def line_gs_sweep(g, inv_w, inv_b, gw, src_w, src_b, W, B):
    """One alternating-line Gauss-Seidel sweep for one block of right-hand sides (K = last axis).

    ``g`` (R, C) device conductances; ``inv_w`` (R, C) and ``inv_b`` (C, R): Thomas pivots of the row
    chains (driven at j = 0) and column chains (sensed at i = R - 1), with the device, wire and terminal
    conductances on their diagonals; ``gw``: wire conductance; ``src_w`` (R, K): current injected at row
    node (i, 0); ``src_b`` (C, K): current injected at column node (R - 1, j). ``W``, ``B`` (R, C, K):
    row and column node voltages, updated in place: every row chain is solved exactly given B, then
    every column chain given the new W.
    """
    _row_chains(g, inv_w, gw, src_w, B, W, 1.0, False)
    _col_chains(g, inv_b, gw, src_b, W, B, B, 1.0, False)


@njit(cache=True, fastmath=False)
def line_sor_sweep(g, inv_w, inv_b, gw, src_w, src_b, W, B, omega, Y):
    """One block-SOR sweep: as :func:`line_gs_sweep`, but each family moves ``omega`` times its
    Gauss-Seidel step, W <- W + omega (W_gs - W), then the same for B. ``Y`` (R, C, K): scratch."""
    _row_chains(g, inv_w, gw, src_w, B, W, omega, True)
    _col_chains(g, inv_b, gw, src_b, W, Y, B, omega, True)


@njit(cache=True, fastmath=False, parallel=True)
def line_gs_solve(g, inv_w, inv_b, gw, src_w, src_b, tol, max_sweeps, over_relax, W, B, Y):
    """Sweeps on independent blocks of right-hand sides (axis 0, in parallel) until the sensed node voltages
    B[R-1] change by at most ``tol`` times their largest magnitude.

    Plain Gauss-Seidel sweeps (:func:`line_gs_sweep`) when ``over_relax`` is false. Otherwise Gauss-Seidel until
    the ratio of successive changes settles (within 10 % of the previous ratio, or after 8 sweeps; from a single
    right-hand side the third ratio was off by up to 0.5, and SOR then took up to 94 sweeps instead of 14) and
    estimates the Gauss-Seidel rate mu = rho_J^2; the rest are block-SOR sweeps (:func:`line_sor_sweep`) at
    Young's optimum omega = 2 / (1 + sqrt(1 - mu)), which is exact for this two-block (consistently ordered, SPD)
    system and converges at rate omega - 1.
    Shapes: src_w (n, R, K), src_b (n, C, K), W, B and the scratch Y (n, R, C, K). Returns the sweeps used per
    block."""
    nb = W.shape[0]
    R = g.shape[0]
    used = np.zeros(nb, dtype=np.int64)
    for c in prange(nb):
        omega = 1.0
        d_prev = 0.0
        r_prev = 0.0
        for s in range(max_sweeps):
            old = B[c, R - 1].copy()
            if omega == 1.0:
                line_gs_sweep(g, inv_w, inv_b, gw, src_w[c], src_b[c], W[c], B[c])
            else:
                line_sor_sweep(g, inv_w, inv_b, gw, src_w[c], src_b[c], W[c], B[c], omega, Y[c])
            new = B[c, R - 1]
            d = np.max(np.abs(new - old))
            m = np.max(np.abs(new))
            used[c] = s + 1
            if s >= 1 and d <= tol * m:
                break
            if over_relax and omega == 1.0 and s >= 2 and d_prev > 0.0:
                r = d / d_prev
                if abs(r - r_prev) <= 0.1 * r or s >= 7:  # the ratio has settled at mu (or 8 sweeps done)
                    omega = 2.0 / (1.0 + np.sqrt(1.0 - min(r, 0.99)))
                r_prev = r
            d_prev = d
    return used
