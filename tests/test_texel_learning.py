"""TEXEL checklist 2–6 and 12: neuron adaptation, trace gating, STDP (full / one branch off), SRDP, VSA.

Shape and sign tests (docs/texel.md §6): TEXEL's numeric windows are [unknown]; the STDP
window edges are the [derived] values of §6 for the demo parameter set.
"""

import math

import numpy as np
import pytest

from chip_models.texel import experiments as E
from chip_models.texel.learning import stdp_windows

EDGE = 23.5e-3  # τ·ln(A/θ) = 50 ms · ln(1.6), docs/texel.md §3
STEP = 20e-6  # neuron integration step


def test_checklist2_adaptation_and_fI(rng):
    """TEXEL-2: the rate peaks within the first ISIs, then decays monotonically to f_ss < f0;
    f–I monotonic; rate ≤ 1/t_ref."""
    d = E.adaptation(rng, currents=(40e-9, 100e-9, 200e-9), duration=0.5)
    for st in d["trains"]:
        rate = 1.0 / np.diff(st)
        peak = int(np.argmax(rate))
        assert peak <= 2
        assert np.all(np.diff(rate[peak:]) <= 1e-9 * rate[peak])
        assert rate[-1] < 0.95 * rate[peak]
        assert rate.max() <= 1.0 / d["t_ref"]
    assert np.all(np.diff(d["f0"]) > 0) and np.all(np.diff(d["fss"]) > 0)
    print("f_ss/f0 =", d["fss"] / d["f0"])


def test_checklist3_trace_gating(rng):
    """TEXEL-3 (F3a): x_post above θ_post only during post bursts (plus its decay edge); Ca integrates
    post spikes; no weight change while x_ca ≤ θ_ca,low even under strong pairing."""
    d = E.trace_gating(rng)
    p = d["probes"]
    above = p["t"][p["x_post"] > 0.5]
    assert above.size
    inside = np.zeros(above.size, dtype=bool)
    for a, b in d["bursts"]:
        inside |= (above >= a) & (above <= b + EDGE + STEP)
    assert inside.all()
    ca_at_spikes = np.interp(d["post"][:8] + 1e-4, p["t"], p["x_ca"])
    assert np.all(np.diff(ca_at_spikes) > 0)  # first burst: Ca accumulates spike by spike
    assert np.ptp(p["rho"]) > 0.1  # the gate opens and learning happens
    blocked = E.trace_gating(rng, theta_ca_low=0.95)
    assert blocked["probes"]["x_ca"].max() <= 0.95
    assert blocked["post"].size == d["post"].size
    assert np.ptp(blocked["probes"]["rho"]) == 0.0


def expected_drho(dt: float, cfg) -> float:
    """Isolated-pair Δρ of docs/texel.md §3 for the rule parameters ``cfg``."""
    if dt < 0:
        x = cfg.a_pre * math.exp(dt / cfg.tau_pre)
        return cfg.c * x + (cfg.rho_neg2 if cfg.x_floor < x < cfg.theta_pre else 0.0)
    x_post = cfg.a_post * math.exp(-dt / cfg.tau_post)
    gate = cfg.a_ca * cfg.x_ca_max * math.exp(-dt / cfg.tau_ca) > cfg.theta_ca_low
    return cfg.rho_neg if (x_post > cfg.theta_post and gate) else 0.0


DTS = np.concatenate(
    [np.linspace(-0.1, 0.1, 41), [-0.15, -0.1395, -0.1375, -0.0236, -0.0234, -1e-4, 0.0234, 0.0236, 0.15]]
)


@pytest.fixture(scope="module")
def stdp_full():
    return E.stdp(np.random.default_rng(7), DTS)


def test_checklist4_stdp_three_branches(stdp_full):
    """TEXEL-4 (F3b): causal LTP |Δt| ≤ 23.5 ms, causal LTD to 138.6 ms, anti-causal constant step
    to 23.5 ms, → 0 beyond."""
    d = stdp_full
    cfg = d["cfg"]
    w = stdp_windows(cfg)
    assert w["causal_ltp"] == pytest.approx(EDGE, abs=1e-4) and w["causal_ltd"] == pytest.approx(0.1386, abs=1e-4)
    assert np.all(d["n_post"] == 1)
    for dt, drho in zip(d["dt"], d["drho"]):
        near_edge = min(abs(abs(dt) - e) for e in (w["causal_ltp"], w["causal_ltd"])) <= STEP
        if not near_edge:
            assert drho == pytest.approx(expected_drho(dt, cfg), abs=1e-12), dt
    dt, drho = d["dt"], d["drho"]
    assert np.all(drho[(dt < 0) & (dt > -EDGE + STEP)] > 0)
    assert np.all(drho[(dt < -EDGE - STEP) & (dt > -0.1386 + STEP)] < 0)
    assert np.all(drho[(dt >= 0) & (dt < EDGE - STEP)] == pytest.approx(-0.05, abs=1e-12))
    assert np.all(drho[dt > EDGE + STEP] == 0.0)
    far = dt < -0.1386 - STEP  # below the trace floor only c·x_pre < c·x_floor is left: Δρ → 0
    assert np.all((drho[far] > 0) & (drho[far] <= cfg.c * cfg.x_floor))
    assert np.all(np.diff(drho[far][np.argsort(dt[far])]) > 0)
    assert drho[np.argmin(abs(dt + 1e-9))] == pytest.approx(-0.05)  # Δt = 0 counts as anti-causal
    assert drho[(dt < 0)].max() == pytest.approx(0.08, abs=0.005)


def test_checklist5_stdp_one_branch_off(stdp_full):
    """TEXEL-5 (F3c): ρ_neg = 0 removes Δt > 0 depression exactly; the Δt < 0 lobe is bit-identical."""
    off = E.stdp(np.random.default_rng(7), DTS, rho_neg=0.0)
    neg = stdp_full["dt"] < 0
    assert np.all(off["drho"][~neg] == 0.0)
    assert np.array_equal(off["drho"][neg], stdp_full["drho"][neg])
    assert np.array_equal(off["dt"], stdp_full["dt"])


def test_checklist6_srdp_transition_maps():
    """TEXEL-6 (F3d): no transitions at ν_pre = 0; high/high → up; high pre/low post → down;
    an upper Ca threshold removes transitions again at very high ν_post."""
    rates = {"rates_pre": (0.0, 50.0, 100.0), "rates_post": (0.0, 20.0, 120.0, 300.0)}
    d = E.srdp(np.random.default_rng(3), trials=10, **rates)
    assert np.all(d["p_up"][0] == 0) and np.all(d["p_down"][0] == 0)
    assert d["p_up"][1, 2] >= 0.6 and d["p_up"][2, 3] >= 0.6
    assert d["p_down"][2, 1] >= 0.3 and d["p_up"][2, 1] == 0.0
    assert np.all(d["p_up"][:, :2] == 0.0)  # low post activity never potentiates
    g = E.srdp(np.random.default_rng(3), trials=10, theta_ca_high=0.72, **rates)
    assert g["p_up"][1, 2] >= 0.5
    assert np.all(g["p_up"][:, 3] <= 0.1) and np.all(g["p_down"][:, 3] <= 0.1)


def test_checklist12_vsa_set_association():
    """TEXEL-12 (ON demo): after teacher-driven learning each population fires for its own set only,
    and neither fires for an out-of-set item."""
    d = E.vsa(np.random.default_rng(11), per_pop=4)
    r = d["responses"]
    own = np.array([0, 0, 0, 1, 1, 1])
    assert np.all(r[np.arange(6), own] > 10.0)
    assert np.all(r[np.arange(6), 1 - own] == 0.0)
    assert np.all(r[6] == 0.0)
    assert d["weights"].shape == (8, 54)
