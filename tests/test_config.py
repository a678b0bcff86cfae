"""The validated-config mechanism: field paths and allowed ranges in every error."""

from dataclasses import dataclass, field
from typing import Literal

import pytest

from aimc_sim.config import Config, check, int_in, positive
from aimc_sim.errors import ConfigError
from device_models.schema import read_yaml, require_finite


@dataclass(frozen=True)
class Adc(Config):
    bits: int = field(default=8, metadata=check(int_in(1, 16)))
    mode: Literal["fixed", "calibrated"] = "fixed"


@dataclass(frozen=True)
class Tile(Config):
    rows: int = field(default=256, metadata=check(int_in(1)))
    g_max: float = field(default=25e-6, metadata=check(positive))
    adc: Adc = field(default_factory=Adc)
    sizes: tuple[int, ...] = (1, 2)

    def validate(self):
        if self.rows > 4096:
            raise ConfigError("rows", "must be <= 4096")


@dataclass(frozen=True)
class Root(Config):
    tile: Tile = field(default_factory=Tile)


def test_nested_error_names_the_full_path():
    with pytest.raises(ConfigError, match=r"^tile\.adc\.bits: must be an integer in 1\.\.16, got 0$"):
        Root.from_dict({"tile": {"adc": {"bits": 0}}})


def test_literal_and_unknown_fields():
    with pytest.raises(ConfigError, match=r"tile\.adc\.mode: must be one of 'fixed', 'calibrated'"):
        Root.from_dict({"tile": {"adc": {"mode": "dynamic"}}})
    with pytest.raises(ConfigError, match=r"tile\.adcc: unknown field; allowed fields: adc, g_max"):
        Root.from_dict({"tile": {"adcc": {}}})


def test_types_are_coerced_and_checked():
    cfg = Root.from_dict({"tile": {"g_max": "25e-6", "rows": 64, "sizes": [3, 4]}})
    assert cfg.tile.g_max == 25e-6 and cfg.tile.sizes == (3, 4)
    with pytest.raises(ConfigError, match=r"tile\.g_max: must be a finite number in \(0, inf\], got -1"):
        Root.from_dict({"tile": {"g_max": -1}})
    with pytest.raises(ConfigError, match=r"tile\.rows: must be an integer"):
        Root.from_dict({"tile": {"rows": "many"}})
    with pytest.raises(ConfigError, match=r"tile\.rows: must be <= 4096"):
        Root.from_dict({"tile": {"rows": 5000}})


def test_frozen_and_roundtrip():
    cfg = Root.from_dict({"tile": {"adc": {"bits": 4}}})
    with pytest.raises(AttributeError):
        cfg.tile = None
    assert Root.from_dict(cfg.to_dict()) == cfg
    assert cfg.replace(tile=cfg.tile.replace(rows=8)).tile.rows == 8


def test_malformed_yaml_names_file_and_line(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("tile:\n  adc: {bits: 4\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: malformed YAML \(line \d+"):
        read_yaml(f)
    with pytest.raises(ConfigError, match="file not found"):
        read_yaml(tmp_path / "missing.yaml")


def test_require_finite_names_the_index():
    import numpy as np

    with pytest.raises(ConfigError, match=r"weights: must be finite, got nan at index \(1, 0\)"):
        require_finite("weights", np.array([[1.0, 2.0], [np.nan, 0.0]]))
