"""Stuck-at faults and endurance (docs/devices.md#faults-and-endurance), applied by every model."""

import math

import numpy as np
import pytest

from device_models import ConfigError, list_presets, load_preset
from device_models.faults import STUCK_MAX, STUCK_MIN, STUCK_RANDOM, FaultConfig, window_scale


@pytest.mark.parametrize("preset", [p.name for p in list_presets()])
def test_stuck_rates_and_values(preset, rng):
    """Every model draws SA0/SA1 at the configured rates (within 3 SE) and reads them at g_min / g_max."""
    model = load_preset(preset, faults={"p_stuck_min": 0.05, "p_stuck_max": 0.1})
    n = 4000
    gt = np.full(n, 0.5 * (model.g_min + model.g_max))
    state = model.program(gt, rng)
    for code, p in ((STUCK_MIN, 0.05), (STUCK_MAX, 0.1)):
        assert abs((state.stuck == code).mean() - p) < 3 * math.sqrt(p * (1 - p) / n)
    g = model.conductance(state, 10.0, rng)
    np.testing.assert_array_equal(g[state.stuck == STUCK_MIN], model.g_min)
    np.testing.assert_array_equal(g[state.stuck == STUCK_MAX], model.g_max)
    moved = model.pulse(state, np.ones(n, dtype=int), 3.0, 1e-6, rng)
    stuck = state.stuck > 0
    np.testing.assert_array_equal(moved.g0[stuck], state.g0[stuck])


def test_endurance_window_shrinks_then_devices_stick(rng):
    """Window shrinks linearly in log10(cycles) from the onset; past endurance_cycles the device sticks."""
    faults = {"endurance_cycles": 100.0, "endurance_onset": 10.0, "endurance_window_loss": 0.5}
    model = load_preset("ecram", faults=faults, read_noise=0.0)
    cfg = model.config.faults
    np.testing.assert_allclose(window_scale(np.array([1, 10, 31.6227766, 100, 1000]), cfg), [1, 1, 0.75, 0.5, 0.5])
    state = model.program(np.full(50, 45e-6), rng)
    mid = 0.5 * (model.g_min + model.g_max)
    for _ in range(60):
        state = model.pulse(state, np.tile([1, -1], 25), 1.0, 1e-3, rng)
    g = model.conductance(state, 0.0, None)
    scale = window_scale(state.cycles, cfg)
    assert np.all(np.abs(g - mid) <= scale * (model.g_max - model.g_min) / 2 + 1e-12)
    assert state.stuck is None or not state.stuck.any()
    for _ in range(45):
        state = model.pulse(state, 1, 1.0, 1e-3, rng)
    assert np.all(state.cycles > 100) and np.all(state.stuck == STUCK_MIN)
    np.testing.assert_array_equal(model.conductance(state, 0.0, None), model.g_min)


def test_fault_config_disabled_by_default():
    assert not FaultConfig().active
    assert FaultConfig(p_stuck_max=0.01).active


@pytest.mark.parametrize("preset", ["pcm", "rram", "ecram", "fefet"])
def test_stuck_at_random_value_in_range(preset, rng):
    """aihwkit corrupt_devices_range: a device stuck at a random conductance inside a window fraction."""
    model = load_preset(preset, faults={"p_stuck_random": 0.2, "stuck_random_range": [0.25, 0.5]})
    n = 3000
    state = model.program(np.full(n, model.g_max), rng)
    code = state.stuck == STUCK_RANDOM
    assert abs(code.mean() - 0.2) < 3 * math.sqrt(0.2 * 0.8 / n)
    g = model.conductance(state, 5.0, rng)[code]
    span = model.g_max - model.g_min
    assert np.all(g >= model.g_min + 0.25 * span) and np.all(g <= model.g_min + 0.5 * span)
    assert g.std() > 0.05 * span
    later = model.conductance(model.pulse(state, -1, 2.0, 1e-6, rng), 500.0, rng)[code]
    np.testing.assert_array_equal(later, g)


def test_stuck_random_config_errors():
    with pytest.raises(ConfigError, match=r"stuck_random_range: must satisfy 0 <= low <= high <= 1"):
        FaultConfig(stuck_random_range=(0.6, 0.2))
    with pytest.raises(ConfigError, match=r"p_stuck_max: p_stuck_min \+ p_stuck_max \+ p_stuck_random must be <= 1"):
        FaultConfig(p_stuck_min=0.5, p_stuck_random=0.6)
