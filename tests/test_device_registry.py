"""Preset registry and bad input: every error names the field and the allowed range."""

import numpy as np
import pytest

from device_models import ConfigError, list_presets, load_preset
from device_models.faults import FaultConfig


def test_every_preset_loads_and_names_its_source():
    infos = list_presets()
    names = {p.name for p in infos}
    assert {"pcm", "pcm-hermes"} <= names
    for info in infos:
        assert info.source and info.figure and info.description
        model = load_preset(info.name)
        assert model.name == info.name
        assert 0 <= model.g_min < model.g_max


def test_load_preset_by_path_and_overrides(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("name: mine\nmodel: pcm\nsource: test\nconfig:\n  g_max: 20.0e-6\n")
    model = load_preset(str(f), t0=30.0)
    assert model.g_max == 20e-6 and model.config.t0 == 30.0 and model.name == "mine"


def test_unknown_preset():
    with pytest.raises(ConfigError, match=r"preset: unknown preset 'nope'; available: .*pcm"):
        load_preset("nope")


def test_malformed_yaml(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("name: bad\nmodel: pcm\nconfig: [1, 2\n")
    with pytest.raises(ConfigError, match="malformed YAML"):
        load_preset(str(f))


def test_unknown_model_family(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("name: x\nmodel: memristor9000\nsource: s\n")
    with pytest.raises(ConfigError, match="model: must be one of"):
        load_preset(str(f))


def test_bad_field_in_preset_names_path(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("name: x\nmodel: pcm\nsource: s\nconfig:\n  g_max: -1.0\n")
    with pytest.raises(ConfigError, match=r"config\.g_max: must be a finite number in \(0, inf\]"):
        load_preset(str(f))


def test_bad_override_names_field():
    with pytest.raises(ConfigError, match=r"pcm\.config\.t0: must be a finite number in \(0"):
        load_preset("pcm", t0=0.0)
    with pytest.raises(ConfigError, match=r"pcm\.config\.faults\.p_stuck_min: must be a finite number in \[0, 1\]"):
        load_preset("pcm", faults={"p_stuck_min": 2.0})


def test_pcm_nan_and_negative_targets(rng):
    model = load_preset("pcm")
    with pytest.raises(ConfigError, match=r"g_target: must be finite, got nan at index \(1,\)"):
        model.program(np.array([1e-6, np.nan]), rng)
    with pytest.raises(ConfigError, match="g_target: must be >= 0 S"):
        model.program(np.array([-1e-6]), rng)
    with pytest.raises(ConfigError, match="t: must be a finite time >= 0 s"):
        model.conductance(model.program(np.array([1e-6]), rng), -1.0, rng)


def test_fault_config_errors():
    with pytest.raises(ConfigError, match="p_stuck_max: p_stuck_min \\+ p_stuck_max \\+ p_stuck_random must be <= 1"):
        FaultConfig(p_stuck_min=0.6, p_stuck_max=0.6)
    with pytest.raises(ConfigError, match="endurance_cycles: must be a number > 0"):
        FaultConfig(endurance_cycles=0.0)
