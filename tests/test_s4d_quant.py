"""Quantisers (docs/s4d.md#quantisation) and GSU ternarisation (Stan & Rhodes 2024, Eq. 18)."""

import numpy as np
import pytest

from aimc_sim.errors import ConfigError
from workloads.s4d.config import S4DConfig
from workloads.s4d.quant import bits_per_weight, check_bits, quantise, ternarise


@pytest.mark.parametrize("bits", [8, 6, 4, 3, 2])
def test_uniform_levels_and_error_bound(rng, bits):
    w = rng.standard_normal((5, 40))
    q = quantise(w, bits, axis=0)
    Q = 2 ** (bits - 1) - 1
    s = np.abs(w).max(axis=1, keepdims=True) / Q
    k = q / s
    np.testing.assert_allclose(k, np.round(k), atol=1e-9)  # on the grid
    assert np.abs(k).max() <= Q + 1e-9
    assert np.all(np.abs(q - w) <= s / 2 + 1e-12)  # max-abs scale: no clipping, error <= s/2


def test_ternary_twn_rule(rng):
    w = rng.standard_normal((3, 100))
    t = quantise(w, "ternary", axis=0)
    for row_w, row_t in zip(w, t):
        delta = 0.7 * np.abs(row_w).mean()
        keep = np.abs(row_w) > delta
        np.testing.assert_allclose(row_t, np.abs(row_w[keep]).mean() * np.sign(row_w) * keep)
    assert len(np.unique(np.round(t[0], 12))) == 3


def test_gsu_ternarise_inclusive_threshold():
    z = np.array([[1.0, 0.15, -0.15, 0.1, -1.0]])
    np.testing.assert_array_equal(ternarise(z, 0.15, -1), [[1, 1, -1, 0, -1]])
    np.testing.assert_array_equal(ternarise(np.zeros((1, 3))), np.zeros((1, 3)))


def test_bits_validation_and_memory():
    assert bits_per_weight("ternary") == pytest.approx(1.585, abs=1e-3)
    assert bits_per_weight(None) == 32.0
    with pytest.raises(ConfigError, match="w_bits: must be null"):
        check_bits(5, "w_bits")
    with pytest.raises(ConfigError, match="model.w_bits"):
        S4DConfig.from_dict({"d_in": 1, "n_classes": 2, "w_bits": 1}, "model")
    with pytest.raises(ConfigError, match="d_state: must be even"):
        S4DConfig(d_in=1, n_classes=2, d_state=5)


def test_structural_pruning_keeps_outputs(rng):
    """docs/s4d.md#quantisation, E7: dropping modes with zero Bbar or C (and unused channels) keeps the outputs."""
    from workloads.s4d.model import S4DModel

    cfg = S4DConfig(d_in=1, n_classes=3, d_model=6, d_state=16, n_layers=1, w_bits="ternary")
    full = S4DModel.random(cfg, rng)
    pruned = full.with_config(prune=True)
    x = rng.random((3, 20, 1)).astype(np.float32)
    np.testing.assert_allclose(pruned.forward(x, "fused"), full.forward(x, "fused"), atol=1e-5)
    kept = pruned.complexity()["kept_modes"]
    assert kept < full.complexity()["kept_modes"] == 6 * 8
    assert pruned.layers[0].M.shape[1] <= full.layers[0].M.shape[1]


def test_component_bits_override_one_tensor(rng):
    """E4 support: component_bits quantises just that tensor; bad keys/values name the field."""
    from workloads.s4d.model import S4DModel

    cfg = S4DConfig(d_in=2, n_classes=3, d_model=4, d_state=4, n_layers=1)
    m = S4DModel.random(cfg, rng).with_config(component_bits={"decoder": 2})
    assert len(np.unique(np.abs(m.decoder[0][0]))) <= 2  # 2 bits: levels {-s, 0, s} per row
    np.testing.assert_array_equal(m.encoder[0], m.weights["encoder.weight"])
    assert m.complexity()["weight_bits"] < S4DModel(cfg, m.weights).complexity()["weight_bits"]
    with pytest.raises(ConfigError, match="component_bits.A:"):
        S4DConfig(d_in=1, n_classes=2, component_bits={"A": 4})
    with pytest.raises(ConfigError, match="component_bits.C"):
        S4DConfig(d_in=1, n_classes=2, component_bits={"C": 7})
