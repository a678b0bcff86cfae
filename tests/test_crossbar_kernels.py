"""Every numba kernel of aimc_sim.crossbar against its plain-numpy reference (K-1 style, float64 exact)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import solve_banded

from aimc_sim.crossbar import _kernels, irdrop_lines
from aimc_sim.crossbar._kernels import AdcState, Conversion, DacSpec, Digital
from aimc_sim.crossbar.quantise import adc_accumulate_ref, dac_encode_ref, sar_weights, uniform_quantise


@pytest.mark.parametrize(
    "abs_max,quantise,lo", [(True, True, -1.0), (False, True, -1.0), (True, False, -1.0), (False, True, 0.0)]
)
def test_dac_encode_matches_reference(rng, abs_max, quantise, lo):
    x = rng.standard_normal((9, 23))  # 23: exercises the remainder of the 4-way abs-max
    x[3] = 0.0  # all-zero row: scale 1
    given = np.abs(x).max(axis=1) * 0.8 + 0.1  # fixed scales: some inputs clip
    xn = np.empty(x.shape, np.float32)
    xn2 = np.empty(x.shape, np.float32)
    s = given.copy()
    gsum = rng.uniform(1e-6, 2e-5, (1, 23))
    n_bad, energy = _kernels.dac_encode(x, abs_max, s, DacSpec(lo, 2 / 254, quantise, False), gsum, xn, xn2)
    rn, rn2, rs = dac_encode_ref(x, abs_max, given, lo, 2 / 254, quantise)
    assert n_bad == 0
    assert energy == pytest.approx(float(np.sum(rn2.astype(np.float64) * gsum)), rel=1e-12)
    _, e_pwm = _kernels.dac_encode(x, abs_max, s.copy(), DacSpec(lo, 2 / 254, quantise, True), gsum, xn, xn2)
    assert e_pwm == pytest.approx(float(np.sum(np.abs(rn.astype(np.float64)) * gsum)), rel=1e-12)
    groups = gsum.repeat(2, axis=0) * [[1.0], [2.0]]  # row b uses row b % 2 of the row sums
    _, e2 = _kernels.dac_encode(x, abs_max, s.copy(), DacSpec(lo, 2 / 254, quantise, False), groups, xn, xn2)
    assert e2 == pytest.approx(float(np.sum(rn2.astype(np.float64) * groups[np.arange(9) % 2])), rel=1e-12)
    np.testing.assert_array_equal(s, rs)
    np.testing.assert_array_equal(xn, rn)
    np.testing.assert_array_equal(xn2, rn2)
    x[2, 5], x[7, 0] = np.nan, -np.inf
    assert _kernels.dac_encode(x, abs_max, given.copy(), DacSpec(lo, 2 / 254, quantise, False), gsum, xn, xn2)[0] == 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dac_encode_abs_max_of_special_values(rng, dtype):
    """The abs-max row scale (read from the magnitudes' bits) equals numpy's max |x| with NaN skipped, for -0,
    subnormals, inf and NaN, in both input dtypes and on a non-contiguous view; an all-zero row scales by 1."""
    tiny = np.finfo(dtype).smallest_subnormal
    x = rng.standard_normal((6, 21)).astype(dtype)
    x[0] = -0.0
    x[1, :3] = [tiny, -3 * tiny, 0.0]
    x[1, 3:] = 0.0
    x[2, 4] = -np.inf
    x[3, 7] = np.nan
    x[4, ::2] *= -1e30
    for a in (x, x[:, :17]):
        s = np.empty(a.shape[0])
        xn, xn2 = np.empty(a.shape, np.float32), np.empty(a.shape, np.float32)
        n_bad, _ = _kernels.dac_encode(
            a, True, s, DacSpec(-1.0, 2 / 254, True, False), np.zeros((1, a.shape[1])), xn, xn2
        )
        ref = np.nanmax(np.abs(a.astype(np.float64)), axis=1)
        np.testing.assert_array_equal(s, np.where(ref > 0, ref, 1.0))
        with np.errstate(over="ignore", invalid="ignore"):  # the subnormal float64 row: 1 / s overflows to inf
            scaled = a.astype(np.float64) * (1.0 / s)[:, None]
        assert n_bad == int((~np.isfinite(scaled)).sum())


@pytest.mark.parametrize(
    "quantise,noisy,has_var,sar,stochastic,groups",
    [
        (True, True, True, False, False, 1),
        (True, False, False, False, False, 1),
        (False, True, False, False, False, 1),
        (True, True, True, True, False, 1),
        (True, True, True, False, True, 1),
        (True, False, False, True, True, 1),
        (True, True, True, False, False, 4),
    ],
)
def test_adc_accumulate_matches_reference(quantise, noisy, has_var, sar, stochastic, groups):
    r = np.random.default_rng(3)
    m = 3 * groups if groups > 1 else 11
    sig = r.standard_normal((6, m)) * 3
    var = r.uniform(0, 0.5, (6, m)) if has_var else None
    extra = r.uniform(0, 0.1, (6, groups))
    gain = 1 + 0.05 * r.standard_normal(m)
    off = 0.1 * r.standard_normal(m)
    bound = np.full(m, 4.0)
    rs, cs = r.uniform(0.5, 2, (6, groups)), r.uniform(0.5, 2, m)
    out = np.empty((6, m))
    sat = np.zeros((6, groups), dtype=bool)
    sar_w = sar_weights(5, 0.2, m, r) if sar else np.empty((m, 0))
    adc = AdcState(gain, off, bound, sar_w)
    conv = Conversion(30.0, quantise, noisy, has_var, stochastic)
    _kernels.adc_accumulate(
        sig, var if has_var else sig, extra, adc, conv, Digital(0.7, rs, cs, False), out, sat, np.random.default_rng(11)
    )
    ref, rsat = adc_accumulate_ref(
        sig,
        var,
        extra,
        gain,
        off,
        bound,
        30.0,
        quantise,
        noisy,
        0.7,
        rs,
        cs,
        np.random.default_rng(11),
        sar_w,
        stochastic,
    )
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(sat, rsat)
    out2 = out.copy()
    conv2 = Conversion(30.0, quantise, False, False, False)
    _kernels.adc_accumulate(
        sig, sig, extra, adc, conv2, Digital(1.0, rs, cs, True), out2, sat, np.random.default_rng(0)
    )
    ref2, _ = adc_accumulate_ref(sig, None, extra, gain, off, bound, 30.0, quantise, False, 1.0, rs, cs, None, sar_w)
    np.testing.assert_allclose(out2, out + ref2, rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_channel_read_matches_numpy(rng, dtype):
    """channel_read equals the numpy channel expressions, bit for bit, in the reads' dtype (differential and
    single-ended channels, with and without read noise)."""
    g = rng.uniform(0, 25e-6, (7, 12)).astype(dtype)
    sd = rng.uniform(0, 1e-6, (7, 12)).astype(dtype)
    plus, minus, scale = np.arange(0, 12, 2), np.arange(1, 12, 2), 40000.0
    for mi, with_sd in ((minus, True), (minus, False), (None, True)):
        mat, var = np.empty((7, 6), np.float32), np.empty((7, 6) if with_sd else (0, 6), np.float32)
        mk = mi if mi is not None else np.empty(0, np.int64)
        sds = sd if with_sd else np.empty((0, 12), dtype)
        _kernels.channel_read(g, sds, plus, mk, dtype(scale), dtype(scale**2), mat, var)
        m = g[:, plus] - (g[:, mi] if mi is not None else 0.0)
        m *= scale
        np.testing.assert_array_equal(mat, m.astype(np.float32))
        if with_sd:
            v = np.square(sd[:, plus])
            if mi is not None:
                v += np.square(sd[:, mi])
            v *= scale**2
            np.testing.assert_array_equal(var, v.astype(np.float32))


def test_stochastic_adc_rounding_is_unbiased():
    """XB-5: stochastic rounding of the ADC code is unbiased (mean error < 3 sigma / sqrt(n)); rounding is not."""
    n, m = 20000, 3
    sig = np.tile([0.3 * 8 / 254, -0.45 * 8 / 254, 1.2 * 8 / 254], (n, 1))  # fractions of one LSB (8 / 254)
    adc = AdcState(np.ones(m), np.zeros(m), np.full(m, 4.0), np.empty((m, 0)))
    dig = Digital(1.0, np.ones((n, 1)), np.ones(m), False)
    outs = {}
    for sto in (False, True):
        out = np.empty((n, m))
        conv = Conversion(254.0, True, False, False, sto)
        _kernels.adc_accumulate(
            sig, sig, np.zeros((n, 1)), adc, conv, dig, out, np.zeros((n, 1), bool), np.random.default_rng(2)
        )
        outs[sto] = out
    err = outs[True] - sig
    assert np.all(np.abs(err.mean(axis=0)) < 3 * err.std(axis=0) / np.sqrt(n))
    assert np.all(np.abs((outs[False] - sig).mean(axis=0)) > 0.1 * 8 / 254)  # deterministic: biased by the fraction


def test_uniform_quantiser_levels_xb5(rng):
    """XB-5: r = 1/126 (7 bits signed: 2**7 - 2 = 126 steps) gives 127 levels."""
    q = uniform_quantise(np.linspace(-1.5, 1.5, 100_001), 1.0, 7)
    assert np.unique(q).size == 127


def test_stochastic_rounding_unbiased_xb5(rng):
    """XB-5: stochastic rounding is unbiased: |mean error| < 3 sigma / sqrt(n)."""
    v = rng.uniform(-0.9, 0.9, 200_000)
    q = uniform_quantise(v, 1.0, 4, stochastic=True, rng=rng)
    err = q - v
    assert abs(err.mean()) < 3 * err.std() / np.sqrt(err.size)
    det = uniform_quantise(v, 1.0, 4) - v
    assert np.abs(det).max() <= (2 / 14) / 2 + 1e-12


def _thomas_ref(diag: np.ndarray, gw: float, rhs: np.ndarray) -> np.ndarray:
    """Each chain (row of diag) solved with scipy's banded solver; rhs (chains, L, K)."""
    out = np.empty_like(rhs)
    for c in range(diag.shape[0]):
        ab = np.zeros((3, diag.shape[1]))
        ab[0, 1:] = -gw
        ab[1] = diag[c]
        ab[2, :-1] = -gw
        out[c] = solve_banded((1, 1), ab, rhs[c])
    return out


def test_relax_pass_matches_reference(rng):
    """Fused line passes against scipy's banded solver: a Gauss-Seidel sweep from B = 0 (every row chain given B,
    then every column chain given the new W), the next pass's row solves from that B, and a relaxed step
    B + omega (GS(B) - B) read back by a third pass (passes alternate direction)."""
    R, C, K = 5, 7, 3
    g = rng.uniform(1e-6, 25e-6, (R, C))
    gw, gt = 2.0, 1e3
    dw = g.copy()
    dw[:, 1:] += gw
    dw[:, :-1] += gw
    dw[:, 0] += gt
    db = np.ascontiguousarray(g.T)
    db[:, 1:] += gw
    db[:, :-1] += gw
    db[:, -1] += gt
    src_w = rng.uniform(-1, 1, (R, K)) * gt
    src_b = rng.uniform(-1, 1, (C, K)) * 0.01

    def sweep(B):
        rw = g[:, :, None] * B
        rw[:, 0, :] += src_w
        W = _thomas_ref(dw, gw, rw)
        rb = (g[:, :, None] * W).transpose(1, 0, 2).copy()
        rb[:, -1, :] += src_b
        return W, _thomas_ref(db, gw, rb).transpose(1, 0, 2)

    tables = irdrop_lines.line_tables(g, gw, gt)
    blk = irdrop_lines.Block(src_w, src_b, np.zeros((R, C, K)), np.empty((C, K)), np.empty((R, K)))
    rows = irdrop_lines.Rows(*(np.empty((C, K)) for _ in range(3)))

    def check(B, W):
        np.testing.assert_allclose(blk.sensed, B[R - 1], rtol=1e-10, atol=1e-18)
        np.testing.assert_allclose(blk.driven, W[:, 0], rtol=1e-12, atol=1e-15)

    W1, B1 = sweep(np.zeros((R, C, K)))
    irdrop_lines.relax_pass(tables, blk, rows, True, 1.0)
    check(np.zeros((R, C, K)), W1)
    irdrop_lines.relax_pass(tables, blk, rows, False, 1.3)
    W2, B2 = sweep(B1)
    check(B1, W2)
    irdrop_lines.relax_pass(tables, blk, rows, True, 1.0)
    relaxed = B1 + 1.3 * (B2 - B1)
    check(relaxed, sweep(relaxed)[0])


def test_sar_with_ideal_weights_is_the_uniform_quantiser():
    """With sigma_u = 0 the SAR search returns the rounded code (ties aside): same outputs as the ideal ADC."""
    r = np.random.default_rng(5)
    sig = r.uniform(-5, 5, (40, 7))
    conv = Conversion(254.0, True, False, False, False)
    dig = Digital(1.0, np.ones((40, 1)), np.ones(7), False)
    z = np.zeros((40, 1))
    a, b = np.empty((40, 7)), np.empty((40, 7))
    sat = np.zeros((40, 1), dtype=bool)

    def state(sar):
        return AdcState(np.ones(7), np.zeros(7), np.full(7, 4.0), sar)

    _kernels.adc_accumulate(sig, sig, z, state(np.empty((7, 0))), conv, dig, a, sat, r)
    _kernels.adc_accumulate(sig, sig, z, state(sar_weights(8, 0.0, 7, r)), conv, dig, b, sat, r)
    np.testing.assert_array_equal(a, b)
    c = np.empty((40, 7))
    _kernels.adc_accumulate(sig, sig, z, state(sar_weights(8, 0.3, 7, r)), conv, dig, c, sat, r)
    assert 0 < np.abs(c - a).max() < 0.5  # mismatch moves codes, by a few LSB (LSB = 8/254)
