"""Fitting logit, probit, linear probability and ordered logit models.

All four estimators run on the same chunked NumPy core (Newton-Raphson with step halving
for the ML models, normal equations with one refinement step for the LPM). statsmodels /
linearmodels are the references in the tests (agreement to ~1e-8), but are not used here
because their per-fit overhead (rank SVD, pandas wrapping, numerical Hessians for ordered
models) dominates on large samples.

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

Otherwise ML inference uses the normal distribution (z); LPM inference uses t with N-k degrees of
freedom, or G-1 with clustering (as Stata's `regress`), recorded in FitResult.df_resid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import special

from analysis.errors import (
    CollinearityError,
    ConvergenceError,
    PerfectSeparationError,
    SpecificationError,
)
from analysis.models.estimation import survey as survey_design
from analysis.models.estimation.checks import category_label, check_huge, term_scales
from analysis.models.estimation.design import (
    CONSTANT,
    Design,
    build_design,
    check_outcome,
    check_regressors,
    check_separation,
    inverse_psd,
    row_blocks,
    solve_psd,
    weighted_gram,
)
from analysis.models.estimation.result import FitResult

ESTIMATORS = ("logit", "probit", "lpm", "ologit")
SE_TYPES = ("nonrobust", "robust", "cluster", "survey")
#: "numpy": the chunked NumPy core of this module (default, used by the pipeline);
#: "statsmodels": statsmodels / linearmodels fits with the same conventions (sm_engine.py).
ENGINES = ("numpy", "statsmodels")
#: Newton stops when every step is below this fraction of (1 + |parameter|); quadratic
#: convergence puts the estimate at machine precision one step later.
STEP_TOLERANCE = 1e-10
_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


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
    survey: survey_design.SurveyDesign | None = None,
) -> FitResult:
    """Fit one model of `outcome` on `regressors` (numeric columns, dummies already built).

    estimator: "logit", "probit", "lpm" (linear probability model, OLS) or "ologit"
    (ordered logit on the sorted distinct outcome values, Stata's cut-point
    parametrisation). A constant "const" is appended to the regressors except for ologit.
    Rows with a missing outcome, regressor or cluster value are dropped (listwise).
    se_type: "nonrobust", "robust" (default) or "cluster" (needs `cluster`, a column name);
    see the module docstring for the exact small-sample scalings.
    engine: "numpy" (default) or "statsmodels" (statsmodels Logit/Probit/OrderedModel and
    linearmodels OLS, same design checks, same FitResult and SE conventions; sm_engine.py).
    weights: a column of sampling weights (Stata pweights, `[pw=]`): weighted likelihood
    (or weighted least squares), sandwich SEs from the weighted scores (needs se_type
    "robust" or "cluster", as Stata imposes vce(robust) with pweights); numpy engine only.
    survey: the strata / PSU / fpc columns of a survey design, with se_type="survey"
    (design-based SEs as Stata `svy:`; `weights` are the design's sampling weights).
    Raises SpecificationError, EmptyCellError, CollinearityError, PerfectSeparationError or
    ConvergenceError (all EstimationError), each naming `model_id` and the offending terms.
    """
    if estimator not in ESTIMATORS:
        raise SpecificationError(model_id, f"unknown estimator {estimator!r}; use {ESTIMATORS}")
    if se_type not in SE_TYPES:
        raise SpecificationError(model_id, f"unknown se_type {se_type!r}; use {SE_TYPES}")
    if engine not in ENGINES:
        raise SpecificationError(model_id, f"unknown engine {engine!r}; use {ENGINES}")
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
    if weights is not None and se_type == "nonrobust":
        raise SpecificationError(
            model_id, f"sampling weights ({weights!r}) need se_type 'robust' or 'cluster': "
            "the inverse information is not a valid variance with pweights", [weights])
    if weights is not None and engine != "numpy":
        raise SpecificationError(
            model_id, f"sampling weights are supported by the numpy engine only, not {engine!r}",
            [weights])

    design = build_design(
        data, outcome, regressors, add_constant=estimator != "ologit", cluster=cluster,
        model_id=model_id, weights=weights, survey=survey)
    check_outcome(design, outcome, estimator, model_id)
    gram = check_regressors(design, model_id, implicit_constant=estimator == "ologit")
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
        return sm_engine.fit_prepared(estimator=estimator, max_iter=max_iter, **common)
    if estimator == "lpm":
        fit = _fit_lpm(gram=gram, **common)
    elif estimator == "ologit":
        fit = _fit_ologit(max_iter=max_iter, **common)
    else:
        fit = _fit_binary(link=estimator, gram=gram, max_iter=max_iter, **common)
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
    gram = check_regressors(design, model_id, implicit_constant=fit.estimator == "ologit")
    if fit.estimator == "lpm":
        return design, _fit_lpm(design=design, gram=gram, outcome=fit.outcome,
                                model_id=model_id, se_type="nonrobust", cluster=None,
                                n_clusters=None).beta
    check_separation(design, fit.outcome, model_id)
    if fit.estimator == "ologit":
        return design, _fit_ologit(design=design, max_iter=max_iter, outcome=fit.outcome,
                                   model_id=model_id, se_type="nonrobust", cluster=None,
                                   n_clusters=None).beta
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
        step = _newton_step(hess, grad, design, b, xb, model_id)
        if np.all(np.abs(step) <= STEP_TOLERANCE * (1.0 + np.abs(b))) and iterations > 1:
            b = b + step
            xb = X @ b
            return b, xb, binary_loglik(link, xb, y, w), hess, iterations
        b, xb, ll = _line_search(
            lambda beta: (X @ beta), lambda idx: binary_loglik(link, idx, y, w), b, step, ll)
        if ll > -1e-8 * scale:
            raise _separation_error(model_id, design, b, xb, "complete separation: the "
                                    "regressors predict the outcome perfectly")
    if np.abs(xb).max() > 30:
        raise _separation_error(model_id, design, b, xb, f"no convergence in {max_iter} "
                                "iterations with fitted probabilities at 0 or 1")
    raise ConvergenceError(
        model_id, f"{link} did not converge in {max_iter} iterations (last step "
        f"{_largest(step, design.terms)})", design.terms)


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
    r, _ = _binary_score_weights(link, xb, y)
    if w is not None:
        r = r * w  # pweights: the sandwich uses the weighted scores
    bread = inverse_psd(hess)
    cov = _ml_covariance(bread, lambda sl: X[sl] * r[sl, None], design, se_type, n_clusters)
    check_huge(model_id, link, design, b, cov)
    nparams = k
    return FitResult(
        model_id=model_id, estimator=link, outcome=outcome, terms=design.terms,
        params=pd.Series(b, index=list(design.terms)),
        cov=pd.DataFrame(cov, index=list(design.terms), columns=list(design.terms)),
        se_type=se_type, nobs=n, llf=ll, llnull=llnull, pseudo_r2=1.0 - ll / llnull,
        aic=-2 * ll + 2 * nparams, bic=-2 * ll + nparams * np.log(n), converged=True,
        n_clusters=n_clusters, iterations=iterations, design=design, cluster=cluster)


def _newton_step(hess, grad, design, b, xb, model_id):
    try:
        return solve_psd(hess, grad)
    except np.linalg.LinAlgError as exc:
        if np.abs(xb).max() > 30:
            raise _separation_error(model_id, design, b, xb, "singular Hessian with fitted "
                                    "probabilities at 0 or 1") from exc
        raise CollinearityError(
            model_id, "singular Hessian: regressors are (nearly) collinear", design.terms
        ) from exc


def _line_search(index_of, loglik_of, theta, step, ll, valid=None):
    """Newton step with halving until the log likelihood does not fall (and `valid`)."""
    t = 1.0
    while True:
        cand = theta + t * step
        ok = valid is None or valid(cand)
        if ok:
            idx = index_of(cand)
            ll_new = loglik_of(idx)
            if np.isfinite(ll_new) and ll_new >= ll - 1e-12 * (1.0 + abs(ll)):
                return cand, idx, ll_new
        t *= 0.5
        if t < 1e-10:
            # No ascent possible along the Newton direction: we are at the optimum up to
            # rounding; keep the current point.
            return theta, index_of(theta), ll


def _largest(step: np.ndarray, terms: Sequence[str]) -> str:
    j = int(np.argmax(np.abs(step)))
    return f"{step[j]:.3g} on {terms[j]!r}"


def _separation_error(model_id, design, b, xb, why) -> PerfectSeparationError:
    """Name the terms whose index contributions blow up."""
    scale = term_scales(design)
    effect = np.abs(b[: len(design.terms)]) * scale
    effect[[t == CONSTANT for t in design.terms]] = 0.0
    order = np.argsort(-effect)[:3]
    named = [design.terms[j] for j in order if effect[j] > 0]
    detail = ", ".join(f"{design.terms[j]} (b={b[j]:.3g})" for j in order if effect[j] > 0)
    share = float(np.mean(np.abs(xb) > 30))
    return PerfectSeparationError(
        model_id, f"{why}; {share:.1%} of observations have |x'b| > 30; largest "
        f"coefficients: {detail}", named)


def _ml_covariance(bread, score_block, design, se_type, n_clusters) -> np.ndarray:
    """Stata's OIM / vce(robust) / vce(cluster) / svy linearised covariance of an ML model."""
    if se_type == "nonrobust":
        return bread
    if se_type == "survey":
        return survey_design.design_covariance(bread, score_block, design.nobs, design.survey)
    n = design.nobs
    meat = _meat(score_block, design, bread.shape[0])
    scale = n / (n - 1.0) if se_type == "robust" else n_clusters / (n_clusters - 1.0)
    cov = bread @ meat @ bread * scale
    return (cov + cov.T) / 2.0


def _meat(score_block, design: Design, p: int) -> np.ndarray:
    """sum_i s_i s_i' (or sum_g S_g S_g' with cluster sums), over row blocks."""
    meat = np.zeros((p, p))
    if design.groups is None:
        for sl in row_blocks(design.nobs):
            s = score_block(sl)
            meat += s.T @ s
        return (meat + meat.T) / 2.0
    n_groups = int(design.groups.max()) + 1
    sums = np.zeros((n_groups, p))
    for sl in row_blocks(design.nobs):
        s = score_block(sl)
        g = design.groups[sl]
        for j in range(p):
            sums[:, j] += np.bincount(g, weights=s[:, j], minlength=n_groups)
    return sums.T @ sums


# ------------------------------------------------------------------------------- LPM


def _fit_lpm(*, design, gram, outcome, model_id, se_type, cluster, n_clusters) -> FitResult:
    X, y, w = design.X, design.y, design.weights
    n, k = X.shape
    # Weighted least squares with pweights (Stata `regress [pw=]`): X'WX b = X'Wy.
    wy = y if w is None else w * y
    gram = gram if w is None else weighted_gram(X, w)
    b = solve_psd(gram, X.T @ wy)
    resid = y - X @ b
    b = b + solve_psd(gram, X.T @ (resid if w is None else w * resid))  # QR-level accuracy
    resid = y - X @ b
    wresid = resid if w is None else w * resid
    ssr = float(resid @ wresid)
    ybar = float(y.mean()) if w is None else float(w @ y / w.sum())
    tss = float(((y - ybar) ** 2).sum() if w is None else w @ (y - ybar) ** 2)
    bread = inverse_psd(gram)
    if se_type == "nonrobust":
        cov = bread * ssr / (n - k)
        df_resid = float(n - k)
    elif se_type == "survey":
        cov = survey_design.design_covariance(bread, lambda sl: X[sl] * wresid[sl, None], n,
                                              design.survey, model_id)
        df_resid = float(design.survey.df)
    else:
        meat = _meat(lambda sl: X[sl] * wresid[sl, None], design, k)
        if se_type == "robust":
            scale, df_resid = n / (n - k), float(n - k)
        else:
            scale = n_clusters / (n_clusters - 1.0) * (n - 1.0) / (n - k)
            df_resid = float(n_clusters - 1)
        cov = bread @ meat @ bread * scale
        cov = (cov + cov.T) / 2.0
    # Weights normalised to sum to N, so the Gaussian log likelihood does not depend on
    # their scale (R2 never does).
    norm = 1.0 if w is None else n / float(w.sum())
    llf = -n / 2.0 * (np.log(2 * np.pi) + np.log(ssr * norm / n) + 1.0)
    llnull = -n / 2.0 * (np.log(2 * np.pi) + np.log(tss * norm / n) + 1.0)
    return FitResult(
        model_id=model_id, estimator="lpm", outcome=outcome, terms=design.terms,
        params=pd.Series(b, index=list(design.terms)),
        cov=pd.DataFrame(cov, index=list(design.terms), columns=list(design.terms)),
        se_type=se_type, nobs=n, llf=llf, llnull=llnull, pseudo_r2=float("nan"),
        aic=-2 * llf + 2 * k, bic=-2 * llf + k * np.log(n), converged=True,
        n_clusters=n_clusters, iterations=0, design=design, cluster=cluster,
        r2=1.0 - ssr / tss, df_resid=df_resid)


# --------------------------------------------------------------------- ordered logit


def ologit_category_probability(xb: np.ndarray, cuts: np.ndarray, j: int) -> np.ndarray:
    """P(y = j-th category | xb) = F(cut_j - xb) - F(cut_{j-1} - xb), computed stably."""
    ext = np.concatenate(([-np.inf], cuts, [np.inf]))
    upper, lower = ext[j + 1] - xb, ext[j] - xb
    return np.where(lower > 0, special.expit(-lower) - special.expit(-upper),
                    special.expit(upper) - special.expit(lower))


def _ologit_block(X, cat, beta, cuts, want: str, w=None):
    """Log likelihood (and score matrix / Hessian) of a block of ordered-logit rows.

    Each row's likelihood is F(a) - F(b) with a = cut_upper - x'b, b = cut_lower - x'b;
    A and B are the derivatives of a and b w.r.t. theta = (beta, cuts). With sampling
    weights `w`, every row's contribution (and score) is multiplied by its weight.
    """
    xb = X @ beta
    ext = np.concatenate(([-np.inf], cuts, [np.inf]))
    a, b = ext[cat + 1] - xb, ext[cat] - xb
    Fa, Fb = special.expit(a), special.expit(b)
    P = np.where(b > 0, special.expit(-b) - special.expit(-a), Fa - Fb)
    ll = float(np.log(P).sum() if w is None else w @ np.log(P))
    if want == "ll":
        return ll
    fa, fb = Fa * (1 - Fa), Fb * (1 - Fb)
    la, lb = fa / P, -fb / P
    weight = np.ones_like(P) if w is None else w
    n, k = X.shape
    m = cuts.size
    A = np.zeros((n, k + m))
    B = np.zeros((n, k + m))
    A[:, :k] = -X
    B[:, :k] = -X
    rows = np.arange(n)
    up = cat < m
    A[rows[up], k + cat[up]] = 1.0
    lo = cat > 0
    B[rows[lo], k + cat[lo] - 1] = 1.0
    scores = A * (weight * la)[:, None] + B * (weight * lb)[:, None]
    if want == "scores":
        return ll, scores
    laa = weight * (fa * (1 - 2 * Fa) / P - la * la)
    lbb = weight * (-fb * (1 - 2 * Fb) / P - lb * lb)
    lab = weight * (-la * lb)
    hess = (A.T @ (A * laa[:, None]) + A.T @ (B * lab[:, None])
            + B.T @ (A * lab[:, None]) + B.T @ (B * lbb[:, None]))
    return ll, scores.sum(axis=0), (hess + hess.T) / 2.0


def _block_weights(design: Design, sl: slice) -> np.ndarray | None:
    return None if design.weights is None else design.weights[sl]


def _ologit_total(design, cat, theta, k, want):
    beta, cuts = theta[:k], theta[k:]
    if want == "ll":
        return sum(_ologit_block(design.X[sl], cat[sl], beta, cuts, "ll",
                                 _block_weights(design, sl))
                   for sl in row_blocks(design.nobs))
    p = theta.size
    ll, grad, hess = 0.0, np.zeros(p), np.zeros((p, p))
    for sl in row_blocks(design.nobs):
        bl, bg, bh = _ologit_block(design.X[sl], cat[sl], beta, cuts, "all",
                                   _block_weights(design, sl))
        ll, grad, hess = ll + bl, grad + bg, hess + bh
    return ll, grad, hess


def _fit_ologit(*, design, max_iter, outcome, model_id, se_type, cluster,
                n_clusters) -> FitResult:
    categories, cat = np.unique(design.y, return_inverse=True)
    cat = cat.astype(np.intp)
    n, k = design.X.shape
    counts = np.bincount(cat, weights=design.weights).astype(float)  # weighted: sum of w
    m = categories.size - 1
    cut_terms = tuple(f"cut{category_label(categories[j])}|{category_label(categories[j + 1])}"
                      for j in range(m))
    # Start at the null-model MLE (beta = 0, cuts = logits of cumulative shares); the
    # ordered-logit log likelihood is concave, so Newton with step halving converges.
    total = counts.sum()
    theta = np.concatenate((np.zeros(k), special.logit(np.cumsum(counts)[:-1] / total)))
    llnull = float((counts * np.log(counts / total)).sum())
    ll = llnull
    converged = False
    iterations = 0
    step = np.zeros_like(theta)
    for iterations in range(1, max_iter + 1):
        _, grad, hess = _ologit_total(design, cat, theta, k, "all")
        step = _newton_step(-hess, grad, design, theta, design.X @ theta[:k], model_id)
        if np.all(np.abs(step) <= STEP_TOLERANCE * (1.0 + np.abs(theta))) and iterations > 1:
            theta = theta + step
            converged = True
            break
        theta, _, ll = _line_search(
            lambda th: th, lambda th: _ologit_total(design, cat, th, k, "ll"), theta, step, ll,
            valid=lambda th: bool(np.all(np.diff(th[k:]) > 0)))
    if not converged:
        xb = design.X @ theta[:k]
        if np.abs(xb).max() > 30:
            raise _separation_error(model_id, design, theta, xb,
                                    f"no convergence in {max_iter} iterations")
        raise ConvergenceError(
            model_id, f"ologit did not converge in {max_iter} iterations (last step "
            f"{_largest(step, design.terms + cut_terms)})", design.terms)
    ll, _, hess = _ologit_total(design, cat, theta, k, "all")
    bread = inverse_psd(-hess)
    beta, cuts = theta[:k], theta[k:]
    cov = _ml_covariance(
        bread, lambda sl: _ologit_block(design.X[sl], cat[sl], beta, cuts, "scores",
                                        _block_weights(design, sl))[1],
        design, se_type, n_clusters)
    check_huge(model_id, "ologit", design, beta, cov)
    names = list(design.terms + cut_terms)
    p = theta.size
    return FitResult(
        model_id=model_id, estimator="ologit", outcome=outcome, terms=design.terms,
        params=pd.Series(theta, index=names), cov=pd.DataFrame(cov, index=names, columns=names),
        se_type=se_type, nobs=n, llf=ll, llnull=llnull, pseudo_r2=1.0 - ll / llnull,
        aic=-2 * ll + 2 * p, bic=-2 * ll + p * np.log(n), converged=converged,
        n_clusters=n_clusters, iterations=iterations, design=design, cluster=cluster,
        cut_terms=cut_terms, categories=tuple(float(c) for c in categories))
