"""The C1 tidy estimates frame for one fit (see notes/contracts.md)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.estimation.inference import TestResult, odds_ratios
from analysis.estimation.margins import Margins
from analysis.estimation.result import FitResult, inference

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


def _block(quantity: str, frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(quantity=quantity)


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
        blocks.append(_block("ame", margins.frame().drop(columns="discrete")))
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
    out = pd.concat(blocks, ignore_index=True)
    out = out.assign(model=fit.model_id, outcome=fit.outcome, estimator=fit.estimator,
                     se_type=fit.se_type, nobs=fit.nobs)
    for col in ("estimate", "std_error", "statistic", "p_value", "ci_lower", "ci_upper"):
        out[col] = out[col].astype(np.float64)
    out["nobs"] = out["nobs"].astype(np.int64)
    return out[TIDY_COLUMNS]


def stack_tidy(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-model tidy frames (models kept in the given order)."""
    return pd.concat(list(frames), ignore_index=True)[TIDY_COLUMNS]
