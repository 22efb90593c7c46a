"""Odds ratios, Wald tests of linear restrictions, and ratios (Fieller sets with the
nlcom-style delta method beside them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import SpecificationError
from analysis.models.estimation.margins import Margins
from analysis.models.estimation.result import FitResult, inference

#: Kinds of a Fieller confidence set (the ``interval`` column of estimates.csv).
BOUNDED, TWO_RAYS, WHOLE_LINE = "bounded", "two rays", "whole line"
#: Suffix of the test id of the delta-method row that accompanies a ratio.
DELTA_SUFFIX = ":delta"


@dataclass(frozen=True)
class TestResult:
    """A Wald test or a ratio of two parameters (C1 rows with quantity "test").

    Wald: after an ML model `statistic` is chi2 with `df` degrees of freedom (Stata `test`
    after logit); after the LPM (`df_denom` = its residual degrees of freedom, N-k or G-1)
    it is F(df, df_denom), as Stata's `test` after `regress`; after a design-based fit it is
    the adjusted F with df_denom = d - df + 1 (d the design df, Stata's svy `test`), whatever
    the estimator. For a single restriction `estimate`/`std_error` are R b - r and its SE,
    with a z (ML) or t (LPM, design-based) interval.
    Ratio a/b: `estimate` = a/b and `ci_lower`/`ci_upper` the Fieller confidence set, whose
    kind is `interval` ("bounded": [ci_lower, ci_upper]; "two rays": (-inf, ci_lower] U
    [ci_upper, inf); "whole line": bounds NaN); a Fieller set has no standard error, so
    `std_error`, `statistic` and `p_value` are NaN. `delta` holds the delta-method result
    (Stata `nlcom`: SE, z or t against 0, symmetric interval), reported as an extra row.
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
    df_denom: float | None = None
    interval: str = ""
    delta: TestResult | None = None

    @property
    def f_statistic(self) -> float:
        """Stata's F form of a Wald test (chi2/df after ML models)."""
        if self.kind != "wald":
            return float("nan")
        return self.statistic if self.df_denom is not None else self.statistic / self.df


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
    """exp(b) for the index terms of a logit / ordered logit (Stata `or`): SE exp(b)*se (delta
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
    level: float = 0.95,
) -> TestResult:
    """Wald test of R theta = rhs; each restriction is {parameter name: coefficient}.

    Example (b_international = b_local): wald_test(fit, [{"intl": 1, "local": -1}]).
    Works on a FitResult (coefficients, with its robust/cluster covariance) or on Margins
    (AMEs). W = (R t - r)' (R V R')^-1 (R t - r) with q = number of restrictions: chi2(q)
    after ML models; F = W/q with F(q, df_resid) after the LPM (Stata `test` after
    `regress`: N-k, or G-1 with clusters). After a design-based fit (design df d) it is
    Stata's adjusted F, ((d - q + 1) / (d q)) W ~ F(q, d - q + 1) (svy `test`), for every
    estimator; a single restriction's interval then uses t(d).
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
    wald = float(diff @ np.linalg.solve(rvr, diff))
    df = len(restrictions)
    df_denom = source.df_resid
    d = design_df(source)
    if d is not None:  # svy: the adjusted Wald F with the design degrees of freedom
        if d - df + 1 <= 0:
            raise SpecificationError(model_id, f"test {test_id!r}: {df} restrictions need "
                                     f"more than {d:g} design degrees of freedom")
        df_denom = d - df + 1
        statistic = wald * df_denom / (d * df)
        p = float(stats.f.sf(statistic, df, df_denom))
    elif df_denom is None:
        statistic, p = wald, float(stats.chi2.sf(wald, df))
    else:
        statistic = wald / df
        p = float(stats.f.sf(statistic, df, df_denom))
    if df == 1:
        se = float(np.sqrt(rvr[0, 0]))
        _, _, lo, hi = inference(diff, np.array([se]), df_denom, level)
        return TestResult(test_id, "wald", float(diff[0]), se, statistic, p, 1,
                          float(lo[0]), float(hi[0]), df_denom=df_denom)
    nan = float("nan")
    return TestResult(test_id, "wald", nan, nan, statistic, p, df, nan, nan,
                      df_denom=df_denom)


def critical_value(level: float, df_resid: float | None) -> float:
    """Two-sided critical value: normal, or t with df_resid degrees of freedom."""
    dist = stats.norm if df_resid is None else stats.t(df_resid)
    return float(dist.ppf(0.5 + level / 2.0))


def fieller_set(a, b, vaa, vab, vbb, crit):
    """Fieller's confidence set for a/b: {theta: (a - theta b)^2 <= crit^2 Var(a - theta b)}.

    The set solves q(theta) = A theta^2 - 2 B theta + C <= 0 with A = b^2 - c vbb,
    B = a b - c vab, C = a^2 - c vaa (c = crit^2), discriminant D = B^2 - A C:
    A > 0 (the denominator differs significantly from 0): the bounded interval between
    the roots; A < 0 and D > 0: the two rays outside the roots; A < 0 and D <= 0: the
    whole line (the data do not bound the ratio). Works elementwise on arrays; returns
    (kind, lower, upper) with NaN bounds for the whole line.
    """
    a, b, vaa, vab, vbb = (np.asarray(v, dtype=float) for v in (a, b, vaa, vab, vbb))
    c = crit * crit
    A, B, C = b * b - c * vbb, a * b - c * vab, a * a - c * vaa
    D = B * B - A * C
    root = np.sqrt(np.maximum(D, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        r1, r2 = (B - root) / A, (B + root) / A
    bounded = A > 0
    rays = ~bounded & (D > 0)
    kind = np.where(bounded, BOUNDED, np.where(rays, TWO_RAYS, WHOLE_LINE))
    lower = np.where(bounded | rays, np.minimum(r1, r2), np.nan)
    upper = np.where(bounded | rays, np.maximum(r1, r2), np.nan)
    # A == 0: one ray, (-inf, C/2B] or [C/2B, inf): the two rays with one at infinity.
    flat = A == 0
    if np.any(flat):
        edge = np.where(flat, C / np.where(B == 0, np.nan, 2 * B), np.nan)
        lower = np.where(flat, np.where(B > 0, -np.inf, edge), lower)
        upper = np.where(flat, np.where(B > 0, edge, np.inf), upper)
        kind = np.where(flat, TWO_RAYS, kind)
    return kind, lower, upper


def fieller_contains(theta, a, b, vaa, vab, vbb, crit):
    """Whether theta lies in the Fieller set (elementwise; the defining inequality, so no
    rounding of roots is involved)."""
    gap = a - theta * b
    return gap * gap <= crit * crit * (vaa - 2.0 * theta * vab + theta * theta * vbb)


def ratio(
    source: FitResult | Margins,
    numerator: str,
    denominator: str,
    *,
    test_id: str | None = None,
    level: float = 0.95,
) -> TestResult:
    """a/b of two coefficients (FitResult) or two AMEs (Margins): the Fieller confidence
    set (fieller_set), with the delta-method result of Stata `nlcom _b[a]/_b[b]` (gradient
    (1/b, -a/b^2), z or, after the LPM, t against 0) in `delta`. After a design-based fit
    both use t with the design df (the fit's df_resid), as after `svy:`.

    The Fieller set holds its level whatever the precision of b; the delta-method interval
    undercovers when b is not far from 0 (see the coverage study, analysis/models/coverage.py).
    """
    model_id, names, est, cov = _source(source)
    for name in (numerator, denominator):
        if name not in names:
            raise SpecificationError(model_id, f"ratio: unknown parameter {name!r}", [name])
    i, j = names.index(numerator), names.index(denominator)
    a, b = est[i], est[j]
    if b == 0:
        raise SpecificationError(model_id, f"ratio: denominator {denominator!r} is 0",
                                 [denominator])
    test_id = test_id or f"ratio:{numerator}/{denominator}"
    df_resid = source.df_resid
    grad = np.array([1.0 / b, -a / b**2])
    sub = cov[np.ix_([i, j], [i, j])]
    value = float(a / b)
    se = float(np.sqrt(grad @ sub @ grad))
    stat, p, lo, hi = inference(np.array([value]), np.array([se]), df_resid, level)
    delta = TestResult(test_id + DELTA_SUFFIX, "ratio_delta", value, se, float(stat[0]),
                       float(p[0]), 1, float(lo[0]), float(hi[0]), df_denom=df_resid)
    kind, lower, upper = fieller_set(a, b, sub[0, 0], sub[0, 1], sub[1, 1],
                                     critical_value(level, df_resid))
    nan = float("nan")
    return TestResult(test_id, "ratio", value, nan, nan, nan, 1, float(lower), float(upper),
                      df_denom=df_resid, interval=str(kind), delta=delta)
