"""Native SNN dynamics (docs/circuits.md §6; docs/snn.md): F-1, TR-1..3, delays (F-3 shift part), buffer costs,
dt adaptation."""

import numpy as np
import pytest

from aimc_sim.errors import ConfigError
from workloads.snn import SNNLayer, SNNModel, adlif, buffer_cost, lif, lif_layer, matrix_power
from workloads.snn.delays import DelayLine


def _sparch_reference(alpha, beta, a, b, theta, current):
    """adLIF exactly as written in docs/circuits.md §6 (sparch adLIFLayer), one neuron."""
    u = w = s = 0.0
    us, ss = [], []
    for i in current:
        w = beta * w + a * u + b * s
        u = alpha * (u - theta * s) + (1 - alpha) * (i - w)
        s = float(u >= theta)
        us.append(u)
        ss.append(s)
    return np.array(us), np.array(ss)


def test_f1_adlif_eigenvalues_and_impulse_response():
    """F-1: eigenvalues 0.895 +- 0.268i, |lambda| = 0.934, period 21.6; impulse response and sign changes."""
    dyn = adlif(0.9, 0.97, 0.8, 0.0, theta=1e9)
    lam = np.linalg.eigvals(dyn.A[0])
    lam = lam[np.argmax(lam.imag)]
    assert lam.real == pytest.approx(0.895, abs=5e-4) and lam.imag == pytest.approx(0.268, abs=5e-4)
    assert abs(lam) == pytest.approx(0.934, abs=5e-4)
    assert 2 * np.pi / np.angle(lam) == pytest.approx(21.6, abs=0.05)
    x = dyn.init(1)
    u = []
    for t in range(60):
        x, _ = dyn.step(x, np.array([[1.0 if t == 0 else 0.0]]))
        u.append(x[0, 0, 0])
    u = np.array(u)
    np.testing.assert_allclose(u[:6], [0.1, 0.082, 0.0595, 0.0349, 0.0105, -0.0116], atol=6e-5)
    changes = [t for t in range(1, 60) if np.sign(u[t]) != np.sign(u[t - 1])]
    assert changes == [5, 16, 27, 37, 48, 59]  # sign changes between 4|5, 15|16, ..., 58|59
    assert u[5] < 0 and u[16] > 0 and u[27] < 0


def test_generic_adlif_equals_sparch_update_with_spikes(rng):
    """The generic (A, B, J) form reproduces the published sparch update, spikes and resets included."""
    current = rng.uniform(0, 12, 200)
    ref_u, ref_s = _sparch_reference(0.9, 0.97, 0.2, 1.2, 1.0, current)
    dyn = adlif(0.9, 0.97, 0.2, 1.2, 1.0)
    x = dyn.init(1)
    s_all, u_all = [], []
    for i in current:
        pre = dyn.A[0] @ x[0, 0] + dyn.B[0] * i
        x, s = dyn.step(x, np.array([[i]]))
        u_all.append(pre[0])
        s_all.append(s[0, 0])
    assert np.sum(ref_s) > 10
    np.testing.assert_array_equal(s_all, ref_s)
    np.testing.assert_allclose(u_all, ref_u, atol=1e-12)


def _run_linear(dyn, current):
    x = dyn.init(current.shape[1])
    out = []
    for c in current:
        x, _ = dyn.step(x, c)
        out.append(x.copy())
    return np.array(out)


def _linear_adlif(rng, n=5):
    """In-range sparch parameters (docs/circuits.md §6), spikes disabled by a huge threshold."""
    alpha = rng.uniform(np.exp(-1 / 5), np.exp(-1 / 25), n)
    beta = rng.uniform(np.exp(-1 / 30), np.exp(-1 / 120), n)
    return adlif(alpha, beta, rng.uniform(-1, 1, n), rng.uniform(0, 2, n), theta=1e12)


def test_tr1_zoh_rediscretisation(rng):
    """TR-1: dt/2 with each input held twice matches dt at common times to 1e-12."""
    dyn = _linear_adlif(rng)
    i = rng.normal(size=(50, 3, 5))
    coarse = _run_linear(dyn, i)
    fine = _run_linear(dyn.rediscretise(0.5, "zoh"), np.repeat(i, 2, axis=0))
    np.testing.assert_allclose(fine[1::2], coarse, atol=1e-12)


def test_tr2_impulse_rediscretisation(rng):
    """TR-2: spikes at the last sub-step of each coarse bin give the same states at common times."""
    dyn = _linear_adlif(rng)
    i = (rng.random((50, 3, 5)) < 0.3).astype(float)
    coarse = _run_linear(dyn, i)
    fine_in = np.zeros((100, 3, 5))
    fine_in[1::2] = i
    fine = _run_linear(dyn.rediscretise(0.5, "impulse"), fine_in)
    np.testing.assert_allclose(fine[1::2], coarse, atol=1e-12)


def test_tr3_matrix_square_root():
    """TR-3: (A^(1/2))^2 = A for the F-1 matrix."""
    a = adlif(0.9, 0.97, 0.8, 0.0).A
    h = matrix_power(a, 0.5)
    np.testing.assert_allclose(h[0] @ h[0], a[0], atol=1e-12)


def test_matrix_power_rejects_negative_real_eigenvalue():
    with pytest.raises(ConfigError, match="negative real axis"):
        matrix_power(np.array([[[-0.5, 0.0], [0.0, 0.5]]]), 0.5)


def test_f3_delay_line_is_exact_shift(rng):
    """F-3 (integer-position part): each delay layer equals an exact shift by d steps."""
    x = rng.normal(size=(20, 2, 4))
    d = np.array([0, 1, 3, 7])
    line = DelayLine(int(d.max()), 2, 4)
    out = []
    for xt in x:
        line.push(xt)
        out.append(line.read(d))
    out = np.array(out)
    for j, dj in enumerate(d):
        np.testing.assert_array_equal(out[dj:, :, j], x[: 20 - dj, :, j])
        assert not out[:dj, :, j].any()


def _brute_force(x, w, kind, d, alpha, gamma, theta):
    steps, batch, _ = x.shape
    n_out = w.shape[1]
    u = np.zeros((batch, n_out))
    spikes = []
    for t in range(steps):
        cur = np.zeros((batch, n_out))
        for i in range(w.shape[0]):
            for j in range(n_out):
                lag = 0 if kind is None else d[i] if kind == "axonal" else d[j] if kind == "dendritic" else d[i, j]
                if t - lag >= 0:
                    cur[:, j] += w[i, j] * x[t - lag, :, i]
        u = alpha * u + gamma * cur
        s = (u >= theta).astype(float)
        u -= theta * s
        spikes.append(s)
    return np.array(spikes)


@pytest.mark.parametrize("kind", [None, "axonal", "dendritic", "synaptic"])
def test_delay_kinds_match_brute_force(rng, kind):
    n_in, n_out, dt = 5, 4, 1e-3
    w = rng.normal(1.0, 1.5, (n_in, n_out))
    d = {None: None, "axonal": rng.integers(0, 6, n_in), "dendritic": rng.integers(0, 6, n_out)}.get(
        kind, rng.integers(0, 6, (n_in, n_out))
    )
    hidden = lif_layer(w, 0.005, dt, delay_kind=kind, delays=d)
    readout = lif_layer(np.eye(n_out), 0.01, dt, spiking=False)
    x = (rng.random((30, 3, n_in)) < 0.5).astype(float)
    alpha = np.exp(-dt / 0.005)
    ref = _brute_force(x, w, kind, d, alpha, 1 - alpha, 1.0)
    model = SNNModel([hidden, readout], dt)
    run = model.run(x)
    assert run.spike_counts[0] == ref.sum() > 0


def test_buffer_cost_spec_example_and_scaling():
    """Delay-buffer example (N = 512, D_max = 30) and linear scaling of the history with the maximum delay."""
    d = np.full(512, 30)
    ax = buffer_cost("axonal", 512, 512, d)
    den = buffer_cost("dendritic", 512, 512, d, current_bits=16)
    syn = buffer_cost("synaptic", 512, 512, np.full((512, 512), 30))
    assert ax["history_bits"] == 15360 and den["history_bits"] == 245760
    assert syn["index_bits"] == 512 * 512 * 5 and syn["history_bits"] == 15360
    assert syn["reads_per_step"] == 512 * 512 and ax["reads_per_step"] == 512
    for kind, shape in (("axonal", (64,)), ("dendritic", (32,)), ("synaptic", (64, 32))):
        h = [buffer_cost(kind, 64, 32, np.full(shape, dm))["history_bits"] for dm in (5, 10, 20)]
        assert h[1] == 2 * h[0] and h[2] == 4 * h[0]
    sparse = buffer_cost("axonal", 512, 512, d, active=np.arange(512) < 103)
    assert sparse["history_bits"] == 30 * 103


@pytest.mark.parametrize(
    ("kind", "delays", "match"),
    [
        ("axonal", np.array([1, -1, 0]), "must be integers >= 0"),
        ("axonal", np.array([1, 2]), "inconsistent shapes"),
        ("synaptic", np.zeros(3), "inconsistent shapes"),
        ("ring", np.zeros(3), "must be one of"),
    ],
)
def test_bad_delays_rejected(kind, delays, match):
    with pytest.raises(ConfigError, match=match):
        SNNLayer(np.ones((3, 2)), lif(0.9, 0.1, size=2), delay_kind=kind, delays=delays)


def test_bad_neuron_and_model_shapes():
    with pytest.raises(ConfigError, match="alpha"):
        lif(1.5, 0.1, size=3)
    with pytest.raises(ConfigError, match="inconsistent shapes"):
        SNNLayer(np.ones((3, 2)), lif(0.9, 0.1, size=3))
    good = SNNLayer(np.ones((3, 2)), lif(0.9, 0.1, size=2))
    with pytest.raises(ConfigError, match=r"layers\[1\]\.weight: inconsistent shapes"):
        SNNModel([good, SNNLayer(np.ones((4, 2)), lif(0.9, 0.1, size=2, spiking=False))], 1e-3)
    spiking_readout = SNNModel([good], 1e-3)  # rate-read spiking output layer (snnTorch style)
    run = spiking_readout.run(np.ones((6, 2, 3)))
    assert run.spike_counts[0] > 0 and set(np.unique(run.readout)) <= {0.0, 1.0}


def test_model_dt_adaptation_methods(rng):
    """The mapped model at dt/2 reproduces the dt readout at common times for bin-end impulses; naive does not.

    (Exact for LIF with reset to 0: between impulses u only decays towards 0, so no crossing can hide
    between samples; reset by subtraction can burst on the fine grid after a large overshoot.
    An adLIF can resonate across theta between samples, so there the equality holds only subthreshold: TR-1/2.)
    """
    dt = 1e-3
    w = rng.normal(2.0, 4.0, (4, 6))
    hid = lif_layer(w, 0.01, dt, reset="to_value", delay_kind="axonal", delays=rng.integers(0, 4, 4))
    out = lif_layer(rng.normal(0, 1, (6, 3)), 0.01, dt, spiking=False)
    m = SNNModel([hid, out], dt)
    x = (rng.random((40, 2, 4)) < 0.3).astype(float)
    fine = np.zeros((80, 2, 4))
    fine[1::2] = x
    ref = m.run(x)
    mapped = m.at_dt(dt / 2, "mapping").run(fine)
    naive = m.at_dt(dt / 2, "naive").run(fine)
    assert ref.spike_counts[0] > 0
    np.testing.assert_allclose(mapped.readout[1::2], ref.readout, atol=1e-9)
    assert np.abs(naive.readout[1::2] - ref.readout).max() > 1e-2
    assert m.at_dt(dt / 2, "mapping").layers[0].delays.max() == 2 * m.layers[0].delays.max()
    tau = m.at_dt(dt / 2, "tau_scaling")
    assert tau.layers[0].neurons.family["alpha"][0] == pytest.approx(np.exp(-0.1) ** 0.5)
    assert m.at_dt(dt / 2, "mapping").metadata["dt_adaptation"] == "mapping"


def test_recurrent_adaptation_warns(rng):
    hid = lif_layer(rng.normal(size=(3, 4)), 0.01, 1e-3, recurrent=rng.normal(size=(4, 4)))
    m = SNNModel([hid, lif_layer(rng.normal(size=(4, 2)), 0.01, 1e-3, spiking=False)], 1e-3)
    with pytest.warns(UserWarning, match=r"layers\[0\]\.recurrent"):
        m.at_dt(5e-4, "mapping")
    with pytest.raises(ConfigError, match="method"):
        m.at_dt(5e-4, "magic")


def test_f2_silif_first_order_step_response():
    """F-2: with a = b = 0 and no spikes, u is a first-order IIR: step response 1 - alpha^k; alpha(ln 50, 4 ms)."""
    alpha = np.exp(-np.exp(np.log(50.0)) * 4e-3)
    assert alpha == pytest.approx(0.8187, abs=5e-5)
    dyn = adlif(alpha, 0.97, 0.0, 0.0, theta=1e12)
    u = _run_linear(dyn, np.ones((30, 1, 1)))[:, 0, 0, 0]
    np.testing.assert_allclose(u, 1 - alpha ** np.arange(1, 31), atol=1e-14)
