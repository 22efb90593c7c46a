"""Fitting logit, probit, linear probability and ordered logit / probit models.

All five estimators run on the same chunked NumPy core (Newton-Raphson with step halving
for the ML models, normal equations with one refinement step for the LPM; the ordered
models are in ordered.py, the shared ML machinery in ml.py). statsmodels / linearmodels are
the references in the tests (agreement to ~1e-8), but are not used here because their
per-fit overhead (rank SVD, pandas wrapping, numerical Hessians for ordered models)
dominates on large samples.

Standard-error conventions (`se_type`), matching Stata:

* "nonrobust": ML models: inverse of the observed information (Stata's default OIM);
  LPM: s^2 (X'X)^-1 with s^2 = SSR/(N-k).
* "robust": ML models: sandwich H^-1 (sum_i s_i s_i') H^-1 times N/(N-1)
  (Stata `vce(robust)`); LPM: HC1, i.e. HC0 times N/(N-k).
* "cluster": scores summed within clusters; ML models scaled by G/(G-1)
  (Stata `vce(cluster g)`); LPM scaled by G/(G-1) * (N-1)/(N-k) (Stata `regress`).
* "survey": Taylor-linearised variance for a stratified, clustered sample with a
  finite-population correction (Stata `svy:`, R `survey::svyglm`), from the same weighted
  scores and bread (survey.py); inference then uses t with the design degrees of freedom
  (PSUs - strata) for every estimator.

Weights (`weights`, `weight_type`): "pweight" (sampling weights, Stata `[pw=]`: needs
"robust", "cluster" or "survey") or "fweight" (frequency weights, Stata `[fw=]`: any
`se_type` but "survey"; N is the sum of the weights, and every number equals the fit on
the data with each row repeated that many times). See ml.py for how each kind enters the
covariance. A survey design takes sampling weights only, as Stata's `svyset` does.

Perfect prediction (`perfect_prediction`, logit / probit): "drop" (default) drops a 0/1
regressor that predicts the outcome perfectly and the observations it determines, as
Stata does (perfect.py, recorded in FitResult.perfect_prediction); "error" refuses the
model (PerfectSeparationError). Complete separation by a continuous regressor is always
an error naming it. Ordered models always refuse (Stata's ologit has no such rule).

Otherwise ML inference uses the normal distribution (z); LPM inference uses t with N-k
degrees of freedom, or G-1 with clustering (as Stata's `regress`), recorded in
FitResult.df_resid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import special

from analysis.errors import ConvergenceError, SpecificationError
from analysis.models.estimation import survey as survey_design
from analysis.models.estimation.checks import check_huge
from analysis.models.estimation.design import (
    WEIGHT_TYPES,
    Design,
    build_design,
    check_outcome,
    check_regressors,
    check_separation,
    inverse_psd,
    solve_psd,
    weighted_gram,
)
from analysis.models.estimation.ml import (
    STEP_TOLERANCE,
    largest,
    line_search,
    ml_covariance,
    newton_step,
    separation_error,
    survey_covariance,
    weighted_meat,
)
from analysis.models.estimation.ordered import ORDERED_LINKS, fit_ordered
from analysis.models.estimation.perfect import PERFECT_PREDICTION, drop_perfect_predictors
from analysis.models.estimation.result import FitResult

ESTIMATORS = ("logit", "probit", "lpm", "ologit", "oprobit")
ORDERED_ESTIMATORS = tuple(ORDERED_LINKS)
SE_TYPES = ("nonrobust", "robust", "cluster", "survey")
#: "numpy": the chunked NumPy core of this module (default, used by the pipeline);
#: "statsmodels": statsmodels / linearmodels fits with the same conventions (sm_engine.py).
ENGINES = ("numpy", "statsmodels")
_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def _check_options(model_id, estimator, se_type, engine, cluster, weights, weight_type,
                   perfect_prediction, survey) -> None:
    """Named errors for option values fit_model does not know or cannot combine."""
    for value, allowed, what in ((estimator, ESTIMATORS, "estimator"),
                                 (se_type, SE_TYPES, "se_type"), (engine, ENGINES, "engine"),
                                 (weight_type, WEIGHT_TYPES, "weight_type"),
                                 (perfect_prediction, PERFECT_PREDICTION,
                                  "perfect_prediction")):
        if value not in allowed:
            raise SpecificationError(model_id, f"unknown {what} {value!r}; use {allowed}")
    if (se_type == "cluster") != (cluster is not None):
        raise SpecificationError(
            model_id, "se_type='cluster' needs a cluster column, and a cluster column needs "
            f"se_type='cluster' (got se_type={se_type!r}, cluster={cluster!r})")
    if (se_type == "survey") != (survey is not None):
        raise SpecificationError(
            model_id, "se_type='survey' needs a survey design, and a survey design needs "
            f"se_type='survey' (got se_type={se_type!r}, survey={survey!r})")
    if survey is not None and engine != "numpy":
        raise SpecificationError(
            model_id, f"survey designs are supported by the numpy engine only, not {engine!r}")
    if survey is not None and weights is not None and weight_type != "pweight":
        # Stata: svyset takes pweights only (fweights are not a sampling design)
        raise SpecificationError(
            model_id, f"a survey design takes sampling weights (pweights) only, not "
            f"{weight_type}s ({weights!r}), as Stata's svyset", [weights])
    if weights is not None and weight_type == "pweight" and se_type == "nonrobust":
        raise SpecificationError(
            model_id, f"sampling weights ({weights!r}) need se_type 'robust' or 'cluster': "
            "the inverse information is not a valid variance with pweights", [weights])
    if weights is not None and engine != "numpy":
        raise SpecificationError(
            model_id, f"weights are supported by the numpy engine only, not {engine!r}",
            [weights])


def fit_model(
    data: pd.DataFrame,
    outcome: str,
    regressors: Sequence[str],
    *,
    estimator: str = "logit",
    se_type: str = "robust",
    cluster: str | None = None,
    model_id: str = "model",
    max_iter: int = 100,
    check_separation_first: bool = True,
    engine: str = "numpy",
    weights: str | None = None,
    weight_type: str = "pweight",
    perfect_prediction: str = "drop",
    survey: survey_design.SurveyDesign | None = None,
) -> FitResult:
    """Fit one model of `outcome` on `regressors` (numeric columns, dummies already built).

    estimator: "logit", "probit", "lpm" (linear probability model, OLS), "ologit" or
    "oprobit" (ordered logit / probit on the sorted distinct outcome values, Stata's
    cut-point parametrisation). A constant "const" is appended to the regressors except
    for the ordered models. Rows with a missing outcome, regressor, cluster or weight are
    dropped (listwise).
    se_type: "nonrobust", "robust" (default), "cluster" (needs `cluster`, a column name) or
    "survey" (needs `survey`); see the module docstring for the exact small-sample scalings.
    engine: "numpy" (default) or "statsmodels" (statsmodels Logit/Probit/OrderedModel and
    linearmodels OLS, same design checks, same FitResult and SE conventions; sm_engine.py).
    weights: a weight column of kind `weight_type` ("pweight" or "fweight", see the module
    docstring); numpy engine only.
    perfect_prediction: "drop" (Stata's rule) or "error", see the module docstring.
    survey: the strata / PSU / fpc columns of a survey design, with se_type="survey"
    (design-based SEs as Stata `svy:`; `weights` are the design's sampling weights, which
    must be pweights).
    Raises SpecificationError, EmptyCellError, CollinearityError, PerfectSeparationError or
    ConvergenceError (all EstimationError), each naming `model_id` and the offending terms.
    """
    _check_options(model_id, estimator, se_type, engine, cluster, weights, weight_type,
                   perfect_prediction, survey)
    ordered = estimator in ORDERED_ESTIMATORS
    design = build_design(
        data, outcome, regressors, add_constant=not ordered, cluster=cluster,
        model_id=model_id, weights=weights, weight_type=weight_type, survey=survey)
    check_outcome(design, outcome, estimator, model_id)
    dropped = ()
    if estimator in ("logit", "probit") and perfect_prediction == "drop":
        design, dropped = drop_perfect_predictors(design, outcome, model_id)
    gram = check_regressors(design, model_id, implicit_constant=ordered)
    if estimator != "lpm" and check_separation_first:
        check_separation(design, outcome, model_id)
    n_clusters = None
    if design.groups is not None:
        n_clusters = int(design.groups.max()) + 1
        if n_clusters < 2:
            raise SpecificationError(
                model_id, f"cluster column {cluster!r} has a single cluster", [cluster])

    common = dict(design=design, outcome=outcome, model_id=model_id, se_type=se_type,
                  cluster=cluster, n_clusters=n_clusters)
    if engine == "statsmodels":
        # Imported here so the default engine never imports statsmodels.
        from analysis.models.estimation import sm_engine
        fit = sm_engine.fit_prepared(estimator=estimator, max_iter=max_iter, **common)
    elif estimator == "lpm":
        fit = _fit_lpm(gram=gram, **common)
    elif ordered:
        fit = fit_ordered(estimator=estimator, max_iter=max_iter, **common)
    else:
        fit = _fit_binary(link=estimator, gram=gram, max_iter=max_iter, **common)
    fit = replace(fit, perfect_prediction=dropped) if dropped else fit
    return _with_survey(fit, survey)


def _with_survey(fit: FitResult, survey: survey_design.SurveyDesign | None) -> FitResult:
    """A design-based fit: t inference with the design degrees of freedom, and the design
    facts for the table notes (Stata svy: reports t with PSUs - strata df for every model)."""
    arrays = fit.design.survey
    if survey is None or arrays is None:
        return fit
    return replace(fit, df_resid=float(arrays.df),
                   survey=survey_design.summary(survey, arrays, fit.design.weights, fit.nobs))


def refit_coefficients(fit: FitResult, rows: np.ndarray, *, max_iter: int = 100
                       ) -> tuple[Design, np.ndarray]:
    """Index coefficients of `fit`'s model re-estimated on rows `rows` of its design.

    For resampling (bootstrap replications): the same design checks as fit_model (constant
    or collinear regressors, separation), Newton started at `fit`'s estimates, and no
    covariance or FitResult, which would cost more than the fit itself at survey sizes.
    Returns the resampled design (for the marginal effects) and the coefficients; raises
    the same EstimationError subclasses as fit_model.
    """
    design = fit.design.take(rows)
    model_id = fit.model_id
    check_outcome(design, fit.outcome, fit.estimator, model_id)
    gram = check_regressors(design, model_id,
                            implicit_constant=fit.estimator in ORDERED_ESTIMATORS)
    if fit.estimator == "lpm":
        return design, _fit_lpm(design=design, gram=gram, outcome=fit.outcome,
                                model_id=model_id, se_type="nonrobust", cluster=None,
                                n_clusters=None).beta
    check_separation(design, fit.outcome, model_id)
    if fit.estimator in ORDERED_ESTIMATORS:
        return design, fit_ordered(estimator=fit.estimator, design=design, max_iter=max_iter,
                                   outcome=fit.outcome, model_id=model_id,
                                   se_type="nonrobust", cluster=None, n_clusters=None).beta
    start = fit.beta.copy()
    beta, *_ = _newton_binary(fit.estimator, design, start, None, max_iter, model_id)
    check_huge(model_id, fit.estimator, design, beta)
    return design, beta


def fit_logit(data: pd.DataFrame, outcome: str, regressors: Sequence[str], **kw) -> FitResult:
    """fit_model(..., estimator="logit")."""
    return fit_model(data, outcome, regressors, estimator="logit", **kw)


def fit_probit(data: pd.DataFrame, outcome: str, regressors: Sequence[str], **kw) -> FitResult:
    """fit_model(..., estimator="probit")."""
    return fit_model(data, outcome, regressors, estimator="probit", **kw)


def fit_lpm(data: pd.DataFrame, outcome: str, regressors: Sequence[str], **kw) -> FitResult:
    """fit_model(..., estimator="lpm")."""
    return fit_model(data, outcome, regressors, estimator="lpm", **kw)


def fit_ologit(data: pd.DataFrame, outcome: str, regressors: Sequence[str], **kw) -> FitResult:
    """fit_model(..., estimator="ologit")."""
    return fit_model(data, outcome, regressors, estimator="ologit", **kw)


def fit_oprobit(data: pd.DataFrame, outcome: str, regressors: Sequence[str], **kw) -> FitResult:
    """fit_model(..., estimator="oprobit")."""
    return fit_model(data, outcome, regressors, estimator="oprobit", **kw)


# ------------------------------------------------------------------ binary ML models


def binary_loglik(link: str, xb: np.ndarray, y: np.ndarray,
                  weights: np.ndarray | None = None) -> float:
    """(Weighted) log likelihood of a logit/probit model at linear index xb."""
    terms = binary_loglik_terms(link, xb, y)
    return float(terms.sum() if weights is None else weights @ terms)


def binary_loglik_terms(link: str, xb: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-observation log likelihood of a logit/probit model (xb may be n x R with y
    broadcast as n x 1: one column per bootstrap replication)."""
    if link == "logit":
        # log(1 + e^xb) = max(xb, 0) + log1p(e^-|xb|): what np.logaddexp(0, xb) computes,
        # in a third of its time (the log likelihood is evaluated at every step).
        return y * xb - (np.maximum(xb, 0.0) + np.log1p(np.exp(-np.abs(xb))))
    return special.log_ndtr((2.0 * y - 1.0) * xb)


def _binary_score_weights(link: str, xb: np.ndarray, y: np.ndarray):
    """Per-observation score factor r (score_i = r_i x_i) and minus-Hessian weight w."""
    if link == "logit":
        p = special.expit(xb)
        return y - p, p * (1.0 - p)
    q = 2.0 * y - 1.0
    z = q * xb
    mills = np.exp(-0.5 * z * z - _LOG_SQRT_2PI - special.log_ndtr(z))
    return q * mills, mills * (mills + z)


def _binary_start(link: str, design: Design, gram: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The intercept-only MLE (the exact null model) and the expected information there.

    At that start the expected information is f0 * X'WX: the Gram matrix from the rank check
    (unweighted designs) saves a pass over X.
    """
    y, w = design.y, design.weights
    ybar = float(y.mean()) if w is None else float(w @ y / w.sum())
    b = np.zeros(design.X.shape[1])
    b[-1] = special.logit(ybar) if link == "logit" else special.ndtri(ybar)
    p0 = special.expit(b[-1]) if link == "logit" else special.ndtr(b[-1])
    f0 = p0 * (1 - p0) if link == "logit" else np.exp(-0.5 * b[-1] ** 2 - _LOG_SQRT_2PI)
    info = f0 if link == "logit" else f0 * f0 / (p0 * (1 - p0))
    return b, (gram if w is None else weighted_gram(design.X, w)) * info


def _newton_binary(link: str, design: Design, b: np.ndarray, hess: np.ndarray | None,
                   max_iter: int, model_id: str, start: tuple[np.ndarray, float] | None = None):
    """Newton-Raphson with step halving from `b` (first Hessian `hess` if given; `start`:
    the index and log likelihood at `b` when already known).

    Returns (b, xb, loglik, minus Hessian, iterations); raises PerfectSeparationError or
    ConvergenceError by name.
    """
    X, y, w = design.X, design.y, design.weights
    n = X.shape[0]
    if start is None:
        xb = X @ b
        start = (xb, binary_loglik(link, xb, y, w))
    xb, ll = start
    scale = n if w is None else float(w.sum())
    step = np.zeros_like(b)
    for iterations in range(1, max_iter + 1):
        r, h = _binary_score_weights(link, xb, y)
        if w is not None:
            r, h = r * w, h * w
        grad = X.T @ r
        if hess is None or iterations > 1:
            hess = weighted_gram(X, h)
        step = newton_step(hess, grad, design, b, xb, model_id)
        if np.all(np.abs(step) <= STEP_TOLERANCE * (1.0 + np.abs(b))) and iterations > 1:
            b = b + step
            xb = X @ b
            return b, xb, binary_loglik(link, xb, y, w), hess, iterations
        b, xb, ll = line_search(
            lambda beta: (X @ beta), lambda idx: binary_loglik(link, idx, y, w), b, step, ll)
        if ll > -1e-8 * scale:
            raise separation_error(model_id, design, b, xb, "complete separation: the "
                                   "regressors predict the outcome perfectly")
    if np.abs(xb).max() > 30:
        raise separation_error(model_id, design, b, xb, f"no convergence in {max_iter} "
                               "iterations with fitted probabilities at 0 or 1")
    raise ConvergenceError(
        model_id, f"{link} did not converge in {max_iter} iterations (last step "
        f"{largest(step, design.terms)})", design.terms)


def _fit_binary(*, link, design, gram, max_iter, outcome, model_id, se_type, cluster,
                n_clusters) -> FitResult:
    X, y, w = design.X, design.y, design.weights
    n, k = X.shape
    b, hess0 = _binary_start(link, design, gram)
    # The start is the exact null-model MLE: a constant index, no pass over X needed.
    xb0 = np.full(n, b[-1])
    llnull = binary_loglik(link, xb0, y, w)
    b, xb, ll, hess, iterations = _newton_binary(link, design, b, hess0, max_iter, model_id,
                                                 start=(xb0, llnull))
    r, _ = _binary_score_weights(link, xb, y)  # unweighted: ml_covariance weighs by kind
    bread = inverse_psd(hess)
    cov = ml_covariance(bread, lambda sl: X[sl] * r[sl, None], design, se_type, n_clusters,
                        model_id)
    check_huge(model_id, link, design, b, cov)
    n_eff = design.n_effective
    return FitResult(
        model_id=model_id, estimator=link, outcome=outcome, terms=design.terms,
        params=pd.Series(b, index=list(design.terms)),
        cov=pd.DataFrame(cov, index=list(design.terms), columns=list(design.terms)),
        se_type=se_type, nobs=int(n_eff), llf=ll, llnull=llnull, pseudo_r2=1.0 - ll / llnull,
        aic=-2 * ll + 2 * k, bic=-2 * ll + k * np.log(n_eff), converged=True,
        n_clusters=n_clusters, iterations=iterations, design=design, cluster=cluster,
        weight_type=design.weight_type)


# ------------------------------------------------------------------------------- LPM


def _fit_lpm(*, design, gram, outcome, model_id, se_type, cluster, n_clusters) -> FitResult:
    X, y, w = design.X, design.y, design.weights
    k = X.shape[1]
    n = design.n_effective  # the rows, or the sum of frequency weights
    # Weighted least squares (Stata `regress [pw=]` / `[fw=]`): X'WX b = X'Wy.
    wy = y if w is None else w * y
    gram = gram if w is None else weighted_gram(X, w)
    b = solve_psd(gram, X.T @ wy)
    resid = y - X @ b
    b = b + solve_psd(gram, X.T @ (resid if w is None else w * resid))  # QR-level accuracy
    resid = y - X @ b
    ssr = float(resid @ resid if w is None else (w * resid) @ resid)
    total = float(design.nobs if w is None else w.sum())
    ybar = float(y.mean()) if w is None else float(w @ y / total)
    tss = float(((y - ybar) ** 2).sum() if w is None else w @ (y - ybar) ** 2)
    bread = inverse_psd(gram)
    if se_type == "nonrobust":
        cov = bread * ssr / (n - k)
        df_resid = float(n - k)
    elif se_type == "survey":
        cov = survey_covariance(bread, lambda sl: X[sl] * resid[sl, None], design, model_id)
        df_resid = float(design.survey.df)
    else:
        meat = weighted_meat(lambda sl: X[sl] * resid[sl, None], design, k)
        if se_type == "robust":
            scale, df_resid = n / (n - k), float(n - k)
        else:
            scale = n_clusters / (n_clusters - 1.0) * (n - 1.0) / (n - k)
            df_resid = float(n_clusters - 1)
        cov = bread @ meat @ bread * scale
        cov = (cov + cov.T) / 2.0
    # The Gaussian log likelihood at the ML variance SSR/sum(w): probability weights do not
    # change N (so their scale does not matter); frequency weights are observations.
    llf = -n / 2.0 * (np.log(2 * np.pi) + np.log(ssr / total) + 1.0)
    llnull = -n / 2.0 * (np.log(2 * np.pi) + np.log(tss / total) + 1.0)
    return FitResult(
        model_id=model_id, estimator="lpm", outcome=outcome, terms=design.terms,
        params=pd.Series(b, index=list(design.terms)),
        cov=pd.DataFrame(cov, index=list(design.terms), columns=list(design.terms)),
        se_type=se_type, nobs=int(n), llf=llf, llnull=llnull, pseudo_r2=float("nan"),
        aic=-2 * llf + 2 * k, bic=-2 * llf + k * np.log(n), converged=True,
        n_clusters=n_clusters, iterations=0, design=design, cluster=cluster,
        r2=1.0 - ssr / tss, df_resid=df_resid, weight_type=design.weight_type)
