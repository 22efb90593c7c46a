"""Odds ratios, Wald tests of linear restrictions and nlcom-style ratios."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import SpecificationError
from analysis.models.estimation.margins import Margins
from analysis.models.estimation.result import FitResult, inference


@dataclass(frozen=True)
class TestResult:
    """A Wald test or a nonlinear combination (C1 rows with quantity "test").

    Wald: `statistic` is chi2 with `df` degrees of freedom (`f_statistic` = chi2/df is
    Stata's F form); for a single restriction `estimate`/`std_error` are R b - r and its SE.
    Ratio: `estimate` = a/b, delta-method `std_error`, `statistic` = z, normal CI (nlcom).
    """

    __test__ = False  # not a pytest test class

    test_id: str
    kind: str
    estimate: float
    std_error: float
    statistic: float
    p_value: float
    df: int
    ci_lower: float
    ci_upper: float

    @property
    def f_statistic(self) -> float:
        return self.statistic / self.df if self.kind == "wald" else float("nan")


def design_df(obj: FitResult | Margins) -> float | None:
    """Design degrees of freedom of a design-based fit or of its AMEs (None otherwise)."""
    if isinstance(obj, Margins):
        return obj.design_df
    return None if obj.survey is None else float(obj.survey.df)


def _source(obj: FitResult | Margins) -> tuple[str, list[str], np.ndarray, np.ndarray]:
    """(model id, parameter names, estimates, covariance) of a fit or of its AMEs."""
    if isinstance(obj, Margins):
        return obj.model_id, list(obj.terms), obj.estimates, obj.cov
    return obj.model_id, list(obj.params.index), obj.params.to_numpy(), obj.cov.to_numpy()


def odds_ratios(fit: FitResult, level: float = 0.95) -> pd.DataFrame:
    """exp(b) for the index terms of a logit/ologit (Stata `or`): SE exp(b)*se (delta
    method), z and p of b, CI = exp of the coefficient CI."""
    if fit.estimator not in ("logit", "ologit"):
        raise SpecificationError(fit.model_id, f"odds ratios need logit/ologit, not "
                                 f"{fit.estimator}")
    b = fit.beta
    se = fit.bse.to_numpy()[: b.size]
    stat, p, lo, hi = inference(b, se, fit.df_resid, level)
    return pd.DataFrame({
        "term": list(fit.terms), "estimate": np.exp(b), "std_error": np.exp(b) * se,
        "statistic": stat, "p_value": p, "ci_lower": np.exp(lo), "ci_upper": np.exp(hi)})


def wald_test(
    source: FitResult | Margins,
    restrictions: Sequence[Mapping[str, float]],
    rhs: Sequence[float] | None = None,
    *,
    test_id: str = "wald",
) -> TestResult:
    """Wald test of R theta = rhs; each restriction is {parameter name: coefficient}.

    Example (b_international = b_local): wald_test(fit, [{"intl": 1, "local": -1}]).
    Works on a FitResult (coefficients, with its robust/cluster covariance) or on Margins
    (AMEs). chi2 = (R t - r)' (R V R')^-1 (R t - r) with df = number of restrictions q.
    After a design-based fit the p-value is that of Stata's adjusted F
    ((d - q + 1) / (d q)) chi2 ~ F(q, d - q + 1) with d the design df (svy `test`), and a
    single restriction's CI uses t(d); `statistic` stays chi2.
    """
    model_id, names, est, cov = _source(source)
    R = np.zeros((len(restrictions), len(names)))
    for i, restriction in enumerate(restrictions):
        for name, coef in restriction.items():
            if name not in names:
                raise SpecificationError(model_id, f"test {test_id!r}: unknown parameter "
                                         f"{name!r}", [name])
            R[i, names.index(name)] = coef
    r = np.zeros(len(restrictions)) if rhs is None else np.asarray(rhs, dtype=float)
    diff = R @ est - r
    rvr = R @ cov @ R.T
    if np.linalg.matrix_rank(rvr) < len(restrictions):
        raise SpecificationError(model_id, f"test {test_id!r}: restrictions are linearly "
                                 "dependent or involve parameters with zero variance")
    chi2 = float(diff @ np.linalg.solve(rvr, diff))
    df = len(restrictions)
    d = design_df(source)
    if d is None:
        p = float(stats.chi2.sf(chi2, df))
    elif d - df + 1 <= 0:
        raise SpecificationError(model_id, f"test {test_id!r}: {df} restrictions need more "
                                 f"than {d:g} design degrees of freedom")
    else:
        p = float(stats.f.sf(chi2 * (d - df + 1) / (d * df), df, d - df + 1))
    if df == 1:
        se = float(np.sqrt(rvr[0, 0]))
        crit = stats.norm.ppf(0.975) if d is None else stats.t.ppf(0.975, d)
        return TestResult(test_id, "wald", float(diff[0]), se, chi2, p, 1,
                          float(diff[0] - crit * se), float(diff[0] + crit * se))
    nan = float("nan")
    return TestResult(test_id, "wald", nan, nan, chi2, p, df, nan, nan)


def ratio(
    source: FitResult | Margins,
    numerator: str,
    denominator: str,
    *,
    test_id: str | None = None,
    level: float = 0.95,
) -> TestResult:
    """a/b of two coefficients (FitResult) or two AMEs (Margins) with the delta-method SE
    (gradient (1/b, -a/b^2)), z against 0 and a normal CI, like Stata `nlcom _b[a]/_b[b]`
    (t and a t CI with the design df after a design-based fit, as after `svy:`)."""
    model_id, names, est, cov = _source(source)
    for name in (numerator, denominator):
        if name not in names:
            raise SpecificationError(model_id, f"ratio: unknown parameter {name!r}", [name])
    i, j = names.index(numerator), names.index(denominator)
    a, b = est[i], est[j]
    if b == 0:
        raise SpecificationError(model_id, f"ratio: denominator {denominator!r} is 0",
                                 [denominator])
    grad = np.array([1.0 / b, -a / b**2])
    sub = cov[np.ix_([i, j], [i, j])]
    value = a / b
    se = float(np.sqrt(grad @ sub @ grad))
    stat, p, lo, hi = inference(np.array([value]), np.array([se]), design_df(source), level)
    return TestResult(test_id or f"ratio:{numerator}/{denominator}", "ratio", float(value),
                      se, float(stat[0]), float(p[0]), 1, float(lo[0]), float(hi[0]))
