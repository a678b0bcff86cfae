"""Configuration fields that change what is simulated say so: IR-drop fallbacks, S4D prog_noise device preset."""

from functools import partial

import numpy as np
import pytest

from aimc_sim.cost.ledger import Ledger
from aimc_sim.crossbar import AnalogTile, array_read, load_tile_config
from aimc_sim.crossbar.irdrop import IrDropSolver
from aimc_sim.crossbar.periphery import IR_DROP_FALLBACK
from aimc_sim.errors import ConfigError


def test_ir_drop_fallback_is_warned_recorded_and_counted(rng):
    cfg = load_tile_config(
        "ideal", rows=64, cols=32, management={"noise": "none"}, ir_drop={"mode": "approx", "r_wire": 20.0}
    )
    led = Ledger()
    tile = AnalogTile(cfg, np.ones((64, 8)), rng, ledger=led, name="fc")
    assert tile.ir_drop_fallback is None and tile.config.ir_drop.mode == "approx"
    with pytest.warns(RuntimeWarning, match="exact"):
        tile.mvm(np.ones((2, 64)))
    assert "a = 2.05" in tile.ir_drop_fallback
    assert tile.config.ir_drop.mode == "exact"
    assert led.total(IR_DROP_FALLBACK) == 1


def test_exact_ir_drop_relaxation_fallback_is_warned_recorded_and_counted(rng, monkeypatch):
    # 2 * 128 * 160 nodes > direct_max_nodes: the exact solve uses line relaxation, here allowed one sweep only
    monkeypatch.setattr(array_read, "IrDropSolver", partial(IrDropSolver, max_sweeps=1))
    cfg = load_tile_config(
        "ideal", rows=128, cols=160, management={"noise": "none"}, ir_drop={"mode": "exact", "r_wire": 1.0}
    )
    led = Ledger()
    W = rng.uniform(-1, 1, (128, 80))
    x = rng.uniform(-1, 1, (3, 128))
    tile = AnalogTile(cfg, W, np.random.default_rng(1), ledger=led, name="fc")
    with pytest.warns(RuntimeWarning, match="did not converge in 1 sweeps"):
        y = tile.mvm(x)
    assert "used the direct solve" in tile.ir_drop_fallback
    assert led.total(IR_DROP_FALLBACK) == 1
    assert tile.stack.read(0.0).ir_drop.converged is False
    monkeypatch.undo()  # the same tile with a converging relaxation: the same outputs, nothing recorded
    led2 = Ledger()
    ref = AnalogTile(cfg, W, np.random.default_rng(1), ledger=led2, name="fc")
    assert ref.stack.read(0.0).ir_drop.converged and ref.ir_drop_fallback is None
    np.testing.assert_allclose(ref.mvm(x), y, rtol=1e-5, atol=1e-5)
    assert led2.total(IR_DROP_FALLBACK) == 0


def test_prog_noise_selects_a_named_device_preset():
    from workloads.s4d.hardware import PROG_NOISE_PRESET, S4DHardwareConfig

    tile = S4DHardwareConfig(prog_noise=0.05).tile_config()
    assert tile.device == PROG_NOISE_PRESET
    assert tile.device_options["pv_sigma"] == pytest.approx([0.05 * 100e-6, 0.0])
    with pytest.raises(ConfigError, match="prog_noise"):
        S4DHardwareConfig(tile={"preset": "pcm-default", "device": "pcm"}, prog_noise=0.05).tile_config()


def test_prog_noise_preset_draws_the_stated_programming_noise():
    """pv_sigma = sigma_p * G_max, constant: the programmed conductances scatter by that std about the target."""
    from device_models import load_preset

    model = load_preset("rram-hfo2-prog", pv_sigma=[2e-6, 0.0])
    g = model.program(np.full(20000, 50e-6), np.random.default_rng(0)).g0
    assert g.std() == pytest.approx(2e-6, rel=0.03)
    assert g.mean() == pytest.approx(50e-6, abs=3 * 2e-6 / np.sqrt(20000))


def test_adc_stochastic_rounding_is_used_by_the_tile(rng):
    """adc.stochastic_rounding: the averaged output of repeated MVMs converges on the unquantised product, while
    deterministic rounding keeps its per-output bias (docs/crossbar.md, pipeline step 6; 4-bit ADC)."""
    W, x = rng.uniform(-1, 1, (16, 5)), np.tile(rng.uniform(-1, 1, (1, 16)), (4000, 1))
    base = {"adc": {"bits": 4, "bound": 4.0}, "management": {"noise": "none"}}
    exact = AnalogTile(load_tile_config("ideal", adc={"bits": None}), W, rng).mvm(x[:1])[0]
    err = {}
    for sto in (False, True):
        cfg = load_tile_config("ideal", **base)
        cfg = cfg.replace(adc=cfg.adc.replace(stochastic_rounding=sto))
        y = AnalogTile(cfg, W, np.random.default_rng(1)).mvm(x)
        err[sto] = np.abs(y.mean(axis=0) - exact).max()
    lsb = 2 * 4.0 / 14 * np.abs(W).max(axis=0).max()
    assert err[True] < 0.05 * lsb < err[False]
