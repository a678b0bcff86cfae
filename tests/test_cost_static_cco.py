"""The cco ADC model (power x integration window), always-on static power over latency, the tile inventory and
the chip presets that name their ADC model."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from aimc_sim.cost import CostModel, Ledger
from aimc_sim.cost.adc import CcoAdc
from aimc_sim.cost.chips import CHIP_DIR, chip_cost_model, load_chip
from aimc_sim.cost.events import TILE, TILE_READ, AdcCycle, Conversion, ConverterUnit, Named
from aimc_sim.cost.model import COST_DIR, CostModelConfig
from aimc_sim.errors import ConfigError


def test_cco_energy_is_power_times_window():
    """0.52 mW counting for a 128 ns read: 66.56 pJ; a 10 ns read is shorter than a 5-bit full-scale count
    (32 x 312.5 ps = 10 ns): exactly the published 5.2 pJ, no extra latency; a 1 ns read: 9 ns more."""
    cco = CcoAdc(power_w=0.52e-3, lsb_s=312.5e-12, source="test")
    assert cco.conversion(8, 128e-9) == pytest.approx((66.56e-12, 0.0))
    assert cco.conversion(5, 10e-9) == pytest.approx((5.2e-12, 0.0))
    assert cco.conversion(5, 1e-9) == pytest.approx((5.2e-12, 9e-9))
    assert cco.conversion(8, 0.0) == pytest.approx((0.52e-3 * 256 * 312.5e-12, 256 * 312.5e-12))


def test_cost_model_passes_the_read_window_to_the_cco():
    cm = CostModel.load("22nm", adc_model="cco")
    t_read = cm.config.events["tile_read"].latency_s
    assert cm.read_window_s == t_read
    p = cm.config.adc.models["cco"].power_w
    led = Ledger()
    led.add(Conversion("adc", 8), 10)
    led.add(AdcCycle(8), 1, unit="t")
    led.add(TILE_READ, 1, unit="t")
    br = cm.price(led)
    assert br.per_component["adc"] == pytest.approx(10 * p * t_read)
    assert br.latency_s == pytest.approx(t_read)  # the conversion runs during the read


def _static_model(tile_w: float, chip_w: float) -> CostModel:
    data = yaml.safe_load((COST_DIR / "22nm.yaml").read_text())
    data["static"] = {"tile_w": tile_w, "chip_w": chip_w, "source": "test"}
    return CostModel(CostModelConfig.from_dict(data, path="cost"))


def test_static_power_is_booked_over_the_latency():
    """Two tiles in layer a, one in b, 10 mW each, 1 mW chip; reads of 100 ns: a takes 2 reads on one tile
    (its tiles in parallel), b one: latency 300 ns; static = (3 x 10 mW + 1 mW) x 300 ns = 9.3 nJ."""
    cm = _static_model(10e-3, 1e-3)
    led = Ledger()
    led.add(TILE, 2, layer="a")
    led.add(TILE, 1, layer="b")
    led.add(TILE_READ, 2, layer="a", unit="a0")
    led.add(TILE_READ, 2, layer="a", unit="a1")
    led.add(TILE_READ, 1, layer="b", unit="b0")
    br = cm.price(led)
    t = 100e-9
    assert br.latency_s == pytest.approx(3 * t)
    assert br.per_component["static"] == pytest.approx((3 * 10e-3 + 1e-3) * 3 * t)
    assert br.per_layer["a"]["energy_j"] == pytest.approx(2 * 10e-3 * 3 * t)
    assert br.per_layer[""]["energy_j"] == pytest.approx(1e-3 * 3 * t)
    assert "static" in br.table() and not br.unpriced
    assert "static" not in CostModel.load("22nm").price(led).per_component  # 0 W at 22 nm: [unknown]
    with pytest.raises(ConfigError, match="cost.static"):
        _static_model(-1.0, 0.0)


def test_a_built_tile_books_its_inventory():
    from aimc_sim.crossbar import AnalogTile, load_tile_config

    rng = np.random.default_rng(0)
    led = Ledger()
    AnalogTile(load_tile_config("pcm-default", rows=8, cols=8), rng.uniform(-1, 1, (8, 4)), rng, led, name="L")
    assert led.total(TILE) == 1
    assert not CostModel.load("22nm").price(led).unpriced
    assert "tile_unit" not in CostModel.load("texel-180nm").price(led).unpriced


def test_converter_events_share_one_shape():
    assert Conversion("adc", 8) != ConverterUnit("adc", 8)
    assert ConverterUnit("dac", None).key == "dac_unit@ideal" and Conversion("dac", 4).key == "dac_conversion@4b"
    assert hash(Conversion("adc", 8)) == hash(Conversion("adc", 8))


def test_texel_router_hops_are_priced():
    led = Ledger()
    for name in ("router_hop_local", "router_hop_core", "router_hop_chip", "router_drop"):
        led.add(Named(name), 3)
    br = CostModel.load("texel-180nm").price(led)
    assert not br.unpriced and br.energy_j == 0.0


def test_chip_presets_name_their_adc_model(tmp_path):
    hermes = load_chip("hermes-core")
    assert hermes.adc_model == "cco" and "CCO" in hermes.numbers["adc_model"]
    assert chip_cost_model(hermes, 128e-9).adc_model == "cco"
    assert chip_cost_model(hermes, 128e-9, adc_model="survey-fom").adc_model == "survey-fom"
    data = yaml.safe_load((CHIP_DIR / "hermes-core.yaml").read_text())
    del data["numbers"]["adc_model"]
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="numbers.adc_model: must name the source"):
        load_chip(p)
    data = yaml.safe_load((CHIP_DIR / "hermes-core.yaml").read_text())
    data["adc_model"] = "magic"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="chip.adc_model: must be a registered ADC model"):
        load_chip(p)
    data = yaml.safe_load((CHIP_DIR / "hermes-core.yaml").read_text())
    data["static_w_per_core"] = 0.05
    data["numbers"]["static_w_per_core"] = "test [proposal]"
    p.write_text(yaml.safe_dump(data))
    assert chip_cost_model(load_chip(p), 128e-9).config.static.tile_w == 0.05


def test_bad_value_in_the_optional_static_section_names_the_field():
    """An optional nested section reports the field inside it, not only the section."""
    data = yaml.safe_load((COST_DIR / "22nm.yaml").read_text())
    data["static"] = dict(data["static"], tile_w=-1.0)
    with pytest.raises(ConfigError, match=r"^static\.tile_w: must be a finite number in \[0, inf\], got -1\.0"):
        CostModelConfig.from_dict(data)
