"""Generic maximum-likelihood fitting with confidence intervals and goodness of fit.

A model hands :func:`fit_mle` a negative log-likelihood ``nll(theta)`` over named
:class:`Param` s. Positive parameters are optimised on a log scale (``log=True``), which keeps
them positive and makes their likelihood closer to quadratic. Confidence intervals:

* ``"wald"``: from the observed Fisher information (inverse Hessian of the NLL at the optimum,
  by central differences) on the optimisation scale, mapped back (asymmetric for log
  parameters). Cheap; used in coverage loops.
* ``"profile"``: the set where the profile NLL rises by ``chi2_1(level)/2`` (Wilks); each
  bound is found by root finding with the other parameters re-optimised.
* ``"bootstrap"``: parametric bootstrap percentiles, given a simulator and a refit function
  (:func:`bootstrap_ci`).

References: Pawitan, *In All Likelihood* (OUP 2001), ch. 2-3 and 9 (Wald and profile intervals);
Efron & Tibshirani, *An Introduction to the Bootstrap* (1993), ch. 13 (percentile intervals).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from calibration.errors import FitError
from device_models.schema import ConfigError


@dataclass(frozen=True)
class Param:
    """A fitted parameter: start value, bounds (natural scale), log-scale flag, SI unit and typical magnitude."""

    name: str
    init: float
    lower: float = -math.inf
    upper: float = math.inf
    log: bool = False
    unit: str = ""
    typical: float = 0.0

    @property
    def scale(self) -> float:
        """Linear parameters are optimised as value/scale (``typical``, else |init|) so SI-sized values are O(1)."""
        return abs(self.typical) or abs(self.init) or 1.0

    def to_u(self, v: float) -> float:
        return math.log(v) if self.log else v / self.scale

    def from_u(self, u: float) -> float:
        return math.exp(u) if self.log else u * self.scale

    def u_bounds(self) -> tuple[float | None, float | None]:
        lo, hi = self.lower, self.upper
        if self.log:
            lo = math.log(lo) if lo > 0 else -math.inf
            hi = math.log(hi) if math.isfinite(hi) else math.inf
        else:
            lo, hi = lo / self.scale, hi / self.scale
        return (lo if math.isfinite(lo) else None, hi if math.isfinite(hi) else None)


@dataclass(frozen=True)
class FitResult:
    """Estimates, ``level`` confidence intervals, NLL at the optimum and goodness-of-fit statistics."""

    params: tuple[Param, ...]
    values: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    level: float
    ci_method: str
    cov_u: np.ndarray
    nll: float
    n_obs: int
    gof: dict[str, float]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def __getitem__(self, name: str) -> float:
        return float(self.values[self.names.index(name)])

    def ci(self, name: str) -> tuple[float, float]:
        i = self.names.index(name)
        return float(self.ci_low[i]), float(self.ci_high[i])

    def as_dict(self) -> dict[str, float]:
        return {n: float(v) for n, v in zip(self.names, self.values)}

    @property
    def aic(self) -> float:
        return 2 * self.nll + 2 * len(self.params)

    @property
    def bic(self) -> float:
        return 2 * self.nll + len(self.params) * math.log(self.n_obs)

    def table(self) -> str:
        """Plain-text table of estimates, intervals and fit statistics."""
        pct = f"{100 * self.level:g}%"
        lines = [f"{'parameter':<14}{'estimate':>14}{pct + ' CI low':>14}{pct + ' CI high':>14}  unit"]
        for p, v, lo, hi in zip(self.params, self.values, self.ci_low, self.ci_high):
            lines.append(f"{p.name:<14}{v:>14.6g}{lo:>14.6g}{hi:>14.6g}  {p.unit}")
        lines.append(f"CI method: {self.ci_method}; n = {self.n_obs}; NLL = {self.nll:.6g}; AIC = {self.aic:.6g}")
        lines += [f"{k} = {v:.4g}" for k, v in self.gof.items()]
        return "\n".join(lines)


NLL = Callable[[np.ndarray], float]


def _u_objective(nll: NLL, params: Sequence[Param]) -> Callable[[np.ndarray], float]:
    def f(u: np.ndarray) -> float:
        try:
            theta = np.array([p.from_u(x) for p, x in zip(params, u)])
            with np.errstate(all="ignore"):
                val = float(nll(theta))
        except (ConfigError, OverflowError):  # the model rejects these parameter values
            return 1e300
        return val if math.isfinite(val) else 1e300

    return f


def _minimise(
    f: Callable[[np.ndarray], float], u0: np.ndarray, bounds: list, robust: bool = True
) -> optimize.OptimizeResult:
    """Nelder-Mead to get near the optimum robustly (``robust``), then a bounded quasi-Newton polish."""
    clipped = np.array(
        [
            np.clip(x, lo if lo is not None else -np.inf, hi if hi is not None else np.inf)
            for x, (lo, hi) in zip(u0, bounds)
        ]
    )
    if not robust:
        return optimize.minimize(f, clipped, method="L-BFGS-B", bounds=bounds, options={"maxiter": 2000, "ftol": 1e-14})
    nm = optimize.minimize(
        f,
        clipped,
        method="Nelder-Mead",
        bounds=bounds,
        options={"maxiter": 4000 * len(u0), "xatol": 1e-8, "fatol": 1e-10},
    )
    return optimize.minimize(f, nm.x, method="L-BFGS-B", bounds=bounds, options={"maxiter": 2000})


def hessian(f: Callable[[np.ndarray], float], u: np.ndarray, rel_step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``u``."""
    k = len(u)
    h = rel_step * np.maximum(1.0, np.abs(u))
    hess = np.empty((k, k))
    f0 = f(u)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        hess[i, i] = (f(u + ei) - 2 * f0 + f(u - ei)) / h[i] ** 2
        for j in range(i + 1, k):
            ej = np.zeros(k)
            ej[j] = h[j]
            hess[i, j] = hess[j, i] = (f(u + ei + ej) - f(u + ei - ej) - f(u - ei + ej) + f(u - ei - ej)) / (
                4 * h[i] * h[j]
            )
    return hess


def _covariance(hess: np.ndarray, params: Sequence[Param]) -> np.ndarray:
    if not np.isfinite(hess).all():
        bad = params[int(np.argwhere(~np.isfinite(hess))[0][0])].name
        raise FitError(
            bad, "the likelihood is not finite around the optimum (parameter at a bound?); fix it or add data"
        )
    w, v = np.linalg.eigh(0.5 * (hess + hess.T))
    if w.min() <= 1e-7 * abs(w.max()):
        worst = params[int(np.argmax(np.abs(v[:, int(np.argmin(w))])))].name
        raise FitError(
            worst, "not identifiable from these data (flat likelihood); add data covering its effect or fix it"
        )
    return (v / w) @ v.T


def fit_mle(
    nll: NLL,
    params: Sequence[Param],
    n_obs: int,
    *,
    level: float = 0.95,
    ci: str = "wald",
    gof: Callable[[np.ndarray], dict[str, float]] | None = None,
    robust: bool = True,
) -> FitResult:
    """Minimise ``nll`` over ``params``; return estimates with ``level`` CIs (``"wald"`` or ``"profile"``).

    ``gof(theta)`` may return goodness-of-fit statistics to store with the result. ``robust=False``
    skips the Nelder-Mead stage (for expensive likelihoods with good start values).
    """
    params = tuple(params)
    if ci not in ("wald", "profile"):
        raise FitError("ci", f"must be one of 'wald', 'profile', got {ci!r}")
    if not 0 < level < 1:
        raise FitError("level", f"must be in (0, 1), got {level!r}")
    if n_obs <= len(params):
        raise FitError("data", f"too few points: {n_obs} observations for {len(params)} parameters")
    f = _u_objective(nll, params)
    bounds = [p.u_bounds() for p in params]
    u0 = np.array([p.to_u(p.init) for p in params])
    if f(u0) >= 1e300:
        raise FitError("init", "the likelihood is not finite at the start values")
    res = _minimise(f, u0, bounds, robust)
    u_hat = res.x
    cov_u = _covariance(hessian(f, u_hat), params)
    z = stats.norm.ppf(0.5 + level / 2)
    se_u = np.sqrt(np.diag(cov_u))
    if ci == "wald":
        lo_u, hi_u = u_hat - z * se_u, u_hat + z * se_u
    else:
        lo_u, hi_u = _profile_bounds(f, u_hat, float(res.fun), cov_u, bounds, stats.chi2.ppf(level, 1) / 2)
    values = np.array([p.from_u(x) for p, x in zip(params, u_hat)])
    lo = np.array([p.from_u(x) for p, x in zip(params, lo_u)])
    hi = np.array([p.from_u(x) for p, x in zip(params, hi_u)])
    return FitResult(params, values, lo, hi, level, ci, cov_u, float(res.fun), n_obs, gof(values) if gof else {})


def _profile_bounds(
    f: Callable[[np.ndarray], float],
    u_hat: np.ndarray,
    f_min: float,
    cov_u: np.ndarray,
    bounds: list,
    drop: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Profile-likelihood interval of each parameter on the optimisation scale.

    The nuisance parameters are re-optimised from the deterministic start given by the quadratic
    approximation (their conditional mean under ``cov_u``), so the profile is a function of u_i alone.
    """
    k = len(u_hat)
    se_u = np.sqrt(np.diag(cov_u))
    lo_out, hi_out = np.empty(k), np.empty(k)
    for i in range(k):
        others = [j for j in range(k) if j != i]
        slope = cov_u[others, i] / cov_u[i, i]
        sub_bounds = [bounds[j] for j in others]

        def excess(
            ui: float, i: int = i, others: list = others, slope: np.ndarray = slope, sb: list = sub_bounds
        ) -> float:
            u = u_hat.copy()
            u[i] = ui
            if others:

                def g(rest: np.ndarray) -> float:
                    u[others] = rest
                    return f(u)

                x0 = u_hat[others] + slope * (ui - u_hat[i])
                x0 = np.array(
                    [
                        np.clip(x, lo if lo is not None else -np.inf, hi if hi is not None else np.inf)
                        for x, (lo, hi) in zip(x0, sb)
                    ]
                )
                r = _minimise(g, x0, sb)
                val = float(min(r.fun, g(x0)))
            else:
                val = f(u)
            return val - f_min - drop

        for side, out in ((-1, lo_out), (+1, hi_out)):
            limit = bounds[i][0] if side < 0 else bounds[i][1]
            step = se_u[i] * math.sqrt(2 * drop)
            inner, outer = u_hat[i], u_hat[i] + side * step
            for _ in range(30):
                if limit is not None and side * (outer - limit) >= 0:
                    outer = limit
                    break
                if excess(outer) > 0:
                    break
                inner, outer = outer, outer + side * step
                step *= 2
            if excess(outer) <= 0:
                out[i] = outer  # the interval reaches the parameter bound
            else:
                out[i] = optimize.brentq(excess, inner, outer, xtol=1e-8 * max(1.0, abs(u_hat[i])))
    return lo_out, hi_out


def bootstrap_ci(
    result: FitResult,
    simulate: Callable[[np.ndarray, np.random.Generator], object],
    refit: Callable[[object], np.ndarray],
    rng: np.random.Generator,
    n_boot: int = 200,
) -> FitResult:
    """Parametric-bootstrap percentile intervals: simulate from the fit, refit, take quantiles.

    ``simulate(theta, rng)`` returns a synthetic data set like the measured one; ``refit(data)``
    returns the parameter vector fitted to it. Failed refits are dropped (at most 10 %).
    """
    draws = []
    for _ in range(n_boot):
        try:
            draws.append(refit(simulate(result.values, rng)))
        except FitError:
            continue
    if len(draws) < 0.9 * n_boot:
        raise FitError("bootstrap", f"only {len(draws)} of {n_boot} bootstrap refits converged")
    draws = np.asarray(draws)
    a = (1 - result.level) / 2
    lo, hi = np.quantile(draws, [a, 1 - a], axis=0)
    return FitResult(
        result.params,
        result.values,
        lo,
        hi,
        result.level,
        f"bootstrap ({len(draws)} refits)",
        result.cov_u,
        result.nll,
        result.n_obs,
        result.gof,
    )


def gaussian_gof(z: np.ndarray, n_params: int) -> dict[str, float]:
    """Fit statistics of standardised residuals ``z`` (N(0,1) if the model is right)."""
    z = np.asarray(z, dtype=float)
    dof = max(len(z) - n_params, 1)
    chi2 = float(np.sum(z**2))
    ks = stats.kstest(z, "norm")
    return {
        "chi2_per_dof": chi2 / dof,
        "chi2_p": float(stats.chi2.sf(chi2, dof)),
        "ks_stat": float(ks.statistic),
        "ks_p": float(ks.pvalue),
    }


def binomial_gof(k: np.ndarray, n: np.ndarray, p: np.ndarray, n_params: int) -> dict[str, float]:
    """Deviance and Pearson statistics of binomial counts ``k`` of ``n`` with fitted probability ``p``."""
    p = np.clip(p, 1e-12, 1 - 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(k > 0, k * np.log(k / (n * p)), 0.0)
        t2 = np.where(n - k > 0, (n - k) * np.log((n - k) / (n * (1 - p))), 0.0)
    dev = float(2 * np.sum(t1 + t2))
    pearson = float(np.sum((k - n * p) ** 2 / (n * p * (1 - p))))
    dof = max(len(k) - n_params, 1)
    return {
        "deviance_per_dof": dev / dof,
        "deviance_p": float(stats.chi2.sf(dev, dof)),
        "pearson_chi2_p": float(stats.chi2.sf(pearson, dof)),
    }
