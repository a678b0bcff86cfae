"""Every numba kernel in device_models._kernels against its plain-numpy reference."""

import numpy as np

from device_models import _kernels, load_preset
from device_models import pcm as P


def test_pcm_program_kernel_matches_numpy(rng):
    cfg = load_preset("pcm").config
    gt = np.concatenate([rng.uniform(0, 30e-6, 5000), [0.0, 1e-12, 25e-6]])
    xi = rng.standard_normal((2, gt.size))
    gp, nu = _kernels.pcm_program(gt, xi[0], xi[1], cfg)
    gp_ref = np.maximum(0.0, gt + P.programming_sigma(gt, cfg) * xi[0])
    mu, sd = P.drift_exponent_stats(gt, cfg)
    np.testing.assert_allclose(gp, gp_ref, rtol=1e-12, atol=1e-20)
    np.testing.assert_allclose(nu, np.abs(mu + sd * xi[1]), rtol=1e-12)


def test_pcm_read_kernel_matches_numpy(rng):
    cfg = load_preset("pcm", s_read=1.3).config
    gp = np.concatenate([rng.uniform(0, 30e-6, 5003), [0.0, 1e-13]]).reshape(-1, 7)
    nu = rng.uniform(0, 0.1, gp.shape)
    xi = rng.standard_normal(gp.shape)
    for t in (0.0, 3600.0, 3e7):
        out = _kernels.pcm_read(gp, nu, xi, t, cfg)
        gd = gp * P.drift_factor(nu, t, cfg)
        ref = np.maximum(0.0, gd + np.abs(gd) * P.read_noise_sigma(gp, t, cfg) * xi)
        assert out.shape == gp.shape
        np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-20)
