"""Switching-probability fit (issue 8) against device_models.rram_binary (Weibull law, exponential V-t kinetics)."""

import numpy as np
import pytest

from calibration.errors import FitError
from calibration.measurements import Measurement
from calibration.switching import fit_switching, population_probability
from device_models.registry import load_preset

V_GRID, W_GRID = (a.ravel() for a in np.meshgrid(np.linspace(0.7, 1.1, 9), [3e-9, 30e-9, 300e-9, 3e-6, 30e-6]))


def _simulate(model, n, rng, meta=None):
    """Fresh HRS devices, one SET pulse each, counted per (V, w) condition (pooled over devices)."""
    k = []
    for v, w in zip(V_GRID, W_GRID):
        st = model.pulse(model.program(np.zeros(n), rng), 1, v, w, rng)
        k.append(st.per_device["lrs"].sum())
    data = {
        "voltage": V_GRID,
        "width": W_GRID,
        "n_trials": np.full(len(V_GRID), float(n)),
        "n_switched": np.array(k, float),
    }
    return Measurement("switching", data, "sim", np.arange(1, len(V_GRID) + 1), meta or {})


def test_population_probability_is_half_at_threshold_without_spread():
    """p(V = V_th, w = t_ref) = 1 - 2^-1 = 0.5 for every beta (definition of V_th in rram_binary)."""
    cfg = load_preset("rram-binary").config
    p = population_probability(np.array([0.9]), np.array([cfg.t_ref]), cfg, 0.9, 1e-9)
    assert p[0] == pytest.approx(0.5, abs=1e-9)


def test_recovers_rram_binary_set_law(rng):
    model = load_preset("rram-binary")
    r = fit_switching(_simulate(model, 400, rng), model).result
    for name, true in (("v_set", 0.9), ("v0", 0.05), ("beta", 2.0), ("v_set_dtod", 0.05)):
        lo, hi = r.ci(name)
        assert lo <= true <= hi, (name, lo, hi)
    assert r.gof["deviance_p"] > 0.01


def test_coverage_of_switching_intervals():
    """Coverage (issue 8 'must show'): 60 simulated experiments (45 conditions x 100 devices), Wald intervals.

    The threshold v_set and the kinetic slope v0 are well identified: their pooled coverage must be
    >= 0.90. beta and the threshold spread v_set_dtod are partly confounded (both flatten the
    S-curve), and their Wald intervals under-cover: measured offline with 200 experiments (seed 1)
    v_set 0.935, v0 0.925, beta 0.835, v_set_dtod 0.865. Profile intervals (the CLI default) fix
    this: 40 experiments (seed 3) gave 0.975, 0.925, 0.975, 0.975 (too slow for CI: ~5 s per fit).
    """
    model = load_preset("rram-binary")
    truth = np.array([0.9, 0.05, 2.0, 0.05])
    rng = np.random.default_rng(5)
    hits = np.zeros(4)
    n_trials = 60
    for _ in range(n_trials):
        r = fit_switching(_simulate(model, 100, rng), model).result
        hits += (r.ci_low <= truth) & (truth <= r.ci_high)
    coverage = hits / n_trials
    assert coverage[:2].mean() >= 0.90 and coverage[:2].min() >= 0.85, f"coverage v_set, v0, beta, dtod = {coverage}"
    assert coverage[2:].min() >= 0.7, f"coverage v_set, v0, beta, dtod = {coverage}"


def test_reset_transition_sets_reset_fields(rng):
    model = load_preset("rram-binary")
    m = _simulate(model, 100, rng, {"transition": "reset"})
    fit = fit_switching(m, model)
    assert set(fit.updates) == {"v_reset", "v0", "beta", "v_reset_dtod"}


def test_unconstrained_and_bad_metadata(rng):
    model = load_preset("rram-binary")
    m = _simulate(model, 50, rng)
    none = Measurement("switching", {**m.data, "n_switched": np.zeros(len(m))}, "s.csv", m.rows, {})
    with pytest.raises(FitError, match=r"s.csv: column 'n_switched'.*near 0 % or 100 %"):
        fit_switching(none, model)
    with pytest.raises(FitError, match=r"metadata 'transition'.*'set' or 'reset'"):
        fit_switching(Measurement("switching", m.data, "s.csv", m.rows, {"transition": "sideways"}), model)
    with pytest.raises(FitError, match=r"rram_binary"):
        fit_switching(m, load_preset("pcm"))
