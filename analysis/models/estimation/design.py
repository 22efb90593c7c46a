"""Design matrices, chunked linear algebra and the checks run before any fit.

Memory stays linear in N: the design matrix X is built once (float64, C order) and every
cross-product (X'WX, X'v, score sums) is accumulated over row blocks, so no N x k temporary
beyond one block is ever created.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg

from analysis.errors import (
    CollinearityError,
    EmptyCellError,
    PerfectSeparationError,
    SpecificationError,
)
from analysis.models.estimation import survey as survey_design

CONSTANT = "const"
#: Kinds of weights: sampling weights (Stata [pw=]) and frequency weights (Stata [fw=]).
WEIGHT_TYPES = ("pweight", "fweight")
#: Rows per block in chunked cross-products: a scaled block of 30 columns (2 MB) stays in
#: cache between the scaling and the BLAS call (measured fastest on 1M x 31).
BLOCK_ROWS = 8_192
#: Eigenvalues of the scaled Gram matrix below this fraction of the largest one mean exact
#: (numerical) linear dependence; real near-collinearity is far above it.
RANK_TOLERANCE = 1e-12


@dataclass(frozen=True, eq=False)
class Design:
    """The numeric data a fit used (after listwise deletion).

    X holds the index regressors in `terms` order (with "const" last for binary models and
    the LPM; no constant for ordered logit), float64 in Fortran order so that columns are
    contiguous (marginal effects and checks work column-wise; row blocks still feed BLAS).
    `groups` holds 0..G-1 cluster codes or None; `index` the DataFrame index of the rows
    used. Per-column summaries (computed once while building X) avoid later passes.
    `weights` holds the weights (all > 0) or None (unweighted); `weight_type` says what they
    are: "pweight" (sampling weights, Stata [pw=]) or "fweight" (frequency weights, Stata
    [fw=]: each row stands for that many identical observations).
    """

    X: np.ndarray
    y: np.ndarray
    terms: tuple[str, ...]
    groups: np.ndarray | None
    index: pd.Index
    col_min: np.ndarray
    col_max: np.ndarray
    col_std: np.ndarray
    is_binary: np.ndarray  # bool per column: all values 0 or 1 (False for the constant)
    weights: np.ndarray | None = None
    weight_type: str | None = None
    #: the survey design of the rows (strata, PSUs, fpc), for design-based SEs, or None
    survey: survey_design.SurveyArrays | None = None

    @property
    def nobs(self) -> int:
        """Rows of the design (observations as stored)."""
        return int(self.X.shape[0])

    @property
    def n_effective(self) -> float:
        """The N of the small-sample factors and of Stata's e(N): the rows, or with
        frequency weights the sum of the weights (the rows of the expanded data)."""
        if self.weight_type == "fweight":
            return float(self.weights.sum())
        return float(self.nobs)

    def take(self, rows: np.ndarray) -> Design:
        """The design of the observations `rows` (positions, repeats allowed: a resample)."""
        X = np.asfortranarray(self.X[rows])
        # A 0/1 column stays 0/1 in any subset, so is_binary carries over; whether it still
        # varies is for check_regressors to say.
        return Design(X=X, y=self.y[rows], terms=self.terms,
                      groups=None if self.groups is None else _recode(self.groups[rows]),
                      index=self.index[rows], col_min=X.min(axis=0), col_max=X.max(axis=0),
                      col_std=X.std(axis=0), is_binary=self.is_binary,
                      weights=None if self.weights is None else self.weights[rows],
                      weight_type=self.weight_type, survey=self._survey_of(rows))

    def drop(self, keep: np.ndarray, terms: Sequence[str]) -> Design:
        """The design without the rows where ``keep`` is False and without ``terms``
        (perfect prediction: Stata drops the variable and the observations it predicts)."""
        columns = [j for j, t in enumerate(self.terms) if t not in set(terms)]
        X = np.asfortranarray(self.X[np.ix_(keep, columns)])
        return Design(X=X, y=self.y[keep], terms=tuple(self.terms[j] for j in columns),
                      groups=None if self.groups is None else _recode(self.groups[keep]),
                      index=self.index[keep], col_min=X.min(axis=0), col_max=X.max(axis=0),
                      col_std=X.std(axis=0), is_binary=self.is_binary[columns],
                      weights=None if self.weights is None else self.weights[keep],
                      weight_type=self.weight_type, survey=self._survey_of(keep))

    def _survey_of(self, rows: np.ndarray) -> survey_design.SurveyArrays | None:
        """The survey design of the observations `rows` (positions or a boolean mask)."""
        return None if self.survey is None else survey_design.take(self.survey, rows)

    def mean(self, values: np.ndarray) -> float:
        """Mean of per-observation `values` (weighted by the sampling weights, if any)."""
        if self.weights is None:
            return float(values.mean())
        return float(self.weights @ values / self.weights.sum())

    def column_means(self, values: np.ndarray) -> np.ndarray:
        """X' v / N (weighted: X' (w v) / sum w); ``values`` a vector, or an N x m matrix
        (one column per quantity: one pass over X for all of them)."""
        if self.weights is None:
            return self.X.T @ values / self.nobs
        w = self.weights if values.ndim == 1 else self.weights[:, None]
        return self.X.T @ (w * values) / self.weights.sum()

    def column(self, term: str) -> np.ndarray:
        return self.X[:, self.terms.index(term)]


def _recode(groups: np.ndarray) -> np.ndarray:
    """Cluster codes renumbered 0..G-1 after a subset dropped some clusters."""
    _, codes = np.unique(groups, return_inverse=True)
    return codes.astype(np.intp)


def row_blocks(n: int, size: int = BLOCK_ROWS):
    """Yield slices covering range(n) in blocks."""
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def weighted_gram(X: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """X' diag(w) X for w >= 0 (or w None), accumulated over row blocks with BLAS syrk on
    sqrt(w) * X_block (half the flops of a general product; no N x k temporary)."""
    k = X.shape[1]
    out = np.zeros((k, k), order="F")
    root = None if w is None else np.sqrt(w)
    for sl in row_blocks(X.shape[0]):
        block = X[sl] if root is None else np.asfortranarray(X[sl] * root[sl, None])
        out = scipy.linalg.blas.dsyrk(1.0, block, beta=1.0, c=out, trans=1, lower=0,
                                      overwrite_c=1)
    upper = np.triu(out)
    return upper + np.triu(out, 1).T


def weighted_cross(A: np.ndarray, B: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A' diag(w) B for any weights, over row blocks."""
    out = np.zeros((A.shape[1], B.shape[1]))
    for sl in row_blocks(A.shape[0]):
        out += A[sl].T @ (B[sl] * w[sl, None])
    return out


def solve_psd(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve matrix @ x = rhs for symmetric positive definite `matrix`, after equilibration
    (scaling to unit diagonal), which keeps regressors on very different scales accurate."""
    d = np.sqrt(np.diag(matrix))
    d[d == 0] = 1.0
    scaled = matrix / np.outer(d, d)
    factor = scipy.linalg.cho_factor(scaled, lower=True, check_finite=True)
    rhs_scaled = rhs / (d if rhs.ndim == 1 else d[:, None])
    sol = scipy.linalg.cho_solve(factor, rhs_scaled)
    return sol / (d if rhs.ndim == 1 else d[:, None])


def inverse_psd(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix (equilibrated Cholesky)."""
    inv = solve_psd(matrix, np.eye(matrix.shape[0]))
    return (inv + inv.T) / 2.0


def build_design(
    data: pd.DataFrame,
    outcome: str,
    regressors: Sequence[str],
    *,
    add_constant: bool,
    cluster: str | None,
    model_id: str,
    weights: str | None = None,
    weight_type: str = "pweight",
    survey: survey_design.SurveyDesign | None = None,
) -> Design:
    """Listwise-delete on outcome, regressors, cluster, weight and design columns; build X
    and y.

    `weights` names a weight column of kind `weight_type`: "pweight" (sampling weights) or
    "fweight" (frequency weights, which must be whole numbers, as Stata requires): values
    must be finite and >= 0; rows with weight 0 are left out, like Stata does. `survey`
    names the strata, PSU and fpc columns of a survey design (design-based SEs, see
    survey.py).
    """
    if weight_type not in WEIGHT_TYPES:
        raise SpecificationError(model_id, f"unknown weight type {weight_type!r}; use "
                                 f"{WEIGHT_TYPES}", [weights or ""])
    regressors = list(regressors)
    if len(set(regressors)) != len(regressors):
        dup = sorted({r for r in regressors if regressors.count(r) > 1})
        raise SpecificationError(model_id, f"duplicated regressors {dup}", dup)
    if add_constant and CONSTANT in regressors:
        raise SpecificationError(
            model_id, f"regressor name {CONSTANT!r} is reserved for the added constant",
            [CONSTANT])
    used = ([outcome, *regressors] + ([cluster] if cluster is not None else [])
            + ([weights] if weights is not None else [])
            + (survey.columns if survey is not None else []))
    missing = [c for c in dict.fromkeys(used) if c not in data.columns]
    if missing:
        raise SpecificationError(model_id, f"columns not in the data: {missing}", missing)

    mask = np.ones(len(data), dtype=bool)
    for col in dict.fromkeys(used):
        mask &= data[col].notna().to_numpy()
    if weights is not None:
        mask &= _weight_values(data[weights], weights, model_id, weight_type) > 0
    n = int(mask.sum())
    if n == 0:
        raise EmptyCellError(
            model_id, f"no observations left after listwise deletion on {used}", used)

    terms = tuple(regressors) + ((CONSTANT,) if add_constant else ())
    k = len(terms)
    X = np.empty((n, k), dtype=np.float64, order="F")
    col_min, col_max, col_std = np.zeros(k), np.zeros(k), np.zeros(k)
    is_binary = np.zeros(k, dtype=bool)
    all_rows = n == len(data)
    for j, name in enumerate(regressors):
        values = _numeric(data[name], name, model_id)
        X[:, j] = values if all_rows else values[mask]
        col = X[:, j]  # contiguous (Fortran order)
        col_min[j], col_max[j], col_std[j] = col.min(), col.max(), col.std()
        is_binary[j] = (col_min[j] >= 0.0 and col_max[j] <= 1.0
                        and np.count_nonzero((col == 0.0) | (col == 1.0)) == n)
    if add_constant:
        X[:, -1] = 1.0
        col_min[-1] = col_max[-1] = 1.0
    y = _numeric(data[outcome], outcome, model_id)
    y = y if all_rows else y[mask]
    groups = None
    if cluster is not None:
        codes = data[cluster].to_numpy()
        groups, _ = pd.factorize(codes if all_rows else codes[mask], sort=True)
        groups = groups.astype(np.intp)
    w = None
    if weights is not None:
        w = _numeric(data[weights], weights, model_id)
        w = w if all_rows else w[mask]
    arrays = None if survey is None else survey_design.survey_arrays(data, mask, survey,
                                                                     model_id)
    return Design(X=X, y=y, terms=terms, groups=groups, index=data.index[mask],
                  col_min=col_min, col_max=col_max, col_std=col_std, is_binary=is_binary,
                  weights=w, weight_type=None if weights is None else weight_type,
                  survey=arrays)


def _weight_values(series: pd.Series, name: str, model_id: str,
                   weight_type: str = "pweight") -> np.ndarray:
    """Weights as float64 (NA -> 0); a negative weight, or a fractional frequency weight
    (Stata: "may not use noninteger frequency weights"), is a named error."""
    values = _numeric(series, name, model_id)
    negative = values < 0
    if negative.any():
        row = series.index[negative][0]
        raise SpecificationError(
            model_id, f"weight column {name!r} has a negative value "
            f"({values[negative][0]:g}) at row {row!r}; weights must be >= 0", [name])
    values = np.nan_to_num(values, nan=0.0)
    fractional = values != np.round(values)
    if weight_type == "fweight" and fractional.any():
        row = series.index[fractional][0]
        raise SpecificationError(
            model_id, f"frequency weight column {name!r} has the non-integer value "
            f"{values[fractional][0]:g} at row {row!r}; frequency weights count "
            "observations (use pweights for sampling weights)", [name])
    return values


def _numeric(series: pd.Series, name: str, model_id: str) -> np.ndarray:
    """Column as float64 (NA -> NaN); non-numeric or infinite values are named errors."""
    try:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise SpecificationError(
            model_id, f"column {name!r} is not numeric (dtype {series.dtype}); "
            "build dummies before estimation", [name]) from exc
    if np.isinf(values).any():
        row = series.index[np.isinf(values)][0]
        raise SpecificationError(
            model_id, f"column {name!r} has an infinite value at row {row!r}", [name])
    return values


# ----------------------------------------------------------------------------- checks


def check_outcome(design: Design, outcome: str, estimator: str, model_id: str) -> None:
    """Outcome must vary; binary estimators need a 0/1 outcome."""
    values = np.unique(design.y)
    if values.size < 2:
        raise EmptyCellError(
            model_id, f"outcome {outcome!r} has no variation: every one of the "
            f"{design.nobs} used observations equals {values[0]:g}", [outcome])
    if estimator in ("logit", "probit", "lpm") and not np.isin(values, (0.0, 1.0)).all():
        bad = [float(v) for v in values if v not in (0.0, 1.0)][:5]
        raise SpecificationError(
            model_id, f"outcome {outcome!r} must be coded 0/1 for {estimator}; found {bad}",
            [outcome])


def check_regressors(design: Design, model_id: str, *, implicit_constant: bool) -> np.ndarray:
    """Raise CollinearityError for constant or linearly dependent regressors.

    Returns the Gram matrix X'X (reused as the first Newton Hessian). With
    `implicit_constant` (ordered logit: the thresholds act as a constant), the rank check
    is run on [X, 1].
    """
    X, terms = design.X, design.terms
    lo, hi = design.col_min, design.col_max
    constant = [(t, lo[j]) for j, t in enumerate(terms) if t != CONSTANT and lo[j] == hi[j]]
    if constant:
        names = [t for t, _ in constant]
        detail = ", ".join(f"{t} (always {v:g})" for t, v in constant)
        raise CollinearityError(
            model_id, f"constant regressor(s) in the estimation sample: {detail}", names)

    gram = weighted_gram(X)
    check_gram = gram
    check_terms = list(terms)
    if implicit_constant:
        sums = X.sum(axis=0)
        check_gram = np.block([[gram, sums[:, None]], [sums[None, :], np.array([[X.shape[0]]])]])
        check_terms.append("<thresholds>")
    _check_rank(check_gram, check_terms, model_id)
    return gram


def _check_rank(gram: np.ndarray, terms: list[str], model_id: str) -> None:
    d = np.sqrt(np.diag(gram))
    scaled = gram / np.outer(d, d)
    eigval, eigvec = np.linalg.eigh(scaled)
    null = eigval < RANK_TOLERANCE * eigval.max()
    if not null.any():
        return
    relations = []
    involved: list[str] = []
    for vec in eigvec[:, null].T:
        coefs = vec / d  # back to the original units of the columns
        coefs = coefs / np.abs(coefs).max()
        members = [(terms[j], coefs[j]) for j in np.flatnonzero(np.abs(vec) > 1e-6)]
        involved += [t for t, _ in members if t not in involved]
        relations.append(" ".join(f"{c:+.3g}*{t}" for t, c in members) + " = 0")
    raise CollinearityError(
        model_id, f"regressors are linearly dependent: {involved} "
        f"(relation: {'; '.join(relations)}); drop one of them, e.g. a base-category dummy",
        involved)


def binary_columns(design: Design) -> list[int]:
    """Indices of non-constant-term columns whose values are all 0 or 1."""
    return [int(j) for j in np.flatnonzero(design.is_binary)]


def check_separation(design: Design, outcome: str, model_id: str) -> None:
    """Quasi-complete separation by a 0/1 regressor: the outcome ranges of the d=0 and d=1
    groups overlap in at most one value (for a 0/1 outcome: all d=1 (or all d=0)
    observations have the same outcome). The ML coefficient of d is then infinite (Stata
    drops such observations with "predicts success/failure perfectly"); we refuse to fit."""
    cols = binary_columns(design)
    if not cols:
        return
    y = design.y
    if np.isin(np.unique(y), (0.0, 1.0)).all():
        # 0/1 outcome: counts and successes per group from one matrix-vector product.
        n1 = np.array([np.count_nonzero(design.X[:, j]) for j in cols])
        s1 = np.array([y @ design.X[:, j] for j in cols])
        n0, s0 = design.nobs - n1, y.sum() - s1
        bad = (s0 == 0) | (s1 == n1) | (s1 == 0) | (s0 == n0)
        hits = [j for j, b in zip(cols, bad, strict=True) if b]
    else:
        hits = []
        for j in cols:
            d = design.X[:, j] == 1.0
            y1, y0 = y[d], y[~d]
            if y0.max() <= y1.min() or y1.max() <= y0.min():
                hits.append(j)
    if hits:
        j = hits[0]
        d = design.X[:, j] == 1.0
        term = design.terms[j]
        others = [design.terms[h] for h in hits[1:]]
        raise PerfectSeparationError(
            model_id, f"{term}={_describe_separation(y[~d], y[d])} "
            f"(outcome {outcome!r}); the coefficient of {term!r} is not identified. "
            "Merge or drop the category, or drop the regressor"
            + (f". Also separating: {others}" if others else ""),
            [design.terms[h] for h in hits])


def _describe_separation(y0: np.ndarray, y1: np.ndarray) -> str:
    for value, group in ((1, y1), (0, y0)):
        if np.unique(group).size == 1:
            return (f"{value} predicts {outcome_word(group[0])} perfectly "
                    f"({group.size} obs, all with outcome {group[0]:g})")
    return (f"1 separates the outcome: outcome range {y1.min():g}..{y1.max():g} when 1 vs "
            f"{y0.min():g}..{y0.max():g} when 0")


def outcome_word(value: float) -> str:
    return "success" if value == 1.0 else ("failure" if value == 0.0 else f"outcome {value:g}")
