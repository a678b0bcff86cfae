"""Cost model: ADC model table XB-4, energy arithmetic XB-6, E-1, pricing of a tile's ledger, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from aimc_sim.cost import CostModel, Ledger
from aimc_sim.cost.adc import MurmannBound, SurveyFom
from aimc_sim.cost.events import NEURON_SPIKE, STATIC_SECONDS
from aimc_sim.crossbar import AnalogTile, load_tile_config
from aimc_sim.errors import ConfigError

# ADC models disagree (docs/cost.md#adc-energy-models): bits -> (B at 1e8 Hz, B at 1e9 Hz, A), in joules (2 s.f.)
XB4 = {
    4: (0.19e-15, 2.5e-15, 33e-15),
    5: (0.74e-15, 10e-15, 42e-15),
    6: (3.0e-15, 40e-15, 53e-15),
    8: (48e-15, 0.64e-12, 78e-15),
    10: (0.76e-12, 10e-12, 107e-15),
}


@pytest.mark.parametrize("bits", sorted(XB4))
def test_xb4_adc_disagreement_table(bits):
    """XB-4: every cell of the §9.3 table recomputed from the model formulas."""
    cm = CostModel.load("22nm")
    b8, b9, a = XB4[bits]
    B: MurmannBound = cm.config.adc.models["murmann-bound"]
    e8, _ = B.replace(sample_rate_hz=1e8).conversion(bits)
    e9, _ = B.replace(sample_rate_hz=1e9).conversion(bits)
    assert e8 == pytest.approx(b8, rel=0.05)
    assert e9 == pytest.approx(b9, rel=0.05)
    assert cm.with_adc_model("neurosim-sar").adc(bits)[0] == pytest.approx(a, rel=0.03)
    # model D: 5-20 fJ/step before the floor
    assert SurveyFom(5e-15, 0.0, 1e9, "test").conversion(bits)[0] == pytest.approx(5e-15 * 2**bits)
    assert cm.with_adc_model("survey-fom").adc(bits)[0] == pytest.approx(max(10e-15 * 2**bits, 0.2e-12))


def test_xb4_mnsim_isaac_entry():
    """ISAAC entry: 15.6 pJ as coded ((bits + 2) / f_s latency), 10x the P / f_s energy of 1.56 pJ."""
    e, lat = CostModel.load("22nm", adc_model="mnsim-table").adc(8)
    assert e == pytest.approx(15.625e-12)
    assert lat == pytest.approx(7.8125e-9)
    assert e / (2e-3 / 1.28e9) == pytest.approx(10.0)


def test_xb4_spread_at_8_bits():
    cm = CostModel.load("22nm")
    cm_b = CostModel.load("22nm", adc_model="murmann-bound")
    es = [cm.with_adc_model(m).adc(8)[0] for m in ("neurosim-sar", "mnsim-table", "survey-fom")] + [cm_b.adc(8)[0]]
    assert max(es) / min(es) == pytest.approx(15.625e-12 / 47.5e-15, rel=0.02)  # ~ 325x


def test_xb6_cell_and_array_read_energy(rng):
    """XB-6: 0.2 V, 25 uS, 100 ns -> 0.1 pJ; 256x256 at 12.5 uS -> 3.3 nJ (one full-array read)."""
    cfg = load_tile_config("ideal", rows=256, cols=512, v_read=0.2, t_read=100e-9, management={"noise": "none"})
    led = Ledger()
    AnalogTile(cfg, np.ones((1, 1)), rng, led).mvm(np.ones((1, 1)))
    assert led.energy_j[("", "array_read")] == pytest.approx(0.1e-12)  # one device at g_max, other at 0
    led = Ledger()
    W = np.full((256, 256), 0.5)  # differential pairs: G+ = 12.5 uS, G- = 0 -> 256 x 256 cells at 12.5 uS
    W[0, 0] = 1.0  # sets w_max (per tensor): one cell at 25 uS
    tile = AnalogTile(cfg.replace(mapping=cfg.mapping.replace(weight_scaling="per_tensor")), W, rng, led)
    tile.mvm(np.ones((1, 256)))
    expect = (256 * 256 * 12.5e-6 + 12.5e-6) * 0.2**2 * 100e-9
    assert led.energy_j[("", "array_read")] == pytest.approx(expect, rel=1e-9)
    assert led.energy_j[("", "array_read")] == pytest.approx(3.3e-9, rel=0.01)


def test_e1_texel_energy_bookkeeping():
    """E-1 (docs/circuits.md §7): 180 neurons at 80 Hz for 1 s -> 27.77 uJ with the TEXEL entries."""
    led = Ledger()
    led.add(NEURON_SPIKE, 180 * 80)
    led.add(STATIC_SECONDS, 1.0)
    br = CostModel.load("texel-180nm").price(led)
    assert br.energy_j == pytest.approx(27.77e-6, rel=1e-3)
    assert br.per_component["static"] == pytest.approx(27.4e-6)


def test_price_tile_ledger_components_layers_and_adc_name(rng):
    cfg = load_tile_config("pcm-default", rows=64, cols=128)
    led = Ledger()
    tile = AnalogTile(cfg, rng.standard_normal((64, 64)), rng, led, name="fc1")
    tile.mvm(rng.standard_normal((10, 64)), t=60.0)
    with led.scope("head"):
        led.add(NEURON_SPIKE, 5)
    cm = CostModel.load("22nm")
    br = cm.price(led)
    n_adc = led.total("adc_conversion@8b")
    assert br.per_component["adc"] == pytest.approx(n_adc * 2.56e-12)
    assert br.per_component["dac"] == pytest.approx(led.total("dac_conversion@8b") * 3.9e-6 * 128 * 1e-9)
    assert br.per_component["array"] == pytest.approx(led.energy_j[("fc1", "array_read")])
    assert set(br.per_layer) == {"fc1", "head"}
    assert br.per_layer["head"]["energy_j"] == pytest.approx(5 * 25.9e-12)
    assert br.energy_j == pytest.approx(sum(br.per_component.values()))
    assert br.energy_j == pytest.approx(sum(d["energy_j"] for d in br.per_layer.values()))
    assert br.adc_model.startswith("survey-fom:") and "survey-fom:" in br.table()
    assert br.latency_s > 0 and br.area_mm2 == pytest.approx(64 * 128 * 2.3232e-8)
    assert br.unpriced == {}
    br_a = cm.with_adc_model("neurosim-sar").price(led)
    assert br_a.adc_model.startswith("neurosim-sar:") and br_a.per_component["adc"] < br.per_component["adc"]


def test_unknown_events_are_reported_not_dropped():
    led = Ledger()
    led.add("warp_drive", 3)
    br = CostModel.load("22nm").price(led)
    assert br.unpriced == {"warp_drive": 3.0}
    assert "UNPRICED" in br.table()


def test_every_number_has_a_source(tmp_path):
    import yaml

    from aimc_sim.cost.model import COST_DIR

    data = yaml.safe_load((COST_DIR / "22nm.yaml").read_text())
    del data["events"]["neuron_spike"]["source"]
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"cost.events.neuron_spike.source: required field is missing"):
        CostModel.load(p)
    data["events"]["neuron_spike"]["source"] = " "
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"cost.events.neuron_spike.source: must name the source"):
        CostModel.load(p)


def test_cost_bad_input():
    with pytest.raises(ConfigError, match="unknown cost model"):
        CostModel.load("3nm-dreams")
    with pytest.raises(
        ConfigError, match=r"cost.adc.model: must be one of the models 22nm parameterises \('neurosim-sar'"
    ):
        CostModel.load("22nm", adc_model="E")
    with pytest.raises(ConfigError, match="ledger: must be a Ledger"):
        CostModel.load("22nm").price({"adc": 1})
