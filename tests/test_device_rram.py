"""Analog and binary RRAM (docs/devices.md#analog-rram RRAM-2, write-verify, voltage-time switching)."""

import math

import numpy as np
import pytest

from device_models import ConfigError, load_preset
from device_models import rram as R
from device_models import rram_binary as B
from device_models.rram import RRAMConfig

US = 1e-6
DAY = 86400.0


def test_rram2_cmo_values():
    """RRAM-2: CMO at 1 day: shift -1.01 µS, sigma_relax 0.89 µS, read sigma at 50 µS 0.23 µS."""
    cfg = load_preset("rram").config
    assert R.relaxation_shift(DAY, cfg) / US == pytest.approx(-1.01, abs=0.005)
    assert R.relaxation_sigma(DAY, cfg) / US == pytest.approx(0.89, abs=0.005)
    assert R.read_noise_sigma(50 * US, DAY, cfg) / US == pytest.approx(0.23, abs=0.005)


def test_rram_relaxation_and_read_noise_monte_carlo(rng):
    """Statistical mode: at 1 day, mean and std of G match G_T + shift and sqrt(pv² + relax² + read²) within 3 SE."""
    model = load_preset("rram", verify="statistical")
    cfg = model.config
    n = 50_000
    state = model.program(np.full(n, 50 * US), rng)
    g = model.conductance(state, DAY, rng)
    mean = 50 * US + R.relaxation_shift(DAY, cfg)
    sd_pv = R.verify_residual_sigma(50 * US, cfg)
    std = math.sqrt(sd_pv**2 + R.relaxation_sigma(DAY, cfg) ** 2 + R.read_noise_sigma(mean, DAY, cfg) ** 2)
    assert abs(g.mean() - mean) < 3 * g.std() / math.sqrt(n)
    assert abs(g.std() - std) < 3 * g.std() / math.sqrt(2 * n)


def test_rram_relaxation_is_a_per_device_trajectory(rng):
    """The relaxation deviation of a device is drawn once: noise-free reads at two times differ by the law only."""
    model = load_preset("rram", verify="statistical")
    state = model.program(rng.uniform(10, 80, 100) * US, rng)
    g1, g2 = model.conductance(state, 10.0, None), model.conductance(state, DAY, None)
    cfg = model.config
    xi = state.per_device["xi_relax"]
    expected = (R.relaxation_shift(DAY, cfg) - R.relaxation_shift(10.0, cfg)) + (
        R.relaxation_sigma(DAY, cfg) - R.relaxation_sigma(10.0, cfg)
    ) * xi
    np.testing.assert_allclose(g2 - g1, expected, rtol=1e-9, atol=1e-15)


def test_rram_write_verify_reaches_tolerance_for_99_percent(rng):
    """Write-verify (issue 2): at defaults, >= 99 % of devices verify within the iteration limit.

    Prints the pulse-count distribution (run with -s to see it)."""
    model = load_preset("rram")
    cfg = model.config
    n = 20_000
    gt = rng.uniform(cfg.g_min, cfg.g_max, n)
    state = model.program(gt, rng)
    verified = state.per_device["verified"]
    pulses = state.per_device["pulses"]
    assert verified.mean() >= 0.99
    assert state.per_device["reads"].max() <= cfg.max_iterations
    # a verified device's true conductance is within tol·g_max of the target up to the verify read noise
    slack = 5 * R.read_noise_sigma(cfg.g_max, cfg.t_verify, cfg)
    assert np.all(np.abs(state.g0 - gt)[verified] <= cfg.tol * cfg.g_max + slack)
    q = np.percentile(pulses, [5, 25, 50, 75, 95, 99])
    print(f"\nwrite-verify: verified={verified.mean():.4f} pulses mean={pulses.mean():.2f} p5..p99={q.tolist()}")
    assert pulses.min() >= 1 and np.median(pulses) > 1


def test_rram_verify_residual_shrinks_with_tol_and_saturates_at_read_floor():
    """Write-verify: the residual sigma shrinks as tol shrinks and saturates at the verify read-noise floor."""
    rng = np.random.default_rng(5)
    gt = rng.uniform(20 * US, 80 * US, 8000)
    res = {}
    for tol in (0.05, 0.02, 0.005, 0.002, 0.001):
        model = load_preset(
            "rram", tol=tol, read_coeff=0.3e-6, max_iterations=60, max_pulses=400, update={"dw_min": 0.002}
        )
        state = model.program(gt, rng)
        res[tol] = np.std(state.g0 - gt)
    floor = float(np.mean(R.read_noise_sigma(gt, model.config.t_verify, model.config)))
    assert res[0.05] > res[0.02] > res[0.005]
    assert res[0.001] == pytest.approx(res[0.002], rel=0.15)
    assert 0.5 * floor < res[0.001] < 1.5 * floor


def test_rram_pulse_softbounds_potentiation_saturates(rng):
    """Pulsed updates follow the soft-bounds law: steps shrink towards the upper bound, depression brings G back."""
    model = load_preset("rram", update={"dw_min_std": 0.0})
    state = model.program(np.full(200, 20 * US), rng)
    gs = [state.g0.mean()]
    for _ in range(300):
        state = model.pulse(state, 1, 1.0, 1e-6, rng)
        gs.append(state.g0.mean())
    steps = np.diff(gs)
    assert np.all(steps >= 0) and steps[0] > 5 * steps[-1]
    assert gs[-1] <= model.g_max * 1.1
    down = model.pulse(state, -1, 1.0, 1e-6, rng)
    assert np.all(down.g0 < state.g0)
    assert np.all(state.cycles == state.per_device["pulses"].clip(1) + 300)


def test_rram_targets_outside_window():
    model = load_preset("rram")
    with pytest.raises(ConfigError, match=r"g_target: must lie in \[g_min, g_max\]"):
        model.program(np.array([1e-6]), np.random.default_rng(0))


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"g_min": 50e-6, "g_max": 10e-6}, r"g_max: must be > g_min"),
        ({"g_min": -1e-6}, r"g_min: must be a finite number in \[0, inf\]"),
        ({"tol": 0.0}, r"tol: must be a finite number in \(0"),
        ({"max_iterations": 0}, r"max_iterations: must be an integer in 1..10000"),
    ],
)
def test_rram_bad_config(kw, match):
    with pytest.raises(ConfigError, match=match):
        RRAMConfig(**kw)


def test_binary_switching_probability_law():
    """Voltage-time law: p = 1/2 at (V_th, t_ref); t_sw falls one e-fold per v0; longer/higher pulses switch more."""
    cfg = B.BinaryRRAMConfig()
    assert B.switching_probability(cfg.v_set, cfg.t_ref, cfg.v_set, cfg) == pytest.approx(0.5)
    assert B.switching_time(cfg.v_set + cfg.v0, cfg.v_set, cfg) == pytest.approx(cfg.t_ref / math.e)
    v = np.linspace(0.6, 0.95, 8)
    assert np.all(np.diff(B.switching_probability(v, cfg.t_ref, cfg.v_set, cfg)) > 0)
    w = np.logspace(-9, -7, 5)
    assert np.all(np.diff(B.switching_probability(cfg.v_set, w, cfg.v_set, cfg)) > 0)


def test_binary_pulse_switching_fraction_matches_law(rng):
    """Monte Carlo: the fraction of HRS devices SET by one pulse equals the mean of p over the V_th spread."""
    model = load_preset("rram-binary")
    n = 40_000
    state = model.program(np.zeros(n), rng)
    assert not state.per_device["lrs"].any()
    new = model.pulse(state, 1, 0.9, 100e-9, rng)
    p = B.switching_probability(0.9, 100e-9, state.per_device["v_set"], model.config).mean()
    frac = new.per_device["lrs"].mean()
    assert abs(frac - p) < 3 * math.sqrt(p * (1 - p) / n)
    # strong SET then strong RESET: every device switches each way; RESET pulses do nothing to HRS devices
    on = model.pulse(state, 1, 1.5, 1e-6, rng)
    assert on.per_device["lrs"].all() and np.median(on.g0) == pytest.approx(50 * US, rel=0.02)
    off = model.pulse(on, -1, 1.7, 1e-6, rng)
    assert not off.per_device["lrs"].any()
    same = model.pulse(state, -1, 1.7, 1e-6, rng)
    np.testing.assert_array_equal(same.g0, state.g0)


def test_binary_program_snaps_to_states(rng):
    model = load_preset("rram-binary")
    state = model.program(np.array([0.0, 5e-6, 10e-6, 60e-6]), None)
    assert state.per_device["lrs"].tolist() == [False, False, True, True]
    np.testing.assert_allclose(model.conductance(state, 1.0, None), [1e-6, 1e-6, 50e-6, 50e-6])
