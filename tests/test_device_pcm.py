"""PCM statistical model against the published equations (docs/devices.md#pcm: PCM-1, PCM-2, PCM-3, PCM-table)."""

import math

import numpy as np
import pytest

from device_models import global_drift_compensation, load_preset
from device_models import pcm as P

US = 1e-6
HOUR, DAY, YEAR = 3600.0, 86400.0, 365 * 86400.0


def _se_std(x: np.ndarray) -> float:
    """Standard error of the sample std (uses the sample 4th central moment)."""
    m2 = x.var()
    m4 = np.mean((x - x.mean()) ** 4)
    return math.sqrt(max(m4 - m2**2, 0.0) / (4 * m2 * x.size))


@pytest.fixture(scope="module")
def pcm():
    return load_preset("pcm")


# (G_T, sigma_prog, mu_nu, sigma_nu, Q_s, median 1 h, 1 d, 1 y, sigma_rd at 1 d), docs/devices.md#pcm table
TABLE = [
    (1, 0.340, 0.0743, 0.0343, 0.0713, 0.68, 0.54, 0.35, 0.363),
    (5, 0.610, 0.0493, 0.0142, 0.0251, 3.87, 3.31, 2.47, 0.127),
    (10, 0.862, 0.049, 0.008, 0.0160, 7.75, 6.64, 4.97, 0.081),
    (20, 1.085, 0.049, 0.008, 0.0102, 15.50, 13.27, 9.94, 0.052),
    (25, 1.055, 0.049, 0.008, 0.0088, 19.38, 16.59, 12.42, 0.045),
]


@pytest.mark.parametrize("row", TABLE, ids=[f"{r[0]}uS" for r in TABLE])
def test_pcm_table_equations(pcm, row):
    """PCM-table: sigma_prog, mu_nu, sigma_nu, Q_s, noise-free medians and sigma_rd(1 d) of docs/devices.md#pcm."""
    gt, s_prog, mu, sd, q, m_h, m_d, m_y, srd = row
    cfg = pcm.config
    g = gt * US
    assert P.programming_sigma(g, cfg) / US == pytest.approx(s_prog, abs=6e-4)
    mu_c, sd_c = P.drift_exponent_stats(g, cfg)
    assert mu_c == pytest.approx(mu, abs=6e-5)
    assert sd_c == pytest.approx(sd, abs=6e-5)
    assert P.read_noise_q(g, cfg) == pytest.approx(q, abs=6e-5)
    assert P.read_noise_sigma(g, DAY, cfg) == pytest.approx(srd, abs=6e-4)
    state = pcm.program(np.array([g]), None)  # noise-free: nu = mu_nu
    for t, med in ((HOUR, m_h), (DAY, m_d), (YEAR, m_y)):
        assert pcm.conductance(state, t, None)[0] / US == pytest.approx(med, abs=0.006)


@pytest.mark.parametrize("g_us", [5, 10, 20])
def test_pcm_moments_match_analytic_1e5_devices(pcm, g_us):
    """Issue 2 / PCM-1: over 1e5 devices, mean and std at 1 h and 1 day lie within 3 SE of the analytic values."""
    rng = np.random.default_rng(2024 + g_us)
    n = 100_000
    state = pcm.program(np.full(n, g_us * US), rng)
    for t in (HOUR, DAY):
        g = pcm.conductance(state, t, rng)
        mean, std = P.expected_moments(g_us * US, t, pcm.config)
        se_mean = g.std() / math.sqrt(n)
        assert abs(g.mean() - mean) < 3 * se_mean, (t, g.mean(), mean)
        assert abs(g.std() - std) < 3 * _se_std(g), (t, g.std(), std)


def test_pcm1_spec_values_20uS(pcm):
    """PCM-1 / PCM-1b: 20 µS after 1 day: mean 13.30 µS; sigma 1.13 µS (no prog. noise), 1.34 µS (full);
    sigma at t_inf = 1 s: 0.85 µS (no prog. noise), 1.37 µS (full)."""
    n = 200_000
    rng = np.random.default_rng(7)
    no_prog = load_preset("pcm", s_prog=0.0)
    for model, s_day, s_1s in ((no_prog, 1.13, 0.85), (pcm, 1.34, 1.37)):
        state = model.program(np.full(n, 20 * US), rng)
        g_day = model.conductance(state, DAY, rng) / US
        g_1s = model.conductance(state, 1.0, rng) / US
        assert g_day.mean() == pytest.approx(13.30, abs=max(0.005, 3 * g_day.std() / math.sqrt(n)))
        # spec values are quoted to 0.01 µS: allow that rounding plus 3 SE
        assert g_day.std() == pytest.approx(s_day, abs=0.005 + 3 * _se_std(g_day))
        assert g_1s.std() == pytest.approx(s_1s, abs=0.005 + 3 * _se_std(g_1s))
        mean_a, std_a = P.expected_moments(20 * US, DAY, model.config)
        assert mean_a / US == pytest.approx(13.30, abs=0.005)
        assert std_a / US == pytest.approx(s_day, abs=0.005)


def test_pcm_read_noise_grows_as_sqrt_log_t():
    """Step 4: with drift and programming noise off, the relative std is Q_s·sqrt(ln((t+t0+t_read)/(2 t_read)))."""
    model = load_preset("pcm", s_prog=0.0, s_drift=0.0)
    cfg = model.config
    rng = np.random.default_rng(3)
    n = 50_000
    state = model.program(np.full(n, 10 * US), rng)
    q = float(P.read_noise_q(10 * US, cfg))
    rel = []
    times = [0.0, HOUR, DAY, YEAR]
    for t in times:
        g = model.conductance(state, t, rng) / (10 * US)
        expected = q * math.sqrt(math.log((t + cfg.t0 + cfg.t_read) / (2 * cfg.t_read)))
        assert abs(g.std() - expected) < 3 * _se_std(g)
        rel.append(g.std())
    assert all(a < b for a, b in zip(rel, rel[1:]))
    # read noise is present at t_inf = 0: sigma_rd = Q_s·sqrt(ln(20 s/500 ns)) = 4.18·Q_s (docs/devices.md#pcm)
    assert P.read_noise_sigma(10 * US, 0.0, cfg) / q == pytest.approx(4.18, abs=0.005)


def test_pcm_nu_persists_per_device(pcm, rng):
    """Each device keeps its drift exponent: without read noise, G(t2)/G(t1) = ((t2+t0)/(t1+t0))^(-nu) per device."""
    model = load_preset("pcm", s_read=0.0)
    state = model.program(rng.uniform(1, 25, 1000) * US, rng)
    g1 = model.conductance(state, HOUR, rng)
    g2 = model.conductance(state, DAY, rng)
    nu = state.per_device["nu"]
    f = ((DAY + 20) / (HOUR + 20)) ** (-nu)
    np.testing.assert_allclose(g2, g1 * f, rtol=1e-12)
    assert nu.std() > 0


def test_pcm2_hermes_values():
    """PCM-2: HERMES 2-device, 10 µS: sigma_prog 0.995 µS, mu_nu 0.0573, median(1 d) 7.23 µS, sigma_rd 8.4 %;
    20.7 µS: mu_nu 0.0174, median 18.76 µS."""
    model = load_preset("pcm-hermes")
    cfg = model.config
    assert P.programming_sigma(10 * US, cfg) / US == pytest.approx(0.995, abs=6e-4)
    assert P.drift_exponent_stats(10 * US, cfg)[0] == pytest.approx(0.0573, abs=6e-5)
    assert P.read_noise_sigma(10 * US, DAY, cfg) == pytest.approx(0.084, abs=6e-4)
    assert P.drift_exponent_stats(20.7 * US, cfg)[0] == pytest.approx(0.0174, abs=6e-5)
    state = model.program(np.array([10, 20.7]) * US, None)
    np.testing.assert_allclose(model.conductance(state, DAY, None) / US, [7.23, 18.76], atol=0.006)


def test_pcm2_hermes_monte_carlo_moments(rng):
    """PCM-2 with all noise on: HERMES mean and std at 1 day lie within 3 SE of the analytic moments."""
    model = load_preset("pcm-hermes")
    n = 40_000
    g = model.conductance(model.program(np.full(n, 10 * US), rng), DAY, rng)
    mean, std = P.expected_moments(10 * US, DAY, model.config)
    assert abs(g.mean() - mean) < 3 * g.std() / math.sqrt(n)
    assert abs(g.std() - std) < 3 * _se_std(g)


def test_pcm3_global_compensation_exact_with_shared_nu(rng):
    """PCM-3: one shared nu (sigma_nu = 0, all g_r >= 0.19), no read noise: alpha = (t/t0)^nu restores G exactly."""
    model = load_preset("pcm", nu_std=[0.0, 0.0, 0.0, 0.0], s_read=0.0)
    state = model.program(rng.uniform(6, 25, 2000) * US, rng)
    g0 = model.conductance(state, 0.0, None)
    for t in (HOUR, DAY, YEAR):
        gt = model.conductance(state, t, rng)
        alpha = global_drift_compensation(g0, gt)
        assert alpha == pytest.approx(((t + 20) / 20) ** 0.049, rel=1e-12)
        np.testing.assert_allclose(alpha * gt, g0, rtol=1e-12)


def test_pcm3_residual_grows_with_t_when_nu_spreads(pcm):
    """PCM-3: with a spread of nu and read noise, the compensated residual is not zero and grows with t."""
    rng = np.random.default_rng(11)
    state = pcm.program(np.random.default_rng(1).uniform(0.5, 25, 20_000) * US, rng)
    g0 = pcm.conductance(state, 0.0, rng)
    res = []
    for t in (60.0, DAY, YEAR):
        gt = pcm.conductance(state, t, rng)
        res.append(np.std(global_drift_compensation(g0, gt) * gt - g0))
    assert res[0] > 0 and res[0] < res[1] < res[2]


def test_pcm_custom_drift_interpolates():
    """CustomDriftPCMLikeNoiseModel option: mu_nu, sigma_nu linear over user lists."""
    model = load_preset(
        "pcm", custom_g=[0.0, 10e-6, 25e-6], custom_nu_mean=[0.1, 0.06, 0.04], custom_nu_std=[0.02, 0.01, 0.0]
    )
    mu, sd = P.drift_exponent_stats(np.array([5e-6, 17.5e-6]), model.config)
    np.testing.assert_allclose(mu, [0.08, 0.05])
    np.testing.assert_allclose(sd, [0.015, 0.005])


def test_pcm_pulse_expstep_first_step_and_reset(rng):
    """UPD-2 through the PCM model: first SET pulse from w=0 adds 0.282 (of range [0, 2] -> [0, g_max]);
    a depressing pulse RESETs near g_min."""
    model = load_preset(
        "pcm",
        update={"dw_min_dtod": 0.0, "w_max_dtod": 0.0, "dw_min_std": 0.0, "reset_std": 0.0},
    )
    state = model.program(np.zeros(4), None)
    s1 = model.pulse(state, 1, 1.0, 50e-9, rng)
    np.testing.assert_allclose(s1.g0, 0.282 / 2 * 25 * US, rtol=2e-3)
    assert s1.cycles.tolist() == [2, 2, 2, 2]
    s2 = model.pulse(s1, np.array([-1, 0, -1, 0]), 1.0, 50e-9, rng)
    np.testing.assert_allclose(s2.g0, [0.01 / 2 * 25 * US, s1.g0[1], 0.01 / 2 * 25 * US, s1.g0[3]])
