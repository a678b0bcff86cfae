"""``aimc cost-check``: chip presets from published numbers, their benchmark on the simulator, the CLI."""

import json

import pytest
import yaml

from aimc_sim.cli import main
from aimc_sim.cost.chips import CHIP_DIR, chip_names, evaluate_chip, load_chip
from aimc_sim.errors import ConfigError


def test_at_least_three_chips_every_number_sourced():
    names = chip_names()
    assert len(names) >= 3
    for name in names:
        chip = load_chip(name)
        assert chip.citation and chip.numbers
        for bench in chip.benchmarks:
            assert all(r.source.strip() for r in bench.reported.values())


def test_read_modes_scale_like_the_chip():
    """HERMES four-phase vs one-phase: the chip reports 9.76/2.48 = 3.94x the energy and 63.1/16.1 = 3.92x
    the time per MVM; the simulator does four reads and conversions instead of one."""
    one, four = evaluate_chip(load_chip("hermes-chip"), batch=4)
    r_e = (one.metrics["tops_per_w"][1] / four.metrics["tops_per_w"][1], 9.76 / 2.48)
    r_t = (one.metrics["tops"][1] / four.metrics["tops"][1], 63.1 / 16.1)
    assert r_e[0] == pytest.approx(r_e[1], rel=0.05) and r_t[0] == pytest.approx(r_t[1], rel=0.05)
    assert one.time_per_mvm_s > 128e-9  # at least the 128 ns PWM read window


def test_cli_prints_and_writes_the_worst_factor(tmp_path, capsys):
    assert main(["cost-check", "-o", str(tmp_path), "--chips", "hermes-core", "ibm-speech-chip"]) == 0
    out = capsys.readouterr().out
    last = out.strip().splitlines()[-1]
    assert last.startswith("cost_worst_factor=")
    data = json.loads((tmp_path / "cost_check.json").read_text())
    factors = [m["factor"] for r in data["results"] for m in r["metrics"].values()]
    assert {r["chip"] for r in data["results"]} == {"hermes-core", "ibm-speech-chip"}
    assert float(last.split("=")[1]) == pytest.approx(max(factors), rel=1e-2)
    for r in data["results"]:
        for m in r["metrics"].values():
            assert m["factor"] == pytest.approx(max(m["simulated"] / m["reported"], m["reported"] / m["simulated"]))


def test_bad_chip_input(tmp_path):
    with pytest.raises(ConfigError, match="unknown chip 'tpu'"):
        load_chip("tpu")
    data = yaml.safe_load((CHIP_DIR / "hermes-core.yaml").read_text())
    data["numbers"]["adc"] = " "
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"chip.numbers.adc: must name the source"):
        load_chip(p)
    data = yaml.safe_load((CHIP_DIR / "hermes-core.yaml").read_text())
    data["benchmarks"][0]["reported"] = {"fps": {"value": 1.0, "source": "x"}}
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"chip.benchmarks\[0\].reported.fps: unknown metric"):
        load_chip(p)


def test_every_chip_within_2x_with_its_own_adc_model():
    """Issue 17's target with the shipped presets (each chip's ADC model from its published architecture)."""
    for name in chip_names():
        for res in evaluate_chip(load_chip(name), batch=4):
            assert max(res.factors().values()) <= 2.0, (name, res.benchmark, res.metrics)
