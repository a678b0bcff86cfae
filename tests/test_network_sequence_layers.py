"""S4D / GSU blocks and LIF / AdLIF / CubaLIF / IF layers (with recurrent weights) inside a general network: float
forward against the S4D model, its torch twin, the SNN workload and snnTorch; the hardware path against float on
the ideal tile, against the S4D workload on PCM, and its ledger; bad configurations name the layer."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.linalg import block_diag
from torch import nn

import workloads
from aimc_sim.cost import CostModel, Ledger
from aimc_sim.errors import ConfigError, DataError
from workloads.network.builders import s4d_nodes
from workloads.network.graph import INPUT, Network, Node
from workloads.network.ops import Linear, Reduce
from workloads.network.sequence_ops import ArrayOp, SpikingLayer
from workloads.s4d.config import S4DConfig
from workloads.s4d.model import S4DModel
from workloads.snn import SNNLayer, SNNModel, lif
from workloads.snn.dynamics import adlif, cubalif
from workloads.training.s4d_torch import TorchS4D

N_IN, N_H, N_OUT, T = 12, 20, 5, 25
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "network"


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


def _s4d(variant: str, seed: int = 0) -> S4DModel:
    cfg = S4DConfig(d_in=3, n_classes=4, d_model=8, d_state=6, n_layers=2, variant=variant)
    return S4DModel.random(cfg, np.random.default_rng(seed))


def _sequences(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 12, 3)).astype(np.float32)


# ----------------------------------------------------------------------------------------------- S4D blocks
@pytest.mark.parametrize("variant", ["s4d", "gsu", "binary"])
def test_network_of_s4d_blocks_equals_the_s4d_model(variant):
    m = _s4d(variant)
    net = Network(s4d_nodes(m, "", INPUT), (12, 3))
    assert [n.op.kind for n in net.nodes][1:3] == [{"s4d": "S4D", "gsu": "GSU", "binary": "BinaryS4D"}[variant]] * 2
    x = _sequences(6, 1)
    assert _rel(net.forward(x), m.forward(x)) <= 1e-6
    assert _rel(net.on({"tile": "ideal"}).logits(x, seed=0)[0], m.forward(x)) <= 1e-5


@pytest.mark.parametrize("variant", ["s4d", "gsu"])
def test_torch_s4d_module_converts_and_matches_torch(variant):
    """The project's torch S4D stack (workloads/training/s4d_torch.py) is a leaf of the trace; the converted
    network computes the torch module's float32 function."""
    cfg = S4DConfig(d_in=3, n_classes=4, d_model=8, d_state=6, n_layers=2, variant=variant)
    module = TorchS4D(cfg, np.random.default_rng(0)).eval()
    x = torch.randn(6, 20, 3, generator=torch.Generator().manual_seed(1))
    net = workloads.from_torch(module, x[:1])
    assert net.nodes[0].name == "TorchS4D.encoder"
    with torch.no_grad():
        ref = module(x).numpy()
    assert _rel(net.forward(x.numpy()), ref) <= 1e-5


def test_s4d_stack_inside_a_larger_torch_model():
    cfg = S4DConfig(d_in=4, n_classes=3, d_model=8, d_state=4, n_layers=1)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.pre = nn.Linear(2, 4)
            self.core = TorchS4D(cfg, np.random.default_rng(3))

        def forward(self, x):
            return self.core(torch.tanh(self.pre(x))) * 2.0

    model = Model().eval()
    x = torch.randn(5, 16, 2, generator=torch.Generator().manual_seed(2))
    net = workloads.from_torch(model, x[:1])
    assert [n.name for n in net.nodes][:4] == ["pre", "tanh", "core.encoder", "core.layers.0"]
    with torch.no_grad():
        assert _rel(net.forward(x.numpy()), model(x).numpy()) <= 1e-5


@pytest.mark.parametrize("variant,recurrence", [("s4d", "analog"), ("gsu", "digital")])
def test_s4d_blocks_on_pcm_equal_the_s4d_workload(variant, recurrence):
    """Same model, seed and tile: the network's blocks use the S4D workload's mapping, so the outputs agree to
    float rounding and the arrays see the same MVMs."""
    m = _s4d(variant)
    net = Network(s4d_nodes(m, "", INPUT), (12, 3))
    x, x_cal = _sequences(5, 1), _sequences(8, 2)
    hw = {"tile": "pcm-default", "t": 60.0}
    out, ledger, _ = net.on({**hw, "s4d": {"recurrence": recurrence}}).logits(x, seed=2, x_cal=x_cal)
    ref, ref_ledger, _ = m.on({**hw, "recurrence": recurrence}).logits(x, seed=2, x_cal=x_cal)
    assert _rel(out, ref) <= 1e-5

    def total(led: Ledger, event: str) -> float:
        return sum(v for (_, e), v in led.counts.items() if e == event)

    for event in ("mvm", "array_read", "dac_unit@8b", "adc_unit@8b"):
        assert total(ledger, event) == total(ref_ledger, event), event
    # the same ledger layers (mixing, then the SSM arrays) give the same latency; the energy differs only by the
    # precision of the bias adds (the network's fp32 against the S4D workload's int32)
    priced, ref_priced = (CostModel.load("22nm").price(led) for led in (ledger, ref_ledger))
    assert priced.latency_s == pytest.approx(ref_priced.latency_s, rel=1e-3)
    assert priced.energy_j == pytest.approx(ref_priced.energy_j, rel=0.02)


# ------------------------------------------------------------------------------------------ spiking layers
def _neurons(kind: str, rng: np.random.Generator):
    return {
        "lif": lambda: lif(rng.uniform(0.7, 0.95, N_H), 1.0, 1.0, "subtract"),
        "if": lambda: lif(1.0, 0.5, 1.0, "to_value", size=N_H),
        "cubalif": lambda: cubalif(np.full(N_H, 0.9), 1.0, 0.8, 1.0, 1.0),
        "adlif": lambda: adlif(0.9, 0.8, 0.1, 0.2, 1.0, size=N_H),
    }[kind]()


def _spiking(kind: str, seed: int = 0, recurrent: bool = True) -> tuple[Network, SNNModel]:
    """Linear -> spiking layer (recurrent) -> Linear -> LI readout -> time mean, and the same as an SNNModel."""
    rng = np.random.default_rng(seed)
    w1, b1 = rng.standard_normal((N_IN, N_H)) * 0.8, rng.standard_normal(N_H) * 0.1
    w_rec, b_rec = (rng.standard_normal((N_H, N_H)) * 0.3, rng.standard_normal(N_H) * 0.1) if recurrent else (None,) * 2
    w2 = rng.standard_normal((N_H, N_OUT)) * 0.5
    neu, readout = _neurons(kind, rng), lif(0.9, 1.0, 1.0, "none", spiking=False, size=N_OUT)
    snn = SNNModel([SNNLayer(w1, neu, b1, w_rec, recurrent_bias=b_rec), SNNLayer(w2, readout)], 1e-3)
    nodes = [
        Node("fc1", Linear(w1.T.astype(np.float32), b1.astype(np.float32)), (INPUT,)),
        Node("spiking", SpikingLayer(neu, w_rec, b_rec), ("fc1",)),
        Node("fc2", Linear(w2.T.astype(np.float32)), ("spiking",)),
        Node("readout", SpikingLayer(readout), ("fc2",)),
        Node("mean", Reduce("avg", (1,), keepdims=False), ("readout",)),
    ]
    return Network(nodes, (T, N_IN)), snn


def _rasters(n: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random((n, T, N_IN)) < 0.3).astype(np.float32)


@pytest.mark.parametrize("kind", ["lif", "if", "cubalif", "adlif"])
def test_recurrent_spiking_layer_equals_the_snn_workload(kind):
    net, snn = _spiking(kind)
    assert net.nodes[1].op.kind == {"lif": "LIF", "if": "IF", "cubalif": "CubaLIF", "adlif": "AdLIF"}[kind]
    x = _rasters(16, 1)
    run = snn.run(x.transpose(1, 0, 2))
    assert run.spike_counts[0] > 0
    assert _rel(net.forward(x), run.logits) <= 1e-6


def test_snntorch_leaky_and_rleaky_match_snntorch():
    snn = pytest.importorskip("snntorch")  # a comparison only; snnTorch is not a project dependency
    torch.manual_seed(0)
    for recurrent in (False, True):
        beta, ones = torch.rand(N_H) * 0.3 + 0.65, torch.ones(N_H)
        if recurrent:
            hidden = snn.RLeaky(beta=beta, threshold=ones, linear_features=N_H, init_hidden=True)
        else:
            hidden = snn.Leaky(beta=beta, threshold=ones, init_hidden=True)
        out = snn.Leaky(beta=torch.full((N_OUT,), 0.9), threshold=torch.full((N_OUT,), 0.5), init_hidden=True)
        model = nn.Sequential(nn.Linear(N_IN, N_H), hidden, nn.Linear(N_H, N_OUT), out).eval()
        x = torch.tensor(_rasters(16, 2))
        net = workloads.from_torch(model, x[:1])
        for m in model.modules():
            if hasattr(m, "reset_mem"):
                m.reset_mem()
        with torch.no_grad():  # snnTorch's own loop over time
            ref = torch.stack([model(x[:, t]) for t in range(T)], 1).numpy()
        assert ref.sum() > 0
        np.testing.assert_array_equal(net.forward(x.numpy()), ref)


def test_snntorch_tuple_outputs_and_refused_options():
    snn = pytest.importorskip("snntorch")

    class Stepwise(nn.Module):  # init_hidden=False: the module returns (spk, mem); only spk is used
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(N_IN, N_H)
            self.lif = snn.Leaky(beta=torch.full((N_H,), 0.8), threshold=torch.ones(N_H))

        def forward(self, x):
            spk, _ = self.lif(self.fc(x))
            return spk

    model = Stepwise().eval()
    x = torch.tensor(_rasters(8, 3))
    net = workloads.from_torch(model, x[:1])
    model.lif.reset_mem()
    with torch.no_grad():
        ref = torch.stack([model(x[:, t]) for t in range(T)], 1).numpy()
    np.testing.assert_array_equal(net.forward(x.numpy()), ref)
    bad = nn.Sequential(nn.Linear(N_IN, N_H), snn.RLeaky(beta=0.8, linear_features=N_H, init_hidden=True,
                                                          reset_mechanism="zero"))  # fmt: skip
    with pytest.raises(DataError, match=r"layer '1' \(RLeaky\): reset_mechanism='zero' of RLeaky is not"):
        workloads.from_torch(bad, x[:1])


# ------------------------------------------------------------------------------------------------- hardware
def test_ideal_tile_reproduces_float_and_the_ledger_counts_mvms_and_neuron_updates():
    net, _ = _spiking("lif")
    x = _rasters(16, 3)
    out, ledger, mats = net.on({"tile": "ideal"}).logits(x, seed=0)
    assert _rel(out, net.forward(x)) <= 1e-5
    # one MVM per (sample, step) for the input matrix and for the recurrent matrix
    assert ledger.counts[("fc1", "mvm")] == ledger.counts[("spiking", "mvm")] == 16 * T
    float_spikes = _spiking_output(net, x)
    assert ledger.counts[("spiking", "neuron_spike")] == float_spikes.sum() > 0
    # neuron update A x + B I: k^2 + k multiplies, k^2 adds per neuron and step (k = 1 for LIF), + s W_rec + b_rec;
    # plus the array's own digital work per MVM, the same as fc1's (20 outputs too) without fc1's bias adds
    cells = 16 * T * N_H
    tile_muls, tile_adds = ledger.counts[("fc1", "fp32_mul")], ledger.counts[("fc1", "fp32_add")] - cells
    assert ledger.counts[("spiking", "fp32_mul")] == cells * 2 + tile_muls
    assert ledger.counts[("spiking", "fp32_add")] == cells * (1 + 2) + tile_adds


def _spiking_output(net: Network, x: np.ndarray) -> np.ndarray:
    seen = {}

    def apply(node, xs):
        y = node.op.forward(*xs)
        seen[node.name] = y
        return y

    net.run(net.check_input(x), apply)
    return seen["spiking"]


def _check_lsb(net: Network, x: np.ndarray, hardware: dict) -> int:
    """Feed every array its float input: each output within one ADC LSB of the float product.
    LSB_ij = 2 n_in s_i max_k |W_kj| / (2^8 - 2) with s_i = max |row i| (8-bit ADC over the full range)."""
    hw = net.on(hardware)
    mats = hw.program(np.random.default_rng(0), Ledger())
    checked = []

    def check(node, xs):
        if isinstance(node.op, ArrayOp):
            pairs = [(a, r, w) for a, r, w in node.op.products(mats[node.name], xs[0])]
        elif node.name in mats:
            pairs = [(mats[node.name], node.op.rows(xs[0]), node.op.matrix)]
        else:
            pairs = []
        for array, rows, W in pairs:
            y = array.mvm(rows).reshape(len(rows), -1)
            rows, W = rows.astype(np.float64).reshape(len(rows), -1), W.astype(np.float64)
            if W.ndim == 3:  # k blocks (k, S, S) packed on one tile: the dense block-diagonal matrix
                W = block_diag(*W)
            lsb = 2 * W.shape[0] * np.abs(rows).max(-1)[:, None] * np.abs(W).max(0)[None, :] / 254
            assert np.all(np.abs(y - rows @ W) <= lsb + 1e-6), node.name
            checked.append(node.name)
        return node.op.forward(*xs)

    net.run(net.check_input(x), check)
    return len(checked)


def test_every_array_within_one_adc_lsb_on_the_ideal_tile_with_adc():
    tile = {"preset": "ideal", "adc": {"bits": 8, "range": "max"}}
    net, _ = _spiking("cubalif")
    assert _check_lsb(net, _rasters(8, 4), {"tile": tile}) == 3  # fc1, recurrent, fc2
    s4d = Network(s4d_nodes(_s4d("gsu"), "", INPUT), (12, 3))
    # per layer: the block-diagonal SSM array and the two GSU mixing matrices; plus encoder and decoder
    assert _check_lsb(s4d, _sequences(4, 5), {"tile": tile, "s4d": {"ssm_adc_range": "tile"}}) == 2 + 2 * 3


@pytest.mark.parametrize("which", ["s4d", "lif"])
def test_pcm_default_gives_finite_accuracy_energy_latency(which):
    if which == "s4d":
        net = Network(s4d_nodes(_s4d("s4d"), "", INPUT), (12, 3))
        x, x_train = _sequences(12, 1), _sequences(16, 2)
    else:
        net, _ = _spiking("lif", recurrent=True)
        x, x_train = _rasters(12, 1), _rasters(16, 2)
    labels = net.forward(x).argmax(-1)
    data = type("Data", (), {"x_test": x, "y_test": labels, "x_train": x_train})
    res = net.on({"tile": "pcm-default", "t": 3600.0}).evaluate(data, seed=1)
    assert 0.0 <= res.accuracy <= 1.0
    for v in (res.energy_j, res.latency_s, res.area_mm2):
        assert math.isfinite(v) and v > 0
    assert res.n_tiles >= len(net.analog_nodes) + 1
    assert res.complexity["weights"] == net.n_weights() > 0


def test_float_backend_prices_the_blocks_as_digital():
    net = Network(s4d_nodes(_s4d("s4d"), "", INPUT), (12, 3))
    _, ledger, mats = net.on({"backend": "float", "digital": "int8"}).logits(_sequences(3, 1))
    assert mats == {} and ("layers.0", "int8_mul") in ledger.counts
    assert not any(e == "mvm" for _, e in ledger.counts)


# ---------------------------------------------------------------------------------------------- bad input
def test_bad_configs_name_the_layer():
    net = Network(s4d_nodes(_s4d("s4d"), "", INPUT), (12, 3))
    with pytest.raises(DataError, match=r"layer 'layers.0' \(S4D\): expects sequences \(N, L, 8\)"):
        Network([Node("encoder", Linear(np.ones((5, 3), np.float32)), (INPUT,)), *net.nodes[1:2]], (12, 3))
    with pytest.raises(DataError, match=r"layer 'spiking' \(LIF\): expects input currents \(N, L, 20\)"):
        Network([Node("spiking", _spiking("lif")[0].nodes[1].op, (INPUT,))], (T, N_IN))
    with pytest.raises(ConfigError, match="hardware.s4d.recurrence"):
        net.on({"s4d": {"recurrence": "optical"}})
    with pytest.raises(ConfigError, match="hardware.s4d.bits"):
        net.on({"s4d": {"bits": 4}})
    with pytest.raises(ConfigError, match="recurrent: must have shape"):
        SpikingLayer(lif(0.9, 1.0, size=4), np.zeros((3, 3)))


def test_unsupported_layer_inside_a_torch_sequence_model_is_named():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            cfg = S4DConfig(d_in=2, n_classes=3, d_model=4, d_state=4, n_layers=1, pool="none")
            self.core = TorchS4D(cfg, np.random.default_rng(0))
            self.rnn = nn.GRU(3, 3, batch_first=True)

        def forward(self, x):
            return self.rnn(self.core(x))[0]

    with pytest.raises(DataError, match=r"layer 'rnn' \(GRU\): is not supported"):
        workloads.from_torch(Model(), torch.zeros(1, 8, 2))


def test_a_layered_snn_from_nir_runs_as_a_general_network(tmp_path):
    """A NIR file with Linear, recurrent Affine, LIF and LI: workloads.load gives the SNN workload; from_snn hosts
    the same layers in a general network with the same float outputs."""
    from workloads.network.builders import from_snn

    _, snn = _spiking("lif")
    path = tmp_path / "rec.nir"
    import nir

    nir.write(str(path), snn.to_nir())
    loaded = workloads.load(path, dt=1e-3, time_unit=1e-3)
    assert isinstance(loaded, SNNModel) and loaded.layers[0].recurrent is not None
    net = from_snn(loaded, T)
    assert [n.op.kind for n in net.nodes] == ["Linear", "LIF", "Linear", "LI", "Reduce"]
    x = _rasters(8, 6)
    assert _rel(net.forward(x), loaded.run(x.transpose(1, 0, 2)).logits) <= 1e-6
    with pytest.raises(ConfigError, match="steps"):
        from_snn(loaded, 0)


def test_snntorch_semantics_against_its_recorded_simulation():
    """Runs without snnTorch: the mapping of Leaky / RLeaky onto the SNN dynamics (snntorch_dynamics) against
    snnTorch 1.0.0's own simulation stored by tests/fixtures/network/make_snntorch_fixture.py."""
    from workloads.network.torch_layers import snntorch_dynamics

    f = np.load(FIXTURES / "snntorch_rleaky.npz")
    hidden = snntorch_dynamics(f["beta1"], f["threshold1"], "subtract", reset_delay=True)
    out = snntorch_dynamics(f["beta2"], f["threshold2"], "subtract", reset_delay=True)
    net = Network(
        [
            Node("fc1", Linear(f["fc1_weight"], f["fc1_bias"]), (INPUT,)),
            Node("rleaky", SpikingLayer(hidden, f["rec_weight"].T.astype(np.float64), f["rec_bias"]), ("fc1",)),
            Node("fc2", Linear(f["fc2_weight"], f["fc2_bias"]), ("rleaky",)),
            Node("leaky", SpikingLayer(out), ("fc2",)),
        ],
        f["x"].shape[1:],
    )
    assert f["y"].sum() > 0
    np.testing.assert_array_equal(net.forward(f["x"]), f["y"])


def test_snntorch_conv_snn_as_a_general_network_keeps_snntorchs_accuracy():
    """The SNN part of the docs/byo.md sequence walkthrough on a small budget: the conv SNN trained and exported by
    snnTorch, hosted with from_snn, has snnTorch's own float accuracy, and both hardware paths give a row."""
    from workloads.network.byo_sequence import spiking

    lines = spiking(seeds=1, n_test=8, times={"1 s": 1.0})
    assert "float accuracy on 360 test rasters: network 95.83%, snnTorch 95.83%" in lines
    assert lines[-1].startswith("| 1 s |") and lines[-1].count("±") == 2
