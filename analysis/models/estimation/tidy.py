"""The C1 tidy estimates frame for one fit (see notes/contracts.md)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.models.estimation.inference import TestResult, odds_ratios
from analysis.models.estimation.margins import Margins
from analysis.models.estimation.result import FitResult, inference

TIDY_COLUMNS = ["model", "outcome", "estimator", "se_type", "quantity", "term", "estimate",
                "std_error", "statistic", "p_value", "ci_lower", "ci_upper", "nobs"]
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
    tests: Wald / ratio results (rows "test": term = test id; statistic chi2 or z).
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
    if tests:
        blocks.append(_block("test", pd.DataFrame([{
            "term": t.test_id, "estimate": t.estimate, "std_error": t.std_error,
            "statistic": t.statistic, "p_value": t.p_value, "ci_lower": t.ci_lower,
            "ci_upper": t.ci_upper} for t in tests])))
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
    return pd.DataFrame(columns, columns=TIDY_COLUMNS)


def stack_tidy(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-model tidy frames (models kept in the given order)."""
    return pd.concat(list(frames), ignore_index=True)[TIDY_COLUMNS]
