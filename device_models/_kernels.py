"""Numba kernels that fuse the elementwise device math (one pass over memory per call).

Each kernel has a plain-numpy reference (the equation functions in the model modules) and a
test in ``tests/test_device_kernels.py`` comparing the two. The random draws are made by numpy
outside the kernels, so a kernel returns exactly what the numpy path returns for the same rng.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["pcm_program", "pcm_read", "pcm_read_pairs", "pcm_read_q", "pcm_read_stats"]

_G_R_FLOOR = 1e-7


@njit(cache=True, fastmath=False)
def _pcm_program_kernel(gt, xi_p, xi_nu, g_max, c0, c1, c2, scale, s_drift, nm, ns, gp_out, nu_out):
    for i in range(gt.size):
        g = gt[i]
        x = g / g_max
        sig = (c0 + c1 * x + c2 * x * x) * scale
        gp = g + sig * xi_p[i]
        gp_out[i] = gp if gp > 0.0 else 0.0
        gr = abs(g) / g_max
        if gr < _G_R_FLOOR:
            gr = _G_R_FLOOR
        lg = math.log(gr)
        mu = min(max(nm[0] * lg + nm[1], nm[2]), nm[3])
        sd = min(max(ns[0] * lg + ns[1], ns[2]), ns[3])
        nu_out[i] = s_drift * abs(mu + sd * xi_nu[i])


def pcm_program(gt: np.ndarray, xi_p: np.ndarray, xi_nu: np.ndarray, cfg) -> tuple[np.ndarray, np.ndarray]:
    """Fused PCM steps 1-2 (``fit="pcm_like"``, quadratic sigma_prog): returns (G_P, nu)."""
    g = np.ascontiguousarray(gt, dtype=np.float64).ravel()
    gp, nu = np.empty_like(g), np.empty_like(g)
    c0, c1, c2 = cfg.prog_coeffs
    scale = cfg.s_prog * (cfg.g_max / cfg.g_ref if cfg.g_ref is not None else 1.0)
    _pcm_program_kernel(
        g,
        np.ascontiguousarray(xi_p).ravel(),
        np.ascontiguousarray(xi_nu).ravel(),
        cfg.g_max,
        c0,
        c1,
        c2,
        scale,
        cfg.s_drift,
        np.asarray(cfg.nu_mean, dtype=np.float64),
        np.asarray(cfg.nu_std, dtype=np.float64),
        gp,
        nu,
    )
    return gp.reshape(np.shape(gt)), nu.reshape(np.shape(gt))


class PcmRead(NamedTuple):
    """The read-time constants of PCM steps 3-4: ln((t + t0)/t0), s_read·sqrt(ln((t + t0 + t_read)/(2 t_read))),
    g_max and the Q_s parameters (q0, exponent, floor, cap)."""

    log_f: float
    root: float
    g_max: float
    q0: float
    q_exp: float
    q_floor: float
    q_cap: float


def _read_record(t: float, cfg) -> PcmRead:
    tt = t + cfg.t0
    root = cfg.s_read * math.sqrt(math.log((tt + cfg.t_read) / (2.0 * cfg.t_read)))
    return PcmRead(math.log(tt / cfg.t0), root, cfg.g_max, *cfg.q_read)


@njit(cache=True, fastmath=False, inline="always")
def _q_of(g, rd):
    """Q_s of one device: its relative read-noise amplitude, a function of G_P alone (not of t)."""
    gr = abs(g) / rd.g_max
    if gr < _G_R_FLOOR:
        gr = _G_R_FLOOR
    q = rd.q0 / max(gr**rd.q_exp, rd.q_floor)
    if q > rd.q_cap:
        q = rd.q_cap
    return q


@njit(cache=True, fastmath=False, inline="always")
def _drift_and_q(g, nu, rd):
    """(G_D, Q_s) of one device: drifted conductance and its relative read-noise amplitude."""
    return g * math.exp(-nu * rd.log_f), _q_of(g, rd)


@njit(cache=True, fastmath=False)
def _pcm_read_kernel(gp, nu, xi, rd, out):
    for i in range(gp.size):
        gd, q = _drift_and_q(gp[i], nu[i], rd)
        v = gd + abs(gd) * q * rd.root * xi[i]
        out[i] = v if v > 0.0 else 0.0


def pcm_read(gp: np.ndarray, nu: np.ndarray, xi: np.ndarray, t: float, cfg) -> np.ndarray:
    """Fused PCM steps 3-4 (``fit="pcm_like"``): drifted conductance plus fresh 1/f read noise."""
    g = np.ascontiguousarray(gp, dtype=np.float64).ravel()
    out = np.empty_like(g)
    nu64 = np.ascontiguousarray(nu, dtype=np.float64).ravel()
    _pcm_read_kernel(g, nu64, np.ascontiguousarray(xi).ravel(), _read_record(float(t), cfg), out)
    return out.reshape(np.shape(gp))


@njit(cache=True, fastmath=False)
def _pcm_read_stats_kernel(gp, nu, rd, g_out, sd_out):
    for i in range(gp.size):
        gd, q = _drift_and_q(np.float64(gp[i]), np.float64(nu[i]), rd)
        g_out[i] = gd
        sd_out[i] = abs(gd) * q * rd.root


@njit(cache=True, fastmath=False)
def _pcm_read_stats_q_kernel(gp, nu, q, rd, g_out, sd_out):
    for i in range(gp.size):
        gd = np.float64(gp[i]) * math.exp(-np.float64(nu[i]) * rd.log_f)
        g_out[i] = gd
        sd_out[i] = abs(gd) * np.float64(q[i]) * rd.root


@intrinsic
def _bits_as_float(typingctx, bits):
    """The float64 whose IEEE-754 bits are the int64 ``bits``."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _float_bits(typingctx, x):
    """The IEEE-754 bits of the float64 ``x`` as an int64."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


_SHIFTER = 6755399441055744.0  # 1.5 * 2^52: x + _SHIFTER rounds x to an integer held in the low mantissa bits
_INV_LN2 = 1.4426950408889634
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10  # fdlibm's split of ln 2
_E0, _E1, _E2, _E3, _E4, _E5, _E6, _E7, _E8, _E9, _E10, _E11, _E12, _E13 = (1.0 / math.factorial(n) for n in range(14))


@njit(cache=True, fastmath=False, inline="always")
def _exp_nonpositive(x):
    """exp(x) for x <= 0 within 1 ulp (float64) of libm's, in branch-free arithmetic that LLVM vectorises.

    x = k ln 2 + r (|r| <= ln 2 / 2, Cody-Waite: k ln2_hi is exact), exp(r) by its Taylor series to r^13 (remainder
    < 4e-18) in Estrin's scheme (short dependency chains), times 2^k built in the exponent bits. x < -708 gives
    exp(-708) (~3e-308) instead of a subnormal. Checked against numpy's exp in tests/test_device_kernels.py.
    """
    x = max(x, -708.0)
    kf = x * _INV_LN2 + _SHIFTER
    k = kf - _SHIFTER
    r = (x - k * _LN2_HI) - k * _LN2_LO
    r2 = r * r
    r4 = r2 * r2
    hi = ((_E8 + _E9 * r) + (_E10 + _E11 * r) * r2 + (_E12 + _E13 * r) * r4) * (r4 * r4)
    lo = ((_E4 + _E5 * r) + (_E6 + _E7 * r) * r2) * r4 + ((_E2 + _E3 * r) * r2 + _E1 * r)
    return (_E0 + (lo + hi)) * _bits_as_float((_float_bits(kf) - _float_bits(_SHIFTER) + 1023) << 52)


@njit(cache=True, fastmath=False, inline="always")
def _stats_q32(g, nu, q, rd):
    """(G_D, read-noise std) of one device of a float32 state with stored Q_s, with :func:`_exp_nonpositive`."""
    gd = np.float64(g) * _exp_nonpositive(-np.float64(nu) * rd.log_f)
    return gd, abs(gd) * np.float64(q) * rd.root


@njit(cache=True, fastmath=False)
def _pcm_read_stats_q32_kernel(gp, nu, q, rd, g_out, sd_out):
    """:func:`_pcm_read_stats_q_kernel` for float32 states, with the vectorised :func:`_exp_nonpositive`."""
    for i in range(gp.size):
        g_out[i], sd_out[i] = _stats_q32(gp[i], nu[i], q[i], rd)


@njit(cache=True, fastmath=False, inline="always")
def _run_sum(a, lo, n):
    """numpy's sum of a run of <= 128: sequential below 8, else 8 accumulators then the rest sequentially."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3, r4, r5, r6, r7 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3], a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    stop = lo + n - n % 8
    for i in range(lo + 8, stop, 8):
        r0, r1, r2, r3 = r0 + a[i], r1 + a[i + 1], r2 + a[i + 2], r3 + a[i + 3]
        r4, r5, r6, r7 = r4 + a[i + 4], r5 + a[i + 5], r6 + a[i + 6], r7 + a[i + 7]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(stop, lo + n):
        res += a[i]
    return res


@njit(cache=True, fastmath=False)
def _pairwise_sum(a, stack, vals):
    """sum(a) in numpy's pairwise order (``np.add.reduce`` of a contiguous float64 run, numpy 2: runs of <= 128 by
    :func:`_run_sum`, longer runs split in halves rounded down to a multiple of 8, the halves' sums added), so the
    result is numpy's, bit for bit (tests/test_device_kernels.py). The recursion is unrolled on ``stack`` ((depth,
    3) int64: run start, length, halves done) and ``vals`` (depth float64, partial sums): numba's cache does not
    load recursive functions back safely."""
    sp, nv = 1, 0
    stack[0, 0], stack[0, 1], stack[0, 2] = 0, a.size, 0
    while sp:
        sp -= 1
        lo, n, done = stack[sp, 0], stack[sp, 1], stack[sp, 2]
        if n <= 128:
            vals[nv] = _run_sum(a, lo, n)
            nv += 1
        elif done:
            nv -= 1
            vals[nv - 1] = vals[nv - 1] + vals[nv]
        else:
            n2 = n // 2
            n2 -= n2 % 8
            stack[sp, 2] = 1  # revisited after both halves: add them
            stack[sp + 1, 0], stack[sp + 1, 1], stack[sp + 1, 2] = lo + n2, n - n2, 0
            stack[sp + 2, 0], stack[sp + 2, 1], stack[sp + 2, 2] = lo, n2, 0  # the left half first, as numpy
            sp += 3
    return vals[0]


@njit(cache=True, fastmath=False, inline="always")
def _combine_row(i, g, sd, pr, interleaved):
    """Row i of one :class:`~device_models.base.ColumnPairs` from the row's G and sd (``interleaved``: plus[j] = 2 j,
    minus[j] = 2 j + 1, the differential layout, read with constant strides)."""
    mat, var, scale, scale2 = pr.mat[i], pr.var[i], pr.scale, pr.scale2
    if interleaved:
        for j in range(pr.plus.size):
            mat[j] = (g[2 * j] - g[2 * j + 1]) * scale
            var[j] = (sd[2 * j] * sd[2 * j] + sd[2 * j + 1] * sd[2 * j + 1]) * scale2
    elif pr.minus.size:
        for j in range(pr.plus.size):
            p, m = pr.plus[j], pr.minus[j]
            mat[j] = (g[p] - g[m]) * scale
            var[j] = (sd[p] * sd[p] + sd[m] * sd[m]) * scale2
    else:
        for j in range(pr.plus.size):
            p = pr.plus[j]
            mat[j] = g[p] * scale
            var[j] = (sd[p] * sd[p]) * scale2


@njit(cache=True, fastmath=False, nogil=True)
def _pcm_read_pairs_kernel(gp, nu, q, rd, r_access, pairs, row_g):
    rows, nd = gp.shape
    g, sd = np.empty(nd), np.empty(nd)  # one row of G and sd: stays in L1
    stack, vals = np.empty((128, 3), np.int64), np.empty(128)  # 2 x depth (< 64) entries
    interleaved = np.zeros(len(pairs), np.bool_)
    for c, pr in enumerate(pairs):
        w = pr.plus.size
        if pr.minus.size == w and 2 * w <= nd:
            interleaved[c] = np.all(pr.plus == 2 * np.arange(w)) and np.all(pr.minus == 2 * np.arange(w) + 1)
    gpf, nuf = gp.reshape(-1), nu.reshape(-1)
    for i in range(rows):
        b = i * nd
        for j in range(nd):
            g[j], sd[j] = _stats_q32(gpf[b + j], nuf[b + j], q[b + j], rd)
        if r_access > 0.0:  # 1T1R: g_eff = g f, sd_eff = sd f f with f = 1 / (1 + g R)
            for j in range(nd):
                f = 1.0 / (1.0 + g[j] * r_access)
                g[j] = g[j] * f
                sd[j] = sd[j] * f * f
        if row_g.size:
            row_g[i] = _pairwise_sum(g, stack, vals)
        for c, pr in enumerate(pairs):
            _combine_row(i, g, sd, pr, interleaved[c])


def pcm_read_pairs(
    gp: np.ndarray,
    nu: np.ndarray,
    q: np.ndarray,
    t: float,
    cfg,
    r_access: float,
    pairs: tuple,
    row_g: np.ndarray | None,
) -> None:
    """:func:`pcm_read_stats` of a float32 state with stored Q_s, a series access resistance ``r_access`` (ohm,
    0: none) and the column combinations ``pairs`` (:class:`~device_models.base.ColumnPairs`, filled in place),
    in one pass over the rows, without arrays of the state's size: the same float64 operations in the same order
    as those steps one after the other, so the same bits. ``row_g``: (rows,) float64, the row sums of the
    (access-corrected) conductances, or None (not computed)."""
    rows = np.empty(0) if row_g is None else row_g
    _pcm_read_pairs_kernel(gp, nu, q, _read_record(float(t), cfg), float(r_access), tuple(pairs), rows)


@njit(cache=True, fastmath=False)
def _pcm_read_q_kernel(gp, rd, q_out):
    for i in range(gp.size):
        q_out[i] = _q_of(np.float64(gp[i]), rd)


def pcm_read_q(gp: np.ndarray, cfg) -> np.ndarray:
    """Q_s of every device (float32, flat): the t-independent part of the read-noise std, for
    :func:`pcm_read_stats` to reuse at every read time."""
    q = np.empty(np.size(gp), dtype=np.float32)
    _pcm_read_q_kernel(np.ascontiguousarray(gp).ravel(), _read_record(0.0, cfg), q)
    return q


def pcm_read_stats(
    gp: np.ndarray, nu: np.ndarray, t: float, cfg, q: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fused PCM steps 3-4 without the draw (``fit="pcm_like"``): drifted conductance G_D and read-noise std
    |G_D|·sigma_rd, in one pass over the stored G_P and nu (float32 or float64). With ``q`` (from
    :func:`pcm_read_q`) the pass is one exp per device instead of an exp, a log and a pow; for a float32 (compact)
    state that exp is :func:`_exp_nonpositive` (vectorised, within 1 ulp of libm's; float64 states keep libm's)."""
    g_out, sd_out = np.empty(np.shape(gp)), np.empty(np.shape(gp))
    rd = _read_record(float(t), cfg)
    flat_g, flat_nu = np.ascontiguousarray(gp).ravel(), np.ascontiguousarray(nu).ravel()
    if q is None:
        _pcm_read_stats_kernel(flat_g, flat_nu, rd, g_out.reshape(-1), sd_out.reshape(-1))
    elif flat_g.dtype == np.float32 and flat_nu.dtype == np.float32:  # compact state: the vectorised exp
        _pcm_read_stats_q32_kernel(flat_g, flat_nu, q, rd, g_out.reshape(-1), sd_out.reshape(-1))
    else:
        _pcm_read_stats_q_kernel(flat_g, flat_nu, q, rd, g_out.reshape(-1), sd_out.reshape(-1))
    return g_out, sd_out
