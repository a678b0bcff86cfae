"""Multi-domain FeFET (docs/devices.md#fefet: FE-1, FE-2, levels vs domain count, hysteresis)."""

import math

import numpy as np
import pytest

from device_models import ConfigError, load_preset
from device_models import fefet as F
from device_models.analysis import distinguishable_levels


def _single_domain():
    return load_preset("fefet", n_domains=1, ea_std=0.0, v_offset_std=0.0)


def test_fe1_switching_times():
    """FE-1: tau = 51.6 / 29.8 / 699 ns at |V_FE| = 2.3 / 3 / 1.5 V for Ea = 2.3 V."""
    cfg = load_preset("fefet").config
    np.testing.assert_allclose(F.domain_switching_time([2.3, 3.0, 1.5], 2.3, cfg) * 1e9, [51.6, 29.8, 699], rtol=2e-3)
    assert F.domain_switching_probability(0.0, 100 / 51.6, cfg) == pytest.approx(0.977, abs=5e-4)


def test_fe1_fe2_monte_carlo_accumulation(rng):
    """FE-1 / FE-2: one 100 ns pulse at 2.3 V switches with p = 0.977; two 50 ns pulses give the same p."""
    model = _single_domain()
    n = 20_000
    state = model.program(np.full(n, model.g_min), rng)
    one = model.pulse(state, 1, 2.3, 100e-9, rng)
    two = model.pulse(model.pulse(state, 1, 2.3, 50e-9, rng), 1, 2.3, 50e-9, rng)
    p = 1 - math.exp(-((100 / 51.647) ** 2))
    se = math.sqrt(p * (1 - p) / n)
    for s in (one, two):
        assert abs((s.per_device["s"][:, 0] > 0).mean() - p) < 3 * se
    # a single 50 ns pulse switches far fewer: accumulation, not a fresh start
    half = model.pulse(state, 1, 2.3, 50e-9, rng)
    assert (half.per_device["s"][:, 0] > 0).mean() < 0.7 * p


def test_reversed_field_resets_accumulation(rng):
    """h resets when the field no longer opposes the domain: +50 ns, -50 ns, +50 ns is not 100 ns of accumulation."""
    model = _single_domain()
    state = model.program(np.full(4, model.g_min), rng)
    s1 = model.pulse(state, 1, 0.5, 1e-9, rng)  # far too weak to switch, but accumulates h > 0
    assert np.all(s1.per_device["h"] > 0)
    s2 = model.pulse(s1, -1, 0.5, 1e-9, rng)  # field aligned with the (down) domain: h resets
    assert np.all(s2.per_device["h"] == 0)


def test_switched_fraction_matches_monte_carlo(rng):
    """The Preisach S-curve (quadrature) matches the domain Monte Carlo within 3 SE."""
    model = load_preset("fefet")
    cfg = model.config
    n = 3000
    state = model.program(np.full(n, model.g_min), rng)
    for amp in (1.0, 1.5, 2.0):
        frac = (model.pulse(state, 1, amp, 1e-6, rng).per_device["s"] > 0).mean()
        p = float(F.switched_fraction(amp, 1e-6, cfg))
        assert abs(frac - p) < 3 * math.sqrt(p * (1 - p) / (n * cfg.n_domains)) + 1e-4


def test_distinguishable_levels_rise_with_domain_count():
    """Issue 2: the number of distinguishable levels (±3σ windows, single amplitude-modulated pulse
    from the reset state, device-to-device spread included) rises with the domain count."""
    counts = []
    amps = np.linspace(0.6, 2.4, 37)
    for n_dom in (4, 16, 64):
        model = load_preset("fefet", n_domains=n_dom, read_noise=0.0)
        rng = np.random.default_rng(n_dom)
        state = model.program(np.full(400, model.g_min), rng)
        samples = [model.conductance(model.pulse(state, 1, a, 1e-6, rng), 0.0, None) for a in amps]
        counts.append(distinguishable_levels(samples))
        assert counts[-1] <= n_dom + 1
    assert counts[0] < counts[1] < counts[2], counts


def test_triangular_gate_sweep_traces_hysteresis(rng):
    """Triangular sweep 0 → +4 → 0 → -4 → 0 V (1 µs pulses): G switches up at positive coercive
    voltage, stays up on the way back, switches down only at negative voltage."""
    model = load_preset("fefet")
    state = model.program(np.full(500, model.g_min), rng)
    up = np.linspace(0, 4, 41)
    sweep = np.concatenate([up, up[::-1], -up, -up[::-1]])
    g = []
    for v in sweep:
        state = model.pulse(state, int(np.sign(v)), abs(v), 1e-6, rng)
        g.append(model.conductance(state, 0.0, None).mean())
    g = np.array(g)
    n = up.size
    rise = sweep[:n][np.argmax(g[:n] > 0.5 * (model.g_min + model.g_max))]
    fall = sweep[2 * n : 3 * n][np.argmax(g[2 * n : 3 * n] < 0.5 * (model.g_min + model.g_max))]
    assert 0.8 < rise < 2.5 and -2.5 < fall < -0.8
    # at V = 0 the two branches differ: the loop is open
    assert g[2 * n - 1] > 0.9 * model.g_max and g[-1] < 0.1 * model.g_max
    loop_area = np.trapezoid(g[:n], up) - np.trapezoid(g[n : 2 * n][::-1], up)
    assert loop_area < 0  # the descending branch lies above the ascending one


def test_program_levels_and_retention(rng):
    model = load_preset("fefet")
    gt = np.linspace(model.g_min, model.g_max, 9)
    state = model.program(gt, rng)
    g0 = model.conductance(state, 0.0, None)
    assert np.all(np.diff(g0) > 0)
    p0, p_year = model.polarization(state, 0.0), model.polarization(state, 3.15e7)
    np.testing.assert_allclose(p_year, p0 * F.retention_factor(3.15e7, model.config))
    assert F.retention_factor(3.15e7, model.config) == pytest.approx(1 - 0.02 * math.log10(1 + 3.15e7))
    with pytest.raises(ConfigError, match="g_target: must lie in"):
        model.program(np.array([2 * model.g_max]), rng)
    with pytest.raises(ConfigError, match="n_domains: must be an integer in 1..100000"):
        load_preset("fefet", n_domains=0)
