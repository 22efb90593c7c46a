"""Bootstrap replications fitted together, as frequency weights on the original design.

A pairs-bootstrap resample (rows r_1..r_n drawn with replacement) is the original design
with frequency weights c_i = #{j: r_j = i} (times the sampling weights, if any): every sum
over the resampled rows is sum_i c_i (...)_i. A block of R replications is therefore
fitted at once with X fixed (C = the n x R counts, W = C times the sampling weights):

* logit / probit: Newton-Raphson for all R together, started at the full-sample estimates
  (as ``refit_coefficients``): XB = X B (n x R), gradients X' (W o r), and the R Hessians
  X' diag(w_r h_r) X in one GEMM Z' (W o h), Z holding the k(k+1)/2 products x_ij x_il
  (j <= l) of each row (half the flops of R separate X'DX products, and one large BLAS
  call instead of R small ones; over row blocks, so memory stays linear in n); batched
  equilibrated solves; per-replication convergence masks and step halving, with the same
  stopping rule, acceptance rule and separation bound as ``_newton_binary``.
* LPM: the batched weighted normal equations with one refinement step (as ``_fit_lpm``).
* the AMEs of all R at once: W-weighted means (the definitions of ``ame_estimates``).

Failures. Every check ``refit_coefficients`` runs is screened for all R at once: exactly
where the quantities are integer counts (outcome without variation, a 0/1 regressor
constant in the resample, separation by a 0/1 regressor as in ``check_separation``), and
conservatively elsewhere (a continuous regressor (almost) constant; the smallest
eigenvalue of the scaled Gram within 1000x of the RANK_TOLERANCE rule; an estimate within
0.1% of the divergence bound of ``check_huge``; Newton trouble: a Hessian that is not
positive definite, a log likelihood at 0, no convergence in max_iter). A screened
replication is refitted alone through ``refit_coefficients`` + ``ame_estimates`` on the
same rows (sorted: the order of rows changes sums only at rounding level), which raises the
named error with the same message as the per-replication path (EmptyCellError,
CollinearityError, PerfectSeparationError, ConvergenceError), or returns its estimates
when the screen was only cautious. Screened replications are rare (none in the default
replication), so the cost is that of the batch.

Ordered logit is not batched (its thresholds make the Hessian a different shape and its
AMEs are numerical): ``bootstrap_ames`` raises SpecificationError; use
``refit_coefficients`` per replication.

Pure functions: no I/O, no randomness (the caller draws the resamples).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from analysis.errors import (
    EstimationError,
    SpecificationError,
)
from analysis.models.estimation.checks import HUGE_EFFECT
from analysis.models.estimation.design import CONSTANT, RANK_TOLERANCE, Design, row_blocks
from analysis.models.estimation.fit import (
    _binary_score_weights,
    binary_loglik_terms,
    refit_coefficients,
)
from analysis.models.estimation.margins import (
    _link_functions,
    _resolve_terms,
    _siblings,
    ame_estimates,
    discrete_change,
)
from analysis.models.estimation.ml import STEP_TOLERANCE
from analysis.models.estimation.result import FitResult

BATCHED_ESTIMATORS = ("logit", "probit", "lpm")
#: Bytes of one n x R working array of a block; about ten live at once during Newton.
BLOCK_ARRAY_BYTES = 8 * 2**20
#: Most replications per block: beyond this, larger GEMMs gain nothing at survey sizes.
MAX_BLOCK = 256
#: Keep the n x k(k+1)/2 row products in memory when they take at most this many bytes
#: (else they are rebuilt per row block in every Hessian, which costs little).
PRODUCT_CACHE_BYTES = 64 * 2**20
#: Screening margins (see the module docstring): a flagged replication is refitted alone.
RANK_SCREEN = 1e3 * RANK_TOLERANCE
HUGE_SCREEN = 0.999
CONSTANT_SCREEN = 1e-9


def replications_per_block(n: int) -> int:
    """Replications fitted together for a design of n rows (memory ~ 10 x 8 n R bytes).

    Depends on n only (never on the number of workers), so that fixed block boundaries
    keep the results identical for any number of workers.
    """
    return int(max(1, min(MAX_BLOCK, BLOCK_ARRAY_BYTES // (8 * max(n, 1)))))


def resample_counts(rows: Sequence[np.ndarray], n: int) -> np.ndarray:
    """R x n frequency weights of R resamples given as row positions (0..n-1)."""
    return np.stack([np.bincount(r, minlength=n) for r in rows]).astype(np.float64)


def bootstrap_ames(
    fit: FitResult,
    counts: np.ndarray,
    terms: Sequence[str],
    *,
    binary: Iterable[str] = (),
    factor_groups: Iterable[Sequence[str]] = (),
    max_iter: int = 100,
) -> tuple[np.ndarray, list[str]]:
    """AMEs of `fit`'s model refitted on R resamples given as frequency weights.

    counts: R x n non-negative integers, row r holding how often each of the n rows of
    fit.design was drawn in replication r (see resample_counts). Returns an R x len(terms)
    array (row r equals refit_coefficients + ame_estimates on that resample, to rounding;
    NaN where the replication failed) and one string per replication: "" or
    "ErrorName: message" of the EstimationError the per-replication path raises.
    """
    factor_groups = [list(g) for g in factor_groups]
    binary = list(binary)
    terms, flagged = _resolve_terms(fit, terms, binary, factor_groups)
    if fit.estimator not in BATCHED_ESTIMATORS:
        raise SpecificationError(
            fit.model_id, f"bootstrap_ames: {fit.estimator} is not batched (logit, probit "
            "and lpm are); refit each replication with refit_coefficients")
    design = fit.design
    counts = _checked_counts(fit, counts)
    n_reps = counts.shape[0]
    C = np.ascontiguousarray(counts.T)  # n x R
    W = C if design.weights is None else C * design.weights[:, None]
    products = _RowProducts(design.X)
    count_grams = products.grams(C)
    suspect = _screen_design(fit, design, C, count_grams)

    ok = np.flatnonzero(~suspect)
    values = np.full((n_reps, len(terms)), np.nan)
    if ok.size:
        W_ok = W[:, ok]
        if fit.estimator == "lpm":
            grams = count_grams[ok] if design.weights is None else products.grams(W_ok)
            beta, trouble = _lpm_batch(design, W_ok, grams)
        else:
            beta, trouble = _newton_batch(fit.estimator, design, fit.beta, W_ok, products,
                                          max_iter)
            trouble |= _near_huge(fit.estimator, design, beta, count_grams[ok], C[:, ok])
        good = ~trouble
        suspect[ok[trouble]] = True
        values[ok[good]] = _batch_ames(fit, design, W_ok[:, good], beta[:, good], terms,
                                       flagged, factor_groups)
    errors = [""] * n_reps
    for r in np.flatnonzero(suspect):
        values[r], errors[r] = _refit_alone(fit, counts[r], terms, binary, factor_groups,
                                            max_iter)
    return values, errors


def fit_outcomes(link: str, X: np.ndarray, Y: np.ndarray, start: np.ndarray, *,
                 max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """A logit / probit of each column of the n x R outcome ``Y`` on the same regressors
    ``X`` (a Monte Carlo with a fixed design), all at once: the k x R coefficients and a
    mask of the replications in trouble (separation, no convergence; their column is NaN).
    Newton starts at ``start`` with the stopping rule of the single fits."""
    X = np.asfortranarray(X, dtype=np.float64)
    n = X.shape[0]
    design = Design(X=X, y=Y[:, 0], terms=tuple(f"x{j}" for j in range(X.shape[1])),
                    groups=None, index=pd.RangeIndex(n), col_min=X.min(axis=0),
                    col_max=X.max(axis=0), col_std=X.std(axis=0),
                    is_binary=np.zeros(X.shape[1], dtype=bool))
    W = np.ones_like(Y, dtype=np.float64)
    return _newton_batch(link, design, start, W, _RowProducts(X), max_iter, Y=Y)


def row_grams(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """R x k x k: X' diag(W[:, r]) X for each column of the n x R ``W`` (one GEMM)."""
    return _RowProducts(np.asarray(X, dtype=np.float64)).grams(W)


def solve_batch(grams: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """grams[r] x_r = rhs[:, r] for every r (equilibrated); k x R solutions and a mask of
    the systems that are not positive definite."""
    return _solve_psd_batch(grams, rhs)


def _checked_counts(fit: FitResult, counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    rows = fit.design.nobs
    if counts.ndim != 2 or counts.shape[1] != rows:
        raise SpecificationError(
            fit.model_id, f"bootstrap counts must be R x {rows} (one row per "
            f"replication, one column per observation); got shape {counts.shape}")
    if not (np.isfinite(counts).all() and (counts >= 0).all()
            and (counts == np.round(counts)).all()):
        raise SpecificationError(
            fit.model_id, "bootstrap counts must be non-negative integers (how often each "
            "observation was drawn)")
    return counts


def _refit_alone(fit, counts_row, terms, binary, factor_groups, max_iter):
    """The per-replication path on the same rows: its estimates or its named error."""
    rows = np.repeat(np.arange(fit.design.nobs), counts_row.astype(np.intp))
    try:
        design, beta = refit_coefficients(fit, rows, max_iter=max_iter)
        return ame_estimates(fit, design, beta, terms, binary=binary,
                             factor_groups=factor_groups), ""
    except EstimationError as err:
        return np.nan, f"{type(err).__name__}: {err}"


# --------------------------------------------------------------------------- Gram matrices


class _RowProducts:
    """The products x_ij x_il (j <= l) of every row, for R weighted Gram matrices at once:
    X' diag(w_r) X for r = 1..R is one GEMM Z' W."""

    def __init__(self, X: np.ndarray) -> None:
        self.X = X
        k = X.shape[1]
        self.upper = np.triu_indices(k)
        self.k = k
        width = self.upper[0].size
        self.cached = X.shape[0] * width * 8 <= PRODUCT_CACHE_BYTES
        self._Z = self._block(slice(None)) if self.cached else None

    def _block(self, rows: slice) -> np.ndarray:
        block = self.X[rows]
        return block[:, self.upper[0]] * block[:, self.upper[1]]

    def grams(self, W: np.ndarray) -> np.ndarray:
        """R x k x k: X' diag(W[:, r]) X for each column r of the n x R weights W."""
        if self.cached:
            packed = self._Z.T @ W
        else:
            packed = np.zeros((self.upper[0].size, W.shape[1]))
            for sl in row_blocks(self.X.shape[0]):
                packed += self._block(sl).T @ W[sl]
        out = np.empty((W.shape[1], self.k, self.k))
        out[:, self.upper[0], self.upper[1]] = packed.T
        out[:, self.upper[1], self.upper[0]] = packed.T
        return out


def _solve_psd_batch(grams: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve grams[r] x_r = rhs[:, r] after equilibration (as design.solve_psd); returns
    the k x R solutions and a mask of the systems that are not positive definite (or not
    finite), whose solutions are NaN."""
    d = np.sqrt(np.diagonal(grams, axis1=1, axis2=2))
    d = np.where(d == 0, 1.0, d)
    scaled = grams / (d[:, :, None] * d[:, None, :])
    right = rhs.T / d
    bad = ~(np.isfinite(scaled).all(axis=(1, 2)) & np.isfinite(right).all(axis=1))
    bad[~bad] = ~_positive_definite(scaled[~bad])
    out = np.full(rhs.shape, np.nan)
    good = ~bad
    if good.any():
        out[:, good] = (np.linalg.solve(scaled[good], right[good][:, :, None])[:, :, 0]
                        / d[good]).T
    return out, bad


def _positive_definite(matrices: np.ndarray) -> np.ndarray:
    """Which of the stacked symmetric matrices have a Cholesky factor."""
    try:
        np.linalg.cholesky(matrices)
        return np.ones(matrices.shape[0], dtype=bool)
    except np.linalg.LinAlgError:  # rare: find which ones, one by one
        ok = np.ones(matrices.shape[0], dtype=bool)
        for r, m in enumerate(matrices):
            try:
                np.linalg.cholesky(m)
            except np.linalg.LinAlgError:
                ok[r] = False
        return ok


# ------------------------------------------------------------------------------- screens


def _screen_design(fit: FitResult, design: Design, C: np.ndarray,
                   count_grams: np.ndarray) -> np.ndarray:
    """Replications failing (or close to failing) the checks of check_outcome,
    check_regressors and (binary models) check_separation; see the module docstring."""
    y = design.y
    nobs = C.sum(axis=0)
    successes = y @ C  # integer-valued: exact
    suspect = (successes == 0) | (successes == nobs)
    k = design.X.shape[1]
    const = design.terms.index(CONSTANT)
    sums = count_grams[:, :, const]  # sum_i c_i x_ij
    squares = np.diagonal(count_grams, axis1=1, axis2=2)
    regressor = np.arange(k) != const
    binary = design.is_binary & regressor
    # A 0/1 column is constant in the resample iff its count sum is 0 or N (exact).
    suspect |= ((sums[:, binary] == 0) | (sums[:, binary] == nobs[:, None])).any(axis=1)
    cont = regressor & ~binary
    if cont.any():
        mean = sums[:, cont] / nobs[:, None]
        var = squares[:, cont] / nobs[:, None] - mean * mean
        full = design.col_std[cont] ** 2 + design.X[:, cont].mean(axis=0) ** 2
        suspect |= (var <= CONSTANT_SCREEN * full).any(axis=1)
    rest = ~suspect
    if rest.any():
        suspect[rest] = _near_singular(count_grams[rest])
    if fit.estimator != "lpm" and binary.any() and (~suspect).any():
        suspect |= _separating(design, C, binary, sums, successes, nobs)
    return suspect


def _near_singular(grams: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.diagonal(grams, axis1=1, axis2=2))
    eig = np.linalg.eigvalsh(grams / (d[:, :, None] * d[:, None, :]))
    return eig[:, 0] < RANK_SCREEN * eig[:, -1]


def _separating(design, C, binary, sums, successes, nobs) -> np.ndarray:
    """check_separation's rule for a 0/1 outcome, from exact integer counts."""
    cols = np.flatnonzero(binary)
    n1 = sums[:, cols]
    s1 = ((design.X[:, cols] * design.y[:, None]).T @ C).T
    n0, s0 = nobs[:, None] - n1, successes[:, None] - s1
    return ((s0 == 0) | (s1 == n1) | (s1 == 0) | (s0 == n0)).any(axis=1)


def _near_huge(link: str, design: Design, beta: np.ndarray, count_grams: np.ndarray,
               C: np.ndarray) -> np.ndarray:
    """check_huge without SEs (|b_j| x the resample's SD of x_j, or 1 for 0/1 columns),
    flagged within HUGE_SCREEN of the bound."""
    const = design.terms.index(CONSTANT)
    nobs = C.sum(axis=0)
    mean = count_grams[:, :, const] / nobs[:, None]
    var = np.diagonal(count_grams, axis1=1, axis2=2) / nobs[:, None] - mean * mean
    scale = np.sqrt(np.maximum(var, 0.0))
    scale[:, design.is_binary] = 1.0
    scale[:, const] = 0.0
    effect = np.abs(beta.T) * scale
    return (~np.isfinite(beta).all(axis=0)
            | (effect > HUGE_SCREEN * HUGE_EFFECT[link]).any(axis=1))


# ------------------------------------------------------------------------------- fitting


def _state(link: str, xb: np.ndarray, y: np.ndarray, W: np.ndarray):
    """Weighted log likelihood of each column (replication) at index xb, and the score
    factor r and minus-Hessian weight h of every observation (fit._binary_score_weights).

    Logit from one exp: with e = exp(-|xb|), p = 1/(1+e) or e/(1+e), p(1-p) = e/(1+e)^2
    and y xb - log(1 + exp(xb)) = min((2y-1) xb, 0) - log1p(e) (equal to the scalar path,
    fit.binary_loglik_terms and expit, to rounding; sharing e between the log likelihood
    and the score takes a third of the time)."""
    if link == "logit":
        e = np.abs(xb)
        np.negative(e, out=e)
        np.exp(e, out=e)
        d = 1.0 + e
        np.reciprocal(d, out=d)
        h = e * d
        r = np.where(xb >= 0.0, d, h)  # p
        np.subtract(y, r, out=r)
        h *= d
        # y xb - log(1 + exp(xb)) = min((2y - 1) xb, 0) - log1p(e)
        terms = (2.0 * y - 1.0) * xb
        np.minimum(terms, 0.0, out=terms)
        terms -= np.log1p(e, out=e)
        return np.einsum("ir,ir->r", W, terms), r, h
    r, h = _binary_score_weights(link, xb, y)
    return np.einsum("ir,ir->r", W, binary_loglik_terms(link, xb, y)), r, h


class _Columns:
    """The per-replication arrays of the replications still iterating (compact: columns
    are dropped only when a replication leaves, so the common case copies nothing).
    ``y`` is the outcome: n x 1 (shared by all) or n x R (one per replication)."""

    def __init__(self, ids, W, B, XB, ll, r, h, scale, y) -> None:
        self.ids, self.W, self.B, self.XB = ids, W, B, XB
        self.ll, self.r, self.h, self.scale = ll, r, h, scale
        self.y = y

    def outcome(self, columns: np.ndarray | None = None) -> np.ndarray:
        """The outcome of the given columns (all: None)."""
        if columns is None or self.y.shape[1] == 1:
            return self.y
        return self.y[:, columns]

    def keep(self, mask: np.ndarray) -> None:
        if mask.all():
            return
        self.ids, self.W, self.B, self.XB = (self.ids[mask], self.W[:, mask],
                                             self.B[:, mask], self.XB[:, mask])
        self.ll, self.r, self.h, self.scale = (self.ll[mask], self.r[:, mask],
                                               self.h[:, mask], self.scale[mask])
        self.y = self.outcome(mask)


def _newton_batch(link: str, design: Design, start: np.ndarray, W: np.ndarray,
                  products: _RowProducts, max_iter: int, Y: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """_newton_binary for every column of W at once (from `start`, no first Hessian).

    ``Y``: an n x R outcome, one column per replication (a Monte Carlo); default the
    design's outcome for all. Returns the k x R coefficients and a mask of replications in
    trouble (a Hessian that is not positive definite, the separation bound, or no
    convergence)."""
    X = design.X
    y = design.y[:, None] if Y is None else Y
    n_reps = W.shape[1]
    B = np.repeat(start[:, None], n_reps, axis=1)
    XB = X @ B
    cols = _Columns(np.arange(n_reps), W, B, XB, *_state(link, XB, y, W), W.sum(axis=0), y)
    out = np.full(B.shape, np.nan)  # stays NaN for a replication in trouble
    for iterations in range(1, max_iter + 1):
        if not cols.ids.size:
            break
        grad = X.T @ (cols.W * cols.r)
        step, singular = _solve_psd_batch(products.grams(cols.W * cols.h), grad)
        small = (np.all(np.abs(step) <= STEP_TOLERANCE * (1.0 + np.abs(cols.B)), axis=0)
                 & ~singular & (iterations > 1))
        out[:, cols.ids[small]] = cols.B[:, small] + step[:, small]
        move = ~small & ~singular
        cols.keep(move)
        _line_search_batch(link, X, cols, step[:, move])
        cols.keep(~(cols.ll > -1e-8 * cols.scale))  # the separation bound
    return out, np.isnan(out).any(axis=0)  # includes no convergence in max_iter


def _line_search_batch(link: str, X: np.ndarray, cols: _Columns, step: np.ndarray) -> None:
    """fit._line_search per column, updating `cols` in place: halve the step until the
    log likelihood does not fall; below t = 1e-10 keep the current point."""
    t = np.ones(cols.ids.size)
    pending = np.arange(cols.ids.size)
    B = cols.B.copy()
    while pending.size:
        every = pending.size == cols.ids.size
        W = cols.W if every else cols.W[:, pending]
        cand = (B + step) if every else B[:, pending] + t[pending] * step[:, pending]
        xb = X @ cand
        ll, r, h = _state(link, xb, cols.outcome(None if every else pending), W)
        old = cols.ll[pending]
        accept = np.isfinite(ll) & (ll >= old - 1e-12 * (1.0 + np.abs(old)))
        if every and accept.all():
            cols.B, cols.XB, cols.ll, cols.r, cols.h = cand, xb, ll, r, h
            return
        done = pending[accept]
        cols.B[:, done], cols.XB[:, done], cols.ll[done] = (cand[:, accept], xb[:, accept],
                                                             ll[accept])
        cols.r[:, done], cols.h[:, done] = r[:, accept], h[:, accept]
        t[pending[~accept]] *= 0.5
        pending = pending[~accept]
        # Below t = 1e-10 no ascent along the Newton direction: the current point stays.
        pending = pending[t[pending] >= 1e-10]


def _lpm_batch(design: Design, W: np.ndarray, grams: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """_fit_lpm's coefficients for every column of W: weighted normal equations and one
    refinement step."""
    X, y = design.X, design.y[:, None]
    beta, bad = _solve_psd_batch(grams, X.T @ (W * y))
    resid = y - X @ np.nan_to_num(beta)
    correction, bad2 = _solve_psd_batch(grams, X.T @ (W * resid))
    return beta + correction, bad | bad2


def _batch_ames(fit: FitResult, design: Design, W: np.ndarray, beta: np.ndarray,
                terms: Sequence[str], flagged: set[str], factor_groups) -> np.ndarray:
    """R x len(terms) AMEs (margins._index_ames' estimates, W-weighted means)."""
    idx = {t: j for j, t in enumerate(fit.terms)}
    out = np.empty((beta.shape[1], len(terms)))
    if fit.estimator == "lpm":
        for i, t in enumerate(terms):
            out[:, i] = beta[idx[t]]
        return out
    X = design.X
    total = W.sum(axis=0)
    cdf_pdf, _ = _link_functions(fit.estimator)
    q = X @ beta
    observed = cdf_pdf(q)
    mean_f = np.einsum("ir,ir->r", W, observed[1]) / total
    bases: dict = {}
    for i, t in enumerate(terms):
        j = idx[t]
        if t not in flagged:
            out[:, i] = mean_f * beta[j]
            continue
        sib = [idx[s] for s in _siblings(t, factor_groups)]
        d_big, _, _ = discrete_change(cdf_pdf, X, q, beta, j, sib, observed, bases)
        out[:, i] = np.einsum("ir,ir->r", W, d_big) / total
    return out
