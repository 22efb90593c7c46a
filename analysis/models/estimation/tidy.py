"""The C1 tidy estimates frame for one fit: the rows of output/estimates/estimates.csv.

Columns (``TIDY_COLUMNS``), one row per number:

* ``model``, ``outcome``, ``estimator`` (logit, probit, lpm, ologit, oprobit), ``se_type``
  (nonrobust, robust, cluster);
* ``quantity``: "coef" (index coefficients), "ame" (average marginal effects), "odds_ratio"
  (logit and ordered logit), "cut" (ordered-model thresholds), "fit" (nobs, pseudo_r2,
  llf, llnull, aic, bic, n_clusters, r2: value in ``estimate``), "test" (the ``[[tests]]``
  of the model specification; ``term`` is the test id);
* ``term``, ``estimate``, ``std_error``, ``statistic``, ``p_value``, ``ci_lower``,
  ``ci_upper``, ``nobs`` (Stata's e(N): with frequency weights the sum of the weights);
* ``interval``: "" on every row except the ratio rows. A ratio test (kind "ratio") gives
  two rows: the main row (``term`` = the test id) holds ``estimate`` = a/b and its Fieller
  confidence set, whose kind ``interval`` names: "bounded" (the set is [ci_lower,
  ci_upper]), "two rays" (the set is (-inf, ci_lower] U [ci_upper, inf)) or "whole line"
  (ci_lower and ci_upper NaN: the data do not bound the ratio); a Fieller set has no
  standard error, so std_error, statistic and p_value are NaN there. The delta-method
  result (Stata ``nlcom``) follows as a separate, labelled row with ``term`` = "<test
  id>:delta" and ``interval`` "" (std_error, statistic z or t against 0, p_value and the
  symmetric interval).

Test statistics: a Wald test's ``statistic`` is chi2(q) after ML models (Stata ``test``
after ``logit``), and F(q, N-k) after the LPM, F(q, G-1) with clusters (Stata ``test``
after ``regress``); a single restriction also gets ``estimate`` = R b - r, its SE and a
z (ML) or t (LPM) interval. Coefficient, AME and delta-method inference after the LPM use t
with the same degrees of freedom.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.models.estimation.inference import TestResult, odds_ratios
from analysis.models.estimation.margins import Margins
from analysis.models.estimation.result import FitResult, inference

TIDY_COLUMNS = ["model", "outcome", "estimator", "se_type", "quantity", "term", "estimate",
                "std_error", "statistic", "p_value", "ci_lower", "ci_upper", "nobs",
                "interval"]
QUANTITY_ORDER = ("coef", "ame", "odds_ratio", "cut", "fit", "test")


def fit_statistics(fit: FitResult) -> dict[str, float]:
    """Fit rows in C1 order; pseudo_r2 for ML models, r2 for the LPM, n_clusters if any."""
    out: dict[str, float] = {"nobs": float(fit.nobs)}
    if fit.estimator != "lpm":
        out["pseudo_r2"] = fit.pseudo_r2
    out.update(llf=fit.llf, llnull=fit.llnull, aic=fit.aic, bic=fit.bic)
    if fit.n_clusters is not None:
        out["n_clusters"] = float(fit.n_clusters)
    if fit.estimator == "lpm":
        out["r2"] = fit.r2
    return out


#: The numeric columns of a block; a block without one (the fit rows) holds NaN there.
VALUE_COLUMNS = ("estimate", "std_error", "statistic", "p_value", "ci_lower", "ci_upper")


def _block(quantity: str, frame: pd.DataFrame) -> tuple[str, list[str], dict[str, np.ndarray]]:
    """(quantity, terms, value columns as float64) of one block of rows."""
    n = len(frame)
    values = {c: (frame[c].to_numpy(np.float64) if c in frame else np.full(n, np.nan))
              for c in VALUE_COLUMNS}
    return quantity, [str(t) for t in frame["term"]], values


def _coef_frame(fit: FitResult, names: Sequence[str], level: float) -> pd.DataFrame:
    est = fit.params[list(names)].to_numpy()
    se = fit.bse[list(names)].to_numpy()
    stat, p, lo, hi = inference(est, se, fit.df_resid, level)
    return pd.DataFrame({"term": list(names), "estimate": est, "std_error": se,
                         "statistic": stat, "p_value": p, "ci_lower": lo, "ci_upper": hi})


def tidy(
    fit: FitResult,
    *,
    margins: Margins | None = None,
    odds_ratio: bool | None = None,
    tests: Sequence[TestResult] = (),
    include_fit: bool = True,
    level: float = 0.95,
) -> pd.DataFrame:
    """C1 rows for one fit: coef, [ame], [odds_ratio], [cut], fit, [test], in that order.

    margins: AMEs from average_marginal_effects(fit, ...) (rows "ame").
    odds_ratio: add exp(b) rows; default True for logit and ologit, False otherwise.
    tests: Wald / ratio results (rows "test", see the module docstring; a ratio adds its
    "<id>:delta" row after its own).
    """
    if margins is not None and margins.model_id != fit.model_id:
        raise ValueError(f"margins of model {margins.model_id!r} passed with fit "
                         f"{fit.model_id!r}")
    if odds_ratio is None:
        odds_ratio = fit.estimator in ("logit", "ologit")
    blocks = [_block("coef", _coef_frame(fit, fit.terms, level))]
    if margins is not None:
        blocks.append(_block("ame", margins.frame()))
    if odds_ratio:
        blocks.append(_block("odds_ratio", odds_ratios(fit, level)))
    if fit.cut_terms:
        blocks.append(_block("cut", _coef_frame(fit, fit.cut_terms, level)))
    if include_fit:
        stats_ = fit_statistics(fit)
        blocks.append(_block("fit", pd.DataFrame({
            "term": list(stats_), "estimate": list(stats_.values())})))
    intervals: list[str] = [""] * sum(len(terms) for _, terms, _ in blocks)
    if tests:
        results = [r for t in tests for r in ((t,) if t.delta is None else (t, t.delta))]
        blocks.append(_block("test", pd.DataFrame([{
            "term": t.test_id, "estimate": t.estimate, "std_error": t.std_error,
            "statistic": t.statistic, "p_value": t.p_value, "ci_lower": t.ci_lower,
            "ci_upper": t.ci_upper} for t in results])))
        intervals += [t.interval for t in results]
    # One frame from the blocks' arrays: a concat of frames costs ten times as much.
    n = sum(len(terms) for _, terms, _ in blocks)
    columns: dict[str, object] = {
        "model": [fit.model_id] * n, "outcome": [fit.outcome] * n,
        "estimator": [fit.estimator] * n, "se_type": [fit.se_type] * n,
        "quantity": [q for q, terms, _ in blocks for _ in terms],
        "term": [t for _, terms, _ in blocks for t in terms]}
    for col in VALUE_COLUMNS:
        columns[col] = np.concatenate([values[col] for _, _, values in blocks])
    columns["nobs"] = np.full(n, fit.nobs, dtype=np.int64)
    columns["interval"] = intervals
    return pd.DataFrame(columns, columns=TIDY_COLUMNS)


def stack_tidy(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-model tidy frames (models kept in the given order)."""
    return pd.concat(list(frames), ignore_index=True)[TIDY_COLUMNS]
