"""read_noise_std(state, t) of every device family against the spread of its own conductance reads.

The reference is empirical: N fresh reads ``conductance(state, t, rng)`` of each device, whose sample std
must match the declared std within the chi-square tolerance (relative SE of a sample std = 1/sqrt(2(N-1))).
"""

from __future__ import annotations

import numpy as np
import pytest

from device_models import load_preset, model_from_dict
from device_models.registry import MODELS

N_READS = 3000
TOL = 6.0 / np.sqrt(2 * (N_READS - 1))  # 6 standard errors of a sample std


def _targets(model, n: int = 24) -> np.ndarray:
    lo, hi = model.g_min, model.g_max
    return np.linspace(lo + 0.3 * (hi - lo), lo + 0.9 * (hi - lo), n)


CASES = [
    ("pcm", {}, 3600.0),
    ("pcm-hermes", {}, 86400.0),
    ("rram", {}, 10.0),
    ("rram-binary", {}, 1.0),
    ("fefet", {}, 100.0),
    ("ecram", {"read_noise": 0.03}, 5.0),
    ("capacitor", {"read_noise": 0.02}, 0.5),
]


@pytest.mark.parametrize("preset,options,t", CASES, ids=[c[0] for c in CASES])
def test_read_noise_std_matches_empirical_spread(preset, options, t):
    rng = np.random.default_rng(11)
    model = load_preset(preset, **options)
    state = model.program(_targets(model), rng)
    reads = np.stack([model.conductance(state, t, rng) for _ in range(N_READS)])
    sd = model.read_noise_std(state, t)
    assert sd.shape == state.shape
    assert np.all(sd > 0)
    np.testing.assert_allclose(reads.std(axis=0, ddof=1), sd, rtol=TOL)
    np.testing.assert_allclose(
        reads.mean(axis=0), model.conductance(state, t, None), atol=6 * sd.max() / np.sqrt(N_READS)
    )


def test_stuck_devices_have_no_read_noise():
    rng = np.random.default_rng(3)
    model = load_preset("pcm", faults={"p_stuck_min": 0.3, "p_stuck_max": 0.2})
    state = model.program(_targets(model, 200), rng)
    sd = model.read_noise_std(state, 60.0)
    reads = np.stack([model.conductance(state, 60.0, rng) for _ in range(50)])
    stuck = state.stuck != 0
    assert stuck.any() and (~stuck).any()
    assert np.all(sd[stuck] == 0) and np.all(np.ptp(reads[:, stuck], axis=0) == 0)
    assert np.all(sd[~stuck] > 0)


def test_ideal_family_is_noise_free():
    model = model_from_dict("ideal", {"g_max": 10e-6})
    state = model.program(np.array([0.0, 5e-6, 20e-6]), np.random.default_rng(0))
    np.testing.assert_array_equal(model.conductance(state, 1e3, np.random.default_rng(1)), [0.0, 5e-6, 10e-6])
    np.testing.assert_array_equal(model.read_noise_std(state, 1e3), 0.0)


@pytest.mark.parametrize("family", sorted(MODELS))
def test_family_is_the_registry_key(family):
    model = model_from_dict(family, {})
    assert model.family == family


def test_preset_name_does_not_replace_family():
    m = load_preset("ecram")
    assert (m.name, m.family) == ("ecram", "pulsed")
    assert load_preset("pcm-hermes").family == "pcm"


@pytest.mark.parametrize("preset,options,t", CASES, ids=[c[0] for c in CASES])
def test_read_stats_is_conductance_and_read_noise_std(preset, options, t):
    """The fused read (PCM: one numba pass) equals the two separate calls, with float32 state arrays too."""
    model = load_preset(preset, **options)
    state = model.program(_targets(model, 50), np.random.default_rng(4))
    g, sd = model.read_stats(state, t)
    np.testing.assert_allclose(g, model.conductance(state, t, None), rtol=1e-12)
    # PCM keeps its t-independent read-noise amplitude per array in float32 (docs/crossbar.md, memory and
    # read time): the fused std may differ by the float32 rounding, 2^-24 relative
    np.testing.assert_allclose(sd, model.read_noise_std(state, t), rtol=2.0**-23)
    state.g0 = state.g0.astype(np.float32)
    g32, _ = model.read_stats(state, t)
    np.testing.assert_allclose(g32, g, rtol=1e-6)
