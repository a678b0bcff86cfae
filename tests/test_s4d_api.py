"""workloads.api.evaluate and model.on(hw).evaluate (float backend; analog runs in test_s4d_hardware.py)."""

import numpy as np
import pytest

from aimc_sim.errors import ConfigError, DataError
from workloads.api import evaluate
from workloads.data import load_dataset
from workloads.s4d.config import S4DConfig
from workloads.s4d.hardware import S4DHardwareConfig, hardware_config
from workloads.s4d.model import S4DModel


@pytest.fixture
def ckpt(tmp_path, rng):
    m = S4DModel.random(S4DConfig(d_in=1, n_classes=10, d_model=8, d_state=4, n_layers=1), rng)
    return str(m.save(tmp_path / "m.npz"))


def test_float_backend_matches_numpy_accuracy(ckpt):
    res = evaluate(
        {"model": ckpt, "hardware": {"backend": "float"}, "dataset": {"name": "digits_pixel", "n_test": 40}}, 0
    )
    m = S4DModel.load(ckpt)
    assert res.accuracy == pytest.approx(m.evaluate(load_dataset("digits_pixel"), 40))
    assert res.n_samples == 40
    flat = res.to_flat_dict()
    assert flat["accuracy"] == res.accuracy and "complexity.macs_per_step" in flat
    # FP32 baseline counts one MAC per encoder weight per step
    assert res.extra["events.fp32_mul"] > 64 * 8
    assert res.energy_j > 0 and "unpriced" not in res.extra


def test_model_override_and_bad_points(ckpt):
    r = evaluate(
        {
            "model": {"name": ckpt, "w_bits": 4},
            "hardware": {"backend": "float"},
            "dataset": {"name": "digits_pixel", "n_test": 5},
        },
        1,
    )
    assert 0.0 <= r.accuracy <= 1.0
    with pytest.raises(ConfigError, match="unknown model"):
        evaluate({"model": "nope"}, 0)
    with pytest.raises(ConfigError, match="point.foo"):
        evaluate({"model": ckpt, "foo": 1}, 0)
    with pytest.raises(ConfigError, match="dataset"):
        evaluate({"model": ckpt, "hardware": {"backend": "float"}, "dataset": {"name": "digits_row"}}, 0)
    with pytest.raises(ConfigError, match="hardware.recurrence"):
        evaluate({"model": ckpt, "hardware": {"recurrence": "optical"}}, 0)


def test_hardware_config_yaml(tmp_path):
    f = tmp_path / "hw.yaml"
    f.write_text("backend: float\nrecurrence: digital\nt: 3600\n")
    cfg = hardware_config(str(f))
    assert cfg == S4DHardwareConfig(backend="float", recurrence="digital", t=3600.0)
    with pytest.raises(ConfigError, match="hardware.t"):
        hardware_config({"t": -1.0})


def test_wrong_sequence_shape_rejected(ckpt):
    m = S4DModel.load(ckpt)
    with pytest.raises(DataError, match=r"\(n, 8, 1\)|d_in|must have shape"):
        m.forward(np.zeros((2, 8, 8), np.float32))
    with pytest.raises(DataError, match="must have shape"):
        m.on({"backend": "float"}).evaluate(load_dataset("digits_row"), n_test=2)


def test_snn_points_are_dispatched():
    """A point naming an SNN model goes to workloads.snn.api (its own validation answers)."""
    pytest.importorskip("workloads.snn.api")
    with pytest.raises(ConfigError, match="needs dataset.resolution"):  # an SNN-only key, checked by the SNN api
        evaluate({"model": "snn_digits", "dt_adaptation": "mapping", "dataset": {"n_test": 2}}, 0)
