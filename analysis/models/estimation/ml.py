"""Shared machinery of the maximum-likelihood fits: Newton steps with step halving,
separation diagnostics and Stata's OIM / vce(robust) / vce(cluster) / svy covariances.

Weights enter the covariance by their kind (``Design.weight_type``):

* probability weights (Stata ``[pw=]``): the sandwich of the weighted scores w_i s_i,
  scaled by N/(N-1) with N the number of observations;
* frequency weights (Stata ``[fw=]``): each row stands for w_i identical observations, so
  the meat is sum_i w_i s_i s_i' (clusters: the sums of w_i s_i) and N is the sum of the
  weights: every number equals that of the data with each row repeated w_i times.

A survey design (se_type "survey") sums the pweighted scores w_i s_i within PSUs and
strata (the Taylor-linearised variance of survey.py, Stata ``svy:``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from analysis.errors import CollinearityError, PerfectSeparationError
from analysis.models.estimation import survey as survey_design
from analysis.models.estimation.checks import term_scales
from analysis.models.estimation.design import CONSTANT, Design, row_blocks, solve_psd

#: Newton stops when every step is below this fraction of (1 + |parameter|); quadratic
#: convergence puts the estimate at machine precision one step later.
STEP_TOLERANCE = 1e-10


def newton_step(hess, grad, design, b, xb, model_id):
    """Solve hess @ step = grad; a singular Hessian is separation (fitted probabilities at
    0 or 1) or collinearity, raised by name."""
    try:
        return solve_psd(hess, grad)
    except np.linalg.LinAlgError as exc:
        if np.abs(xb).max() > 30:
            raise separation_error(model_id, design, b, xb, "singular Hessian with fitted "
                                   "probabilities at 0 or 1") from exc
        raise CollinearityError(
            model_id, "singular Hessian: regressors are (nearly) collinear", design.terms
        ) from exc


def line_search(index_of, loglik_of, theta, step, ll, valid=None):
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


def largest(step: np.ndarray, terms: Sequence[str]) -> str:
    """The largest component of a Newton step, with its term (for convergence messages)."""
    j = int(np.argmax(np.abs(step)))
    return f"{step[j]:.3g} on {terms[j]!r}"


def separation_error(model_id, design, b, xb, why) -> PerfectSeparationError:
    """Name the terms whose index contributions blow up (both engines raise this)."""
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


def ml_covariance(bread: np.ndarray, score_block: Callable[[slice], np.ndarray],
                  design: Design, se_type: str, n_clusters: int | None,
                  model_id: str = "model") -> np.ndarray:
    """Stata's OIM / vce(robust) / vce(cluster) / svy covariance for an ML model.

    ``score_block(rows)`` gives the per-observation scores s_i of a block of rows, not
    multiplied by any weight (the weights enter here, by their kind).
    """
    if se_type == "nonrobust":
        return bread
    if se_type == "survey":
        return survey_covariance(bread, score_block, design, model_id)
    n = design.n_effective
    meat = weighted_meat(score_block, design, bread.shape[0])
    scale = n / (n - 1.0) if se_type == "robust" else n_clusters / (n_clusters - 1.0)
    cov = bread @ meat @ bread * scale
    return (cov + cov.T) / 2.0


def weighted_meat(score_block: Callable[[slice], np.ndarray], design: Design,
                  p: int) -> np.ndarray:
    """sum_i c_i s_i s_i' (c_i = 1, w_i^2 for pweights, w_i for fweights), or with clusters
    sum_g S_g S_g' where S_g sums w_i s_i (w_i = 1 unweighted), over row blocks."""
    w, kind = design.weights, design.weight_type
    meat = np.zeros((p, p))
    if design.groups is None:
        for sl in row_blocks(design.nobs):
            s = score_block(sl)
            if w is None:
                meat += s.T @ s
            else:
                c = w[sl] ** 2 if kind == "pweight" else w[sl]
                meat += s.T @ (s * c[:, None])
        return (meat + meat.T) / 2.0
    n_groups = int(design.groups.max()) + 1
    sums = np.zeros((n_groups, p))
    for sl in row_blocks(design.nobs):
        s = score_block(sl)
        if w is not None:
            s = s * w[sl, None]
        g = design.groups[sl]
        for j in range(p):
            sums[:, j] += np.bincount(g, weights=s[:, j], minlength=n_groups)
    return sums.T @ sums


def survey_covariance(bread: np.ndarray, score_block: Callable[[slice], np.ndarray],
                      design: Design, model_id: str = "model") -> np.ndarray:
    """The design-based (linearised) covariance B M B of any of the fits: the unweighted
    scores ``score_block(rows)`` times the sampling weights, summed within PSUs and strata
    by survey.design_covariance (pweights only: fit_model refuses fweights with a design)."""
    w = design.weights
    weighted = score_block if w is None else (lambda sl: score_block(sl) * w[sl, None])
    return survey_design.design_covariance(bread, weighted, design.nobs, design.survey,
                                           model_id)
