"""Pareto front helper: brute-force check, directions, ties, NaN; grouping over seeds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aimc_sim.errors import ConfigError
from aimc_sim.report.stats import mean_ci
from aimc_sim.sweep import pareto_mask


def brute_force(v: np.ndarray, maximize: list[bool]) -> np.ndarray:
    c = np.where(maximize, -v, v)
    out = []
    for i in range(len(c)):
        dominated = any(np.all(c[j] <= c[i]) and np.any(c[j] < c[i]) for j in range(len(c)) if j != i)
        out.append(not dominated)
    return np.array(out)


def test_small_example_accuracy_max_energy_min():
    v = np.array([[0.9, 5.0], [0.8, 1.0], [0.85, 6.0], [0.9, 5.0], [0.7, 1.0], [0.95, 9.0]])
    # (0.85, 6) is dominated by (0.9, 5); (0.7, 1) by (0.8, 1); the two (0.9, 5) rows tie and both stay
    assert pareto_mask(v, [True, False]).tolist() == [True, True, False, True, False, True]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 25).flatmap(
        lambda n: st.lists(st.lists(st.integers(0, 4), min_size=3, max_size=3), min_size=n, max_size=n)
    ),
    st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_matches_brute_force(rows, maximize):
    v = np.array(rows, dtype=float)
    assert pareto_mask(v, maximize).tolist() == brute_force(v, maximize).tolist()


def test_nan_rows_are_never_on_the_front_and_shapes_are_checked():
    v = np.array([[np.nan, 0.0], [1.0, 1.0]])
    assert pareto_mask(v, [True, False]).tolist() == [False, True]
    with pytest.raises(ConfigError, match="maximize: must give one direction per objective"):
        pareto_mask(v, [True])
    with pytest.raises(ConfigError, match="values: must be a 2-D array"):
        pareto_mask(np.zeros(3), [True])


def test_mean_ci_matches_the_t_interval():
    ci = mean_ci([1.0, 2.0, 3.0, 4.0])
    # t_{0.975, 3} = 3.182446305; s = sqrt(5/3)
    assert ci.mean == 2.5 and ci.n == 4
    assert ci.half_width == pytest.approx(3.182446305 * np.sqrt(5 / 3) / 2, rel=1e-8)
    assert np.isnan(mean_ci([1.0]).half_width) and mean_ci([]).n == 0
