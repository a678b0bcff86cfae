"""NIR import (docs/snn.md#nir-import): semantics NIR-1..3, round trip through nir.write/nir.read, bad input."""

from dataclasses import dataclass

import nir
import numpy as np
import pytest

from aimc_sim.errors import ConfigError, DataError
from workloads.snn import SNNModel, import_nir, lif_layer


def _lif_graph(n=1, tau=10.0, r=2.0, v_leak=0.5, theta=100.0, v_reset=0.0, scalar=False):
    shp = () if scalar else (n,)

    def full(v):
        return np.full(shp, float(v))

    lif = nir.LIF(tau=full(tau), r=full(r), v_leak=full(v_leak), v_threshold=full(theta), v_reset=full(v_reset))
    return nir.NIRGraph.from_list(nir.Affine(np.eye(n), np.zeros(n)), lif, type_check=False)


def test_nir1_lif_step_response_exact():
    """NIR-1: v(t) = v_leak + R I (1 - exp(-t/tau)) at the sample times (exact mode, 1e-9)."""
    tau_ms, r, v_leak, i0, dt = 10.0, 2.0, 0.5, 0.3, 0.25e-3
    net = import_nir(_lif_graph(tau=tau_ms, r=r, v_leak=v_leak), dt=dt, time_unit=1e-3)
    steps = 200
    net.ops["lif"].spiking = False  # observe the membrane (theta is far above anyway)
    out = net.run(np.full((steps, 1, 1), i0)).outputs["output"][:, 0, 0]
    t = (np.arange(steps) + 1) * dt
    expect = v_leak + r * i0 * (1 - np.exp(-t / (tau_ms * 1e-3)))
    np.testing.assert_allclose(out, expect, atol=1e-9, rtol=0)


def test_nir1_euler_recorded_and_differs():
    g = _lif_graph()
    exact = import_nir(g, dt=1e-3, time_unit=1e-3)
    euler = import_nir(g, dt=1e-3, time_unit=1e-3, discretisation="euler")
    assert exact.choices["discretisation"] == "exact" and euler.choices["discretisation"] == "euler"
    assert euler.ops["lif"].alpha[0] == pytest.approx(0.9) and exact.ops["lif"].alpha[0] == pytest.approx(np.exp(-0.1))


def test_nir2_scalar_broadcast_to_affine_width():
    """NIR-2: scalar tau with a 16-wide Affine imports as 16 neurons; the broadcast is recorded."""
    lif = nir.LIF(tau=np.array(5.0), r=np.array(1.0), v_leak=np.array(0.0), v_threshold=np.array(1.0))
    g = nir.NIRGraph.from_list(nir.Affine(np.ones((16, 3)), np.zeros(16)), lif, type_check=False)
    net = import_nir(g, dt=1e-3, time_unit=1e-3)
    assert net.ops["lif"].out_shape == (16,)
    assert any(b.startswith("lif.tau") for b in net.choices["broadcast"])
    run = net.run(np.ones((5, 2, 3)))
    assert run.outputs["output"].shape == (5, 2, 16)


def test_nir2_ambiguous_scalar_names_node():
    """NIR-2: a scalar parameter with no shape to broadcast to names the node."""
    lif = nir.LIF(tau=np.array(5.0), r=np.array(1.0), v_leak=np.array(0.0), v_threshold=np.array(1.0))
    g = nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([])}), "neuron": lif, "out": nir.Output({"output": None})},
        edges=[("in", "neuron"), ("neuron", "out")],
        type_check=False,
    )
    with pytest.raises(ConfigError, match=r"nodes\.neuron\.r.*ambiguous"):
        import_nir(g, dt=1e-3, time_unit=1e-3)


def test_nir3_spike_times_match_at_half_dt():
    """NIR-3: the same input gives the same spike times (within one dt) at dt and dt/2, exact mode.

    Input: sparse current pulses held over coarse bins (each repeated twice on the fine grid).
    """
    g = _lif_graph(n=4, tau=20.0, r=1.0, v_leak=0.0, theta=1.0)
    rng = np.random.default_rng(3)
    dt, steps = 1e-3, 300
    pulses = (rng.random((steps, 1, 4)) < 0.08) * rng.uniform(22.0, 36.0, (steps, 1, 4))
    coarse = import_nir(g, dt=dt, time_unit=1e-3).run(pulses).outputs["output"][:, 0]
    fine = import_nir(g, dt=dt / 2, time_unit=1e-3).run(np.repeat(pulses, 2, axis=0)).outputs["output"][:, 0]
    for j in range(4):
        tc = (np.nonzero(coarse[:, j])[0] + 1) * dt
        tf = (np.nonzero(fine[:, j])[0] + 1) * dt / 2
        assert len(tc) > 5 and len(tc) == len(tf)
        assert np.max(np.abs(tc - tf)) <= dt + 1e-12


def _model(rng, dt=1e-3):
    l1 = lif_layer(
        rng.normal(3.0, 3.0, (6, 12)),
        0.01,
        dt,
        reset="to_value",
        delay_kind="axonal",
        delays=rng.integers(0, 5, 6),
        recurrent=rng.normal(0, 0.3, (12, 12)),
    )
    l2 = lif_layer(
        rng.normal(3.0, 3.0, (12, 8)),
        0.02,
        dt,
        reset="to_value",
        delay_kind="dendritic",
        delays=rng.integers(0, 4, 8),
        bias=rng.normal(0, 0.1, 8),
    )
    l3 = lif_layer(rng.normal(0, 0.5, (8, 3)), 0.02, dt, spiking=False)
    return SNNModel([l1, l2, l3], dt)


def test_round_trip_write_read_identical(rng, tmp_path):
    """Must-show: a network written with nir.write and read back gives identical outputs."""
    m = _model(rng)
    x = (rng.random((40, 5, 6)) < 0.4).astype(float)
    ref = m.run(x)
    assert min(ref.spike_counts) > 0  # the test exercises spikes, resets and delays
    path = tmp_path / "net.nir"
    nir.write(str(path), m.to_nir())
    net = import_nir(nir.read(str(path)), dt=1e-3, time_unit=1e-3)
    got = net.run(x)
    np.testing.assert_array_equal(got.outputs["output"], ref.readout)
    assert list(got.spike_counts.values()) == ref.spike_counts
    assert net.choices["recurrent_edges"] == ["rec0->lif0"]
    back = SNNModel.from_nir(path, dt=1e-3, time_unit=1e-3)
    np.testing.assert_array_equal(back.run(x).readout, ref.readout)


def test_reset_modes_recorded_and_applied():
    """Reset to value / by subtraction / none on an IF neuron driven by 0.7 per step (theta 1)."""
    g_if = nir.NIRGraph.from_list(
        nir.Affine(np.eye(1), np.zeros(1)),
        nir.IF(r=np.array([1.0]), v_threshold=np.array([1.0]), v_reset=np.array([0.0])),
    )
    # v: 0.7, 1.4 (spike); to_value -> 0, 0.7, 1.4; subtract -> 0.4, 1.1 (spike), 0.1, 0.8; none keeps rising
    x = np.full((5, 1, 1), 0.7)
    for mode, want in (("to_value", [0, 1, 0, 1, 0]), ("subtract", [0, 1, 1, 0, 1]), ("none", [0, 1, 1, 1, 1])):
        net = import_nir(g_if, dt=1.0, time_unit=1.0, reset_mode=mode)
        assert net.choices["reset_mode"] == mode
        np.testing.assert_array_equal(net.run(x).outputs["output"][:, 0, 0], want)


def test_integrator_cubalif_and_li_semantics():
    dt, tu = 0.5e-3, 1e-3
    g = nir.NIRGraph.from_list(nir.Affine(np.eye(2), np.zeros(2)), nir.I(r=np.array([2.0, 3.0])))
    out = import_nir(g, dt=dt, time_unit=tu).run(np.ones((4, 1, 2))).outputs["output"][:, 0]
    np.testing.assert_allclose(out[:, 0], 2.0 * 0.5 * np.arange(1, 5))  # v += R dt I (NIR units)
    cuba = nir.CubaLIF(
        tau_syn=np.array([2.0]),
        tau_mem=np.array([5.0]),
        r=np.array([1.5]),
        v_leak=np.array([0.0]),
        v_threshold=np.array([1e9]),
        w_in=np.array([2.0]),
    )
    g = nir.NIRGraph.from_list(nir.Affine(np.eye(1), np.zeros(1)), cuba)
    net = import_nir(g, dt=1e-3, time_unit=1e-3)
    net.run(np.ones((3, 1, 1)))
    st = net.ops["cubalif"]
    a_s, a_m = np.exp(-1 / 2), np.exp(-1 / 5)
    i = v = 0.0
    for _ in range(3):
        i = a_s * i + (1 - a_s) * 2.0
        v = a_m * v + 1.5 * (1 - a_m) * i
    state = st.init(1)
    for _ in range(3):
        st.step(np.ones((1, 1)), state)
    assert state["v"][0, 0] == pytest.approx(v, abs=1e-12) and state["i"][0, 0] == pytest.approx(i, abs=1e-12)


def test_scale_threshold_flatten_conv1d_delay():
    w = np.arange(2 * 3 * 2, dtype=float).reshape(2, 3, 2) - 5  # (C_out=2, C_in=3, K=2)
    conv = nir.Conv1d(input_shape=4, weight=w, stride=1, padding=0, dilation=1, groups=1, bias=np.array([0.5, -1.0]))
    nodes = {
        "in": nir.Input(input_type={"input": np.array([3, 4])}),
        "conv": conv,
        "flat": nir.Flatten(input_type={"input": np.array([2, 3])}, start_dim=0, end_dim=-1),
        "scale": nir.Scale(scale=np.array(2.0)),
        "delay": nir.Delay(delay=np.array([0, 0, 1, 1, 2, 2], dtype=float)),
        "thr": nir.Threshold(threshold=np.array(0.0)),
        "out": nir.Output(output_type={"output": np.array([6])}),
    }
    edges = [("in", "conv"), ("conv", "flat"), ("flat", "scale"), ("scale", "delay"), ("delay", "thr"), ("thr", "out")]
    net = import_nir(nir.NIRGraph(nodes=nodes, edges=edges, type_check=False), dt=1e-3, time_unit=1e-3)
    x = np.random.default_rng(1).normal(size=(4, 2, 3, 4))
    ref = np.empty((4, 2, 2, 3))
    for t in range(4):
        for j in range(3):
            ref[t, :, :, j] = np.einsum("bck,ock->bo", x[t, :, :, j : j + 2], w) + [0.5, -1.0]
    flat = 2.0 * ref.reshape(4, 2, 6)
    delayed = np.zeros_like(flat)
    for j, d in enumerate([0, 0, 1, 1, 2, 2]):
        delayed[d:, :, j] = flat[: 4 - d, :, j]
    np.testing.assert_array_equal(net.run(x).outputs["out"], (delayed >= 0).astype(float))
    assert net.choices["delay_steps"]["delay"]["max"] == 2


def test_unsupported_node_named():
    @dataclass(eq=False)
    class Resonator(nir.NIRNode):
        omega: np.ndarray

    g = nir.NIRGraph(
        nodes={
            "in": nir.Input(input_type={"input": np.array([4])}),
            "res": Resonator(omega=np.ones(4)),
            "out": nir.Output(output_type={"output": np.array([4])}),
        },
        edges=[("in", "res"), ("res", "out")],
        type_check=False,
    )
    with pytest.raises(DataError, match=r"node res: unsupported NIR node type Resonator"):
        import_nir(g, dt=1e-3, time_unit=1e-3)


def test_inconsistent_shapes_rejected():
    lif = nir.LIF(tau=np.ones(5), r=np.ones(5), v_leak=np.zeros(5), v_threshold=np.ones(5))
    g = nir.NIRGraph.from_list(nir.Affine(np.ones((4, 3)), np.zeros(4)), lif, type_check=False)
    with pytest.raises(ConfigError, match=r"nodes\.lif\.r: inconsistent shapes"):
        import_nir(g, dt=1e-3, time_unit=1e-3)
    g = nir.NIRGraph.from_list(nir.Affine(np.ones((4, 3)), np.zeros(4)), nir.Linear(np.ones((2, 5))), type_check=False)
    with pytest.raises(ConfigError, match=r"nodes\.linear\.weight: inconsistent shapes"):
        import_nir(g, dt=1e-3, time_unit=1e-3)


def test_negative_tau_and_delay_rejected():
    lif = nir.LIF(tau=np.array([-1.0]), r=np.ones(1), v_leak=np.zeros(1), v_threshold=np.ones(1))
    g = nir.NIRGraph.from_list(nir.Affine(np.ones((1, 1)), np.zeros(1)), lif)
    with pytest.raises(ConfigError, match=r"nodes\.lif\.tau: must be > 0"):
        import_nir(g, dt=1e-3, time_unit=1e-3)
    g = nir.NIRGraph.from_list(nir.Affine(np.ones((2, 1)), np.zeros(2)), nir.Delay(np.array([1.0, -2.0])))
    with pytest.raises(ConfigError, match=r"nodes\.delay\.delay: must be >= 0"):
        import_nir(g, dt=1e-3, time_unit=1e-3)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"dt": 0.0}, r"^dt:"),
        ({"time_unit": -1.0}, r"^time_unit:"),
        ({"discretisation": "rk4"}, r"^discretisation:"),
        ({"reset_mode": "soft"}, r"^reset_mode:"),
    ],
)
def test_bad_import_options(kw, match):
    args = {"dt": 1e-3, "time_unit": 1e-3, **kw}
    with pytest.raises(ConfigError, match=match):
        import_nir(_lif_graph(), **args)


def test_bad_run_input_shape():
    net = import_nir(_lif_graph(n=3), dt=1e-3, time_unit=1e-3)
    with pytest.raises(ConfigError, match=r"inputs\.input: must have shape"):
        net.run(np.zeros((4, 2, 5)))


def test_delay_rounding_warns_and_is_recorded():
    g = nir.NIRGraph.from_list(nir.Affine(np.eye(2), np.zeros(2)), nir.Delay(np.array([2.0, 2.4])))
    with pytest.warns(UserWarning, match=r"nodes\.delay\.delay: 1 delays are not multiples of dt"):
        net = import_nir(g, dt=1e-3, time_unit=1e-3)
    assert net.choices["delay_steps"]["delay"] == {"max": 2, "rounded": 1}


def test_layered_import_rejects_non_chain_graphs():
    """SNNModel.from_nir takes chain graphs only; other node types point to import_nir."""
    g = nir.NIRGraph.from_list(
        nir.Affine(np.eye(2), np.zeros(2)),
        nir.Threshold(np.array([0.5, 0.5])),
        nir.Affine(np.eye(2), np.zeros(2)),
        nir.LI(tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2)),
    )
    with pytest.raises(ConfigError, match=r"nodes\.threshold: node type Threshold does not fit the layered chain"):
        SNNModel.from_nir(g, dt=1e-3, time_unit=1e-3)
    g = nir.NIRGraph.from_list(nir.Affine(np.eye(2), np.zeros(2)))
    with pytest.raises(ConfigError, match="form no layer"):
        SNNModel.from_nir(g, dt=1e-3, time_unit=1e-3)
