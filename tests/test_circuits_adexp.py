"""DPI/AdExp neuron: docs/circuits.md tests DPI-3 (f-I), DPI-4 (mismatch), K-1 (kernel), adaptation."""

import math

import numpy as np
import pytest

from aimc_sim.circuits import (
    AdExpConfig,
    AdExpNeuron,
    AdExpState,
    MismatchConfig,
    _kernels,
    _reference,
    adexp_advance,
    adexp_params,
)
from aimc_sim.circuits.spikes import collect_spikes
from aimc_sim.cost import Ledger
from aimc_sim.errors import ConfigError

EXACT = MismatchConfig(sigma=0.0)


def _linear_config(**kw):
    """Spec DPI-3 setup: feedback off, no adaptation, I_reset = 100*I_gain."""
    base = AdExpConfig.from_time_constants(feedback=False, adaptation=False, mismatch=EXACT, **kw)
    return base.replace(I_reset=100 * base.I_gain)


@pytest.mark.parametrize("i_in", [30e-9, 50e-9, 120e-9])
def test_dpi3_linear_regime_f_i_curve(i_in):
    """DPI-3: steady ISI = t_ref + tau*ln((I_ss - I_reset)/(I_ss - I_spkthr)) within 1 %."""
    cfg = _linear_config()
    pop = AdExpNeuron(cfg, 1)
    train = pop.run(np.array([i_in]), dt=1e-3, n_samples=400)
    isi = np.diff(train.time)[1:]
    i_ss = cfg.I_gain / cfg.I_tau * (i_in - cfg.I_tau)
    expected = cfg.t_ref + cfg.tau_mem * math.log((i_ss - cfg.I_reset) / (i_ss - cfg.I_spkthr))
    assert isi.size >= 5
    np.testing.assert_allclose(isi, expected, rtol=0.01)


def test_dpi3_converges_when_the_step_is_halved():
    """DPI-3 / §9: halving h moves spike times by less than one step (full nonlinear model)."""
    cfg = AdExpConfig(mismatch=EXACT, I_w_ahp=0.2e-6)
    a = AdExpNeuron(cfg, 1).run(np.array([40e-9]), dt=1e-3, n_samples=200)
    b = AdExpNeuron(cfg.replace(h=cfg.h / 2), 1).run(np.array([40e-9]), dt=1e-3, n_samples=200)
    assert a.time.size == b.time.size >= 5
    assert np.abs(a.time - b.time).max() < cfg.h


def test_no_spikes_below_rheobase():
    cfg = _linear_config()
    train = AdExpNeuron(cfg, 1).run(np.array([0.95 * cfg.rheobase()]), dt=1e-3, n_samples=300)
    assert train.time.size == 0


def test_adaptation_first_isi_shorter_than_steady():
    """Under a step input the adaptation DPI lengthens the ISIs: first ISI < steady ISI."""
    cfg = AdExpConfig(mismatch=EXACT, I_w_ahp=0.2e-6)  # 4 pA per spike, comparable to I_tau = 5.3 pA
    train = AdExpNeuron(cfg, 1).run(np.array([40e-9]), dt=1e-3, n_samples=1000)
    isi = np.diff(train.time)
    assert isi.size > 10
    steady = isi[-5:].mean()
    assert isi[0] < 0.8 * steady
    assert np.all(np.diff(isi[:5]) > 0)  # ISIs lengthen monotonically at the start
    no_adapt = AdExpNeuron(cfg.replace(adaptation=False), 1).run(np.array([40e-9]), dt=1e-3, n_samples=1000)
    assert np.diff(no_adapt.time)[-5:].mean() < 0.8 * steady


def test_feedback_lowers_the_firing_threshold():
    """With the exponential positive feedback, the neuron fires well below the linear rheobase."""
    cfg = AdExpConfig(mismatch=EXACT, adaptation=False)
    below = 0.5 * cfg.rheobase()
    assert AdExpNeuron(cfg, 1).run(np.array([below]), 1e-3, 200).time.size > 0
    assert AdExpNeuron(cfg.replace(feedback=False), 1).run(np.array([below]), 1e-3, 200).time.size == 0


def test_dpi4_tau_mem_mismatch_and_chunking():
    """DPI-4: sigma of ln(tau_mem) = 0.10 +- 0.01 over 1e4 neurons; chunking gives the same draws."""
    cfg = AdExpConfig(mismatch=MismatchConfig(sigma=0.1))
    whole = adexp_params(cfg, 10_000, np.random.default_rng(11))
    assert np.std(np.log(whole.column("TAU"))) == pytest.approx(0.10, abs=0.01)
    g = np.random.default_rng(11)
    parts = np.concatenate([adexp_params(cfg, m, g).table for m in (4000, 6000)])
    np.testing.assert_array_equal(parts, whole.table)


def _random_setup(rng, n=6, k=25):
    cfg = AdExpConfig(mismatch=MismatchConfig(sigma=0.2), I_w_ahp=0.2e-6, t_ref=0.3e-3)
    params = adexp_params(cfg, n, rng)
    i_in = rng.uniform(0.0, 80e-9, size=(k, n))
    i_in[:, 0] = 0.0  # one quiescent neuron exercises the sleep path
    return params, i_in


@pytest.mark.parametrize(
    "kernel, n_dec", [(_kernels.adexp_run, 0), (_kernels.adexp_run_serial, 0), (_kernels.adexp_run_serial, 2)]
)
def test_k1_adexp_kernel_equals_reference(rng, kernel, n_dec):
    """K-1: adexp_run (numba, parallel and serial, resumed with a 1-spike buffer) == python reference,
    with and without decaying input components."""
    params, i_in = _random_setup(rng)
    n_samples, n = i_in.shape
    i_dec = rng.uniform(-20e-9, 60e-9, (n_dec, n))
    tau_dec = rng.uniform(2e-3, 20e-3, (n_dec, n))
    a = AdExpState.rest(n)
    b = AdExpState.rest(n)
    pos_s, pos_t = np.zeros(n, dtype=np.int64), np.zeros(n)

    def run_chunk(sel, buf_t, buf_n):
        kernel(
            a.i_mem, a.i_ahp, a.t_refr, pos_s, pos_t, sel, i_in, i_dec, tau_dec, n_samples, 1e-3, params.h,
            params.table, 0.5,
            buf_t, buf_n,
        )  # fmt: skip

    train = collect_spikes(n, run_chunk, lambda sel: pos_s[sel] >= n_samples, cap=1)
    idx, times = _reference.adexp_run_ref(
        b.i_mem, b.i_ahp, b.t_refr, i_in, 1e-3, params.h, params.table, 0.5, i_dec, tau_dec
    )
    order = np.lexsort((idx, times))
    assert train.time.size > 10
    np.testing.assert_array_equal(train.index, idx[order])
    np.testing.assert_array_equal(train.time, times[order])
    for x, y in ((a.i_mem, b.i_mem), (a.i_ahp, b.i_ahp), (a.t_refr, b.t_refr)):
        np.testing.assert_array_equal(x, y)


def test_advance_lazily_equals_run(rng):
    """Event-driven advance over the sample intervals == run over the same samples; subsets too."""
    params, i_in = _random_setup(rng, n=4, k=10)
    cfg = AdExpConfig(mismatch=MismatchConfig(sigma=0.2), I_w_ahp=0.2e-6, t_ref=0.3e-3)
    pop = AdExpNeuron(cfg, 4, np.random.default_rng(5))
    run = pop.run(i_in, dt=1e-3)
    state = AdExpState.rest(4)
    params = adexp_params(cfg, 4, np.random.default_rng(5))
    idx, tim = [], []
    for k in range(10):
        for i in range(4):  # one neuron at a time, as a SimPy process would
            tr = adexp_advance(state, 1e-3, i_in[k], params, t0=k * 1e-3, neurons=np.array([i]))
            idx.append(tr.index)
            tim.append(tr.time)
    idx, tim = np.concatenate(idx), np.concatenate(tim)
    order = np.lexsort((idx, tim))
    np.testing.assert_array_equal(idx[order], run.index)
    np.testing.assert_array_equal(tim[order], run.time)
    np.testing.assert_array_equal(state.i_mem, pop.state.i_mem)


def test_ledger_counts_neuron_spikes():
    ledger = Ledger()
    pop = AdExpNeuron(_linear_config(), 2, ledger=ledger)
    train = pop.run(np.array([50e-9, 0.0]), dt=1e-3, n_samples=100)
    assert ledger.total("neuron_spike") == train.index.size > 0


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"C_mem": -3e-12}, "C_mem"),
        ({"I_tau": 0.0}, "I_tau"),
        ({"h": 15e-3}, "h"),
        ({"I_reset": 200e-9}, "I_reset"),
        ({"I_spkthr": float("inf")}, "I_spkthr"),
    ],
)
def test_bad_config(kwargs, field):
    """Negative capacitance, zero bias current, h >= tau/2 for the explicit scheme, etc."""
    with pytest.raises(ConfigError) as e:
        AdExpConfig.from_dict(kwargs)
    assert e.value.path == field


def test_bad_inputs():
    pop = AdExpNeuron(AdExpConfig(mismatch=EXACT), 2)
    with pytest.raises(ConfigError, match="i_in"):
        pop.run(np.array([[1e-9, np.nan]]), dt=1e-3)
    with pytest.raises(ConfigError, match="i_in"):
        pop.step(1e-3, np.inf)
    with pytest.raises(ConfigError, match="dt"):
        pop.step(float("nan"), 1e-9)
    with pytest.raises(ConfigError, match="i_in"):
        pop.run(np.zeros((3, 5)), dt=1e-3)
    with pytest.raises(ConfigError, match="h"):  # mismatch pushes some tau below 2h
        AdExpNeuron(AdExpConfig(h=9e-3, mismatch=MismatchConfig(sigma=0.3)), 1000, np.random.default_rng(0))


def test_configs_load_from_yaml(tmp_path):
    """Configs are YAML-loadable, nested mismatch included; a bad value names its full path."""
    from aimc_sim.circuits import DPISynapseConfig, LIFConfig

    f = tmp_path / "neuron.yaml"
    f.write_text("C_mem: 2.0e-12\nI_tau: 4.0e-12\nfeedback: false\nmismatch: {sigma: 0.05, form: gaussian}\n")
    cfg = AdExpConfig.from_yaml(f)
    assert cfg.tau_mem == pytest.approx(2e-12 * 0.025 / (0.705 * 4e-12))
    assert cfg.mismatch == MismatchConfig(sigma=0.05, form="gaussian")
    assert DPISynapseConfig.from_dict(DPISynapseConfig().to_dict()) == DPISynapseConfig()
    with pytest.raises(ConfigError, match=r"neuron\.mismatch\.sigma: must be a finite number in \[0, 1\]"):
        LIFConfig.from_dict({"tau_m": 1e-2, "mismatch": {"sigma": 2.0}}, path="neuron")


def test_advance_rejects_repeated_or_out_of_range_neurons():
    params = adexp_params(AdExpConfig(mismatch=EXACT), 4)
    state = AdExpState.rest(4)
    with pytest.raises(ConfigError, match="neurons"):
        adexp_advance(state, 1e-3, 1e-9, params, neurons=np.array([1, 1]))
    with pytest.raises(ConfigError, match="neurons"):
        adexp_advance(state, 1e-3, 1e-9, params, neurons=np.array([4]))


def test_state_above_threshold_spikes_at_once_and_bad_state_is_refused():
    """A state set above threshold (e.g. by a chip model) spikes at the interval start, no hang."""
    params = adexp_params(AdExpConfig(mismatch=EXACT), 2)
    state = AdExpState.rest(2)
    state.i_mem[0] = 2 * AdExpConfig().I_spkthr
    train = adexp_advance(state, 1e-4, 0.0, params, t0=1.0)
    np.testing.assert_array_equal(train.index, [0])
    assert train.time[0] == 1.0
    state.i_ahp[1] = np.nan
    with pytest.raises(ConfigError, match="state.i_ahp"):
        adexp_advance(state, 1e-4, 0.0, params)


def test_decaying_input_matches_the_linear_closed_form():
    """Linear regime (no feedback, threshold or adaptation): with I_in = I_b + A*exp(-t/tau_s),
    I_mem(t) = I_ss + (I(0) - I_ss - B)*exp(-t/tau) + B*exp(-t/tau_s), B = G*A/(1 - tau/tau_s)."""
    cfg = AdExpConfig(feedback=False, threshold=False, adaptation=False, mismatch=EXACT)
    params = adexp_params(cfg, 1)
    state = AdExpState.rest(1)
    state.i_mem[:] = 50e-9
    i_b, amp, tau_s, t_end = 20e-9, 15e-9, 5e-3, 30e-3
    adexp_advance(state, t_end, i_b, params, i_decay=np.array([amp]), tau_decay=np.array([tau_s]))
    g, tau = cfg.I_gain / cfg.I_tau, cfg.tau_mem
    i_ss, b = g * (i_b - cfg.I_tau), g * amp / (1 - tau / tau_s)
    expected = i_ss + (50e-9 - i_ss - b) * math.exp(-t_end / tau) + b * math.exp(-t_end / tau_s)
    assert state.i_mem[0] == pytest.approx(expected, rel=2e-4)  # I/(I + I_gain) > 0.9996 here
    split = AdExpState.rest(1)  # six lazy calls, the caller decaying the amplitude between them
    split.i_mem[:] = 50e-9
    for k in range(6):
        a_k = amp * math.exp(-k * t_end / 6 / tau_s)
        adexp_advance(split, t_end / 6, i_b, params, i_decay=np.array([a_k]), tau_decay=np.array([tau_s]))
    assert split.i_mem[0] == pytest.approx(state.i_mem[0], rel=1e-12)
    with pytest.raises(ConfigError, match="tau_decay"):
        adexp_advance(state, 1e-3, 0.0, params, i_decay=np.array([1e-9]), tau_decay=np.array([0.0]))
