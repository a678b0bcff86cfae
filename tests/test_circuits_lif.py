"""Discrete LIF / AdLIF / SiLIF populations: spec tests LIF-1, K-1, F-1, F-2 and the LIF f-I curve."""

import math

import numpy as np
import pytest

from aimc_sim.circuits import _kernels, _reference
from aimc_sim.circuits.adlif import AdLIFConfig, AdLIFPopulation
from aimc_sim.circuits.lif import LIFConfig, LIFPopulation, poisson_cdf, seed_streams
from aimc_sim.circuits.mismatch import MismatchConfig
from aimc_sim.circuits.spikes import collect_spikes
from aimc_sim.cost import Ledger
from aimc_sim.errors import ConfigError

EXACT = MismatchConfig(sigma=0.0)


def test_lif1_exact_step_response():
    """LIF-1: v(k dt) = v_leak + R*I*(1 - alpha^k) from v_leak, to 1e-12."""
    cfg = LIFConfig(tau_m=10e-3, dt=1e-3, R=2.0, v_leak=0.1, v_th=100.0, mismatch=EXACT)
    pop = LIFPopulation(cfg, 3)
    i_in = np.array([0.1, 0.3, 0.5])
    alpha = math.exp(-0.1)
    for k in range(1, 60):
        pop.step(i_in)
        np.testing.assert_allclose(pop.v[0], 0.1 + 2.0 * i_in * (1 - alpha**k), rtol=0, atol=1e-12)


@pytest.mark.parametrize("t_ref", [0.0, 2e-3])
def test_lif_f_i_curve_matches_closed_form(t_ref):
    """Rate = 1/(t_ref + tau*ln(RI/(RI - theta))) within 1 % (dt = 10 us, constant drive)."""
    cfg = LIFConfig(tau_m=20e-3, dt=1e-5, t_ref=t_ref, mismatch=EXACT)
    ri = np.array([1.05, 1.2, 1.5, 2.0, 4.0])
    pop = LIFPopulation(cfg, ri.size)
    train = pop.drive(0.5, i_bias=ri)
    for i, x in enumerate(ri):
        isi = np.diff(train.of(i))
        assert isi.size >= 3
        expected = 1.0 / (t_ref + cfg.tau_m * math.log(x / (x - 1.0)))
        np.testing.assert_allclose(1.0 / isi, expected, rtol=0.01)
    assert train.counts(ri.size)[0] > 0


def test_euler_discretisation_and_its_limit():
    """Forward Euler uses alpha = 1 - dt/tau; dt >= tau/2 is refused with the field named."""
    cfg = LIFConfig(tau_m=10e-3, dt=1e-3, discretisation="euler", mismatch=EXACT)
    pop = LIFPopulation(cfg, 1)
    assert pop.alpha[0] == pytest.approx(0.9, rel=1e-15)
    with pytest.raises(ConfigError) as e:
        LIFConfig(tau_m=10e-3, dt=5e-3, discretisation="euler")
    assert e.value.path == "dt" and "tau_m/2" in str(e.value)


def test_lif_mismatch_sigma_of_ln_tau():
    """DPI-4 for LIF: sigma(ln tau_m) = 0.10 +- 0.01 over 1e4 neurons."""
    pop = LIFPopulation(LIFConfig(mismatch=MismatchConfig(sigma=0.1)), 10_000, np.random.default_rng(2))
    assert np.std(np.log(pop.tau_m)) == pytest.approx(0.10, abs=0.01)


def _random_lif(rng, mode, dtype, n=7, batch=3):
    alpha = rng.uniform(0.8, 0.99, n)
    return (
        rng.uniform(-0.5, 1.0, (batch, n)).astype(dtype),
        rng.integers(0, 2, (batch, n)).astype(np.int32),
        alpha.astype(dtype),
        (1 - alpha).astype(dtype),
        rng.uniform(0.8, 1.2, n).astype(dtype),
        dtype(0.0 if mode else -0.1),
        dtype(-0.2),
    )


@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_k1_lif_step_kernel_equals_reference(rng, mode, dtype):
    """K-1: lif_step numba == numpy reference, exactly, over 50 random steps."""
    v, ref, alpha, gain, v_th, v_leak, v_reset = _random_lif(rng, mode, dtype)
    v2, ref2 = v.copy(), ref.copy()
    n_spk = 0
    for _ in range(50):
        i_in = rng.uniform(0, 3, v.shape).astype(dtype)
        s = np.empty(v.shape, dtype=np.bool_)
        _kernels.lif_step(v, ref, i_in, alpha, gain, v_leak, v_th, v_reset, mode, 2, s)
        s2 = _reference.lif_step_ref(v2, ref2, i_in, alpha, gain, v_leak, v_th, v_reset, mode, 2)
        np.testing.assert_array_equal(s, s2)
        n_spk += s.sum()
    np.testing.assert_array_equal(v, v2)
    np.testing.assert_array_equal(ref, ref2)
    assert n_spk > 10


@pytest.mark.parametrize("mode, kernel, lam", [(0, _kernels.lif_drive, 0.3), (1, _kernels.lif_drive_serial, 2.0)])
def test_k1_lif_drive_kernel_equals_reference(rng, mode, kernel, lam):
    """K-1: fused Poisson + LIF block kernel (resumed with a tiny buffer) == numpy reference, exactly.

    70 units = one full and one partial block of LANES = 64; lam = 2 exercises counts k >= 4.
    """
    v, ref, alpha, gain, v_th, v_leak, v_reset = _random_lif(rng, mode, np.float64, n=70, batch=1)
    v, ref = v.reshape(-1), ref.reshape(-1)
    v2, ref2 = v.copy(), ref.copy()
    bias = rng.uniform(0, 0.5, v.size)
    cdf = poisson_cdf(lam)
    seeds = seed_streams(rng, v.size)
    seeds2 = seeds.copy()
    pos = np.zeros(v.size, dtype=np.int64)
    ev = np.zeros(v.size, dtype=np.int64)
    n_steps, dt, charge = 300, 1e-3, 2e-3
    lanes = _kernels.LANES

    def run_chunk(sel, buf_t, buf_u, buf_n):
        kernel(
            sel, v, ref, seeds, pos, n_steps, alpha, gain, float(v_leak), v_th, float(v_reset), mode, 2,
            bias, charge, cdf, dt, buf_t, buf_u, buf_n, ev,
        )  # fmt: skip

    n_blocks = -(-v.size // lanes)
    train = collect_spikes(n_blocks, run_chunk, lambda sel: pos[sel * lanes] >= n_steps, cap=lanes, unit_buffers=True)
    idx, tim, ev2 = _reference.lif_drive_ref(
        v2,
        ref2,
        seeds2,
        n_steps,
        alpha,
        gain,
        float(v_leak),
        v_th,
        float(v_reset),
        mode,
        2,
        bias,
        charge,
        cdf,
        dt,
    )
    order = np.lexsort((idx, tim))
    assert train.index.size > 30
    np.testing.assert_array_equal(train.index, idx[order])
    np.testing.assert_array_equal(train.time, tim[order])
    np.testing.assert_array_equal(v, v2)
    np.testing.assert_array_equal(ev, ev2)
    np.testing.assert_array_equal(seeds, seeds2)
    assert ev.sum() == pytest.approx(lam * n_steps * v.size, rel=0.05)


def test_poisson_drive_statistics_and_ledger():
    """Input events per unit ~ Poisson(rate*T): mean within 4 standard errors; ledger counts both events."""
    ledger = Ledger()
    pop = LIFPopulation(LIFConfig(mismatch=EXACT), 200, batch=2, ledger=ledger)
    train = pop.drive(0.2, poisson_rate=500.0, poisson_charge=4e-3, rng=np.random.default_rng(9))
    expected = 400 * 500.0 * 0.2
    assert abs(ledger.total("synaptic_event") - expected) < 4 * math.sqrt(expected)
    assert ledger.total("neuron_spike") == train.index.size > 0
    assert train.index.max() < 400
    again = LIFPopulation(LIFConfig(mismatch=EXACT), 200, batch=2)
    same = again.drive(0.2, poisson_rate=500.0, poisson_charge=4e-3, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(same.time, train.time)


def test_step_api_batch_and_reset():
    pop = LIFPopulation(LIFConfig(mismatch=EXACT, dt=1e-3), 4, dtype=np.float32)
    pop.reset_state(batch=5)
    s = pop.step(np.full((5, 4), 30.0, dtype=np.float32))
    assert s.shape == (5, 4) and s.dtype == np.bool_ and pop.v.dtype == np.float32
    train = pop.run(np.full((20, 4), 30.0))
    assert train.index.max() < 20 and np.all(np.diff(train.time) >= 0)


def test_f1_adlif_impulse_response():
    """F-1: alpha = 0.9, beta = 0.97, a = 0.8: u[0..5] and the sign changes of the resonator."""
    pop = AdLIFPopulation.from_parameters(0.9, 0.97, 0.8, 0.0, n=1, theta=1e9)
    x = np.zeros((70, 1))
    x[0] = 1.0
    u = []
    for k in range(70):
        pop.step(x[k])
        u.append(pop.u[0, 0])
    u = np.array(u)
    np.testing.assert_allclose(u[:6], [0.1, 0.082, 0.0595, 0.0349, 0.0105, -0.0116], atol=6e-5)
    first_negative = [t for t in range(1, 70) if u[t] < 0 <= u[t - 1]]
    assert first_negative == [5, 27, 48]
    first_positive = [t for t in range(1, 70) if u[t] >= 0 > u[t - 1]]
    assert first_positive == [16, 37, 59]
    a_bar = np.array([[0.9 - 0.1 * 0.8, -0.1 * 0.97], [0.8, 0.97]])
    lam = np.linalg.eigvals(a_bar)
    assert abs(lam[0]) == pytest.approx(0.934, abs=1e-3)
    assert 2 * math.pi / abs(np.angle(lam[0])) == pytest.approx(21.6, abs=0.05)


def test_f2_silif_first_order_step_response():
    """F-2: SiLIF with a = b = 0 is 1 - alpha^k; alpha = 0.8187 for lambda_u = ln 50, Delta = 4 ms."""
    cfg = AdLIFConfig.silif(math.log(50), math.log(5), math.log(4e-3), a=0.0, b=0.0, theta=1e3, mismatch=EXACT)
    assert cfg.alpha == pytest.approx(0.8187, abs=1e-4)
    pop = AdLIFPopulation(cfg, 2)
    vec = AdLIFPopulation.from_silif([math.log(50)] * 2, math.log(5), math.log(4e-3), 3.0, -1.0, theta=1e3)
    assert vec.a[0] == 1.0 and vec.b[0] == 0.0  # clamped
    for k in range(1, 30):
        pop.step(np.ones(2))
        np.testing.assert_allclose(pop.u[0], 1 - cfg.alpha**k, atol=1e-12)


@pytest.mark.parametrize("form", ["sparch", "symplectic"])
def test_adlif_adaptation_lengthens_isis(form):
    """Under a step input, spike-triggered adaptation makes the first ISI shorter than the steady one."""
    cfg = AdLIFConfig(tau_u=5e-3, tau_w=50e-3, a=0.0, b=0.5 if form == "sparch" else 2.0, form=form, mismatch=EXACT)
    pop = AdLIFPopulation(cfg, 1)
    train = pop.run(np.full((400, 1), 3.0))
    isi = np.diff(train.time)
    assert isi.size > 5
    assert isi[0] < isi[-3:].mean()


@pytest.mark.parametrize("form", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_k1_adlif_kernel_equals_reference(rng, form, dtype):
    """K-1: adlif_step numba == numpy reference, exactly."""
    n, batch = 6, 3
    alpha, beta = rng.uniform(0.8, 0.96, n), rng.uniform(0.96, 0.99, n)
    p = [alpha, 1 - alpha, beta, 1 - beta, rng.uniform(-1, 1, n), rng.uniform(0, 2, n), rng.uniform(0.5, 1, n)]
    p = [x.astype(dtype) for x in p]
    st = [np.zeros((batch, n), dtype=dtype) for _ in range(3)]
    st2 = [x.copy() for x in st]
    total = 0
    for _ in range(60):
        i_in = rng.uniform(0, 4, (batch, n)).astype(dtype)
        s = np.empty((batch, n), dtype=np.bool_)
        _kernels.adlif_step(*st, i_in, *p, form, s)
        s2 = _reference.adlif_step_ref(*st2, i_in, *p, form)
        np.testing.assert_array_equal(s, s2)
        total += s.sum()
    for x, y in zip(st, st2):
        np.testing.assert_array_equal(x, y)
    assert total > 10


def test_adlif_mismatch_and_ledger():
    ledger = Ledger()
    pop = AdLIFPopulation(AdLIFConfig(), 10_000, np.random.default_rng(4), ledger=ledger)
    tau_u = -pop.config.dt / np.log(pop.alpha)
    assert np.std(np.log(tau_u)) == pytest.approx(0.10, abs=0.01)
    s = pop.step(np.full(10_000, 5.0))
    assert ledger.total("neuron_spike") == s.sum()


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: LIFConfig(tau_m=-1e-3), "tau_m"),
        (lambda: LIFConfig(v_th=0.0, v_leak=0.0), "v_th"),
        (lambda: LIFConfig.from_dict({"reset": "sometimes"}), "reset"),
        (lambda: LIFConfig.from_biases(-3e-12, 5e-12), "C"),
        (lambda: LIFConfig.from_biases(3e-12, 0.0), "I_tau"),
        (lambda: LIFPopulation.from_parameters([0.5, 1.2], 1.0), "alpha"),
        (lambda: LIFPopulation(LIFConfig(mismatch=EXACT), 0), "n"),
        (lambda: LIFPopulation(LIFConfig(mismatch=EXACT), 2, dtype=np.int32), "dtype"),
        (lambda: AdLIFConfig(b=3.0), "b"),
        (lambda: AdLIFConfig.silif(float("nan"), 1.0), "lambda_u"),
        (lambda: AdLIFPopulation.from_parameters(0.9, 1.0, 0.0, 0.0), "beta"),
    ],
)
def test_bad_config(make, field):
    with pytest.raises(ConfigError) as e:
        make()
    assert e.value.path == field


def test_bad_inputs():
    pop = LIFPopulation(LIFConfig(mismatch=EXACT), 3, batch=2)
    with pytest.raises(ConfigError, match="input_current"):
        pop.step(np.array([1.0, np.nan, 0.0]))
    with pytest.raises(ConfigError, match="input_current"):
        pop.step(np.ones(4))
    with pytest.raises(ConfigError, match="i_bias"):
        pop.drive(0.01, i_bias=np.inf)
    with pytest.raises(ConfigError, match="rng"):
        pop.drive(0.01, poisson_rate=10.0, poisson_charge=1e-3)
    with pytest.raises(ConfigError, match="poisson_rate"):
        pop.drive(0.01, poisson_rate=-1.0, rng=np.random.default_rng(0))
    ad = AdLIFPopulation(AdLIFConfig(mismatch=EXACT), 2)
    with pytest.raises(ConfigError, match="input_current"):
        ad.step(np.array([np.inf, 0.0]))


def test_e1_ledger_counts_price_to_texel_energy():
    """E-1: 180 neurons at 80 Hz for 1 s, counted by the ledger, priced with the TEXEL entries of
    docs/circuits.md §7 (27.4 uW static, 25.9 pJ per spike) give 27.77 uJ."""
    cfg = LIFConfig(tau_m=20e-3, dt=1e-4, mismatch=EXACT)
    alpha = math.exp(-cfg.dt / cfg.tau_m)
    ri = 1.0 / (1.0 - alpha**124.5)  # crosses threshold on step 125: ISI = 12.5 ms
    ledger = Ledger()
    pop = LIFPopulation(cfg, 180, ledger=ledger)
    pop.drive(1.0, i_bias=ri)
    n_spk = ledger.total("neuron_spike")
    assert n_spk == 180 * 80
    energy = 27.4e-6 * 1.0 + n_spk * 25.9e-12
    assert energy == pytest.approx(27.77e-6, abs=0.005e-6)


def test_lif_event_driven_closed_forms():
    """lif_advance equals the exact stepper; lif_time_to_threshold equals the closed-form ISI."""
    from aimc_sim.circuits import lif_advance, lif_time_to_threshold

    cfg = LIFConfig(tau_m=10e-3, dt=1e-3, R=2.0, v_leak=0.1, v_th=100.0, mismatch=EXACT)
    pop = LIFPopulation(cfg, 2)
    i_in = np.array([0.2, 0.6])
    for _ in range(7):
        pop.step(i_in)
    np.testing.assert_allclose(lif_advance(0.1, 7e-3, 10e-3, i_in, R=2.0, v_leak=0.1), pop.v[0], rtol=1e-13)
    t = lif_time_to_threshold(np.array([0.0, 0.0, 1.5, 0.0]), 20e-3, np.array([2.0, 0.5, 0.0, 1.0]), 1.0)
    assert t[0] == pytest.approx(20e-3 * math.log(2.0), rel=1e-14)
    assert np.isinf(t[1]) and t[2] == 0.0 and np.isinf(t[3])
    v_hit = lif_advance(0.0, t[0], 20e-3, 2.0)
    assert v_hit == pytest.approx(1.0, rel=1e-13)


def test_high_rates_are_collected_in_bounded_rounds(monkeypatch):
    """A population spiking every step is collected completely with bounded buffer memory."""
    from aimc_sim.circuits import spikes

    monkeypatch.setattr(spikes, "MAX_BUFFER_ENTRIES", 4096)
    pop = LIFPopulation(LIFConfig(dt=1e-3, mismatch=EXACT), 100)
    train = pop.drive(0.5, i_bias=1e3)
    np.testing.assert_array_equal(train.counts(100), np.full(100, 500))
    np.testing.assert_allclose(train.of(7), np.arange(1, 501) * 1e-3, rtol=1e-12)
