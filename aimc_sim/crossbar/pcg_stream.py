"""numpy's PCG64 normal and uniform draws, bit for bit, at less than half their cost, inside numba kernels.

The tile draws one standard normal per ADC output (output-referred noise, docs/crossbar.md, pipeline step 5):
131 072 per 512 x 512 MVM at batch 256. numpy's ``Generator.standard_normal`` (and numba's port of it) costs
~11 ns per draw on the project's machine, about as much as the signal product of the MVM. Two things make it slow,
neither of them the arithmetic: PCG64 is a 128-bit linear congruential generator, so every raw output waits
for the previous 128-bit multiply; and the ziggurat applies its random sign with a branch that is mispredicted
half the time. Here the raw outputs are made in blocks by eight interleaved copies of the same LCG (each stepping
by a^8, c (1 + a + ... + a^7)), and the sign is a multiply by +-1 (exact). The draws are numpy's own, in the same
order: the ziggurat (256 layers, numpy's tables, its tail and wedge rejections) consumes the raw outputs one by
one as ``random_standard_normal`` does, and a uniform is (raw >> 11) 2^-53 as ``Generator.random`` makes it.

The stream reads and writes the generator's state in place (numpy's ``pcg64_state`` struct, located through
``bit_generator.ctypes``), so numpy draws before and after continue the same sequence. :func:`stream_source`
returns that live state for a numpy ``PCG64`` generator whose struct layout checks out against
``bit_generator.state``, and the generator itself otherwise; :func:`fill_rows` fills rows of normals (and
uniforms) from it. The ADC kernel takes such pre-drawn rows (``_kernels.Draws``) or a Generator; it is not
compiled with this module's code, so numba's cache of the kernel (keyed by its own file) cannot go stale when
this file changes. Tests: tests/test_crossbar_pcg_stream.py.
"""

from __future__ import annotations

import ctypes
from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import njit, types
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


class PcgStream(NamedTuple):
    """A kernel's view of one PCG64 generator: ``state`` (uint64[4]: state lo, hi, increment lo, hi: the live
    numpy struct), ``chains`` (uint64[16]: hi, lo of the eight LCG copies making the next block), ``buf`` (the
    block of raw outputs) and ``pos`` (int64[2]: next unread index in ``buf``, raw outputs used since opened)."""

    state: np.ndarray
    chains: np.ndarray
    buf: np.ndarray
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
    return PcgStream(state, chains, np.empty(_BLOCK, np.uint64), np.array([_BLOCK, 0], np.int64))


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


@njit(cache=True)
def _take(st):
    """(the next raw output, advancing the stream): the slow paths' access."""
    if st.pos[0] == st.buf.size:
        _refill(st.state, st.chains, st.buf)
        st.pos[0] = 0
    p = st.pos[0]
    st.pos[0] = p + 1
    st.pos[1] += 1
    return st.buf[p]


@njit(cache=True)
def _unit(st):
    return np.float64(np.int64(_take(st) >> np.uint64(11))) * _TO_UNIT


@njit(cache=True, inline="always")
def _layer(r):
    """(x, |x| in ziggurat units, layer) of one raw output: numpy's first ziggurat step, the sign applied by an
    exact multiply by +-1 instead of a (half mispredicted) branch."""
    idx = np.int64(r & np.uint64(0xFF))
    r >>= np.uint64(8)
    rabs = np.int64((r >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF))
    return np.float64(rabs) * _WI[idx] * (1.0 - 2.0 * np.float64(np.int64(r & np.uint64(1)))), rabs, idx


@njit(cache=True)
def _rejected(st, x, rabs, idx):
    """numpy's ``random_standard_normal`` after its first candidate (x, rabs, idx) fell outside the layer's
    rectangle (< 1 % of draws): the tail beyond r, the wedge test, or a new candidate."""
    while True:
        if idx == 0:  # the tail beyond r
            while True:
                xx = -ziggurat_nor_inv_r * np.log1p(-_unit(st))
                yy = -np.log1p(-_unit(st))
                if yy + yy > xx * xx:
                    return -(ziggurat_nor_r + xx) if (rabs >> 8) & 1 else ziggurat_nor_r + xx
        elif (_FI[idx - 1] - _FI[idx]) * _unit(st) + _FI[idx] < np.exp(-0.5 * x * x):
            return x
        x, rabs, idx = _layer(_take(st))
        if rabs < _KI[idx]:
            return x


@njit(cache=True)
def _fill_normals(st, out):
    """out[:] = numpy's standard normals; the common case (one raw output accepted at once, > 99 %) in a tight
    loop over the current block, the others through :func:`_rejected`."""
    buf, pos = st.buf, st.pos
    n = buf.size
    p = pos[0]
    base = pos[1] - p  # raw outputs used before the current block
    i, m = 0, out.size
    while i < m:
        if p == n:
            _refill(st.state, st.chains, buf)
            base += n
            p = 0
        stop = min(n, p + (m - i))
        while p < stop:
            x, rabs, idx = _layer(buf[p])
            if rabs >= _KI[idx]:
                break
            out[i] = x
            i += 1
            p += 1
        if p < stop:  # rejected: the slow path may refill, so it works on the stream's own counters
            pos[0], pos[1] = p + 1, base + p + 1
            out[i] = _rejected(st, x, rabs, idx)
            i += 1
            p = pos[0]
            base = pos[1] - p
    pos[0], pos[1] = p, base + p


@njit(cache=True)
def _fill_uniforms(st, out):
    for i in range(out.size):
        out[i] = _unit(st)


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
    for b in range(normals.shape[0]):
        _fill_normals(st, normals[b])
        if uniforms.shape[1]:
            _fill_uniforms(st, uniforms[b])
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
