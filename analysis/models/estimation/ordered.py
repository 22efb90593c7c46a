"""Ordered logit and ordered probit (Stata ``ologit`` / ``oprobit``, R ``MASS::polr``).

P(y = category j | x) = F(cut_j - x'b) - F(cut_{j-1} - x'b) with F the logistic or the
standard normal cdf, cut_0 = -inf and cut_J = +inf; no constant (the cut points play its
part, Stata's /cut parametrisation). Newton-Raphson with step halving from the null model
(b = 0, cuts = F^-1 of the cumulative shares, the exact thresholds-only MLE); both log
likelihoods are concave in (b, cuts), so it converges. Standard errors: OIM, vce(robust)
and vce(cluster) as for the binary models (ml.py), weights by their kind.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from analysis.errors import ConvergenceError
from analysis.models.estimation import ml
from analysis.models.estimation.checks import category_label, check_huge
from analysis.models.estimation.design import Design, inverse_psd, row_blocks
from analysis.models.estimation.result import FitResult

#: Ordered estimator -> the distribution of its latent error.
ORDERED_LINKS = {"ologit": "logit", "oprobit": "probit"}
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def ordered_link(estimator: str) -> str:
    """"logit" or "probit" for an ordered estimator."""
    return ORDERED_LINKS[estimator]


def cdf(link: str, z: np.ndarray) -> np.ndarray:
    return special.expit(z) if link == "logit" else special.ndtr(z)


def pdf(link: str, z: np.ndarray) -> np.ndarray:
    """Density at z (0 at +-inf for both links)."""
    if link == "logit":
        p = special.expit(z)
        return p * (1.0 - p)
    with np.errstate(over="ignore"):
        return np.exp(-0.5 * z * z) * _INV_SQRT_2PI


def pdf_slope(link: str, z: np.ndarray, big: np.ndarray, f: np.ndarray) -> np.ndarray:
    """f'(z) from z, F(z) and f(z) (0 at +-inf)."""
    if link == "logit":
        return f * (1.0 - 2.0 * big)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(z), -z * f, 0.0)


def interval_probability(link: str, upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """F(upper) - F(lower), from the upper tail where lower > 0 (no cancellation there)."""
    return np.where(lower > 0, cdf(link, -lower) - cdf(link, -upper),
                    cdf(link, upper) - cdf(link, lower))


def category_probability(xb: np.ndarray, cuts: np.ndarray, j: int,
                         link: str = "logit") -> np.ndarray:
    """P(y = j-th category | xb) = F(cut_j - xb) - F(cut_{j-1} - xb), computed stably."""
    ext = np.concatenate(([-np.inf], cuts, [np.inf]))
    return interval_probability(link, ext[j + 1] - xb, ext[j] - xb)


def ordered_block(link, X, cat, beta, cuts, want: str, w=None):
    """Log likelihood (and score matrix / gradient and Hessian) of a block of rows.

    Each row's likelihood is F(a) - F(b) with a = cut_upper - x'b, b = cut_lower - x'b;
    A and B are the derivatives of a and b w.r.t. theta = (beta, cuts). Weights `w`
    multiply every row's log likelihood, gradient and Hessian; the per-row scores of
    want="scores" are not weighted (ml.ml_covariance applies the weights by kind).
    """
    xb = X @ beta
    ext = np.concatenate(([-np.inf], cuts, [np.inf]))
    a, b = ext[cat + 1] - xb, ext[cat] - xb
    Fa, Fb = cdf(link, a), cdf(link, b)
    P = interval_probability(link, a, b)
    ll = float(np.log(P).sum() if w is None else w @ np.log(P))
    if want == "ll":
        return ll
    fa, fb = pdf(link, a), pdf(link, b)
    la, lb = fa / P, -fb / P
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
    scores = A * la[:, None] + B * lb[:, None]
    if want == "scores":
        return ll, scores
    weight = np.ones_like(P) if w is None else w
    laa = weight * (pdf_slope(link, a, Fa, fa) / P - la * la)
    lbb = weight * (-pdf_slope(link, b, Fb, fb) / P - lb * lb)
    lab = weight * (-la * lb)
    hess = (A.T @ (A * laa[:, None]) + A.T @ (B * lab[:, None])
            + B.T @ (A * lab[:, None]) + B.T @ (B * lbb[:, None]))
    return ll, (scores * weight[:, None]).sum(axis=0), (hess + hess.T) / 2.0


def _block_weights(design: Design, sl: slice) -> np.ndarray | None:
    return None if design.weights is None else design.weights[sl]


def _total(link, design, cat, theta, k, want):
    beta, cuts = theta[:k], theta[k:]
    if want == "ll":
        return sum(ordered_block(link, design.X[sl], cat[sl], beta, cuts, "ll",
                                 _block_weights(design, sl))
                   for sl in row_blocks(design.nobs))
    p = theta.size
    ll, grad, hess = 0.0, np.zeros(p), np.zeros((p, p))
    for sl in row_blocks(design.nobs):
        bl, bg, bh = ordered_block(link, design.X[sl], cat[sl], beta, cuts, "all",
                                   _block_weights(design, sl))
        ll, grad, hess = ll + bl, grad + bg, hess + bh
    return ll, grad, hess


def cut_names(categories: np.ndarray) -> tuple[str, ...]:
    """Stata-style names of the cut points between consecutive categories: "cut0|1", ..."""
    return tuple(f"cut{category_label(categories[j])}|{category_label(categories[j + 1])}"
                 for j in range(categories.size - 1))


def fit_ordered(*, estimator, design, max_iter, outcome, model_id, se_type, cluster,
                n_clusters) -> FitResult:
    """Fit an ordered logit or probit on a checked design (no constant column)."""
    link = ordered_link(estimator)
    categories, cat = np.unique(design.y, return_inverse=True)
    cat = cat.astype(np.intp)
    k = design.X.shape[1]
    counts = np.bincount(cat, weights=design.weights).astype(float)  # weighted: sum of w
    cut_terms = cut_names(categories)
    total = counts.sum()
    shares = np.cumsum(counts)[:-1] / total
    theta = np.concatenate((np.zeros(k), special.logit(shares) if link == "logit"
                            else special.ndtri(shares)))
    llnull = float((counts * np.log(counts / total)).sum())
    ll = llnull
    converged = False
    iterations = 0
    step = np.zeros_like(theta)
    for iterations in range(1, max_iter + 1):
        _, grad, hess = _total(link, design, cat, theta, k, "all")
        step = ml.newton_step(-hess, grad, design, theta, design.X @ theta[:k], model_id)
        if np.all(np.abs(step) <= ml.STEP_TOLERANCE * (1.0 + np.abs(theta))) and iterations > 1:
            theta = theta + step
            converged = True
            break
        theta, _, ll = ml.line_search(
            lambda th: th, lambda th: _total(link, design, cat, th, k, "ll"), theta, step, ll,
            valid=lambda th: bool(np.all(np.diff(th[k:]) > 0)))
    if not converged:
        xb = design.X @ theta[:k]
        if np.abs(xb).max() > 30:
            raise ml.separation_error(model_id, design, theta, xb,
                                   f"no convergence in {max_iter} iterations")
        raise ConvergenceError(
            model_id, f"{estimator} did not converge in {max_iter} iterations (last step "
            f"{ml.largest(step, design.terms + cut_terms)})", design.terms)
    ll, _, hess = _total(link, design, cat, theta, k, "all")
    bread = inverse_psd(-hess)
    beta, cuts = theta[:k], theta[k:]
    cov = ml.ml_covariance(
        bread, lambda sl: ordered_block(link, design.X[sl], cat[sl], beta, cuts, "scores")[1],
        design, se_type, n_clusters, model_id)
    check_huge(model_id, estimator, design, beta, cov)
    names = list(design.terms + cut_terms)
    p = theta.size
    n_eff = design.n_effective
    return FitResult(
        model_id=model_id, estimator=estimator, outcome=outcome, terms=design.terms,
        params=pd.Series(theta, index=names), cov=pd.DataFrame(cov, index=names, columns=names),
        se_type=se_type, nobs=int(n_eff), llf=ll, llnull=llnull, pseudo_r2=1.0 - ll / llnull,
        aic=-2 * ll + 2 * p, bic=-2 * ll + p * np.log(n_eff), converged=converged,
        n_clusters=n_clusters, iterations=iterations, design=design, cluster=cluster,
        cut_terms=cut_terms, categories=tuple(float(c) for c in categories),
        weight_type=design.weight_type)
