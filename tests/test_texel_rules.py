"""Learning rules beyond BCaLL: e-prop against BPTT, Bayesian metaplasticity, pulsed device pairs."""

from __future__ import annotations

import numpy as np
import pytest

from aimc_sim.errors import ConfigError
from aimc_sim.pulsed_training import PulsedWeights
from chip_models.texel import eprop as EP
from chip_models.texel import metaplasticity as MP
from device_models import load_preset


@pytest.mark.parametrize("beta", [0.0, 0.5])
def test_eprop_equals_bptt_without_recurrence(beta):
    """e-prop is exact for a layer without recurrent weights and a loss on the instantaneous readout;
    torch autograd through time (the independent reference) gives the same gradients."""
    rng = np.random.default_rng(2)
    x, labels, t_loss = EP.temporal_task(rng, 8)
    nrn = EP.EpropNeuron(beta=beta)
    w_in, w_out = rng.normal(0, 0.3, (12, x.shape[2])), rng.normal(0, 0.5, (2, 12))
    e_in, e_out, _ = EP.eprop_gradients(x, labels, w_in, w_out, nrn, t_loss)
    b_in, b_out = EP.bptt_gradients(x, labels, w_in, w_out, nrn, t_loss)
    assert np.abs(e_in).max() > 1e-4  # neurons spike and gradients flow
    np.testing.assert_allclose(e_in, b_in, rtol=0, atol=1e-12 * np.abs(b_in).max() + 1e-15)
    np.testing.assert_allclose(e_out, b_out, rtol=1e-12, atol=1e-15)


def test_eprop_learns_the_temporal_task():
    r = EP.train(0, None, nrn=EP.EpropNeuron(), steps=60)
    assert r["accuracy"] >= 0.9 and r["loss"][-10:].mean() < r["loss"][:10].mean()


@pytest.mark.parametrize("preset", ["ecram", "rram"])
def test_pulsed_weights_apply_writes_the_requested_change(preset):
    rng = np.random.default_rng(0)
    w = PulsedWeights(load_preset(preset), np.zeros((40, 40)), rng)
    before = w.read()
    n = w.apply(np.full((40, 40), 5 * w.step), rng)
    change = (w.read() - before).mean()
    assert n == pytest.approx(2 * 5 * 1600, rel=0.05)
    assert change == pytest.approx(5 * w.step, rel=0.3) and w.energy > 0
    with pytest.raises(ConfigError, match="dw"):
        w.apply(np.zeros(3), rng)


def test_stochastic_pulse_coincidence_follows_the_outer_product():
    """Expected change of the coincidence scheme is −lr·x·δ (Gokmen & Vlasov 2016)."""
    rng = np.random.default_rng(1)
    w = PulsedWeights(load_preset("ecram"), np.zeros((30, 20)), rng)
    x, d = rng.uniform(-1, 1, 30), rng.uniform(-1, 1, 20)
    before = w.read()
    for _ in range(20):
        w.coincidence_update(x, d, 0.002, rng)
    dw = (w.read() - before) / 20
    target = -0.002 * np.outer(x, d)
    assert np.corrcoef(dw.ravel(), target.ravel())[0, 1] > 0.9
    assert np.sum(dw * target) / np.sum(target * target) == pytest.approx(1.0, abs=0.35)


def test_importance_scales_plasticity_down():
    rule = MP.MetaplasticRule()
    prec = np.ones(3)
    g = np.array([0.0, 0.5, 2.0])
    dmu, prec2 = rule.update(g, prec)
    assert prec2[0] == prec[0] and prec2[2] > prec2[1] > prec[1]
    p = rule.plasticity(prec2)
    assert p[0] == 1.0 and 1.0 > p[1] > p[2] > 0
    np.testing.assert_allclose(dmu, -rule.lr * g)  # plasticity before the update was 1
    assert np.all(MP.MetaplasticRule(enabled=False).plasticity(prec2) == 1.0)


def test_metaplasticity_retains_the_first_task():
    plain = MP.sequential_tasks(0, MP.MetaplasticRule(enabled=False))
    meta = MP.sequential_tasks(0, MP.MetaplasticRule())
    assert plain["after_A"]["A"] == meta["after_A"]["A"] == 1.0
    assert meta["after_B"]["A"] - plain["after_B"]["A"] >= 0.1
    assert meta["after_B"]["B"] >= 0.8


def test_metaplastic_rule_on_the_chip_reduces_overwriting():
    """The learning rule of the event-driven chip (rules.py) is not ignored: with the metaplastic rule a
    pattern learned first survives a second, depressing pattern better than under BCaLL, the second is
    still learned, the importance lives on the first pattern's synapses, and fewer device writes happen."""
    from chip_models.texel.overwrite import overwrite

    plain, meta = (overwrite(0, rule, neurons=4) for rule in ("bcall", "metaplastic"))
    assert plain["A_after_A"] == meta["A_after_A"] == 1.0
    assert meta["A_after_B"] - plain["A_after_B"] >= 0.15
    assert plain["B_after_B"] >= 0.9 and meta["B_after_B"] >= 0.9
    assert plain["importance_A"] == 0.0 < meta["importance_A"]
    assert meta["write_pulses"] < plain["write_pulses"]


def test_unknown_learning_rule_is_rejected():
    from chip_models.texel import TexelConfig

    with pytest.raises(ConfigError, match=r"rule: must be one of bcall, metaplastic"):
        TexelConfig.default(learning={"rule": "hebb"})
