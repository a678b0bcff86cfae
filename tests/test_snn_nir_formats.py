"""NIR import beyond chains: Conv2d / pooling / Flatten against torch, nested graphs, recurrent Affine
bias, nir 1.0.4 file layout, scalar parameters, conv parameter forms, CubaLIF / IF layers on hardware,
and file-level errors."""

from pathlib import Path

import h5py
import nir
import numpy as np
import pytest
import torch

from aimc_sim.errors import ConfigError, DataError
from workloads.snn import SNNModel, import_nir


def _graph(nodes: dict, edges: list) -> nir.NIRGraph:
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def _run_stateless(net, x):
    """One step of a stateless network on a batch ``x`` (B, ...)."""
    return net.run(x[None]).outputs[net.output_nodes[0]][0]


@pytest.mark.parametrize("tuple_form", ["int", "one", "full", "array"])
def test_conv2d_pool_flatten_match_torch(tuple_form):
    """Conv2d (stride, padding, dilation, groups) -> SumPool2d -> AvgPool2d -> Flatten -> Affine equals torch."""
    g = torch.Generator().manual_seed(0)
    conv = torch.nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=1, groups=2, bias=True)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=g))
        conv.bias.copy_(torch.randn(6, generator=g))
    lin = torch.nn.Linear(96, 3)
    ref_net = torch.nn.Sequential(
        conv, torch.nn.LPPool2d(1, 2, 2), torch.nn.AvgPool2d(2, 1, padding=1), torch.nn.Flatten(), lin
    )
    x = torch.randn(5, 4, 9, 9, generator=g, dtype=torch.float64)
    with torch.no_grad():
        ref = ref_net.double()(x).numpy()

    def form(v):
        return {"int": v, "one": (v,), "full": (v, v), "array": np.array([v, v])}[tuple_form]

    w = conv.weight.detach().double().numpy()
    nodes = {
        "in": nir.Input(input_type={"input": np.array([4, 9, 9])}),
        "conv": nir.Conv2d(
            input_shape=None,
            weight=w,
            stride=form(2),
            padding=form(2),
            dilation=form(1),
            groups=2,
            bias=conv.bias.detach().double().numpy(),
        ),
        "sum": nir.SumPool2d(kernel_size=form(2), stride=form(2), padding=form(0)),
        "avg": nir.AvgPool2d(kernel_size=form(2), stride=form(1), padding=form(1)),
        "flat": nir.Flatten(input_type=None, start_dim=0, end_dim=-1),
        "fc": nir.Affine(lin.weight.detach().double().numpy(), lin.bias.detach().double().numpy()),
        "out": nir.Output(output_type={"output": np.array([3])}),
    }
    edges = [("in", "conv"), ("conv", "sum"), ("sum", "avg"), ("avg", "flat"), ("flat", "fc"), ("fc", "out")]
    net = import_nir(_graph(nodes, edges), dt=1e-3, time_unit=1e-3)
    np.testing.assert_allclose(_run_stateless(net, x.numpy()), ref, rtol=1e-10, atol=1e-12)


def test_conv1d_one_element_tuples_match_torch(tmp_path):
    """Conv1d with 1-element tuple stride/padding/dilation (as PyTorch exporters write them), through a file."""
    g = torch.Generator().manual_seed(1)
    conv = torch.nn.Conv1d(3, 5, 3, stride=2, padding=1, dilation=2).double()
    x = torch.randn(4, 3, 11, generator=g, dtype=torch.float64)
    with torch.no_grad():
        ref = conv(x).numpy()
    node = nir.Conv1d(
        input_shape=11,
        weight=conv.weight.detach().numpy(),
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=1,
        bias=conv.bias.detach().numpy(),
    )
    path = tmp_path / "conv1d.nir"
    nir.write(str(path), nir.NIRGraph.from_list(node, type_check=False))
    net = import_nir(path, dt=1e-3, time_unit=1e-3)
    np.testing.assert_allclose(_run_stateless(net, x.numpy()), ref, rtol=1e-12)


def test_conv_padding_same_and_bad_params_named():
    w = np.ones((2, 1, 3))
    for padding, length in (("same", 7), ("valid", 5)):
        node = nir.Conv1d(input_shape=7, weight=w, stride=1, padding=padding, dilation=1, groups=1, bias=np.zeros(2))
        net = import_nir(nir.NIRGraph.from_list(node, type_check=False), dt=1e-3, time_unit=1e-3)
        assert net.ops["conv1d"].out_shape == (2, length)
    node = nir.Conv1d(input_shape=7, weight=w, stride=(1, 2, 3), padding=0, dilation=1, groups=1, bias=np.zeros(2))
    with pytest.raises(ConfigError, match=r"nodes\.conv1d\.stride: must be an integer >= 1 or 1 of them"):
        import_nir(nir.NIRGraph.from_list(node, type_check=False), dt=1e-3, time_unit=1e-3)


def _lif(n, **kw):
    p = {"tau": np.full(n, 5.0), "r": np.ones(n), "v_leak": np.zeros(n), "v_threshold": np.ones(n)}
    p.update(kw)
    return nir.LIF(**p)


def test_nested_graph_equals_flat_graph():
    rng = np.random.default_rng(2)
    w1, w2 = rng.normal(0, 1, (6, 4)), rng.normal(0, 1, (3, 6))
    flat = nir.NIRGraph.from_list(nir.Affine(w1, np.zeros(6)), _lif(6), nir.Affine(w2, np.zeros(3)), type_check=False)
    inner = nir.NIRGraph.from_list(_lif(6), nir.Affine(w2, np.zeros(3)), type_check=False)
    nested = _graph(
        {
            "in": nir.Input(input_type={"input": np.array([4])}),
            "fc": nir.Affine(w1, np.zeros(6)),
            "block": inner,
            "out": nir.Output(output_type={"output": np.array([3])}),
        },
        [("in", "fc"), ("fc", "block"), ("block", "out")],
    )
    x = rng.normal(0.5, 1.0, (30, 2, 4))
    a = import_nir(flat, dt=1e-3, time_unit=1e-3).run(x).outputs["output"]
    nb = import_nir(nested, dt=1e-3, time_unit=1e-3)
    assert "block.lif" in nb.ops
    np.testing.assert_array_equal(nb.run(x).outputs["out"], a)


def _recurrent_graph(n=8, bias=0.5, theta=1.0):
    """Input -> Affine(0) -> LIF <-> recurrent Affine(W=0, b): only the recurrent bias drives the neurons."""
    return _graph(
        {
            "in": nir.Input(input_type={"input": np.array([2])}),
            "fc": nir.Affine(np.zeros((n, 2)), np.zeros(n)),
            "lif": nir.LIF(
                tau=np.full(n, 1e-4 / (1 - 0.9)),
                r=np.full(n, 1.0 / (1 - 0.9)),
                v_leak=np.zeros(n),
                v_threshold=np.full(n, theta),
                v_reset=np.zeros(n),
            ),
            "rec": nir.Affine(np.zeros((n, n)), np.full(n, bias)),
            "out": nir.Output(output_type={"output": np.array([n])}),
        },
        [("in", "fc"), ("fc", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "out")],
    )


def _reference_bias_driven(steps, bias, theta, start_with_bias):
    """Independent reference: v = 0.9 v + b (from step 0 or 1), spike on v > theta, subtract after decay."""
    v, pending, spikes = 0.0, 0.0, []
    for t in range(steps):
        v = 0.9 * v + (bias if (t > 0 or start_with_bias) else 0.0) - pending
        s = v > theta
        pending = theta * s
        spikes.append(float(s))
    return np.array(spikes)


@pytest.mark.parametrize("start", ["bias", "zero"])
def test_recurrent_affine_bias_kept_with_start_convention(start):
    """The recurrent Affine's bias drives the layer (snnTorch RLeaky); its t = 0 value follows ``recurrent_start``."""
    g = _recurrent_graph()
    x = np.zeros((40, 3, 2))
    want = _reference_bias_driven(40, 0.5, 1.0, start == "bias")
    assert want.sum() >= 5
    net = import_nir(g, convention="snntorch", recurrent_start=start)
    got = net.run(x).outputs["out"]
    np.testing.assert_array_equal(got, np.broadcast_to(want[:, None, None], got.shape))
    assert net.choices["recurrent_start"] == start
    # the layered model (hardware path) keeps the bias too; add an LI readout to make it a valid SNNModel
    layered = _graph(
        {**g.nodes, "ro": nir.Affine(np.eye(8), np.zeros(8)), "li": nir.LI(np.ones(8), np.ones(8), np.zeros(8))},
        [e for e in g.edges if e != ("lif", "out")] + [("lif", "ro"), ("ro", "li"), ("li", "out")],
    )
    model = SNNModel.from_nir(layered, convention="snntorch", recurrent_start=start)
    assert model.layers[0].recurrent_bias is not None
    run = model.run(x)
    assert run.spike_counts[0] == want.sum() * 8 * 3
    res = model.on({"tile": "ideal"}).evaluate((x, np.zeros(3, dtype=int)), seed=0)
    assert res.extra["spikes_per_sample.layer0"] == want.sum() * 8


def test_cubalif_and_if_layers_on_hardware_match_float():
    """A CubaLIF and an IF layer build a layered model whose ideal-tile run equals the float run."""
    rng = np.random.default_rng(4)
    n_in, n_h, n_o = 6, 10, 3
    cuba = nir.CubaLIF(
        tau_syn=np.full(n_h, 3.0),
        tau_mem=np.full(n_h, 8.0),
        r=np.full(n_h, 2.0),
        v_leak=np.zeros(n_h),
        v_threshold=np.ones(n_h),
        v_reset=np.zeros(n_h),
        w_in=np.full(n_h, 1.5),
    )
    g = nir.NIRGraph.from_list(
        nir.Affine(rng.normal(0.5, 1, (n_h, n_in)), np.zeros(n_h)),
        cuba,
        nir.Affine(rng.normal(0, 1, (n_h, n_h)), np.zeros(n_h)),
        nir.IF(r=np.ones(n_h), v_threshold=np.full(n_h, 2.0), v_reset=np.zeros(n_h)),
        nir.Affine(rng.normal(0, 1, (n_o, n_h)), np.zeros(n_o)),
        nir.LI(np.full(n_o, 5.0), np.ones(n_o), np.zeros(n_o)),
        type_check=False,
    )
    x = (rng.random((25, 4, n_in)) < 0.5).astype(float)
    graph_out = import_nir(g, dt=1e-3, time_unit=1e-3).run(x).outputs["output"]
    model = SNNModel.from_nir(g, dt=1e-3, time_unit=1e-3)
    assert [lay.neurons.kind for lay in model.layers] == ["cubalif", "lif", "li"]
    run = model.run(x)
    np.testing.assert_allclose(run.readout, graph_out, rtol=1e-12, atol=1e-12)
    assert min(run.spike_counts) > 0
    res = model.on({"tile": "ideal"}).evaluate((x, np.zeros(4, dtype=int)), seed=0)
    assert res.extra["spikes_per_sample.layer0"] > 0 and np.isfinite(res.energy_j)


def _write_nir104(path: Path, scalar: bool = False):
    """An .nir file in the nir 1.0.4 layout (no v_reset on LIF), written with h5py from that format."""
    n = 4
    with h5py.File(path, "w") as f:
        node = f.create_group("node")
        node["type"] = b"NIRGraph"
        nodes = node.create_group("nodes")

        def add(name, kind, **params):
            grp = nodes.create_group(name)
            grp["type"] = kind.encode()
            for k, v in params.items():
                grp[k] = v

        add("input", "Input", shape=np.array([3]))
        add("affine", "Affine", weight=np.full((n, 3), 0.6), bias=np.zeros(n))
        tau = 5.0 if scalar else np.full(n, 5.0)
        add("lif", "LIF", tau=tau, r=np.ones(n), v_leak=np.zeros(n), v_threshold=1.0 if scalar else np.ones(n))
        add("output", "Output", shape=np.array([n]))
        node["edges"] = np.array([[b"input", b"affine"], [b"affine", b"lif"], [b"lif", b"output"]])


@pytest.mark.parametrize("scalar", [False, True])
def test_nir104_file_layout_and_scalars(tmp_path, scalar):
    path = tmp_path / "old.nir"
    _write_nir104(path, scalar)
    net = import_nir(path, dt=1e-3, time_unit=1e-3)
    out = net.run(np.ones((20, 1, 3))).outputs["output"]
    # v = a v + (1 - a) 1.8 with a = exp(-1/5), reset to 0 (v_reset defaults to 0): first spike when v >= 1
    a, v, first = np.exp(-0.2), 0.0, None
    for t in range(20):
        v = a * v + (1 - a) * 1.8
        if v >= 1 and first is None:
            first = t
    assert np.argmax(out[:, 0, 0]) == first and out.shape == (20, 1, 4)
    if scalar:
        assert any(b.startswith("lif.tau") for b in net.choices["broadcast"])


def test_nir104_object_without_v_reset():
    """A node object from nir 1.0.4 has no v_reset attribute (an exporter in a Sinabs environment)."""

    class LIF:  # the nir 1.0.4 dataclass fields
        def __init__(self):
            self.tau, self.r, self.v_leak, self.v_threshold = np.full(2, 5.0), np.ones(2), np.zeros(2), np.ones(2)
            self.input_type, self.output_type, self.metadata = {"input": np.array([2])}, {}, {}

    g = nir.NIRGraph.from_list(nir.Affine(np.eye(2), np.zeros(2)), nir.LI(np.ones(2), np.ones(2), np.zeros(2)))
    g.nodes["li"] = LIF()
    g.nodes["li"].__class__.__name__ = "LIF"
    net = import_nir(g, dt=1e-3, time_unit=1e-3)
    np.testing.assert_array_equal(net.ops["li"].v_reset, 0.0)


def test_bad_files_are_data_errors_naming_the_file(tmp_path):
    good = tmp_path / "good.nir"
    _write_nir104(good)
    cases = {}
    cases["missing.nir"] = (None, "not found")
    (tmp_path / "empty.nir").write_bytes(b"")
    cases["empty.nir"] = (None, "empty")
    (tmp_path / "trunc.nir").write_bytes(good.read_bytes()[:700])
    cases["trunc.nir"] = (None, "truncated or not an .nir file")
    (tmp_path / "text.nir").write_text("not a graph\n" * 20)
    cases["text.nir"] = (None, "cannot read as HDF5")
    with h5py.File(tmp_path / "other.nir", "w") as f:
        f["x"] = np.ones(3)
    cases["other.nir"] = (None, "not a NIR file")
    for name, (_, msg) in cases.items():
        with pytest.raises(DataError, match=msg) as e:
            import_nir(tmp_path / name, dt=1e-3, time_unit=1e-3)
        assert name in str(e.value)
    bad = tmp_path / "unknown.nir"
    bad.write_bytes(good.read_bytes())
    with h5py.File(bad, "r+") as f:
        del f["node/nodes/lif/type"]
        f["node/nodes/lif/type"] = b"Resonator"
    with pytest.raises(DataError, match=r"unknown\.nir: node lif: unsupported NIR node type Resonator"):
        import_nir(bad, dt=1e-3, time_unit=1e-3)
    with h5py.File(bad, "r+") as f:
        del f["node/nodes/lif/type"]
        f["node/nodes/lif/type"] = b"LIF"
        del f["node/nodes/lif/tau"]
        f["node/nodes/lif/tau"] = b"10ms"
    with pytest.raises(DataError, match=r"node lif: parameter 'tau' must be numeric"):
        import_nir(bad, dt=1e-3, time_unit=1e-3)
    with pytest.raises(ConfigError, match=r"^dt: must be a finite number > 0"):
        import_nir(good, dt="1ms", time_unit=1e-3)


def test_euler_step_longer_than_tau_is_an_error():
    g = nir.NIRGraph.from_list(nir.Affine(np.eye(2), np.zeros(2)), _lif(2, tau=np.array([5.0, 0.5])))
    with pytest.raises(ConfigError, match=r"nodes\.lif\.tau: forward Euler with dt = 1 > tau = 0.5"):
        import_nir(g, dt=1e-3, time_unit=1e-3, discretisation="euler")
    import_nir(g, dt=1e-3, time_unit=1e-3, discretisation="exact")  # exact is stable for any dt


def test_conventions_resolve_and_reject():
    net = import_nir(_recurrent_graph(), convention="snntorch")
    assert net.choices["discretisation"] == "euler" and net.choices["reset_delay"] is True
    with pytest.raises(ConfigError, match=r"^convention: must be one of"):
        import_nir(_recurrent_graph(), convention="brian")
    with pytest.raises(ConfigError, match=r"^dt: required"):
        import_nir(_recurrent_graph())
    with pytest.raises(ConfigError, match=r"^threshold_comparison: must be one of"):
        import_nir(_recurrent_graph(), convention="snntorch", threshold_comparison="=>")
