"""The "statsmodels" engine: the same models fitted by statsmodels and linearmodels.

`fit_model(..., engine="statsmodels")` builds and checks the design exactly as the default
NumPy engine does (same listwise deletion, same named errors for collinearity and
separation), then hands the arrays to the libraries the design card names:

* logit / probit: `statsmodels.api.Logit` / `Probit`, Newton-Raphson;
* ordered logit / probit: `statsmodels.miscmodels.ordinal_model.OrderedModel(distr="logit"
  / "probit")`, Newton with a numerically differentiated Hessian;
* LPM: `linearmodels.iv.IV2SLS` without endogenous regressors (i.e. OLS).

It returns the same FitResult (same parameter names, Stata's cut-point parametrisation for
the ordered logit, the same standard-error conventions), so margins, tests and tidy output
work unchanged. How the conventions of fit.py are obtained from the libraries:

* "nonrobust": ML: the libraries' inverse Hessian (OIM). LPM: linearmodels "unadjusted"
  with debiased=True (s^2 = SSR/(N-k)).
* "robust": ML: statsmodels "HC0" (plain sandwich) rescaled by N/(N-1) here, because
  statsmodels' "HC1" for ML models uses N/(N-k) while Stata's vce(robust) uses N/(N-1).
  LPM: linearmodels "robust" with debiased=True, which is HC1 (N/(N-k)).
* "cluster": ML: statsmodels "cluster" with use_correction=False, rescaled by G/(G-1)
  here (statsmodels' default correction adds (N-1)/(N-k), which Stata's ML commands do not).
  LPM: linearmodels "clustered" with debiased=True: G/(G-1) * (N-1)/(N-k), as `regress`.
* Ordered models: OrderedModel's thresholds are (cut1, log(cut2 - cut1), ...); the
  covariance of any type is computed for that parametrisation and mapped to the cuts by
  the delta method (exact for a reparametrisation: V_cut = J V J').

Failures are raised as the default engine raises them: a fit that does not converge with
fitted probabilities at 0 or 1 (complete separation, which statsmodels only warns about) is
a PerfectSeparationError naming the regressors with the largest effects (ml.py), not a
ConvergenceError.

Log likelihoods of the null models are the closed forms (intercept-only / thresholds-only
MLEs), not extra fits. This engine exists for cross-checking and for users who want the
reference libraries; it is slower and, at 1,000,000 rows, much heavier in memory than the
default engine (see bench/README.md).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from analysis.errors import ConvergenceError, PerfectSeparationError
from analysis.models.estimation.checks import check_huge
from analysis.models.estimation.design import Design
from analysis.models.estimation.ml import separation_error
from analysis.models.estimation.ordered import ORDERED_LINKS, cut_names
from analysis.models.estimation.result import FitResult

#: Newton stops when no parameter changes by more than this (statsmodels' `tol`).
NEWTON_TOL = 1e-10
OLOGIT_NEWTON_TOL = 1e-8


def fit_prepared(
    *,
    estimator: str,
    design: Design,
    outcome: str,
    model_id: str,
    se_type: str,
    cluster: str | None,
    n_clusters: int | None,
    max_iter: int = 100,
) -> FitResult:
    """Fit a checked design with the reference libraries (see the module docstring)."""
    common = dict(design=design, outcome=outcome, model_id=model_id, se_type=se_type,
                  cluster=cluster, n_clusters=n_clusters)
    if estimator == "lpm":
        return _fit_lpm(**common)
    if estimator in ORDERED_LINKS:
        return _fit_ordered(estimator=estimator, max_iter=max_iter, **common)
    return _fit_binary(link=estimator, max_iter=max_iter, **common)


def _ml_cov_options(design: Design, se_type: str) -> dict:
    """statsmodels cov_type options whose result fit.py's convention rescales."""
    if se_type == "nonrobust":
        return {"cov_type": "nonrobust"}
    if se_type == "robust":
        return {"cov_type": "HC0"}
    return {"cov_type": "cluster",
            "cov_kwds": {"groups": design.groups, "use_correction": False}}


def _ml_cov_scale(design: Design, se_type: str, n_clusters: int | None) -> float:
    """Stata's small-sample factor on top of statsmodels' uncorrected sandwich."""
    if se_type == "robust":
        return design.nobs / (design.nobs - 1.0)
    if se_type == "cluster":
        return n_clusters / (n_clusters - 1.0)
    return 1.0


def _fit_binary(*, link, design, max_iter, outcome, model_id, se_type, cluster,
                n_clusters) -> FitResult:
    import statsmodels.api as sm  # lazy: the default engine never pays for this import
    from statsmodels.tools.sm_exceptions import PerfectSeparationError as SmSeparation

    model_class = sm.Logit if link == "logit" else sm.Probit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence is checked below, by name
            res = model_class(design.y, design.X).fit(
                method="newton", maxiter=max_iter, tol=NEWTON_TOL, disp=0,
                **_ml_cov_options(design, se_type))
    except SmSeparation as exc:
        raise PerfectSeparationError(model_id, f"statsmodels {link}: {exc}",
                                     design.terms) from exc
    b = np.asarray(res.params, dtype=float)
    if not res.mle_retvals.get("converged", False):
        _not_converged(model_id, design, b, f"statsmodels {link}", max_iter)
    cov = np.asarray(res.cov_params(), dtype=float) * _ml_cov_scale(design, se_type, n_clusters)
    cov = (cov + cov.T) / 2.0
    check_huge(model_id, link, design, b, cov)
    n, k = design.X.shape
    ybar = float(design.y.mean())
    llnull = n * (ybar * np.log(ybar) + (1.0 - ybar) * np.log(1.0 - ybar))
    ll = float(res.llf)
    names = list(design.terms)
    return FitResult(
        model_id=model_id, estimator=link, outcome=outcome, terms=design.terms,
        params=pd.Series(b, index=names), cov=pd.DataFrame(cov, index=names, columns=names),
        se_type=se_type, nobs=n, llf=ll, llnull=llnull, pseudo_r2=1.0 - ll / llnull,
        aic=-2 * ll + 2 * k, bic=-2 * ll + k * np.log(n), converged=True,
        n_clusters=n_clusters, iterations=int(res.mle_retvals.get("iterations", 0)),
        design=design, cluster=cluster)


def _fit_lpm(*, design, outcome, model_id, se_type, cluster, n_clusters) -> FitResult:
    from linearmodels.iv import IV2SLS  # lazy, as above

    options: dict = {"cov_type": {"nonrobust": "unadjusted", "robust": "robust",
                                  "cluster": "clustered"}[se_type], "debiased": True}
    if se_type == "cluster":
        options["clusters"] = design.groups
    res = IV2SLS(design.y, design.X, None, None).fit(**options)
    n, k = design.X.shape
    b = np.asarray(res.params, dtype=float)
    cov = np.asarray(res.cov, dtype=float)
    cov = (cov + cov.T) / 2.0
    resid = design.y - design.X @ b
    ssr = float(resid @ resid)
    tss = float(((design.y - design.y.mean()) ** 2).sum())
    # Gaussian log likelihoods at the ML variance, as fit.py and statsmodels OLS report.
    llf = -n / 2.0 * (np.log(2 * np.pi) + np.log(ssr / n) + 1.0)
    llnull = -n / 2.0 * (np.log(2 * np.pi) + np.log(tss / n) + 1.0)
    df_resid = float(n_clusters - 1) if se_type == "cluster" else float(n - k)
    names = list(design.terms)
    return FitResult(
        model_id=model_id, estimator="lpm", outcome=outcome, terms=design.terms,
        params=pd.Series(b, index=names), cov=pd.DataFrame(cov, index=names, columns=names),
        se_type=se_type, nobs=n, llf=llf, llnull=llnull, pseudo_r2=float("nan"),
        aic=-2 * llf + 2 * k, bic=-2 * llf + k * np.log(n), converged=True,
        n_clusters=n_clusters, iterations=0, design=design, cluster=cluster,
        r2=float(res.rsquared), df_resid=df_resid)


def _threshold_jacobian(raw_thresholds: np.ndarray) -> np.ndarray:
    """d cuts / d (cut1, log increments): cut_j = cut1 + sum_{i<=j} exp(raw_i)."""
    m = raw_thresholds.size
    jac = np.zeros((m, m))
    jac[:, 0] = 1.0
    for j in range(1, m):
        jac[j, 1: j + 1] = np.exp(raw_thresholds[1: j + 1])
    return jac


def _not_converged(model_id: str, design: Design, theta: np.ndarray, what: str,
                   max_iter: int) -> None:
    """Raise what the default engine raises when Newton does not converge: separation when
    fitted probabilities reach 0 or 1, else ConvergenceError."""
    xb = design.X @ theta[: design.X.shape[1]]
    if np.isfinite(xb).all() and np.abs(xb).max() > 30:
        raise separation_error(model_id, design, theta, xb, f"{what}: no convergence in "
                               f"{max_iter} iterations with fitted probabilities at 0 or 1")
    raise ConvergenceError(model_id, f"{what} did not converge in {max_iter} iterations",
                           design.terms)


def _fit_ordered(*, estimator, design, max_iter, outcome, model_id, se_type, cluster,
                 n_clusters) -> FitResult:
    from statsmodels.miscmodels.ordinal_model import OrderedModel  # lazy, as above

    categories, cat = np.unique(design.y, return_inverse=True)
    n, k = design.X.shape
    m = categories.size - 1
    model = OrderedModel(cat.astype(float), design.X, distr=ORDERED_LINKS[estimator])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Newton with a numerically differentiated Hessian: its noise stops
        # the steps near 1e-9, hence the looser tolerance than for Logit/Probit.
        res = model.fit(method="newton", maxiter=max_iter, tol=OLOGIT_NEWTON_TOL, disp=0,
                        **_ml_cov_options(design, se_type))
    raw = np.asarray(res.params, dtype=float)
    if not res.mle_retvals.get("converged", False):
        _not_converged(model_id, design, raw, "statsmodels OrderedModel", max_iter)
    jac = np.eye(k + m)
    jac[k:, k:] = _threshold_jacobian(raw[k:])
    theta = np.concatenate((raw[:k], np.cumsum(np.concatenate((raw[k:k + 1],
                                                               np.exp(raw[k + 1:]))))))
    cov = jac @ np.asarray(res.cov_params(), dtype=float) @ jac.T
    cov = cov * _ml_cov_scale(design, se_type, n_clusters)
    cov = (cov + cov.T) / 2.0
    check_huge(model_id, estimator, design, theta[:k], cov)
    counts = np.bincount(cat)
    llnull = float((counts * np.log(counts / n)).sum())
    ll = float(res.llf)
    cut_terms = cut_names(categories)
    names = list(design.terms + cut_terms)
    p = k + m
    return FitResult(
        model_id=model_id, estimator=estimator, outcome=outcome, terms=design.terms,
        params=pd.Series(theta, index=names), cov=pd.DataFrame(cov, index=names, columns=names),
        se_type=se_type, nobs=n, llf=ll, llnull=llnull, pseudo_r2=1.0 - ll / llnull,
        aic=-2 * ll + 2 * p, bic=-2 * ll + p * np.log(n), converged=True,
        n_clusters=n_clusters, iterations=int(res.mle_retvals.get("iterations", 0)),
        design=design, cluster=cluster, cut_terms=cut_terms,
        categories=tuple(float(c) for c in categories))
