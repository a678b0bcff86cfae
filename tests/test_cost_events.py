"""Typed ledger events: keys, pricing by type, ADC model registry, bad input."""

from __future__ import annotations

import pytest
import yaml

from aimc_sim.cost import CostModel, Ledger
from aimc_sim.cost.adc import ADC_MODELS
from aimc_sim.cost.events import (
    INT32_ADD,
    AdcCycle,
    Conversion,
    DigitalOp,
    Memory,
    MemoryAccess,
    Named,
    Op,
    Precision,
)
from aimc_sim.cost.model import COST_DIR
from aimc_sim.errors import ConfigError


def test_keys_are_stable_names():
    assert Conversion("adc", 8).key == "adc_conversion@8b"
    assert Conversion("dac", None).key == "dac_conversion@ideal"
    assert AdcCycle(6).key == "adc_cycle@6b"
    assert DigitalOp(Op.MUL, Precision.INT8).key == "int8_mul"
    assert MemoryAccess(Memory.SRAM, 32).key == "sram_read_32b"
    assert MemoryAccess(Memory.DRAM, 64, "write").key == "dram_write_64b"


def test_priced_by_type_not_by_name():
    """The same key as a plain string is a Named event and is not priced as a conversion."""
    cm = CostModel.load("22nm")
    led = Ledger()
    led.add(Conversion("adc", 8), 10)
    led.add(MemoryAccess(Memory.SRAM, 16), 4)
    led.add(DigitalOp(Op.ADD, Precision.INT8), 100)
    br = cm.price(led)
    assert br.per_component["adc"] == pytest.approx(10 * cm.adc(8)[0])
    sram = cm.config.memory["sram"].energy_per_64b_j * cm.digital_scale
    assert br.per_component["memory"] == pytest.approx(4 * sram * 16 / 64)  # energy proportional to the bits
    assert br.per_component["digital"] == pytest.approx(100 * cm.config.digital["int8"].add_j * cm.digital_scale)
    with pytest.raises(ConfigError, match="lower-case identifier"):
        led.add("adc_conversion@8b")


def test_key_collision_is_an_error():
    led = Ledger()
    led.add(INT32_ADD, 1)
    with pytest.raises(ConfigError, match="key 'int32_add' of another event"):
        led.add(Named("int32_add"), 1)
    other = Ledger()
    other.add(Named("int32_add"), 1)
    with pytest.raises(ConfigError, match="of another event"):
        led.merge(other)


def test_merge_keeps_typed_events():
    a, b = Ledger(), Ledger()
    b.add(Conversion("adc", 4), 3, layer="x")
    a.merge(b, scale=2.0)
    assert a.events["adc_conversion@4b"] == Conversion("adc", 4)
    assert a.counts[("x", "adc_conversion@4b")] == 6.0


def test_adc_models_registered_and_listed_per_file(tmp_path):
    cm = CostModel.load("22nm")
    assert set(cm.config.adc.models) <= set(ADC_MODELS)
    for name in cm.config.adc.models:
        assert cm.with_adc_model(name).adc_model_name.startswith(f"{name}: ")
        assert ADC_MODELS[name].__doc__ and "Source" in ADC_MODELS[name].__doc__
    texel = CostModel.load("texel-180nm")
    with pytest.raises(ConfigError, match="must be one of the models texel-180nm parameterises"):
        texel.with_adc_model("neurosim-sar")
    data = yaml.safe_load((COST_DIR / "22nm.yaml").read_text())
    data["adc"]["models"]["flash-magic"] = {"source": "x"}
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"cost.adc.models.flash-magic: unknown ADC model; registered: neurosim-sar"):
        CostModel.load(p)
    data = yaml.safe_load((COST_DIR / "22nm.yaml").read_text())
    data["adc"]["models"]["survey-fom"]["fom_w_j"] = -1.0
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"cost.adc.models.survey-fom.fom_w_j: must be a finite number"):
        CostModel.load(p)
    data = yaml.safe_load((COST_DIR / "22nm.yaml").read_text())
    data["digital"]["fp64"] = dict(data["digital"]["fp32"])  # a copy: the strict loader refuses YAML aliases
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"cost.digital.fp64: unknown; allowed: fp32"):
        CostModel.load(p)


def test_memory_access_bits_checked():
    with pytest.raises(ConfigError, match="bits: must be an integer >= 1"):
        MemoryAccess(Memory.SRAM, 0)
    assert Precision.integer(3) is Precision.INT4 and Precision.integer(8) is Precision.INT8
    with pytest.raises(ConfigError, match="bits: must be an integer in 1..32"):
        Precision.integer(40)


def test_stillmaker_baas_energy_factors_match_the_corrigendum_example():
    """The authors' corrigendum: HP32 at 0.9 V -> 0.4571, 65 nm at 1.3 V -> 2.604, 1 pJ -> 0.1755 pJ."""
    from aimc_sim.cost.scaling import load_scaling_table

    t = load_scaling_table("stillmaker-baas-2017")
    ex, ey = t.energy_factor("HP32", 0.9), t.energy_factor("65", 1.3)
    assert ex == pytest.approx(0.4571, abs=1e-4) and ey == pytest.approx(2.604, abs=1e-3)
    assert ex / ey * 1e-12 == pytest.approx(0.1755e-12, rel=1e-3)
    with pytest.raises(ConfigError, match="unknown node 'HP22'"):
        t.energy_factor("HP22", 0.8)


def test_digital_energy_scaled_to_the_node_and_priced_at_its_precision():
    cm = CostModel.load("22nm")
    # HP45 at 0.9 V -> HP20 at 0.8 V, by hand from Table 5's coefficients
    f = (0.373 * 0.64 - 0.1582 * 0.8 + 0.04104) / (1.018 * 0.81 - 0.3107 * 0.9 + 0.1539)
    assert cm.digital_scale == pytest.approx(f) and 0.2 < f < 0.25
    assert cm.digital_energy(Op.MUL, Precision.FP32) == pytest.approx(3.7e-12 * f)
    assert cm.digital_energy(Op.MUL, Precision.INT4) == pytest.approx(0.2e-12 / 4 * f)  # int8 mul / (8/4)^2
    assert cm.digital_energy(Op.ADD, Precision.INT4) == pytest.approx(0.03e-12 / 2 * f)
    sram = cm.price_event(MemoryAccess(Memory.SRAM, 64))[0]
    dram = cm.price_event(MemoryAccess(Memory.DRAM, 64))[0]
    assert sram == pytest.approx(20e-12 * f) and dram == pytest.approx(1.3e-9)  # off-chip DRAM is not scaled
    energies = [cm.digital_energy(Op.MUL, p) for p in (Precision.INT32, Precision.INT8, Precision.INT4)]
    assert energies == sorted(energies, reverse=True)
