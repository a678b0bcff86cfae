"""The workload contract: every family found through the registry, one Result shape with costs."""

import math

import numpy as np
import pytest

import workloads
from aimc_sim.errors import ConfigError, DataError
from workloads import api
from workloads.registry import FAMILIES, BoundWorkload, Family, Workload, family_for, register, shipped_models


def test_shipped_models_resolve_to_their_family():
    assert family_for("snn_digits").name == "snn"
    assert family_for("s4d_digits_float").name == "s4d"
    assert "snn_digits" in shipped_models() and "s4d_digits_float" in shipped_models()


def test_every_loaded_model_is_a_workload():
    for name in ("snn_digits", "s4d_digits_float"):
        model = workloads.load(name)
        assert isinstance(model, Workload)
        assert isinstance(model.on({"tile": "ideal"}), BoundWorkload)


def test_unknown_model_and_missing_file_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown model 'nope'"):
        workloads.load("nope")
    with pytest.raises(DataError, match="no such model file"):
        workloads.load(tmp_path / "missing.onnx")


def test_a_suffix_belongs_to_one_family():
    with pytest.raises(ConfigError, match="already read by family 's4d'"):
        register(
            Family(
                "other",
                "x",
                (".npz",),
                *(getattr(FAMILIES["s4d"], k) for k in ("load", "evaluate_point", "validate_point")),
            )
        )


def test_point_dispatch_by_family_not_name_prefix():
    """An SNN point and an S4D point go through the same evaluator; both results carry area and latency."""
    snn = api.evaluate({"model": "snn_digits", "hardware": {"tile": "ideal"}, "dataset": {"n_test": 4}}, seed=0)
    s4d = api.evaluate(
        {"model": "s4d_digits_float", "hardware": {"tile": "ideal"}, "dataset": {"name": "digits_pixel", "n_test": 2}},
        seed=0,
    )
    for res in (snn, s4d):
        assert 0.0 <= res.accuracy <= 1.0
        assert math.isfinite(res.energy_j) and res.energy_j > 0
        assert math.isfinite(res.area_mm2) and res.area_mm2 > 0
        assert res.latency_per_component_s and np.isclose(sum(res.latency_per_component_s.values()), res.latency_s)
