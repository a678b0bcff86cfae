"""Generic maximum-likelihood machinery of calibration (issue 8): estimates, Wald/profile/bootstrap CIs, GOF."""

import numpy as np
import pytest
from scipy import stats

from calibration.errors import FitError
from calibration.mle import Param, binomial_gof, bootstrap_ci, fit_mle, gaussian_gof


def _normal_nll(x):
    def nll(th):
        m, s = th
        return 0.5 * np.sum(((x - m) / s) ** 2) + len(x) * np.log(s)

    return nll


PARAMS = [Param("mu", 0.0), Param("sigma", 1.0, lower=0.0, log=True)]


def test_normal_mle_matches_closed_form(rng):
    x = rng.normal(3.0, 0.7, 400)
    r = fit_mle(_normal_nll(x), PARAMS, len(x))
    assert r["mu"] == pytest.approx(x.mean(), abs=1e-6)
    assert r["sigma"] == pytest.approx(x.std(), rel=1e-5)
    lo, hi = r.ci("mu")
    half = stats.norm.ppf(0.975) * x.std() / np.sqrt(len(x))  # Wald interval of a normal mean
    assert (hi - lo) / 2 == pytest.approx(half, rel=1e-3)


def test_profile_interval_of_sigma_matches_likelihood_ratio(rng):
    """Profile bounds of sigma satisfy 2*(NLL_profile - NLL_min) = chi2_1(0.95) exactly (the profile over mu is x̄)."""
    x = rng.normal(0.0, 2.0, 50)
    r = fit_mle(_normal_nll(x), PARAMS, len(x), ci="profile")
    nll = _normal_nll(x)
    for bound in r.ci("sigma"):
        assert 2 * (nll(np.array([x.mean(), bound])) - r.nll) == pytest.approx(stats.chi2.ppf(0.95, 1), abs=1e-5)
    lo, hi = r.ci("sigma")
    assert hi - r["sigma"] > r["sigma"] - lo  # the sigma interval is right-skewed


def test_bootstrap_interval_close_to_wald(rng):
    x = rng.normal(1.0, 0.5, 200)
    r = fit_mle(_normal_nll(x), PARAMS, len(x))
    b = bootstrap_ci(
        r,
        simulate=lambda th, g: g.normal(th[0], th[1], len(x)),
        refit=lambda d: np.array([d.mean(), d.std()]),
        rng=rng,
        n_boot=400,
    )
    assert b.ci_method.startswith("bootstrap")
    np.testing.assert_allclose(b.ci_low, r.ci_low, rtol=0.05)
    np.testing.assert_allclose(b.ci_high, r.ci_high, rtol=0.05)


def test_unidentifiable_parameter_is_named(rng):
    x = rng.normal(0, 1, 50)

    def nll(th):  # only a + b enters: b is not identifiable separately
        return 0.5 * np.sum((x - th[0] - th[1]) ** 2)

    with pytest.raises(FitError, match=r"not identifiable"):
        fit_mle(nll, [Param("a", 0.0), Param("b", 0.0)], len(x))


def test_too_few_observations_and_bad_options(rng):
    x = rng.normal(0, 1, 2)
    with pytest.raises(FitError, match=r"too few points: 2 observations for 2 parameters"):
        fit_mle(_normal_nll(x), PARAMS, len(x))
    with pytest.raises(FitError, match=r"ci: must be one of"):
        fit_mle(_normal_nll(x), PARAMS, 10, ci="magic")


def test_gof_statistics_detect_a_wrong_model(rng):
    good = gaussian_gof(rng.normal(size=500), 2)
    bad = gaussian_gof(2.0 * rng.normal(size=500), 2)
    assert good["chi2_p"] > 0.01 and good["ks_p"] > 0.01
    assert bad["chi2_p"] < 1e-6 and bad["chi2_per_dof"] > 3
    n = np.full(20, 100)
    p = np.linspace(0.1, 0.9, 20)
    k = rng.binomial(n, p)
    assert binomial_gof(k, n, p, 2)["deviance_p"] > 0.01
    assert binomial_gof(k, n, np.clip(p + 0.2, 0, 0.99), 2)["deviance_p"] < 1e-6
