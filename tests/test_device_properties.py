"""Property tests (hypothesis) over every preset, and bad input for every model."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from device_models import ConfigError, list_presets, load_preset
from device_models.fefet import FeFETConfig
from device_models.pcm import PCMConfig
from device_models.pulsed_device import PulsedDeviceConfig
from device_models.rram import RRAMConfig
from device_models.rram_binary import BinaryRRAMConfig

PRESETS = [p.name for p in list_presets()]
MODELS = {name: load_preset(name) for name in PRESETS}


def _run(model, u, t, seed, polarity, amplitude):
    rng = np.random.default_rng(seed)
    gt = model.g_min + np.asarray(u) * (model.g_max - model.g_min)
    state = model.program(gt, rng)
    g_t = model.conductance(state, t, rng)
    state2 = model.pulse(state, np.asarray(polarity), amplitude, 1e-6, rng)
    return state, g_t, model.conductance(state2, t, rng), model.conductance(state2, t, None)


@pytest.mark.parametrize("name", PRESETS)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    u=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6),
    t=st.floats(0.0, 1e8),
    seed=st.integers(0, 2**32 - 1),
    pol=st.sampled_from([-1, 0, 1]),
    amplitude=st.floats(0.0, 5.0),
)
def test_no_nan_bounds_and_reproducible(name, u, t, seed, pol, amplitude):
    """No NaN; conductances within the model's documented ``bounds``; same seed → same numbers."""
    model = MODELS[name]
    polarity = np.full(len(u), pol)
    state, g1, g2, g3 = _run(model, u, t, seed, polarity, amplitude)
    lo, hi = model.bounds
    for g in (g1, g2, g3):
        assert g.shape == (len(u),)
        assert np.all(np.isfinite(g))
        assert np.all(g >= lo) and np.all(g <= hi)
    _, h1, h2, h3 = _run(model, u, t, seed, polarity, amplitude)
    np.testing.assert_array_equal(g1, h1)
    np.testing.assert_array_equal(g2, h2)
    np.testing.assert_array_equal(g3, h3)


@pytest.mark.parametrize("name", PRESETS)
def test_nan_targets_rejected(name, rng):
    with pytest.raises(ConfigError, match=r"g_target: must be finite, got nan"):
        MODELS[name].program(np.array([MODELS[name].g_max, np.nan]), rng)


@pytest.mark.parametrize("name", PRESETS)
def test_negative_time_rejected(name, rng):
    model = MODELS[name]
    state = model.program(np.array([model.g_max]), rng)
    with pytest.raises(ConfigError, match=r"t: must be a finite time >= 0 s"):
        model.conductance(state, float("nan"), rng)


@pytest.mark.parametrize(
    ("cls", "kw", "match"),
    [
        (RRAMConfig, {"g_min": 20e-6, "g_max": 10e-6}, r"^g_max: must be > g_min"),
        (RRAMConfig, {"g_min": -5e-6}, r"^g_min: must be a finite number in \[0, inf\]"),
        (PulsedDeviceConfig, {"g_min": 5e-6, "g_max": 5e-6}, r"^g_max: must be > g_min"),
        (PulsedDeviceConfig, {"g_min": -1e-6}, r"^g_min: must be a finite number in \[0, inf\]"),
        (PCMConfig, {"g_max": -25e-6}, r"^g_max: must be a finite number in \(0, inf\]"),
        (BinaryRRAMConfig, {"g_hrs": 50e-6, "g_lrs": 1e-6}, r"^g_lrs: must be > g_hrs"),
        (BinaryRRAMConfig, {"g_hrs": -1e-6}, r"^g_hrs: must be a finite number in \(0, inf\]"),
        (FeFETConfig, {"k": -1e-6}, r"^k: must be a finite number in \(0, inf\]"),
        (PCMConfig, {"nu_mean": (-0.0155, 0.0244, 0.1, 0.049)}, r"^nu_mean: clip range must satisfy"),
    ],
)
def test_inverted_or_negative_conductance_range(cls, kw, match):
    with pytest.raises(ConfigError, match=match):
        cls(**kw)


def test_inverted_range_in_preset_file_names_the_field(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("name: bad\nmodel: rram\nsource: s\nconfig:\n  g_min: 90.0e-6\n  g_max: 10.0e-6\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: config\.g_max: must be > g_min"):
        load_preset(str(f))


@pytest.mark.parametrize("name", PRESETS)
def test_arrays_of_any_shape(name, rng):
    """Models are vectorised over arrays of any shape (e.g. a rows × cols tile), element per element."""
    model = MODELS[name]
    gt = model.g_min + rng.uniform(0, 1, (3, 4)) * (model.g_max - model.g_min)
    state = model.program(gt, rng)
    assert state.shape == (3, 4)
    assert model.conductance(state, 60.0, rng).shape == (3, 4)
    pol = np.array([[1, 0, -1, 1]] * 3)
    after = model.pulse(state, pol, 1.5, 1e-6, rng)
    assert after.shape == (3, 4)
    np.testing.assert_array_equal(after.g0[:, 1], state.g0[:, 1])  # polarity 0 leaves the device alone


@pytest.mark.parametrize("name", ["fefet", "ecram", "reram-es"])
@settings(max_examples=10, deadline=None)
@given(u=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6), t=st.floats(0.0, 1e8), seed=st.integers(0, 2**32 - 1))
def test_noise_free_reads_stay_in_finite_bounds(name, u, t, seed):
    """With read and write noise off, conductances stay inside the finite bounds the model documents."""
    model = load_preset(name, read_noise=0.0, **({"write_noise_std": 0.0} if name == "reram-es" else {}))
    lo, hi = model.bounds
    assert np.isfinite(hi)
    rng = np.random.default_rng(seed)
    state = model.program(model.g_min + np.asarray(u) * (model.g_max - model.g_min), rng)
    for _ in range(3):
        g = model.conductance(state, t, rng)
        assert np.all(g >= lo) and np.all(g <= hi)
        state = model.pulse(state, 1, 4.0, 1e-6, rng)
