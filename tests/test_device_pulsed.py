"""Pulsed-update laws and ECRAM (docs/devices.md#pulsed-update-laws): UPD-1..3; ECRAM >= 1000 states,
bounded up/down asymmetry."""

import math

import numpy as np
import pytest

from device_models import ConfigError, load_preset
from device_models.pulsed import UpdateConfig, draw_update_params, pulse_weight, step_size


def _nominal(preset: str) -> tuple[UpdateConfig, dict]:
    cfg = load_preset(preset).config.update
    return cfg, draw_update_params((), cfg, None)


def test_upd1_reram_es_steps():
    """UPD-1 (ReRamES, ExpStep, noise-free): up/down steps at w = -1, 0, +1."""
    cfg, p = _nominal("reram-es")
    w = np.array([-1.0, 0.0, 1.0])
    up = step_size(w, 1, p, cfg)
    down = -step_size(w, -1, p, cfg)
    np.testing.assert_allclose(up, [3.71e-3, 1.87e-3, 1.71e-3], rtol=4e-3)
    np.testing.assert_allclose(down, [1.08e-3, 1.99e-3, 1.31e-2], rtol=4e-3)


def test_upd2_pcm_preset_pulse_counts():
    """UPD-2 (PCMPreset, ExpStep up only): first step 0.282; 13 pulses reach w >= 1; 56 reach w >= 1.8."""
    cfg = load_preset("pcm").config.update.replace(w_max_dtod=0.0, dw_min_dtod=0.0)
    p = draw_update_params((), cfg, None)
    assert step_size(0.0, 1, p, cfg) == pytest.approx(0.282, abs=5e-4)
    w, n, reached = 0.0, 0, {}
    while w < 1.8:
        w = float(pulse_weight(np.array(w), 1, p, cfg, None))
        n += 1
        for level in (1.0, 1.8):
            if w >= level:
                reached.setdefault(level, n)
    assert reached == {1.0: 13, 1.8: 56}


def test_upd3_ecram_steps():
    """UPD-3 (EcRam, LinearStep): steps 0.002/0.002 at w = 0 and 1.77e-3 / 3.44e-3 at b_max = 1.1724."""
    cfg, p = _nominal("ecram")
    assert step_size(0.0, 1, p, cfg) == pytest.approx(0.002)
    assert -step_size(0.0, -1, p, cfg) == pytest.approx(0.002)
    assert step_size(1.1724, 1, p, cfg) == pytest.approx(1.77e-3, rel=2e-3)
    assert -step_size(1.1724, -1, p, cfg) == pytest.approx(3.44e-3, rel=2e-3)


def test_ecram_has_at_least_1000_states():
    """Issue 2: ECRAM >= 1000 states. A nominal device needs >= 1000 distinct up pulses from b_min to b_max."""
    model = load_preset("ecram", update={"dw_min_dtod": 0.0, "w_min_dtod": 0.0, "w_max_dtod": 0.0, "dw_min_std": 0.0})
    state = model.program(np.array([model.g_min]), None)
    levels = [state.g0[0]]
    rng = np.random.default_rng(0)
    while levels[-1] < model.g_max * (1 - 1e-9) and len(levels) < 5000:
        state = model.pulse(state, 1, 1.0, 1e-3, rng)
        levels.append(state.g0[0])
    assert len(np.unique(levels)) >= 1000
    assert model.config.update.states == pytest.approx(1000, rel=1e-9)


def test_ecram_up_down_asymmetry_within_preset_value(rng):
    """Issue 2: measured up/down asymmetry (up - down)/(up + down), over 2000 devices with d2d and c2c noise,
    stays within the preset's largest noise-free asymmetry over the range (set by gamma_up/gamma_down)."""
    model = load_preset("ecram")
    cfg = model.config.update
    nominal = draw_update_params((), cfg, None)
    grid = np.linspace(cfg.w_min, cfg.w_max, 201)
    up0, down0 = step_size(grid, 1, nominal, cfg), -step_size(grid, -1, nominal, cfg)
    a_preset = np.max(np.abs((up0 - down0) / (up0 + down0)))
    assert a_preset == pytest.approx((2.16e-3 - 0.983e-3) / (2.16e-3 + 0.983e-3), abs=0.01)
    n = 2000
    for g in np.linspace(model.g_min * 2, model.g_max * 0.95, 5):
        state = model.program(np.full(n, g), rng)
        up = model.pulse(state, 1, 1.0, 1e-3, rng).g0 - state.g0
        down = state.g0 - model.pulse(state, -1, 1.0, 1e-3, rng).g0
        ok = (up > 0) & (down > 0)  # devices not sitting on a bound
        mu, md = up[ok].mean(), down[ok].mean()
        asym = (mu - md) / (mu + md)
        se = math.sqrt(up[ok].var() + down[ok].var()) / (mu + md) / math.sqrt(ok.sum())
        assert abs(asym) <= a_preset + 3 * se


def test_ecram_decay_and_read(rng):
    """Slow decay towards the reset point with the preset lifetime."""
    model = load_preset("ecram", read_noise=0.0)
    state = model.program(np.full(10, 40e-6), rng)
    g0, g1 = model.conductance(state, 0.0, None), model.conductance(state, 1e6, None)
    upd = model.config.update
    w_r = 0.5 * (upd.w_min + upd.w_max)
    g_r = model.g_min + (w_r - upd.w_min) / (upd.w_max - upd.w_min) * (model.g_max - model.g_min)
    np.testing.assert_allclose(g1 - g_r, (g0 - g_r) * math.exp(-1), rtol=1e-9)


def test_softbounds_and_pow_laws():
    cfg = UpdateConfig(law="softbounds", dw_min=0.01, w_min=-1, w_max=1)
    p = draw_update_params((), cfg, None)
    assert step_size(1.0, 1, p, cfg) == pytest.approx(0.0)
    assert step_size(0.5, 1, p, cfg) == pytest.approx(0.005)
    assert step_size(-1.0, -1, p, cfg) == pytest.approx(0.0)
    pw = UpdateConfig(law="pow", dw_min=0.01, w_min=-1, w_max=1, gamma_up=2.0, gamma_down=2.0)
    p = draw_update_params((), pw, None)
    assert step_size(0.0, 1, p, pw) == pytest.approx(0.01 * 0.25)
    assert -step_size(0.0, -1, p, pw) == pytest.approx(0.01 * 0.25)


def test_update_config_errors():
    with pytest.raises(ConfigError, match=r"w_max: must be > w_min"):
        UpdateConfig(w_min=1.0, w_max=-1.0)
    with pytest.raises(ConfigError, match=r"dw_min: must be a finite number in \(0"):
        UpdateConfig(dw_min=-0.1)
    with pytest.raises(ConfigError, match=r"ecram\.config\.update\.law: must be one of"):
        load_preset("ecram", update={"law": "magic"})
