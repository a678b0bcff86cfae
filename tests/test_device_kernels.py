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


def test_pcm_read_stats_with_stored_q_matches_numpy(rng):
    """read_stats reuses a float32 Q_s per programmed array: G_D to 1e-12, the read-noise std to float32
    rounding (2^-24 relative), at several read times; the memo survives pickling as an empty one."""
    import pickle

    model = load_preset("pcm", s_read=1.3)
    cfg = model.config
    state = model.program(rng.uniform(0, 30e-6, (61, 83)), rng)
    for t in (0.0, 3600.0, 3e7):
        g, sd = model.read_stats(state, t)
        gd = state.g0 * P.drift_factor(state.per_device["nu"], t, cfg)
        np.testing.assert_allclose(g, gd, rtol=1e-12, atol=1e-20)
        np.testing.assert_allclose(sd, np.abs(gd) * P.read_noise_sigma(state.g0, t, cfg), rtol=2.0**-24, atol=1e-24)
    assert model.read_q(state.g0) is model.read_q(state.g0)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.read_stats(state, 3600.0)[1], model.read_stats(state, 3600.0)[1])
