"""A quantised model's digital work and weight memory are priced at its bits (issue 17, scope 2)."""

import numpy as np
import pytest

from aimc_sim.cost import CostModel
from workloads.s4d.config import S4DConfig
from workloads.s4d.model import S4DModel


@pytest.mark.parametrize("variant", ["s4d", "gsu"])
def test_quantised_s4d_costs_less_on_the_digital_baseline(variant):
    rng = np.random.default_rng(0)
    cfg = S4DConfig(d_in=1, n_classes=3, d_model=8, d_state=4, n_layers=1, variant=variant)
    base = S4DModel.random(cfg, rng)
    x = rng.random((3, 10, 1)).astype(np.float32)
    energy, events = {}, {}
    for bits in (None, 8, 4, "ternary"):
        m = base.with_config(w_bits=bits, a_bits=bits)
        _, ledger, _ = m.on({"backend": "float"}).logits(x)
        energy[bits] = CostModel.load("22nm").price(ledger).energy_j
        events[bits] = {k for _, k in ledger.counts}
    assert {"fp32_mul", "sram_read_32b"} <= events[None]
    assert {"int8_mul", "sram_read_8b", "int32_add"} <= events[8]
    assert {"int4_mul", "sram_read_4b"} <= events[4] and "sram_read_32b" not in events[4]
    assert {"int2_mul", "sram_read_2b"} <= events["ternary"]
    assert energy[None] > energy[8] > energy[4] > energy["ternary"]
