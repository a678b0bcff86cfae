"""Gated linear recurrence: torch twin = numpy model, ideal tiles = float, ledger books the digital recurrence,
bad configs name the field."""

from __future__ import annotations

import numpy as np
import pytest

from aimc_sim.errors import ConfigError, DataError
from workloads.data import make_grammar_task, make_mqar
from workloads.glr import GLRConfig, GLRModel

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def grammar():
    return make_grammar_task(n_train=64, n_test=40, seq_len=12, seed=1)


def _model(data, selective=True, pool="mean", seed=0):
    cfg = GLRConfig(d_in=data.d_in, n_classes=data.n_classes, d_model=16, selective=selective, pool=pool)
    rng = np.random.default_rng(seed)
    m = GLRModel.random(cfg, rng)
    w = {k: v + 0.3 * rng.standard_normal(v.shape).astype(np.float32) for k, v in m.weights.items()}
    return GLRModel(cfg, w)


def test_scan_matches_closed_form():
    # s_L = sum_k (1 - a_k) z_k prod_{j>k} a_j: computed independently of the loop
    rng = np.random.default_rng(0)
    a, z = rng.random((2, 7, 3)), rng.standard_normal((2, 7, 3))
    from workloads.glr.model import gated_scan

    prod_after = np.stack([np.prod(a[:, k + 1 :], axis=1) for k in range(7)], axis=1)
    np.testing.assert_allclose(gated_scan(a, z)[:, -1], np.sum((1 - a) * z * prod_after, axis=1), rtol=1e-12)


@pytest.mark.parametrize("selective,task", [(True, "grammar"), (False, "grammar"), (True, "mqar")])
def test_torch_twin_equals_numpy(grammar, selective, task):
    from workloads.training.glr_torch import TorchGLR

    data = grammar if task == "grammar" else make_mqar(n_train=8, n_test=8, seq_len=16, seed=2)
    m = _model(data, selective, "mean" if task == "grammar" else "none")
    net = TorchGLR(m.config, np.random.default_rng(5))
    with torch.no_grad():
        for k, v in m.weights.items():
            net.p(k).copy_(torch.tensor(v))
        out_t = net(torch.tensor(data.x_test)).numpy()
    np.testing.assert_allclose(out_t, m.forward(data.x_test), atol=1e-5, rtol=0)
    assert GLRModel(m.config, net.state_numpy()).weights.keys() == m.weights.keys()


def test_ideal_tiles_equal_float_within_quantisation(grammar):
    m = _model(grammar)
    hw = m.on({"tile": {"preset": "ideal", "adc": {"bits": 12, "range": "calibrated"}}, "adc_calibration": 64})
    logits, _, _ = hw.logits(grammar.x_test, seed=0, x_cal=grammar.x_train)
    ref = m.forward(grammar.x_test)
    exact, _, _ = m.on({"tile": "ideal"}).logits(grammar.x_test, seed=0)
    np.testing.assert_allclose(exact, ref, atol=1e-4)
    err = np.abs(logits - ref).max()
    assert 0 < err < 0.05 * np.abs(ref).max()  # 12-bit ADC: small but non-zero


def test_ledger_books_digital_recurrence(grammar):
    m = _model(grammar)
    n, L, H = 10, grammar.seq_len, m.config.d_model
    _, ledger, _ = m.on({"tile": "ideal"}).logits(grammar.x_test[:n], seed=0)
    counts = {ev: v for (scope, ev), v in ledger.counts.items() if scope == "layers.0.recurrence"}
    cells = n * L * H
    assert counts["sram_read_32b"] == cells and counts["sram_write_32b"] == cells
    assert counts["fp32_mul"] >= 2 * cells and counts["fp32_add"] >= 2 * cells
    res = m.on({"tile": "pcm-default", "t": 3600.0}).evaluate(grammar, n_test=n, seed=0)
    assert res.energy_per_layer_j["layers.0.recurrence"] > 0
    assert res.n_tiles == 8  # encoder, 2 x (in, gate, out), decoder: each fits one tile


def test_programming_seed_changes_hardware_result(grammar):
    m = _model(grammar)
    hw = m.on({"tile": "pcm-default", "t": 3600.0})
    a, _, _ = hw.logits(grammar.x_test, seed=0)
    b, _, _ = hw.logits(grammar.x_test, seed=1)
    c, _, _ = hw.logits(grammar.x_test, seed=0)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize(
    "hardware,field",
    [
        ({"tile": "no-such-preset"}, "tile"),
        ({"t": -1.0}, "t"),
        ({"backend": "gpu"}, "backend"),
        ({"adc_calibration": 0}, "adc_calibration"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_hardware_config_names_field(grammar, hardware, field):
    with pytest.raises(ConfigError, match=field):
        _model(grammar).on(hardware)


def test_bad_model_names_field(grammar):
    with pytest.raises(ConfigError, match="pool"):
        GLRConfig(d_in=3, n_classes=2, pool="max")
    m = _model(grammar)
    w = dict(m.weights)
    w["layers.0.gate.weight"] = w["layers.0.gate.weight"][:, :3]
    with pytest.raises(DataError, match="layers.0.gate.weight"):
        GLRModel(m.config, w)
    with pytest.raises(DataError, match="x"):
        m.forward(np.zeros((2, 5, grammar.d_in + 1)))


def test_hwa_forward_differs_from_float_and_trains(grammar):
    from aimc_sim.hwa import HWAConfig
    from workloads.training.glr_torch import TorchGLR

    m = _model(grammar)
    net = TorchGLR(m.config, np.random.default_rng(0))
    with torch.no_grad():
        for k, v in m.weights.items():
            net.p(k).copy_(torch.tensor(v))
    net.to_analog(HWAConfig(tile="pcm-default", t_range=(3600.0, 3600.0)))
    x = torch.tensor(grammar.x_test[:8])
    out = net(x)
    assert not np.allclose(out.detach().numpy(), m.forward(grammar.x_test[:8]), atol=1e-3)
    out.sum().backward()
    assert net.p("layers.0.gate.weight").grad.abs().sum() > 0


def test_fast_forgetting_counts_gates_below_half(grammar):
    from workloads.sequence_tasks import fast_forgetting

    m = _model(grammar, selective=False)
    w = dict(m.weights)
    w["layers.0.gate.bias"] = np.full(16, -3.0, np.float32)  # a = 0.047 in layer 0
    w["layers.1.gate.bias"] = np.r_[np.full(4, -1.0), np.full(12, 2.0)].astype(np.float32)
    assert fast_forgetting(GLRModel(m.config, w), grammar.x_test[:5]) == pytest.approx((16 + 4) / 32)
