"""numpy's PCG64 normal and uniform draws, bit for bit, at about a third of their cost, inside numba kernels.

The tile draws one standard normal per ADC output (output-referred noise, docs/crossbar.md, pipeline step 5):
131 072 per 512 x 512 MVM at batch 256. numpy's ``Generator.standard_normal`` (and numba's port of it) costs
~11 ns per draw on the project's machine, about as much as the signal product of the MVM. Three things make it
slow, none of them the arithmetic: PCG64 is a 128-bit linear congruential generator, so every raw output waits
for the previous 128-bit multiply; the ziggurat applies its random sign with a branch that is mispredicted half
the time; and each draw is a scalar chain (layer lookup, int64 -> double, compare) that the compiler cannot
vectorise. Here the raw outputs are made in blocks by eight interleaved copies of the same LCG (each stepping by
a^8, c (1 + a + ... + a^7)); a vectorised pass computes every raw output's first ziggurat candidate and whether
its layer's rectangle accepts it (a bit mask; the candidate is a function of its raw output alone, so it is
valid whichever order the draws consume the block in); the normals are then runs of accepted candidates copied
out, and the 1.5 % of draws whose first candidate is rejected take numpy's slow path (its tail, wedge test or
next candidate) on the raw outputs that follow, across the block's end when they run past it. The draws are
numpy's own, in the same order, and a uniform is (raw >> 11) 2^-53 as ``Generator.random`` makes it.

The stream reads and writes the generator's state in place (numpy's ``pcg64_state`` struct, located through
``bit_generator.ctypes``), so numpy draws before and after continue the same sequence. :func:`stream_source`
returns that live state for a numpy ``PCG64`` generator whose struct layout checks out against
``bit_generator.state``, and the generator itself otherwise; :func:`fill_rows` fills rows of normals (and
uniforms) from it. The ADC kernel takes such pre-drawn rows (``_kernels.Draws``) or a Generator; it is not
compiled with this module's code, so numba's cache of the kernel (keyed by its own file) cannot go stale when
this file changes. Tests: tests/test_crossbar_pcg_stream.py; speed: ``benchmarks/bench_mvm.py --kernels``.
"""

from __future__ import annotations

import ctypes
from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

try:  # numpy's ziggurat tables as numba's port of numpy's generator holds them (a private numba module)
    from numba.np.random._constants import fi_double, ki_double, wi_double, ziggurat_nor_inv_r, ziggurat_nor_r
except ImportError:  # another numba layout: stream_source then hands kernels the Generator itself
    fi_double = ki_double = wi_double = np.zeros(256)
    ziggurat_nor_inv_r = ziggurat_nor_r = 0.0
    _HAVE_TABLES = False
else:
    _HAVE_TABLES = True

__all__ = ["fill_rows", "stream_source"]

_MASK = (1 << 64) - 1
_MULT = (2549297995355413924 << 64) + 4865540595714422341  # PCG_DEFAULT_MULTIPLIER_128 (numpy's pcg64.h)
_A8 = pow(_MULT, 8, 1 << 128)  # eight steps at once
_G8 = sum(_MULT**j for j in range(8)) % (1 << 128)  # eight steps add inc * (1 + a + ... + a^7)
_M_HI, _M_LO = np.uint64(_MULT >> 64), np.uint64(_MULT & _MASK)
_A8_HI, _A8_LO = np.uint64(_A8 >> 64), np.uint64(_A8 & _MASK)
_G8_HI, _G8_LO = np.uint64(_G8 >> 64), np.uint64(_G8 & _MASK)
_U0, _U1 = np.uint64(0), np.uint64(1)
_BLOCK = 1024  # raw outputs per refill (a multiple of 8)
_KI = ki_double.astype(np.int64)  # < 2^52: signed compares and conversions are cheaper than unsigned ones
_WI, _FI = wi_double, fi_double
_TO_UNIT = 1.0 / 9007199254740992.0  # 2^-53
_BIAS, _BIAS_BITS = 4503599627370496.0, np.uint64(0x4330000000000000)  # 2^52 and its bit pattern


class PcgStream(NamedTuple):
    """A kernel's view of one PCG64 generator: ``state`` (uint64[4]: state lo, hi, increment lo, hi: the live
    numpy struct), ``chains`` (uint64[16]: hi, lo of the eight LCG copies making the next block), ``buf`` (the
    block of raw outputs), ``cand`` (per raw output: the ziggurat's first candidate), ``rejected`` (bit j % 64 of
    word j // 64: candidate j is outside its layer's rectangle) and ``pos`` (int64[3]: next unread index in
    ``buf``, raw outputs used since opened, the index from which ``cand`` and ``rejected`` hold this block's)."""

    state: np.ndarray
    chains: np.ndarray
    buf: np.ndarray
    cand: np.ndarray
    rejected: np.ndarray
    pos: np.ndarray


@intrinsic
def _muladd128(typingctx, ahi, alo, bhi, blo, chi, clo):
    """(a b + c) mod 2^128 of unsigned 128-bit numbers given as (hi, lo) uint64 pairs, in LLVM's native i128."""
    u64 = types.uint64
    sig = types.UniTuple(u64, 2)(u64, u64, u64, u64, u64, u64)

    def codegen(context, builder, signature, args):
        i128, i64 = ir.IntType(128), ir.IntType(64)

        def join(hi, lo):
            return builder.or_(builder.shl(builder.zext(hi, i128), ir.Constant(i128, 64)), builder.zext(lo, i128))

        r = builder.add(builder.mul(join(args[0], args[1]), join(args[2], args[3])), join(args[4], args[5]))
        hi = builder.trunc(builder.lshr(r, ir.Constant(i128, 64)), i64)
        return context.make_tuple(builder, signature.return_type, [hi, builder.trunc(r, i64)])

    return sig, codegen


@intrinsic
def _bitcast(typingctx, value, to):
    """The 64 bits of ``value`` (uint64 or float64) read as the type ``to`` (np.uint64 or np.float64)."""
    target = to.instance_type

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(target))

    return target(value, to), codegen


@intrinsic
def _copy(typingctx, dst, src, n):
    """dst[:n] = src[:n] for C-contiguous float64 arrays, by llvm.memcpy (libc's memcpy: fewer mispredicted
    branches on the varying run lengths than a vectorised loop with its remainder loops)."""

    def codegen(context, builder, signature, args):
        d = context.make_array(signature.args[0])(context, builder, args[0])
        s = context.make_array(signature.args[1])(context, builder, args[1])
        cgutils.raw_memcpy(builder, d.data, s.data, args[2], 8)
        return context.get_dummy_value()

    if not all(isinstance(a, types.Array) and a.layout == "C" and a.dtype == types.float64 for a in (dst, src)):
        return None
    return types.void(dst, src, types.int64), codegen


@intrinsic
def _trailing_zeros(typingctx, w):
    """The number of trailing zero bits of the uint64 ``w`` (64 for 0)."""

    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 0))

    return types.uint64(types.uint64), codegen


@njit(cache=True, inline="always")
def _output(hi, lo):
    """PCG's XSL-RR output of a 128-bit state: (hi ^ lo) rotated right by hi >> 58."""
    x = hi ^ lo
    rot = hi >> np.uint64(58)
    return (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))


@njit(cache=True)
def _open(state):
    hi, lo, ihi, ilo = state[1], state[0], state[3], state[2]
    chains = np.empty(16, np.uint64)
    for c in range(8):  # numpy steps first, then outputs: raw output c comes from the state after c + 1 steps
        hi, lo = _muladd128(hi, lo, _M_HI, _M_LO, ihi, ilo)
        chains[2 * c], chains[2 * c + 1] = hi, lo
    buf, cand, rejected = np.empty(_BLOCK, np.uint64), np.empty(_BLOCK), np.empty(_BLOCK // 64, np.uint64)
    return PcgStream(state, chains, buf, cand, rejected, np.array([_BLOCK, 0, _BLOCK], np.int64))


@njit(cache=True)
def _refill(state, chains, buf):
    """The next block of raw outputs from the eight chains (independent 128-bit multiply chains: the CPU overlaps
    them, where one chain waits for each multiply)."""
    c8h, c8l = _muladd128(state[3], state[2], _G8_HI, _G8_LO, _U0, _U0)
    for i in range(0, buf.size, 8):
        for c in range(8):
            buf[i + c] = _output(chains[2 * c], chains[2 * c + 1])
        for c in range(8):
            chains[2 * c], chains[2 * c + 1] = _muladd128(chains[2 * c], chains[2 * c + 1], _A8_HI, _A8_LO, c8h, c8l)


@njit(cache=True, inline="always")
def _unit(r):
    """The uniform in [0, 1) of raw output r, as ``Generator.random`` makes it."""
    return np.float64(np.int64(r >> np.uint64(11))) * _TO_UNIT


@njit(cache=True, inline="always")
def _layer(r):
    """(x, |x| in ziggurat units, layer) of one raw output: numpy's first ziggurat step, written so that a loop
    over raw outputs vectorises: the 52-bit |x| converted by the exact 2^52 bias trick (AVX2 has no int64 ->
    double conversion), the sign applied by flipping the sign bit (as numpy's x = -x does) instead of a (half
    mispredicted) branch."""
    idx = np.int64(r & np.uint64(0xFF))
    rabs = (r >> np.uint64(9)) & np.uint64(0x000FFFFFFFFFFFFF)
    x = (_bitcast(rabs | _BIAS_BITS, np.float64) - _BIAS) * _WI[idx]
    return _bitcast(_bitcast(x, np.uint64) ^ ((r >> np.uint64(8)) << np.uint64(63)), np.float64), np.int64(rabs), idx


@njit(cache=True)
def _candidates(buf, cand, rejected, g0, g1):
    """For the raw outputs j of words g0 <= j // 64 < g1: cand[j] = :func:`_layer`'s x of buf[j], and ``rejected``'s
    bit j: |x| outside the layer's rectangle, in loops LLVM vectorises."""
    for g in range(g0, g1):
        raw, x_out = buf[64 * g : 64 * g + 64], cand[64 * g : 64 * g + 64]  # views: indices LLVM knows are >= 0
        word = _U0
        for k in range(64):
            x, rabs, idx = _layer(raw[k])
            x_out[k] = x
            word |= np.uint64(rabs >= _KI[idx]) << np.uint64(k)
        rejected[g] = word


@njit(cache=True, inline="always")
def _next_rejected(rejected, q, stop):
    """The first index j in [q, stop) whose candidate is rejected, or stop."""
    g = q >> 6
    w = rejected[g] >> np.uint64(q & 63)
    while w == 0:
        g += 1
        if 64 * g >= stop:
            return stop
        w = rejected[g]
        q = 64 * g
    return min(stop, q + np.int64(_trailing_zeros(w)))


@njit(cache=True, inline="always")
def _resolve(raw, j, stop):
    """numpy's ``random_standard_normal`` from raw[j], whose candidate fell outside its layer's rectangle (1.5 % of
    draws): the tail beyond r, the wedge test, or a new candidate, reading raw[j + 1:stop]. Returns (the normal,
    the index after the last raw output used), or (0.0, -1) if it needs raw[stop] or beyond."""
    x, rabs, idx = _layer(raw[j])
    k = j + 1
    while True:
        if idx == 0:  # the tail beyond r
            while True:
                if k + 2 > stop:
                    return 0.0, -1
                xx = -ziggurat_nor_inv_r * np.log1p(-_unit(raw[k]))
                yy = -np.log1p(-_unit(raw[k + 1]))
                k += 2
                if yy + yy > xx * xx:
                    return (-(ziggurat_nor_r + xx) if (rabs >> 8) & 1 else ziggurat_nor_r + xx), k
        if k == stop:
            return 0.0, -1
        if (_FI[idx - 1] - _FI[idx]) * _unit(raw[k]) + _FI[idx] < np.exp(-0.5 * x * x):
            return x, k + 1
        if k + 1 == stop:
            return 0.0, -1
        x, rabs, idx = _layer(raw[k + 1])
        k += 2
        if rabs < _KI[idx]:
            return x, k


@njit(cache=True)
def _resolve_across(st, q):
    """:func:`_resolve` for buf[q] when it needs raw outputs past the block: the raw outputs from q on and as many
    next blocks as it takes, in one buffer. Returns (the normal, the next unread index in the block now in ``buf``,
    raw outputs used from q on)."""
    n = st.buf.size
    ext = st.buf[q:].copy()
    while True:
        _refill(st.state, st.chains, st.buf)
        ext = np.concatenate((ext, st.buf))
        x, k = _resolve(ext, 0, ext.size)
        if k >= 0:
            return x, k - (ext.size - n), k


@njit(cache=True)
def _fill(st, normals, uniforms):
    """Per row: numpy's standard normals (runs of accepted candidates copied from the block, 98.5 % of draws, the
    others through :func:`_resolve`), then its uniforms. One call for all rows, the stream's arrays unpacked
    once: numba reference-counts every array argument of a call, with atomic operations."""
    state, chains, buf, cand, rejected, pos = st
    z, u = normals.reshape(normals.size), uniforms.reshape(uniforms.size)
    m, mu, n = normals.shape[1], uniforms.shape[1], buf.size
    p, used, valid = pos[0], pos[1], pos[2]
    for b in range(normals.shape[0]):
        i, end = b * m, (b + 1) * m
        while i < end:
            if p == n:
                _refill(state, chains, buf)
                p, valid = 0, n
            if p < valid:
                g = p // 64
                _candidates(buf, cand, rejected, g, valid // 64)
                valid = 64 * g
            stop = min(n, p + (end - i))
            q = _next_rejected(rejected, p, stop)
            _copy(z[i:], cand[p:], q - p)
            i += q - p
            used += q - p
            p = q
            if q < stop:
                x, p = _resolve(buf, q, n)
                if p < 0:
                    x, p, k = _resolve_across(st, q)
                    used += k
                    valid = n
                else:
                    used += p - q
                z[i] = x
                i += 1
        for k in range(b * mu, (b + 1) * mu):
            if p == n:
                _refill(state, chains, buf)
                p, valid = 0, n
            u[k] = _unit(buf[p])
            p += 1
        used += mu
    pos[0], pos[1], pos[2] = p, used, valid


@njit(cache=True)
def _close(st):
    """Write the state after the raw outputs used back into the generator (jump ahead: O(log n) steps)."""
    n = st.pos[1]
    ihi, ilo = st.state[3], st.state[2]
    amh, aml, aph, apl = _U0, _U1, _U0, _U0  # accumulated multiplier and increment
    cmh, cml, cph, cpl = _M_HI, _M_LO, ihi, ilo
    while n > 0:
        if n & 1:
            amh, aml = _muladd128(amh, aml, cmh, cml, _U0, _U0)
            aph, apl = _muladd128(aph, apl, cmh, cml, cph, cpl)
        th, tl = _muladd128(cmh, cml, _U0, _U1, _U0, _U1)  # c_mult + 1
        cph, cpl = _muladd128(th, tl, cph, cpl, _U0, _U0)
        cmh, cml = _muladd128(cmh, cml, cmh, cml, _U0, _U0)
        n >>= 1
    hi, lo = _muladd128(amh, aml, st.state[1], st.state[0], aph, apl)
    st.state[0], st.state[1] = lo, hi
    st.pos[1] = 0


@njit(cache=True, nogil=True)
def _fill_rows(state, normals, uniforms):
    st = _open(state)
    _fill(st, normals, uniforms)
    _close(st)


def fill_rows(state: np.ndarray, normals: np.ndarray, uniforms: np.ndarray) -> None:
    """Per row b: normals[b] = ``rng.standard_normal(m)``, then uniforms[b] = ``rng.random(m_u)`` (when it has
    columns), drawn from the generator whose live ``state`` :func:`stream_source` returned: the same numbers, and
    the generator's state moves past them. Arrays: float64, C-contiguous."""
    _fill_rows(state, normals, uniforms)


def stream_source(rng: np.random.Generator) -> np.ndarray | np.random.Generator:
    """What a kernel draws ``rng``'s numbers from: the live state (a uint64[4] view of numpy's ``pcg64_state``:
    state lo, hi, increment lo, hi) of a ``PCG64`` generator, checked against ``bit_generator.state``; otherwise
    (another bit generator, a struct layout that does not check out, or a numba without numpy's ziggurat tables)
    ``rng`` itself."""
    bitgen = rng.bit_generator
    if type(bitgen) is not np.random.PCG64 or not _HAVE_TABLES:
        return rng
    pcg_state = ctypes.cast(bitgen.ctypes.state_address, ctypes.POINTER(ctypes.c_void_p))[0]
    view = np.ctypeslib.as_array((ctypes.c_uint64 * 4).from_address(pcg_state))
    st = bitgen.state["state"]
    expected = [st["state"] & _MASK, st["state"] >> 64, st["inc"] & _MASK, st["inc"] >> 64]
    return view if [int(v) for v in view] == expected else rng
