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


def test_vectorised_exp_within_one_ulp_and_float32_state_read(rng):
    """_exp_nonpositive is within 1 ulp of numpy's exp on [-708, 0]; read_stats of a float32 (compact) state,
    which uses it, keeps G_D within 2 ulp of the float64-state kernel with libm's exp."""
    from numba import njit

    @njit
    def exp_all(x, out):
        for i in range(x.size):
            out[i] = _kernels._exp_nonpositive(x[i])

    x = np.concatenate([np.linspace(-708.0, 0.0, 200_001), -rng.uniform(0, 30, 100_000), [-0.0, -1e-300, -1e-17]])
    out = np.empty_like(x)
    exp_all(x, out)
    ref = np.exp(x)
    assert np.all(np.abs(out - ref) <= np.spacing(ref))
    model = load_preset("pcm", s_read=1.3)
    state = model.program(rng.uniform(0, 30e-6, (61, 83)), rng)
    gp, nu = state.g0.astype(np.float32), state.per_device["nu"].astype(np.float32)
    q = _kernels.pcm_read_q(gp, model.config)
    for t in (0.0, 3600.0, 3e7):
        g32, sd32 = _kernels.pcm_read_stats(gp, nu, t, model.config, q)
        g64, sd64 = _kernels.pcm_read_stats(gp.astype(np.float64), nu.astype(np.float64), t, model.config, q)
        assert np.all(np.abs(g32 - g64) <= 2 * np.spacing(g64))
        assert np.all(np.abs(sd32 - sd64) <= 4 * np.spacing(sd64))


def test_pairwise_sum_is_numpys_sum_bit_for_bit(rng):
    """_pairwise_sum reproduces np.sum of a contiguous float64 run exactly (numpy's pairwise order), for runs below,
    at and above numpy's block of 128 and lengths that are not multiples of 8."""
    stack, vals = np.empty((128, 3), np.int64), np.empty(128)
    for n in [*range(0, 140), 255, 256, 257, 1000, 1024, 1031, 4096, 100_003]:
        a = rng.random(n) * rng.random(n) ** 4  # a wide spread of magnitudes: a different order rounds differently
        assert _kernels._pairwise_sum(a, stack, vals) == a.sum(), n


def test_pcm_read_pairs_is_the_read_in_steps_bit_for_bit(rng):
    """pcm_read_pairs (fused read of a float32 state with stored Q_s) equals pcm_read_stats followed by numpy's
    access-device and column-pair expressions and np.sum of the rows, bit for bit: the differential interleaved
    layout, arbitrary index pairs, a single-ended channel, with and without access resistance, several read times."""
    from device_models.base import ColumnPairs

    model = load_preset("pcm", s_read=1.3)
    state = model.program(rng.uniform(0, 25e-6, (37, 70)), rng)
    gp, nu = state.g0.astype(np.float32), state.per_device["nu"].astype(np.float32)
    q = _kernels.pcm_read_q(gp, model.config)
    shuffled = rng.permutation(70)
    layouts = [
        (np.arange(0, 70, 2), np.arange(1, 70, 2), 4e4),  # differential pairs, interleaved
        (shuffled[:30], shuffled[30:60], 3.7e4),  # arbitrary pairs
        (np.array([69, 3, 3, 10]), np.empty(0, np.int64), 2.5e4),  # single-ended, repeated columns
    ]
    for t in (0.0, 3600.0, 3e7):
        for r_access in (0.0, 15e3):
            pairs = tuple(
                ColumnPairs(
                    plus,
                    minus,
                    scale,
                    scale**2,
                    np.empty((37, plus.size), np.float32),
                    np.empty((37, plus.size), np.float32),
                )
                for plus, minus, scale in layouts
            )
            row_g = np.empty(37)
            _kernels.pcm_read_pairs(gp, nu, q, t, model.config, r_access, pairs, row_g)
            G, sd = _kernels.pcm_read_stats(gp, nu, t, model.config, q)
            if r_access:
                f = 1.0 / (1.0 + G * r_access)
                G, sd = G * f, sd * f * f
            np.testing.assert_array_equal(row_g, G.sum(axis=-1))
            for pr, (plus, minus, scale) in zip(pairs, layouts):
                g_m = G[:, minus] if minus.size else 0.0
                sd2_m = sd[:, minus] ** 2 if minus.size else 0.0
                np.testing.assert_array_equal(pr.mat, ((G[:, plus] - g_m) * scale).astype(np.float32))
                np.testing.assert_array_equal(pr.var, ((sd[:, plus] ** 2 + sd2_m) * scale**2).astype(np.float32))
