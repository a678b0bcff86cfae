"""DPI synapse and bias conversions: docs/circuits.md tests DPI-1, DPI-2, DPI-4, K-1, E-1 inputs."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from aimc_sim.circuits import (
    DPISynapse,
    DPISynapseConfig,
    MismatchConfig,
    SpikeTrain,
    _kernels,
    _reference,
    bias_from_tau,
    dpi_decay,
    dpi_jump,
    pulse_current,
    pulse_width,
    tau_from_bias,
)
from aimc_sim.cost import Ledger
from aimc_sim.errors import ConfigError

EXACT = MismatchConfig(sigma=0.0)


@pytest.mark.parametrize(
    "value, expected",
    [
        (bias_from_tau(3e-12, 20e-3), 5.32e-12),
        (bias_from_tau(24.5e-12, 10e-3), 86.9e-12),
        (bias_from_tau(40e-12, 50e-3), 28.4e-12),
        (pulse_current(0.5e-12, 10e-6), 35e-9),
        (pulse_current(1.5e-12, 1e-3), 1.05e-9),
        (tau_from_bias(1.5e-12, 8e-12), 6.65e-3),
    ],
)
def test_dpi1_bias_conversions(value, expected):
    """DPI-1: the §6 table (3 significant digits)."""
    assert value == pytest.approx(expected, rel=6e-3)


def test_dpi1_round_trip():
    """Physical -> abstract -> physical returns the same biases."""
    cfg = DPISynapseConfig.from_time_constants(tau=7e-3, gain_ratio=30.0)
    back = DPISynapseConfig.from_time_constants(**{k: v for k, v in cfg.time_constants().items() if k != "jump"})
    assert back.I_tau == pytest.approx(cfg.I_tau, rel=1e-14)
    assert back.I_gain == pytest.approx(cfg.I_gain, rel=1e-14)
    assert pulse_width(0.5e-12, pulse_current(0.5e-12, 10e-6)) == pytest.approx(10e-6, rel=1e-14)


def test_dpi2_single_spike_jump_and_decay():
    """DPI-2: one AMPA spike (I_w = 1 nA, gain 100) jumps by 0.0999 nA, then e^-1 after 10 ms."""
    cfg = DPISynapseConfig(mismatch=EXACT)
    syn = DPISynapse(cfg, 1)
    assert cfg.jump == pytest.approx(0.0999e-9, rel=1e-3)
    out = syn.run(SpikeTrain(np.array([0]), np.array([0.0])), duration=20e-3 + 10e-6, dt=10e-6)
    peak = out[0, 0]  # t = 10 us = end of the pulse
    assert peak == pytest.approx(cfg.jump, rel=1e-12)
    assert out[1000, 0] / peak == pytest.approx(math.exp(-1), rel=1e-9)  # 10 ms after the peak


def test_dpi2_impulse_response_matches_ode_and_tau():
    """The jump + decay model matches a direct ODE solution of tau*dI/dt + I = G*p(t), and the
    time constant fitted from the simulated response equals C*U_T/(kappa*I_tau) within 1 %."""
    cfg = DPISynapseConfig(mismatch=EXACT)
    tau, drive = cfg.tau, cfg.I_gain * cfg.I_w / cfg.I_tau

    def rhs(t, y, p):
        return (drive * p - y) / tau

    on = solve_ivp(rhs, (0, cfg.t_pulse), [0.0], args=(1.0,), rtol=1e-11, atol=1e-24, max_step=1e-7)
    t = np.arange(1, 3001) * 10e-6
    sol = solve_ivp(rhs, (cfg.t_pulse, 0.031), on.y[:, -1], args=(0.0,), t_eval=t[1:], rtol=1e-10, atol=1e-24)
    out = DPISynapse(cfg, 1).run(SpikeTrain(np.array([0]), np.array([0.0])), duration=30e-3, dt=10e-6)[:, 0]
    np.testing.assert_allclose(out[1:], sol.y[0], rtol=1e-6)
    slope = np.polyfit(t, np.log(out), 1)[0]
    assert -1 / slope == pytest.approx(tau, rel=0.01)
    assert -1 / slope == pytest.approx(24.5e-12 * 0.025 / (0.705 * cfg.I_tau), rel=0.01)


def test_step_equals_event_exact_run_and_free_functions(rng):
    """The fixed-step update, the event-exact run and dpi_decay/dpi_jump agree."""
    cfg = DPISynapseConfig.from_time_constants(tau=5e-3, mismatch=MismatchConfig(sigma=0.1))
    a, b = DPISynapse(cfg, 4, np.random.default_rng(1)), DPISynapse(cfg, 4, np.random.default_rng(1))
    spikes = rng.integers(0, 3, size=(50, 4))
    for k in range(50):
        a.step(1e-3, spikes[k])
    steps, idx = np.nonzero(spikes)
    ev_idx = np.repeat(idx, spikes[steps, idx])
    ev_t = np.repeat(steps + 1.0, spikes[steps, idx]) * 1e-3 - cfg.t_pulse  # pulse ends at the step end
    out = b.run(SpikeTrain(ev_idx, ev_t), duration=50e-3, dt=1e-3)
    np.testing.assert_allclose(out[-1], a.i_syn, rtol=1e-12)
    i = dpi_decay(a.i_syn, 2e-3, a.tau)
    np.testing.assert_allclose(i, a.i_syn * np.exp(-2e-3 / a.tau), rtol=1e-15)
    np.testing.assert_allclose(dpi_jump(a.I_gain, a.I_w, a.I_tau, cfg.t_pulse, a.tau), a.jump, rtol=1e-15)


def test_dpi4_mismatch_sigma_and_chunking():
    """DPI-4: sigma(ln tau) = 0.10 +- 0.01 over 1e4 synapses; same seed, same draws whatever the chunking."""
    cfg = DPISynapseConfig(mismatch=MismatchConfig(sigma=0.1))
    whole = DPISynapse(cfg, 10_000, np.random.default_rng(7))
    assert np.std(np.log(whole.tau)) == pytest.approx(0.10, abs=0.01)
    g = np.random.default_rng(7)
    parts = [DPISynapse(cfg, m, g) for m in (3000, 5000, 2000)]
    np.testing.assert_array_equal(np.concatenate([p.tau for p in parts]), whole.tau)
    np.testing.assert_array_equal(np.concatenate([p.I_w for p in parts]), whole.I_w)


def test_gaussian_mismatch_sigma():
    """The Gaussian form has relative sigma = configured sigma (standard error 0.1/sqrt(2e4))."""
    cfg = DPISynapseConfig(mismatch=MismatchConfig(sigma=0.1, form="gaussian"))
    syn = DPISynapse(cfg, 10_000, np.random.default_rng(3))
    assert np.std(syn.I_w / cfg.I_w) == pytest.approx(0.1, abs=0.004)


@pytest.mark.parametrize("kernel", [_kernels.dpi_run, _kernels.dpi_run_serial])
def test_k1_dpi_kernel_equals_reference(rng, kernel):
    """K-1: dpi_run numba kernels (parallel and serial) == python reference, exactly."""
    n, n_steps, dt = 5, 40, 1e-3
    tau = rng.uniform(2e-3, 20e-3, n)
    jump = rng.uniform(1e-11, 1e-10, n)
    idx = rng.integers(0, n, 30)
    tim = rng.uniform(0, 0.05, 30)
    order = np.lexsort((tim, idx))
    ptr = np.concatenate([[0], np.cumsum(np.bincount(idx, minlength=n))])
    i0 = rng.uniform(0, 1e-10, n)
    a, b = i0.copy(), i0.copy()
    oa, ob = np.empty((n_steps, n)), np.empty((n_steps, n))
    kernel(a, tau, jump, 1e-5, ptr, tim[order], dt, n_steps, oa)
    _reference.dpi_run_ref(b, tau, jump, 1e-5, ptr, tim[order], dt, n_steps, ob)
    np.testing.assert_array_equal(oa, ob)
    np.testing.assert_array_equal(a, b)


def test_ledger_counts_synaptic_events():
    ledger = Ledger()
    syn = DPISynapse(DPISynapseConfig(mismatch=EXACT), 3, ledger=ledger)
    syn.step(1e-3, np.array([1, 0, 2]))
    syn.run(SpikeTrain(np.array([0, 1]), np.array([1e-3, 2e-3])), duration=5e-3, dt=1e-3)
    assert ledger.total("synaptic_event") == 5


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"C_syn": -1e-12}, "C_syn"),
        ({"I_tau": 0.0}, "I_tau"),
        ({"I_w": float("nan")}, "I_w"),
        ({"t_pulse": 1.0}, "t_pulse"),
        ({"mismatch": {"sigma": -0.1}}, "mismatch.sigma"),
    ],
)
def test_bad_config(kwargs, field):
    """Negative capacitance, zero bias, non-finite values and bad sigma name the field."""
    with pytest.raises(ConfigError) as e:
        DPISynapseConfig.from_dict(kwargs)
    assert e.value.path == field


def test_bad_inputs():
    with pytest.raises(ConfigError, match="C"):
        tau_from_bias(-1e-12, 1e-12)
    with pytest.raises(ConfigError, match="I_tau"):
        tau_from_bias(1e-12, 0.0)
    syn = DPISynapse(DPISynapseConfig(mismatch=EXACT), 2)
    with pytest.raises(ConfigError, match="spikes"):
        syn.step(1e-3, np.array([np.nan, 1.0]))
    with pytest.raises(ConfigError, match="dt"):
        syn.step(float("inf"))
    with pytest.raises(ConfigError, match="spikes.time"):
        syn.run(SpikeTrain(np.array([0]), np.array([np.inf])), 1e-3, 1e-4)
    with pytest.raises(ConfigError, match="rng"):
        DPISynapse(DPISynapseConfig(), 2, rng=None)
