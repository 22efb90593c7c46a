"""The FitResult record and the small inference helpers shared by all quantities."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.models.estimation.design import Design
from analysis.models.estimation.perfect import DroppedTerm
from analysis.models.estimation.survey import SurveySummary


@dataclass(frozen=True, eq=False)
class FitResult:
    """One fitted model.

    `terms` are the index regressors in model order ("const" last for logit/probit/lpm;
    ordered logit has no constant). `params`/`cov` cover `terms` followed by `cut_terms`
    (ordered-logit thresholds, Stata's /cut parametrisation, named "cut1|2", ...).
    `df_resid` is None for ML models (normal inference, like Stata's z) and the t degrees
    of freedom for the LPM (N-k, or G-1 with clustering, like Stata's `regress`); with a
    survey design it is the design df (PSUs - strata) for every estimator (Stata `svy:`).
    `design` keeps the float64 data actually used (no copy is made after the fit), which the
    marginal effects and predictions need. `nobs` is Stata's e(N): the observations used,
    or with frequency weights the sum of the weights. `weight_type` is None, "pweight" or
    "fweight". `perfect_prediction` lists the regressors dropped with the observations they
    predict perfectly (Stata's rule, perfect.py); `design` no longer holds those rows.
    """

    model_id: str
    estimator: str
    outcome: str
    terms: tuple[str, ...]
    params: pd.Series
    cov: pd.DataFrame
    se_type: str
    nobs: int
    llf: float
    llnull: float
    pseudo_r2: float
    aic: float
    bic: float
    converged: bool
    n_clusters: int | None
    iterations: int
    design: Design = field(repr=False)
    cluster: str | None = None
    cut_terms: tuple[str, ...] = ()
    categories: tuple[float, ...] = ()
    r2: float = float("nan")
    df_resid: float | None = None
    weight_type: str | None = None
    perfect_prediction: tuple[DroppedTerm, ...] = ()
    #: the survey design of a design-based fit (se_type "survey"), else None
    survey: SurveySummary | None = None

    @property
    def n_perfectly_predicted(self) -> int:
        """Observations left out because a dropped regressor predicted them perfectly."""
        return sum(d.n_dropped for d in self.perfect_prediction)

    @property
    def bse(self) -> pd.Series:
        """Standard errors of `params`."""
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index)

    @property
    def beta(self) -> np.ndarray:
        """Index coefficients (no thresholds) as a float64 array in `terms` order."""
        return self.params.to_numpy()[: len(self.terms)]

    @property
    def cuts(self) -> np.ndarray:
        """Ordered-model thresholds (empty for other estimators)."""
        return self.params.to_numpy()[len(self.terms):]


def inference(
    estimate: np.ndarray, std_error: np.ndarray, df_resid: float | None, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Statistic, two-sided p-value and CI bounds (normal, or t with df_resid)."""
    estimate = np.asarray(estimate, dtype=float)
    std_error = np.asarray(std_error, dtype=float)
    dist = stats.norm if df_resid is None else stats.t(df_resid)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = estimate / std_error
    p_value = 2.0 * dist.sf(np.abs(statistic))
    crit = dist.ppf(0.5 + level / 2.0)
    return statistic, p_value, estimate - crit * std_error, estimate + crit * std_error
