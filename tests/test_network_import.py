"""PyTorch and ONNX importers against torch fp32 on random inputs, and the imported networks on tiles."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from network_models import models
from torch import nn

import workloads
import workloads.api
from aimc_sim.cost import Ledger
from aimc_sim.errors import ConfigError, DataError
from workloads.network.onnx_import import from_onnx

MODELS = models()
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "network"


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.fixture(autouse=True)
def _quiet_legacy_exporter():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def _export(model: nn.Module, x: torch.Tensor, path) -> None:
    torch.onnx.export(model, (x,), str(path), dynamo=False, opset_version=17)


def _both_match_torch(model: nn.Module, x: torch.Tensor, path) -> list:
    """Convert ``model`` with from_torch and through an ONNX export; both match torch. Returns the networks."""
    _export(model, x, path)
    with torch.no_grad():
        ref = model(x).numpy()
    nets = [workloads.from_torch(model, x[:1]), workloads.load(path)]
    for net in nets:
        assert _rel(net.forward(x.numpy()), ref) <= 1e-5
    return nets


@pytest.mark.parametrize("name", sorted(MODELS))
def test_torch_float_forward_matches_torch(name):
    model, x = MODELS[name]
    net = workloads.from_torch(model, x[:1])
    with torch.no_grad():
        ref = model(x).numpy()
    assert _rel(net.forward(x.numpy()), ref) <= 1e-5


@pytest.mark.parametrize("name", sorted(MODELS))
def test_onnx_export_matches_torch(name, tmp_path):
    model, x = MODELS[name]
    _export(model, x, tmp_path / "m.onnx")
    net = workloads.load(tmp_path / "m.onnx")
    with torch.no_grad():
        ref = model(x).numpy()
    assert _rel(net.forward(x.numpy()), ref) <= 1e-5


@pytest.mark.parametrize("name", sorted(MODELS))
def test_onnx_from_the_dynamo_exporter_matches_torch(name):
    """Files written by torch's default (dynamo, opset 18+) exporter, kept as fixtures because it needs
    onnxscript (tests/fixtures/network/make_dynamo_fixtures.py)."""
    io = np.load(FIXTURES / f"{name}_io.npz")
    net = workloads.load(FIXTURES / f"{name}_dynamo.onnx")
    assert _rel(net.forward(io["x"]), io["y"]) <= 1e-5


def test_batchnorm_is_folded_and_conv_mvms_are_counted():
    model, x = MODELS["cnn"]
    net = workloads.from_torch(model, x[:1])
    assert [n.op.kind for n in net.nodes].count("BatchNorm") == 0
    hw = net.on({"tile": "ideal"})
    _, ledger, _ = hw.logits(x.numpy(), seed=0)
    # one MVM per output position: 8 images x 8x8 (first conv), x 2x2 (second conv after pool), x 1 (linear)
    assert ledger.counts[("0", "mvm")] == 8 * 64
    assert ledger.counts[("4", "mvm")] == 8 * 2 * 2
    assert ledger.counts[("9", "mvm")] == 8


@pytest.mark.parametrize("name", sorted(MODELS))
def test_ideal_tile_reproduces_float(name):
    model, x = MODELS[name]
    net = workloads.from_torch(model, x[:1])
    ref = net.forward(x.numpy())
    out, _, _ = net.on({"tile": "ideal"}).logits(x.numpy(), seed=0)
    assert _rel(out, ref) <= 1e-4


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_layer_within_one_adc_lsb_on_ideal_tile_with_adc(name):
    """Ideal devices, 8-bit ADC over the full output range: each analog layer, fed its float input, is within
    one ADC LSB of the float product. LSB_ij = 2 n_in s_i max_k |W_kj| / (2^8 - 2) with s_i = max |row i|."""
    model, x = MODELS[name]
    net = workloads.from_torch(model, x[:1])
    hw = net.on({"tile": {"preset": "ideal", "adc": {"bits": 8, "range": "max"}}})
    mats = hw.program(np.random.default_rng(0), Ledger())

    def check(node, xs):
        if node.name in mats:
            rows = node.op.rows(xs[0]).astype(np.float64)
            W = node.op.matrix.astype(np.float64)
            lsb = 2 * W.shape[0] * np.abs(rows).max(1)[:, None] * np.abs(W).max(0)[None, :] / 254
            err = np.abs(mats[node.name].mvm(rows) - rows @ W)
            assert np.all(err <= lsb + 1e-6), node.name
        return node.op.forward(*xs)

    net.run(net.check_input(x.numpy()), check)


@pytest.mark.parametrize("name", ["cnn", "residual"])
def test_pcm_default_gives_finite_accuracy_energy_latency(name):
    model, x = MODELS[name]
    net = workloads.from_torch(model, x[:1])
    labels = net.forward(x.numpy()).argmax(-1)
    res = net.on({"tile": "pcm-default", "t": 3600.0}).evaluate((x.numpy(), labels), seed=1)
    assert 0.0 <= res.accuracy <= 1.0
    for v in (res.energy_j, res.latency_s, res.area_mm2):
        assert math.isfinite(v) and v > 0
    assert "unpriced" not in res.extra
    assert set(res.energy_per_layer_j) >= {n.name for n in net.analog_nodes}


def test_unsupported_module_names_it_and_its_path():
    model = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.ReLU(), nn.LSTM(4, 4)))
    with pytest.raises(DataError, match=r"layer '1.1' \(LSTM\)"):
        workloads.from_torch(model, torch.zeros(1, 4))


def test_missing_example_input_and_bad_shapes_are_clear_errors():
    model, x = MODELS["mlp"]
    with pytest.raises(ConfigError, match="example_input: is required"):
        workloads.from_torch(model)
    with pytest.raises(DataError, match="example_input"):
        workloads.from_torch(model, torch.zeros(1, 7))
    net = workloads.from_torch(model, x[:1])
    with pytest.raises(DataError, match=r"x: must have shape \(n, 20\)"):
        net.forward(np.zeros((2, 7)))


def test_onnx_bad_files_are_clear_errors(tmp_path):
    model, x = MODELS["cnn"]
    good = tmp_path / "good.onnx"
    _export(model, x, good)
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00not onnx at all\xff" * 10)
    before = sorted(p.name for p in tmp_path.iterdir())
    for bad in (truncated, junk):
        with pytest.raises(DataError, match=str(bad.name)):
            from_onnx(bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_onnx_unsupported_op_and_shape_mismatch_name_the_node(tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def save(nodes, inits, in_shape, path):
        g = helper.make_graph(
            nodes,
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, None])],
            [numpy_helper.from_array(a, n) for n, a in inits.items()],
        )
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))

    save([helper.make_node("Sin", ["x"], ["y"], name="wave")], {}, [1, 4], tmp_path / "sin.onnx")
    with pytest.raises(DataError, match=r"node 'wave' \(Sin\): operator is not supported"):
        from_onnx(tmp_path / "sin.onnx")
    w = np.ones((3, 5), np.float32)
    save([helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1)], {"w": w}, [1, 4], tmp_path / "bad.onnx")
    with pytest.raises(DataError, match=r"layer 'fc' \(Linear\): expects 5 input features"):
        from_onnx(tmp_path / "bad.onnx")


def test_onnx_batchnorm_node_folds_into_conv(tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    arrays = {
        "w": rng.standard_normal((3, 2, 3, 3)).astype(np.float32),
        "s": rng.uniform(0.5, 2, 3).astype(np.float32),
        "b": rng.standard_normal(3).astype(np.float32),
        "m": rng.standard_normal(3).astype(np.float32),
        "v": rng.uniform(0.5, 2, 3).astype(np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["y"], name="bn", epsilon=1e-3),
    ]
    g = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 5, 5])],
        [numpy_helper.from_array(a, n) for n, a in arrays.items()],
    )
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(tmp_path / "bn.onnx"))
    net = from_onnx(tmp_path / "bn.onnx")
    assert [n.op.kind for n in net.nodes] == ["Conv"]
    conv = nn.Conv2d(2, 3, 3, padding=1, bias=False)
    bn = nn.BatchNorm2d(3, eps=1e-3)
    conv.weight.data = torch.from_numpy(arrays["w"])
    bn.weight.data, bn.bias.data = torch.from_numpy(arrays["s"]), torch.from_numpy(arrays["b"])
    bn.running_mean, bn.running_var = torch.from_numpy(arrays["m"]), torch.from_numpy(arrays["v"])
    x = rng.standard_normal((4, 2, 5, 5)).astype(np.float32)
    with torch.no_grad():
        ref = bn.eval()(conv(torch.from_numpy(x))).numpy()
    assert _rel(net.forward(x), ref) <= 1e-5


def test_embedding_layernorm_and_sequence_linear_from_torch_and_onnx(tmp_path):
    """Gather (embedding), LayerNormalization and a Linear on (N, L, F), exported as MatMul + Add."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(10, 6), nn.LayerNorm(6), nn.Linear(6, 5), nn.Flatten(), nn.Linear(20, 3))
    model = model.eval()
    for net in _both_match_torch(model, torch.randint(0, 10, (5, 4)), tmp_path / "emb.onnx"):
        assert [n.op.kind for n in net.nodes].count("Linear") == 2  # MatMul + Add became one Linear
        with pytest.raises(DataError, match=r"\(Embedding\): indices must lie in 0..9"):
            net.forward(np.full((1, 4), 12))


def test_analog_matrix_is_a_matrix_and_takes_torch_layout():
    """``x @ m`` and ``m.shape`` as the README promises; ``layout="torch"`` reads (out, in) weights."""
    from aimc_sim.crossbar import AnalogMatrix, load_tile_config

    rng = np.random.default_rng(0)
    W = rng.standard_normal((30, 20))  # (n_in, n_out)
    x = rng.standard_normal((4, 30))
    m = AnalogMatrix(load_tile_config("ideal"), W.T, rng, layout="torch")
    assert m.shape == (30, 20)
    assert _rel(x @ m, x @ W) <= 1e-5
    m.t = 10.0
    assert _rel(x @ m, m.mvm(x, t=10.0)) == 0.0
    with pytest.raises(ConfigError, match="layout: must be"):
        AnalogMatrix(load_tile_config("ideal"), W, rng, layout="tf")


def test_network_sweep_point_through_the_registry(tmp_path):
    """An ONNX file as a sweep point's model: found by suffix, evaluated on a named data set."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10)).eval()
    _export(model, torch.zeros(1, 8, 8), tmp_path / "rows.onnx")
    point = {"model": str(tmp_path / "rows.onnx"), "hardware": {"tile": "ideal"}, "dataset": {"name": "digits_row"}}
    point["dataset"]["n_test"] = 20
    res = workloads.api.evaluate(point, seed=0)
    assert res.n_samples == 20 and 0.0 <= res.accuracy <= 1.0 and res.energy_j > 0
    net = workloads.load(point["model"])
    assert isinstance(net, workloads.Workload) and isinstance(net.on({}), workloads.BoundWorkload)
    workloads.api.validate_point(point)
    with pytest.raises(DataError, match=r"dataset.x_test: must have shape \(n, 8, 8\)"):
        workloads.api.validate_point(point | {"dataset": {"name": "digits_pixel"}})
    with pytest.raises(ConfigError, match="hardware.digital"):
        workloads.api.evaluate(point | {"hardware": {"digital": "fp64"}}, seed=0)


def test_without_torch_the_message_says_so(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ConfigError, match="PyTorch is not installed"):
        workloads.from_torch(object(), object())


def test_graph_errors_name_the_layer():
    from workloads.network import Network, Node
    from workloads.network.ops import Elementwise, Linear

    w = np.ones((3, 4), np.float32)
    with pytest.raises(DataError, match=r"layer 'res' \(Elementwise\): add of shapes"):
        Network([Node("fc", Linear(w), ("input",)), Node("res", Elementwise("add"), ("input", "fc"))], (4,))
    with pytest.raises(DataError, match=r"layer 'fc2' \(Linear\): reads 'nope'"):
        Network([Node("fc", Linear(w), ("input",)), Node("fc2", Linear(w), ("nope",))], (4,))
    with pytest.raises(DataError, match=r"layer 'fc' \(Linear\): duplicate layer name"):
        Network([Node("fc", Linear(w), ("input",)), Node("fc", Linear(w), ("fc",))], (4,))


def test_conv_and_pool_geometry_matches_torch(tmp_path):
    """Stride, dilation, groups, padded max / avg pooling (count_include_pad on and off), Conv1d stride."""
    torch.manual_seed(1)
    model = nn.Sequential(
        nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2),
        nn.MaxPool2d(3, stride=2, padding=1),
        nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
        nn.AvgPool2d(2, stride=1, padding=1),
        nn.Flatten(),
    ).eval()
    _both_match_torch(model, torch.randn(3, 4, 11, 9), tmp_path / "geo.onnx")
    seq = nn.Sequential(nn.Conv1d(2, 3, 4, stride=3, padding=1), nn.MaxPool1d(2)).eval()
    xs = torch.randn(2, 2, 17)
    with torch.no_grad():
        assert _rel(workloads.from_torch(seq, xs[:1]).forward(xs.numpy()), seq(xs).numpy()) <= 1e-5


def test_calibrated_adc_ranges_use_the_training_inputs():
    """A per-column calibrated ADC needs x_train; with it, an 8-bit ideal tile keeps the float predictions."""
    model, x = MODELS["cnn"]
    net = workloads.from_torch(model, x[:1])
    hw = net.on({"tile": {"preset": "ideal", "adc": {"bits": 8, "range": "per_column", "percentile": 100.0}}})
    labels = net.forward(x.numpy()).argmax(-1)
    with pytest.raises(ConfigError, match="adc_calibration"):
        hw.evaluate((x.numpy(), labels))

    class Data:
        x_train, x_test, y_test = x.numpy(), x.numpy(), labels

    assert hw.evaluate(Data()).accuracy == 1.0


def test_float_backend_is_the_digital_baseline():
    """backend float: the float outputs, no tiles, and one multiply + add + weight read per MAC."""
    model, x = MODELS["cnn"]
    net = workloads.from_torch(model, x[:1])
    hw = net.on({"backend": "float", "digital": "int8"})
    out, ledger, mats = hw.logits(x.numpy())
    assert mats == {} and np.array_equal(out, net.forward(x.numpy()))
    macs = sum(
        np.prod(net.shapes[n.name]) / n.op.matrix.shape[1] * np.count_nonzero(n.op.matrix) for n in net.analog_nodes
    )
    assert ledger.total("sram_read_8b") == pytest.approx(len(x) * macs)
    assert ledger.total("int8_mul") == pytest.approx(len(x) * (macs + 8))  # + the global average pool's 8 divides
    res = hw.evaluate((x.numpy(), out.argmax(-1)))
    assert res.accuracy == 1.0 and res.n_tiles == 0 and res.energy_j > 0


def test_the_pytorch_examples_mnist_network(tmp_path):
    """Functional max pooling, ``x.view(x.size(0), -1)`` and log-softmax, from torch and through ONNX."""
    from network_models import PytorchMnistExample

    torch.manual_seed(0)
    _both_match_torch(PytorchMnistExample().eval(), torch.randn(4, 1, 28, 28), tmp_path / "mnist.onnx")


class _FunctionalLayers(nn.Module):
    """A custom module holding its own parameters and using F.conv2d, F.linear, ``@`` and a learned scale."""

    def __init__(self):
        super().__init__()
        self.w_conv = nn.Parameter(torch.randn(4, 2, 3, 3))
        self.b_conv = nn.Parameter(torch.randn(4))
        self.w_fc = nn.Parameter(torch.randn(5, 4 * 3 * 3))
        self.proj = nn.Parameter(torch.randn(5, 3))
        self.register_buffer("scale", torch.rand(3) + 0.5)

    def forward(self, x):
        h = nn.functional.relu(nn.functional.conv2d(x, self.w_conv, self.b_conv, stride=2, padding=1))
        h = nn.functional.linear(torch.flatten(h, 1), self.w_fc)
        return (h @ self.proj) * self.scale


def test_functional_layers_with_module_parameters():
    torch.manual_seed(0)
    model = _FunctionalLayers().eval()
    x = torch.randn(3, 2, 6, 6)
    net = workloads.from_torch(model, x[:1])
    assert [n.op.kind for n in net.nodes].count("Conv") == 1 and [n.op.kind for n in net.nodes].count("Linear") == 2
    with torch.no_grad():
        assert _rel(net.forward(x.numpy()), model(x).numpy()) <= 1e-5


def test_network_point_on_a_user_image_file(tmp_path):
    """A sweep point with an ONNX model and an .npz image file (workloads.data.load_dataset(path))."""
    model, x = MODELS["cnn"]
    _export(model, x, tmp_path / "cnn.onnx")
    labels = workloads.from_torch(model, x[:1]).forward(x.numpy()).argmax(-1)
    np.savez(tmp_path / "images.npz", x=x.numpy(), y=labels)
    point = {"model": str(tmp_path / "cnn.onnx"), "hardware": {"tile": "ideal"}}
    res = workloads.api.evaluate(point | {"dataset": {"name": str(tmp_path / "images.npz")}}, seed=0)
    assert res.accuracy == 1.0 and res.n_samples == len(x)
