"""S4D layer forms and the fused real crossbar mapping.

Tests E1 (docs/s4d.md#fused-mapping) and E1b (docs/s4d.md#stability)."""

import numpy as np
import pytest

from aimc_sim.errors import ConfigError
from workloads.s4d.quant import quantise_abar
from workloads.s4d.ssm import discretise, fused_matrix, init_ssm, ssm_fft, ssm_fused, ssm_kernel, ssm_recurrence


def _layer(rng, H=3, P=8, init="lin", method="zoh"):
    p = init_ssm(H, P, rng, init)
    dA, dB = discretise(p["log_dt"], p["log_A_real"], p["A_imag"], method)
    return dA, dB, p["C"][..., 0] + 1j * p["C"][..., 1], p["D"]


@pytest.mark.parametrize("method", ["zoh", "bilinear"])
@pytest.mark.parametrize("init", ["lin", "inv"])
def test_E1_fft_recurrence_fused_agree_float64(rng, init, method):
    """E1: FFT convolution = complex recurrence = fused real MVM loop (P=8, L=64), <= 1e-12 in float64."""
    dA, dB, C, D = _layer(rng, init=init, method=method)
    u = rng.standard_normal((2, 64, 3))
    y_fft = ssm_fft(u, ssm_kernel(dA, dB, C, 64), D)
    y_rec = ssm_recurrence(u, dA, dB, C, D)
    y_fus = ssm_fused(u, fused_matrix(dA, dB, C, D))
    assert np.abs(y_rec - y_fft).max() <= 1e-12
    assert np.abs(y_fus - y_rec).max() <= 1e-12


def test_E1_fused_float32_within_1e5(rng):
    """E1: the fused real loop in float32 matches the float64 recurrence to <= 1e-5."""
    dA, dB, C, D = _layer(rng)
    u = rng.standard_normal((4, 64, 3))
    ref = ssm_recurrence(u, dA, dB, C, D)
    y32 = ssm_fused(u.astype(np.float32), fused_matrix(dA, dB, C, D))
    assert y32.dtype == np.float32
    assert np.abs(y32 - ref).max() <= 1e-5


def test_fused_matrix_structure(rng):
    """M has 8P+1 non-zeros minus the 3 zeros of S4D-Lin's real mode 0 (62 of 289 for P=8)."""
    dA, dB, C, D = _layer(rng, H=1)
    M = fused_matrix(dA, dB, C, D)
    assert M.shape == (1, 17, 17)
    assert np.count_nonzero(M[0]) == 62


def test_impulse_response_equals_kernel(rng):
    """The recurrence's response to a unit impulse is K_0 + D, K_1, K_2, ... (analytic kernel)."""
    dA, dB, C, D = _layer(rng, H=2)
    u = np.zeros((1, 16, 2))
    u[0, 0] = 1.0
    K = ssm_kernel(dA, dB, C, 16)
    y = ssm_recurrence(u, dA, dB, C, D)[0].T
    expect = K.copy()
    expect[:, 0] += D
    np.testing.assert_allclose(y, expect, atol=1e-12)


def test_zoh_scalar_analytic():
    """ZOH of a real pole a: Abar = exp(dt*a), Bbar = (exp(dt*a) - 1)/a."""
    dA, dB = discretise(np.log([0.1]), np.log([[2.0]]), np.zeros((1, 1)))
    np.testing.assert_allclose(dA, np.exp(-0.2))
    np.testing.assert_allclose(dB, (np.exp(-0.2) - 1) / -2.0)


def test_E1b_cartesian_8bit_flags_slow_modes(rng):
    """E1b: 8-bit Cartesian Abar at scale 1 with Delta=1e-3 collapses or clamps at least one mode."""
    P = 8
    p = init_ssm(1, P, rng, "lin")
    dA, _ = discretise(np.log([1e-3]), p["log_A_real"], p["A_imag"])
    q, n_clamped, n_collapsed = quantise_abar(dA, 8, w_max=1.0)
    assert n_clamped + n_collapsed >= 1
    assert np.abs(q).max() <= 1 - 1e-4 + 1e-15


def test_bad_init_and_discretisation(rng):
    with pytest.raises(ConfigError, match="model.init"):
        init_ssm(2, 2, rng, "foo")
    with pytest.raises(ConfigError, match="model.discretisation"):
        discretise(np.zeros(1), np.zeros((1, 1)), np.zeros((1, 1)), "euler")
