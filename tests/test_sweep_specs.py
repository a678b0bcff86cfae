"""The shipped sweep specs (aimc_sim/data/sweeps) are valid down to every hardware and cost-model field."""

from __future__ import annotations

from pathlib import Path

import pytest

from aimc_sim.config import read_yaml
from aimc_sim.cost import CostModel
from aimc_sim.sweep import expand_points, load_spec
from workloads.s4d.hardware import hardware_config

SPECS = sorted((Path(__file__).resolve().parents[1] / "aimc_sim" / "data" / "sweeps").glob("*.yaml"))


@pytest.mark.parametrize("path", [p for p in SPECS if "hardware" not in p.name], ids=lambda p: p.name)
def test_every_point_of_a_shipped_spec_builds_its_tile_and_cost_model(path):
    points = expand_points(load_spec(path))
    assert points
    for p in [p for p in points if p.seed == points[0].seed]:  # seeds share the config
        hw = hardware_config(p.config["hardware"])
        tile = hw.tile_config()  # raises ConfigError naming the field for any bad value
        CostModel.load(hw.cost_model)
        for path_, value in p.params.items():
            if path_.startswith("hardware.tile.") and path_.count(".") == 2 and not path_.endswith(".preset"):
                assert getattr(tile, path_.rsplit(".", 1)[1]) == value


def test_demo_hardware_file_is_a_valid_hardware_config():
    hw = hardware_config(read_yaml(SPECS[0].with_name("demo_hardware.yaml")))
    assert hw.tile_config().rows == 128 and hw.recurrence == "digital"
