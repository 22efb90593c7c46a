"""Small distribution helpers of the twin: ordered draws, thresholds, employee sizes."""


from collections.abc import Mapping
from functools import cache

import numpy as np
from scipy import special

from analysis.config import PARTNER_TYPES, SCALES
from analysis.data.twin.questionnaire import ITEMS
from analysis.data.twin.truth import (
    FirmParams,
    TwinParams,
    collaboration_column,
)
from analysis.errors import DataError

#: Random-stream components, in spawn order. Never reorder: append new ones at the end.
COMPONENTS: tuple[str, ...] = (
    "frame", "latent", "firm", "attitudes", "collaboration", "outcomes", "nonresponse",
    "screen_outs", "break_offs", "duplicates", "identifiers",
)

COLUMNS: tuple[str, ...] = tuple(item.name for item in ITEMS)
FRAME_COLUMNS = ("intnr", "orgnr", "region", "nace")
#: Items a break-off may still have answered, in interview order (Q1 is always answered).
PRE_OUTCOME_ITEMS = ("q1_emp", "q2_founded", "q3_foreign", "q4_group", "q5_highed")
#: Items a duplicate interview may answer one step differently (no routing filters).
PERTURBABLE_ITEMS = (
    "q2_founded", "q5_highed", "q11_ceo_edu", "q12a", "q12b", "q12c", "q12d", "q13a",
    "q13b", *(collaboration_column(p, s) for p in PARTNER_TYPES for s in SCALES),
)
RECORD_TYPES = ("usable", "screen_out", "break_off", "duplicate")

#: Fixed creation date/time written into the SAV header (bytes 92-108) so reruns are
#: byte-identical: 1 June 2010, 12:00:00, a plausible delivery date of the fieldwork.
SAV_TIMESTAMP = (b"01 Jun 10", b"12:00:00")
SAV_FILE_LABEL = "Norwegian firm survey 2010 - SYNTHETIC TWIN, not real data"



# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def ordered_from_shares(latent: np.ndarray, shares: tuple[float, ...]) -> np.ndarray:
    """Codes 1..K of a standard-normal latent cut at the quantiles of ``shares``."""
    cuts = special.ndtri(np.cumsum(shares)[:-1])
    return 1.0 + np.searchsorted(cuts, latent).astype(float)


def draw_categories(rng: np.random.Generator, shares: Mapping, n: int) -> np.ndarray:
    keys = list(shares)
    probs = np.array([shares[k] for k in keys], dtype=float)
    picks = rng.choice(len(keys), size=n, p=probs / probs.sum())
    return np.array(keys, dtype=object)[picks]


def bisect(func, low: float, high: float, tol: float = 1e-10) -> float:
    """Root of an increasing or decreasing ``func`` on [low, high] by bisection."""
    f_low = func(low)
    if f_low * func(high) > 0:
        raise DataError(f"no root between {low} and {high}: calibration target out of reach")
    while high - low > tol:
        mid = (low + high) / 2
        f_mid = func(mid)
        if f_mid * f_low > 0:
            low, f_low = mid, f_mid
        else:
            high = mid
    return (low + high) / 2


def joint_upper_tail(k: float, g: float, rho: float) -> float:
    """P(X > k, Y > g) for a standard bivariate normal with correlation ``rho``.

    Integrates phi(x) * P(Y > g | X = x) over x > k on a fine grid (trapezoid rule).
    """
    x = np.linspace(k, max(k, 0.0) + 10.0, 20001)
    conditional = special.ndtr((rho * x - g) / np.sqrt(1 - rho * rho))
    density = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
    return float(np.trapezoid(density * conditional, x))


@cache
def employee_log_mean(median: float, minimum: float, log_sd: float) -> float:
    """Location of the log-normal whose truncation at ``minimum`` has median ``median``."""

    def gap(mu: float) -> float:
        p0 = special.ndtr((np.log(minimum) - mu) / log_sd)
        return mu + log_sd * special.ndtri((1 + p0) / 2) - np.log(median)

    return float(bisect(gap, -5, 10))


def employees_from_score(size_score: np.ndarray, firm: FirmParams) -> np.ndarray:
    """Employees as the quantile ``Phi(size_score)`` of the truncated log-normal."""
    mu = employee_log_mean(firm.employees_median, firm.employees_min, firm.employees_log_sd)
    p0 = special.ndtr((np.log(firm.employees_min) - mu) / firm.employees_log_sd)
    quantile = p0 + (1 - p0) * special.ndtr(size_score)
    log_emp = mu + firm.employees_log_sd * special.ndtri(quantile)
    employees = np.floor(np.exp(log_emp) + 1e-9)
    return np.clip(employees, firm.employees_min, firm.employees_max)


def group_latent_loadings(firm: FirmParams) -> tuple[float, float, float]:
    """(size, foreign-latent, noise) loadings of the standardised group latent G*."""
    a, b, f = firm.group_size_loading, firm.foreign_size_loading, firm.group_foreign_loading
    # var(a*size + f*F*) with corr(size, F*) = b; the noise tops the variance up to 1.
    explained = a * a + f * f + 2 * a * f * b
    if explained >= 1:
        raise DataError("group latent loadings explain more than all of its variance")
    return a, f, float(np.sqrt(1 - explained))


def group_collaboration_thresholds(params: TwinParams) -> dict[str, float]:
    """Probit thresholds of the group-partner latent per scale.

    Solves P(C > k, G* > g) = target, where C (collaboration latent) and G* (group
    latent) are standard bivariate normal with correlation a*cov(openness, G*).
    """
    firm, collab = params.firm, params.collaboration
    a_size, a_foreign, _ = group_latent_loadings(firm)
    r = firm.openness_size_corr
    cov_open_group = a_size * r + a_foreign * firm.foreign_size_loading * r
    rho = collab.openness_loading * cov_open_group
    targets = tuple(collab.prevalence[("group", scale)] for scale in SCALES)
    for scale, target in zip(SCALES, targets, strict=True):
        if not 0 < target < firm.group_share:
            raise DataError(f"group collaboration target {target} at scale {scale!r} must be "
                            f"between 0 and the group share {firm.group_share}")
    return dict(zip(SCALES, joint_thresholds(targets, firm.group_share, rho), strict=True))


@cache
def joint_thresholds(targets: tuple[float, ...], group_share: float,
                      rho: float) -> tuple[float, ...]:
    """Thresholds k with P(C > k, G > ndtri(1 - group_share)) = target (cached: pure)."""
    g = special.ndtri(1 - group_share)
    return tuple(bisect(lambda k, t=t: joint_upper_tail(k, g, rho) - t, -8, 8)
                 for t in targets)
