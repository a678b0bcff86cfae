"""Compact-model equations and published fits (docs/devices.md: JART-1, PKU-1, YAK-1, RRAM-1, NSIM-1)."""

import numpy as np
import pytest

from device_models import ConfigError
from device_models import compact as C
from device_models import neurosim as NS
from device_models.rram import wan2022_sigma


def test_jart1_read_conductance():
    """JART-1: G = I/V at 0.2 V for N_disc = 0.008/0.06/0.5/1.99e26 m^-3 is 14.1/94.5/390/559 µS."""
    n = np.array([0.008, 0.06, 0.5, 1.99]) * 1e26
    g = C.jart_read_current(0.2, n) / 0.2
    np.testing.assert_allclose(g * 1e6, [14.1, 94.5, 390, 559], rtol=3e-3)


def test_jart_set_branch_conducts_more_with_more_vacancies():
    i = C.jart_set_current(-0.5, np.array([0.06, 0.5, 1.99]) * 1e26)
    assert np.all(i < 0) and np.all(np.diff(i) < 0)


def test_read_disturb_negligible_at_read_voltage():
    """Read disturb, JART kinetics at V_read = 0.2 V for one 1 µs read: |dN_disc|/N_disc < 1e-6 per read;
    the rate grows steeply with voltage (RESET at 0.7065 V is many orders of magnitude faster)."""
    n = np.array([0.06, 0.5, 1.99]) * 1e26
    rel = np.abs(C.jart_dndt_reset(0.2, n)) * 1e-6 / n
    assert np.all(rel < 1e-6)
    assert np.all(C.jart_dndt_reset(0.2, n) < 0)  # positive voltage drives RESET (N_disc decreases)
    assert np.all(np.abs(C.jart_dndt_reset(0.7065, n)) > 1e6 * np.abs(C.jart_dndt_reset(0.2, n)))


def test_pku1():
    """PKU-1: R = 542 Ω at g = 0.2 nm, 0.1 V; R_off = 218.6 kΩ at g = 1.70 nm."""
    assert 0.1 / C.pku_current(0.2e-9, 0.1) == pytest.approx(542, abs=0.5)
    assert C.pku_gap_for_resistance(218.6e3, 0.1) == pytest.approx(1.70e-9, abs=0.005e-9)


def test_yak1():
    """YAK-1: at +1 V from x0 = 0.11, g = 6178 /s and x reaches xp = 0.3 after 30.8 µs; I(x0, 1 V) = 0.935 mA."""
    # 4000·(e - e^0.16) = 6179.1 /s; the spec rounds it to 6178
    assert C.yakopcic_threshold(1.0) == pytest.approx(6178, abs=1.5)
    x, t, dt = 0.11, 0.0, 1e-8
    while x < 0.3:
        x += C.yakopcic_dxdt(1.0, x) * dt
        t += dt
    assert t == pytest.approx(30.8e-6, abs=0.06e-6)  # 0.19/6179 s = 30.75 µs, quoted as 30.8
    assert C.yakopcic_current(1.0, 0.11) == pytest.approx(0.935e-3, abs=5e-7)
    assert C.yakopcic_dxdt(0.1, 0.2) == 0.0  # below threshold
    assert C.yakopcic_dxdt(1.0, 0.9) < C.yakopcic_dxdt(1.0, 0.2)  # window slows SET near x = 1


def test_vteam_thresholds():
    v = np.array([-0.5, -0.1, 0.01, 0.04])
    dx = C.vteam_dxdt(v)
    assert dx[0] < 0 and dx[1] == 0 and dx[2] == 0 and dx[3] == pytest.approx(5e-4)


def test_rram1_wan2022():
    """RRAM-1: sigma at 20 µS = 2.02/3.91/3.93 µS and at 5 µS = 1.75/2.76/2.71 µS (1 s, 1 d, 2 d)."""
    for t, s20, s5 in ((1.0, 2.02, 1.75), (86400.0, 3.91, 2.76), (172800.0, 3.93, 2.71)):
        np.testing.assert_allclose(wan2022_sigma(np.array([20e-6, 5e-6]), t) * 1e6, [s20, s5], atol=0.006)
    with pytest.raises(ConfigError, match="t: the Wan 2022 fit exists only at"):
        wan2022_sigma(20e-6, 3600.0)
    mid = wan2022_sigma(20e-6, np.sqrt(86400.0), interpolate=True)
    assert mid == pytest.approx(0.5 * (wan2022_sigma(20e-6, 1.0) + wan2022_sigma(20e-6, 86400.0)))


@pytest.mark.parametrize(
    ("nl", "half", "ratio"),
    [(0.04, 0.504, 1.02), (0.5, 0.549, 1.21), (1.0, 0.599, 1.45), (1.75, 0.671, 1.88), (2.4, 0.731, 2.32),
     (4.88, 0.924, 5.03), (6.76, 0.993, 9.98)],
)  # fmt: skip
def test_nsim1(nl, half, ratio):
    """NSIM-1: G_n(0.5) and first/mean step from a(NL)."""
    a = NS.param_a(nl)
    assert NS.half_pulse_level(a) == pytest.approx(half, abs=6e-4)
    assert NS.first_to_mean_step(a) == pytest.approx(ratio, abs=6e-3)
    g = NS.ltp_conductance(np.array([0, 50, 100]), 100, a, 1e-6, 10e-6)
    assert g[0] == pytest.approx(1e-6) and g[-1] == pytest.approx(10e-6)
    assert (g[1] - 1e-6) / 9e-6 == pytest.approx(half, abs=6e-4)


def test_nsim_bad_nl():
    with pytest.raises(ConfigError, match=r"nl: must have \|NL\| in \[0.04, 6.76\]"):
        NS.param_a(9.0)
