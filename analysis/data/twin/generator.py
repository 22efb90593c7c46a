"""The seeded generator of the synthetic twin of the 2010 Norwegian firm survey.

Data-generating process (all parameters in :mod:`analysis.data.twin.truth`, all OUR
assumptions, not the paper's numbers):

1. Frame. City-region and sector group are drawn independently with the docs/study.md
   shares; the NACE division is drawn within the sector group.
2. Latent firm traits. ``openness`` and ``size_score`` are standard normal with
   correlation 0.30 (Gaussian copula). Employees are the ``size_score`` quantile of a
   log-normal truncated at 10 (median about 25, max a few thousand). Foreign ownership,
   business-group membership, firm age, the higher-education share and the manager's
   education are drawn from size, openness and noise (see the truth dataclasses).
3. Collaboration. For each partner type and scale a probit latent
   ``0.60*openness + 0.35*S_scale + e`` crosses a threshold chosen so that the marginal
   prevalence hits the target; openness makes collaboration correlated within firm across
   partners and scales, ``S_scale`` adds correlation within a scale. The group partner is
   possible only for group firms (its threshold solves a bivariate-normal equation so the
   target is a share of all firms). Collaborators get frequency codes 2-5, others 1.
4. Attitudes. The open-mindedness items q12a-d are ordered probits on openness (q12c
   reverse-worded, negative loading); trust items q13a-b depend weakly on openness.
5. Outcomes depend ONLY on observed, constructible variables: the regressors of
   :func:`analysis.data.twin.truth.build_regressors` computed from the true answers. Product
   novelty is an ordered logit ``y* = x'b + logistic`` with cut points (none < new to firm
   < new to market); process novelty likewise with its own coefficients. Product and
   process errors are independent. So the binary logit of product innovation and the
   logit of new-to-market innovation are correctly specified with the true slopes.
6. Delivery. Item non-response (don't know / refused user-missing codes) is applied to
   the true answers with a respondent-level propensity; routing blanks Q7 unless Q6 = 1,
   Q9 unless Q8 = 1 and the group-partner items unless Q4 = 1. Screen-outs, break-offs
   and duplicate interviews are added, orgnr (9 digits with a valid mod-11 check digit)
   and intnr (interview order) assigned, and the file is sorted by intnr.

Random streams: ``SeedSequence(seed)`` spawns one child stream per component
(:data:`COMPONENTS`), so adding draws to one component does not move the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
from scipy import special

from analysis.config import PARTNER_TYPES, SCALES
from analysis.data.twin.questionnaire import DONT_KNOW, ITEMS, ITEMS_BY_NAME, REFUSED, Item
from analysis.data.twin.truth import (
    DEFAULT,
    REGRESSORS,
    SURVEY_YEAR,
    FirmParams,
    OutcomeModel,
    TwinParams,
    build_regressors,
    collaboration_column,
    linear_index,
)
from analysis.errors import DataError
from analysis.io import atomic_path

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


@dataclass(frozen=True)
class Twin:
    """One draw of the synthetic survey.

    raw: the delivered file: columns exactly ``questionnaire.ITEMS`` in order, float codes,
        NaN = system-missing, user-missing codes kept, sorted by intnr.
    truth: one row per usable firm (keyed by orgnr, with the intnr of its first
        interview): the true answers before non-response (routing applied), the latent
        traits, the regressors of the true index, the indexes and the outcomes.
    records: intnr, orgnr and record type ("usable", "screen_out", "break_off",
        "duplicate") of every raw record, sorted by intnr.
    """

    raw: pd.DataFrame
    truth: pd.DataFrame
    records: pd.DataFrame


def spawn_streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent numpy Generator per component, derived from ``seed``."""
    children = np.random.SeedSequence(seed).spawn(len(COMPONENTS))
    return {name: np.random.Generator(np.random.PCG64(child))
            for name, child in zip(COMPONENTS, children, strict=True)}


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def _ordered_from_shares(latent: np.ndarray, shares: tuple[float, ...]) -> np.ndarray:
    """Codes 1..K of a standard-normal latent cut at the quantiles of ``shares``."""
    cuts = special.ndtri(np.cumsum(shares)[:-1])
    return 1.0 + np.searchsorted(cuts, latent).astype(float)


def _draw_categories(rng: np.random.Generator, shares: Mapping, n: int) -> np.ndarray:
    keys = list(shares)
    probs = np.array([shares[k] for k in keys], dtype=float)
    picks = rng.choice(len(keys), size=n, p=probs / probs.sum())
    return np.array(keys, dtype=object)[picks]


def _bisect(func, low: float, high: float, tol: float = 1e-10) -> float:
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


def _joint_upper_tail(k: float, g: float, rho: float) -> float:
    """P(X > k, Y > g) for a standard bivariate normal with correlation ``rho``.

    Integrates phi(x) * P(Y > g | X = x) over x > k on a fine grid (trapezoid rule).
    """
    x = np.linspace(k, max(k, 0.0) + 10.0, 20001)
    conditional = special.ndtr((rho * x - g) / np.sqrt(1 - rho * rho))
    density = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
    return float(np.trapezoid(density * conditional, x))


@cache
def _employee_log_mean(median: float, minimum: float, log_sd: float) -> float:
    """Location of the log-normal whose truncation at ``minimum`` has median ``median``."""

    def gap(mu: float) -> float:
        p0 = special.ndtr((np.log(minimum) - mu) / log_sd)
        return mu + log_sd * special.ndtri((1 + p0) / 2) - np.log(median)

    return float(_bisect(gap, -5, 10))


def employees_from_score(size_score: np.ndarray, firm: FirmParams) -> np.ndarray:
    """Employees as the quantile ``Phi(size_score)`` of the truncated log-normal."""
    mu = _employee_log_mean(firm.employees_median, firm.employees_min, firm.employees_log_sd)
    p0 = special.ndtr((np.log(firm.employees_min) - mu) / firm.employees_log_sd)
    quantile = p0 + (1 - p0) * special.ndtr(size_score)
    log_emp = mu + firm.employees_log_sd * special.ndtri(quantile)
    employees = np.floor(np.exp(log_emp) + 1e-9)
    return np.clip(employees, firm.employees_min, firm.employees_max)


def _group_latent_loadings(firm: FirmParams) -> tuple[float, float, float]:
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
    a_size, a_foreign, _ = _group_latent_loadings(firm)
    r = firm.openness_size_corr
    cov_open_group = a_size * r + a_foreign * firm.foreign_size_loading * r
    rho = collab.openness_loading * cov_open_group
    targets = tuple(collab.prevalence[("group", scale)] for scale in SCALES)
    for scale, target in zip(SCALES, targets, strict=True):
        if not 0 < target < firm.group_share:
            raise DataError(f"group collaboration target {target} at scale {scale!r} must be "
                            f"between 0 and the group share {firm.group_share}")
    return dict(zip(SCALES, _joint_thresholds(targets, firm.group_share, rho), strict=True))


@cache
def _joint_thresholds(targets: tuple[float, ...], group_share: float,
                      rho: float) -> tuple[float, ...]:
    """Thresholds k with P(C > k, G > ndtri(1 - group_share)) = target (cached: pure)."""
    g = special.ndtri(1 - group_share)
    return tuple(_bisect(lambda k, t=t: _joint_upper_tail(k, g, rho) - t, -8, 8)
                 for t in targets)


# ---------------------------------------------------------------------------------------
# True answers of interviewed firms
# ---------------------------------------------------------------------------------------


def draw_frame(n: int, rng: np.random.Generator, params: TwinParams) -> pd.DataFrame:
    """Region code, sector group and NACE division of ``n`` firms."""
    region = _draw_categories(rng, params.frame.region_shares, n).astype(float)
    sector = _draw_categories(rng, params.frame.sector_shares, n)
    nace = np.zeros(n)
    for name, weights in params.frame.nace_weights.items():
        mask = sector == name
        nace[mask] = _draw_categories(rng, weights, int(mask.sum())).astype(float)
    return pd.DataFrame({"region": region, "nace": nace, "sector": sector.astype(str)})


def draw_firms(n: int, streams: dict[str, np.random.Generator],
               params: TwinParams) -> pd.DataFrame:
    """True answers Q1-Q5, Q10-Q13 (no outcomes) and latent traits of ``n`` firms."""
    firm = params.firm
    out = draw_frame(n, streams["frame"], params)

    rng = streams["latent"]
    openness = rng.standard_normal(n)
    r = firm.openness_size_corr
    size_score = r * openness + np.sqrt(1 - r * r) * rng.standard_normal(n)
    out["openness"] = openness
    out["size_score"] = size_score
    out["q1_emp"] = employees_from_score(size_score, firm)

    rng = streams["firm"]
    b = firm.foreign_size_loading
    foreign_latent = b * size_score + np.sqrt(1 - b * b) * rng.standard_normal(n)
    foreign_any = foreign_latent > special.ndtri(1 - firm.foreign_any_share)
    full = rng.random(n) < firm.foreign_full_share
    partial = np.rint(1 + 98 * rng.beta(*firm.foreign_partial_beta, size=n))
    out["q3_foreign"] = np.where(foreign_any, np.where(full, 100.0, partial), 0.0)

    a_size, a_foreign, a_noise = _group_latent_loadings(firm)
    group_latent = (a_size * size_score + a_foreign * foreign_latent
                    + a_noise * rng.standard_normal(n))
    out["group_latent"] = group_latent
    in_group = group_latent > special.ndtri(1 - firm.group_share)
    out["q4_group"] = np.where(in_group, 1.0, 2.0)

    highed_noise = rng.standard_normal(n)
    sector_mean = out["sector"].map(firm.higher_ed_sector_mean).to_numpy(dtype=float)
    share = 100 * special.expit(special.logit(sector_mean)
                                + firm.higher_ed_openness_loading * openness
                                + firm.higher_ed_noise_sd * highed_noise)
    share = np.rint(share)
    out["q5_highed"] = np.where(share >= 10, 5 * np.rint(share / 5), share)

    age = np.floor(np.exp(np.log(firm.age_median) + firm.age_size_loading * size_score
                          + firm.age_noise_sd * rng.standard_normal(n)))
    out["q2_founded"] = np.clip(SURVEY_YEAR - age, firm.founded_min, SURVEY_YEAR)

    m_o, m_h = firm.manager_openness_loading, firm.manager_higher_ed_loading
    manager_latent = (m_o * openness + m_h * highed_noise
                      + np.sqrt(1 - m_o**2 - m_h**2) * rng.standard_normal(n))
    out["q11_ceo_edu"] = _ordered_from_shares(manager_latent, firm.manager_education_shares)

    out = pd.concat([out, draw_attitudes(openness, streams["attitudes"], firm)], axis=1)
    collab = draw_collaboration(openness, group_latent, streams["collaboration"], params)
    return pd.concat([out, collab], axis=1)


def draw_attitudes(openness: np.ndarray, rng: np.random.Generator,
                   firm: FirmParams) -> pd.DataFrame:
    """Open-mindedness items q12a-d and trust items q13a-b."""
    n = len(openness)
    out = {}
    for item, loading in firm.open_item_loadings.items():
        latent = loading * openness + np.sqrt(1 - loading**2) * rng.standard_normal(n)
        out[item] = _ordered_from_shares(latent, firm.open_item_shares[item])
    a = firm.trust_openness_loading
    trust = a * openness + np.sqrt(1 - a * a) * rng.standard_normal(n)
    general = np.rint(firm.trust_general_mean + firm.trust_general_sd * trust)
    out["q13a"] = np.clip(general, 0, 10)
    c = firm.trust_regional_loading
    regional = c * trust + np.sqrt(1 - c * c) * rng.standard_normal(n)
    out["q13b"] = _ordered_from_shares(regional, firm.trust_regional_shares)
    return pd.DataFrame(out)


def draw_collaboration(openness: np.ndarray, group_latent: np.ndarray,
                       rng: np.random.Generator, params: TwinParams) -> pd.DataFrame:
    """Frequency codes of the Q10 battery (1 = never; NaN = routed out of group items)."""
    collab, firm = params.collaboration, params.firm
    n = len(openness)
    a, b = collab.openness_loading, collab.scale_loading
    c = np.sqrt(1 - a * a - b * b)
    in_group = group_latent > special.ndtri(1 - firm.group_share)
    group_thresholds = group_collaboration_thresholds(params)
    f = collab.frequency_openness_loading
    out = {}
    for scale in SCALES:
        scale_factor = rng.standard_normal(n)
        for partner in PARTNER_TYPES:
            latent = a * openness + b * scale_factor + c * rng.standard_normal(n)
            freq_latent = (f * openness + np.sqrt(1 - f * f) * rng.standard_normal(n)
                           + collab.frequency_shift[partner])
            if partner == "group":
                active = (latent > group_thresholds[scale]) & in_group
            else:
                active = latent > special.ndtri(1 - collab.prevalence[(partner, scale)])
            frequency = 2.0 + np.searchsorted(collab.frequency_cuts, freq_latent)
            code = np.where(active, frequency, 1.0)
            if partner == "group":
                code = np.where(in_group, code, np.nan)
            out[collaboration_column(partner, scale)] = code
    return pd.DataFrame(out)


def draw_outcome(index: np.ndarray, model: OutcomeModel,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Ordered-logit outcome: (latent y*, category 0 none / 1 new to firm / 2 new to market)."""
    latent = index + rng.logistic(size=len(index))
    category = np.searchsorted(np.asarray(model.cuts), latent).astype(float)
    return latent, category


def draw_truth(n_usable: int, streams: dict[str, np.random.Generator],
               params: TwinParams) -> pd.DataFrame:
    """True answers, latent traits, regressors, indexes and outcomes of usable firms."""
    firms = draw_firms(n_usable, streams, params)
    regressors = build_regressors(firms, params.frame)
    rng = streams["outcomes"]
    parts = {}
    for model, yes_item, novelty_item, top in (
            (params.product, "q6_prod", "q7_prod_new", "new_to_market"),
            (params.process, "q8_proc", "q9_proc_new", "new_to_industry")):
        index = linear_index(regressors, model)
        latent, category = draw_outcome(index, model, rng)
        parts[f"index_{model.name}"] = index
        parts[f"latent_{model.name}"] = latent
        parts[model.name] = (category >= 1).astype(float)
        parts[f"{model.name}_novelty"] = category
        parts[top] = (category == 2).astype(float)
        parts[yes_item] = np.where(category >= 1, 1.0, 2.0)
        parts[novelty_item] = np.where(category >= 1, category, np.nan)
    truth = pd.concat([firms, regressors, pd.DataFrame(parts, index=firms.index)], axis=1)
    return truth


# ---------------------------------------------------------------------------------------
# Delivery: non-response, extra records, identifiers
# ---------------------------------------------------------------------------------------


def apply_routing(frame: pd.DataFrame) -> pd.DataFrame:
    """Blank (NaN) the items a respondent was not asked, given the reported filter answers."""
    out = frame.copy()
    out.loc[out["q6_prod"] != 1, "q7_prod_new"] = np.nan
    out.loc[out["q8_proc"] != 1, "q9_proc_new"] = np.nan
    group_items = [collaboration_column("group", s) for s in SCALES]
    out.loc[out["q4_group"] != 1, group_items] = np.nan
    return out


def apply_nonresponse(answers: pd.DataFrame, rng: np.random.Generator,
                      params: TwinParams) -> pd.DataFrame:
    """Replace some asked answers by don't-know / refused codes, then re-apply routing."""
    nonresponse = params.nonresponse
    out = answers.copy()
    n = len(out)
    shape = nonresponse.propensity_shape
    propensity = rng.gamma(shape, 1 / shape, size=n)
    missing_flags = {}
    for item in ITEMS:  # fixed order: stable stream use
        rate = nonresponse.rates.get(item.name, 0.0)
        if rate <= 0 or not item.missing:
            continue
        prob = np.minimum(rate * propensity, nonresponse.max_prob)
        missing = (rng.random(n) < prob) & out[item.name].notna().to_numpy()
        dont_know = rng.random(n) < nonresponse.dont_know_share.get(item.name, 0.7)
        missing_flags[item.name] = (missing, dont_know)
    # "No outcome answered" must only mark break-offs: keep Q8 when Q6 is also missing.
    if "q6_prod" in missing_flags and "q8_proc" in missing_flags:
        both = missing_flags["q6_prod"][0] & missing_flags["q8_proc"][0]
        missing_flags["q8_proc"] = (missing_flags["q8_proc"][0] & ~both,
                                    missing_flags["q8_proc"][1])
    for name, (missing, dont_know) in missing_flags.items():
        codes = _missing_codes(ITEMS_BY_NAME[name])
        replacement = np.where(dont_know, codes[DONT_KNOW], codes[REFUSED])
        out[name] = np.where(missing, replacement, out[name].to_numpy(dtype=float))
    return apply_routing(out)


def _missing_codes(item: Item) -> dict[str, float]:
    return {kind: float(code) for code, kind in item.missing.items()}


def _blank_frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(np.nan, index=range(n), columns=list(COLUMNS), dtype=float)


def draw_screen_outs(n: int, rng: np.random.Generator, params: TwinParams) -> pd.DataFrame:
    """Firms under 10 employees: frame variables and Q1 only."""
    out = _blank_frame(n)
    frame = draw_frame(n, rng, params)
    out["region"] = frame["region"].to_numpy()
    out["nace"] = frame["nace"].to_numpy()
    low, high = params.design.screen_out_employees
    out["q1_emp"] = rng.integers(low, high + 1, size=n).astype(float)
    return out


def draw_break_offs(n: int, rng: np.random.Generator, params: TwinParams) -> pd.DataFrame:
    """Interviews ending before Q6: frame variables, Q1 and the next 0-4 items of Q2-Q5."""
    streams = {name: rng for name in COMPONENTS}  # one stream drives the whole record
    firms = draw_firms(n, streams, params)
    out = _blank_frame(n)
    out["region"] = firms["region"].to_numpy()
    out["nace"] = firms["nace"].to_numpy()
    answered = rng.integers(1, len(PRE_OUTCOME_ITEMS) + 1, size=n)
    for position, name in enumerate(PRE_OUTCOME_ITEMS):
        out[name] = np.where(answered > position, firms[name].to_numpy(), np.nan)
    return out


def draw_duplicates(reported: pd.DataFrame, n: int, rng: np.random.Generator,
                    params: TwinParams) -> tuple[pd.DataFrame, np.ndarray]:
    """Second interviews of ``n`` usable firms: a copy with a few one-step differences.

    Returns the duplicate records and the row positions of their originals in ``reported``.
    """
    origin = np.sort(rng.choice(len(reported), size=n, replace=False))
    out = reported.iloc[origin].reset_index(drop=True).copy()
    for name in PERTURBABLE_ITEMS:
        item = ITEMS_BY_NAME[name]
        values = out[name].to_numpy(dtype=float)
        change = rng.random(n) < params.design.duplicate_change_prob
        step = rng.choice(np.array([-1.0, 1.0]), size=n)
        if name == "q5_highed":
            step = step * 5
        low, high = (min(item.codes), max(item.codes)) if item.codes else item.valid_range
        # Only valid answers move (user-missing and blank stay as they were).
        valid = np.isin(values, list(item.codes)) if item.codes else (
            (values >= low) & (values <= high))
        moved = np.clip(values + step, low, high)
        out[name] = np.where(change & valid, moved, values)
    return out, origin


def check_digit(base: np.ndarray) -> np.ndarray:
    """Mod-11 check digit of Norwegian organisation numbers (-1 where none exists)."""
    weights = np.array([3, 2, 7, 6, 5, 4, 3, 2])
    digits = (base[:, None] // 10 ** np.arange(7, -1, -1)) % 10
    remainder = (digits * weights).sum(axis=1) % 11
    check = (11 - remainder) % 11
    return np.where(check == 10, -1, check)


def draw_orgnr(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct 9-digit organisation numbers (8xxxxxxxx-9xxxxxxxx, valid check digit)."""
    found = np.empty(0, dtype=np.int64)
    while len(found) < n:
        base = rng.integers(80_000_000, 100_000_000, size=2 * (n - len(found)) + 16)
        check = check_digit(base)
        fresh = (base * 10 + check)[check >= 0]
        merged = np.concatenate([found, fresh])
        _, first = np.unique(merged, return_index=True)
        found = merged[np.sort(first)]
    return found[:n]


def _record_counts(n_usable: int, params: TwinParams) -> dict[str, int]:
    design = params.design
    return {
        "usable": n_usable,
        "screen_out": round(design.screen_out_rate * n_usable),
        "break_off": round(design.break_off_rate * n_usable),
        "duplicate": min(round(design.duplicate_rate * n_usable), n_usable),
    }


def draw_survey(n_usable: int, seed: int, params: TwinParams = DEFAULT) -> Twin:
    """Draw the synthetic survey: the delivered raw frame, the truth frame and record types.

    Pure: no I/O. The same (n_usable, seed, params) always gives the same result.
    """
    if int(n_usable) != n_usable or n_usable < 1:
        raise DataError(f"n_usable must be a positive integer, got {n_usable!r}")
    n_usable = int(n_usable)
    counts = _record_counts(n_usable, params)
    if sum(counts.values()) > 99999:
        raise DataError(f"{sum(counts.values())} records exceed the intnr range 1-99999")
    streams = spawn_streams(seed)

    truth = draw_truth(n_usable, streams, params)
    answers = _blank_frame(n_usable)
    for name in COLUMNS:
        if name in truth.columns:
            answers[name] = truth[name].to_numpy(dtype=float)
    reported = apply_nonresponse(answers, streams["nonresponse"], params)
    screen_outs = draw_screen_outs(counts["screen_out"], streams["screen_outs"], params)
    break_offs = draw_break_offs(counts["break_off"], streams["break_offs"], params)
    duplicates, origin = draw_duplicates(reported, counts["duplicate"],
                                         streams["duplicates"], params)

    rng = streams["identifiers"]
    n_firms = n_usable + counts["screen_out"] + counts["break_off"]
    orgnr = draw_orgnr(n_firms, rng).astype(float)
    # Interview order: each firm gets a random time; a duplicate comes later than its
    # original interview, so the first interview always has the lower intnr.
    time = rng.random(n_firms)
    dup_time = time[origin] + (1 - time[origin]) * rng.random(len(origin))
    raw = pd.concat([reported, screen_outs, break_offs, duplicates], ignore_index=True)
    raw["orgnr"] = np.concatenate([orgnr, orgnr[origin]])
    all_times = np.concatenate([time, dup_time])
    intnr = np.empty(len(raw))
    intnr[np.argsort(all_times, kind="stable")] = np.arange(1, len(raw) + 1)
    raw["intnr"] = intnr
    record_type = np.repeat(np.array(RECORD_TYPES, dtype=object),
                            [counts[t] for t in RECORD_TYPES])
    records = pd.DataFrame({"intnr": intnr, "orgnr": raw["orgnr"].to_numpy(),
                            "record_type": record_type.astype(str)})
    order = np.argsort(intnr, kind="stable")
    raw = raw.iloc[order].reset_index(drop=True)[list(COLUMNS)].astype(float)
    records = records.iloc[order].reset_index(drop=True)

    truth = truth.drop(columns=["group_latent"])
    truth["orgnr"], truth["intnr"] = orgnr[:n_usable], intnr[:n_usable]
    answers_first = [c for c in COLUMNS if c in truth.columns]
    truth = truth[answers_first + [c for c in truth.columns if c not in answers_first]]
    truth = truth.sort_values("orgnr", kind="stable").reset_index(drop=True)
    return Twin(raw=raw, truth=truth, records=records)


# ---------------------------------------------------------------------------------------
# Calibration of the cut points (used once to set the constants in truth.py)
# ---------------------------------------------------------------------------------------


def calibrate_cut_points(params: TwinParams = DEFAULT, n: int = 400_000,
                         seed: int = 20110601) -> dict[str, tuple[float, float]]:
    """Cut points that make the expected outcome shares hit each model's targets.

    Draws the regressors of ``n`` usable firms and solves mean(logistic(x'b - k)) = target
    for each cut point. The constants in :mod:`analysis.data.twin.truth` come from this with
    the defaults (rounded to three decimals).
    """
    firms = draw_firms(n, spawn_streams(seed), params)
    regressors = build_regressors(firms, params.frame)
    result = {}
    for model in (params.product, params.process):
        index = linear_index(regressors, model)
        cuts = []
        for target in model.targets:
            def gap(k: float, target: float = target, index: np.ndarray = index) -> float:
                return float(special.expit(index - k).mean()) - target
            cuts.append(round(float(_bisect(gap, -50, 50)), 3))
        result[model.name] = (cuts[0], cuts[1])
    return result


# ---------------------------------------------------------------------------------------
# SPSS output
# ---------------------------------------------------------------------------------------


def _format_width(item: Item) -> int:
    """Digits needed for the largest code, valid value or missing code of an item."""
    values = [*item.codes, *item.missing]
    if item.valid_range:
        values += list(item.valid_range)
    return max(len(str(int(v))) for v in values)


def sav_metadata(items: tuple[Item, ...] = ITEMS) -> dict:
    """Keyword arguments of ``pyreadstat.write_sav`` carrying the codebook metadata."""
    return {
        "column_labels": {item.name: item.label for item in items},
        "variable_value_labels": {item.name: {float(k): v for k, v in item.value_labels.items()}
                                  for item in items if item.value_labels},
        "missing_ranges": {item.name: [float(code) for code in sorted(item.missing)]
                           for item in items if item.missing},
        "variable_measure": {item.name: item.measure for item in items},
        "variable_format": {item.name: f"F{_format_width(item)}.0" for item in items},
        "variable_display_width": {item.name: max(_format_width(item), 8) for item in items},
    }


def _fix_sav_timestamp(data: bytearray) -> bytearray:
    """Overwrite the creation date and time of a SAV header with :data:`SAV_TIMESTAMP`."""
    if data[:4] != b"$FL2":
        raise DataError("not an SPSS system file: the header does not start with $FL2")
    date, time = SAV_TIMESTAMP
    data[92:101] = date
    data[101:109] = time
    return data


def write_sav(frame: pd.DataFrame, path: Path, note: list[str] | None = None) -> Path:
    """Write the delivered frame as SPSS ``.sav`` with the questionnaire metadata.

    Variable labels = Item.label, value labels = Item.value_labels (options and missing
    codes), user-missing values = Item.missing codes, measure levels and F<w>.0 formats.
    The header's creation timestamp is fixed (:data:`SAV_TIMESTAMP`), so the same frame
    always gives the same bytes. ``note``: document lines of at most 80 characters.
    Written atomically.
    """
    if tuple(frame.columns) != COLUMNS:
        raise DataError(f"frame columns must be questionnaire.ITEMS in order; got "
                        f"{list(frame.columns)[:5]}... for {path}")
    with atomic_path(Path(path)) as tmp:
        # Row (bytecode) compression is the SPSS default and keeps the file small.
        pyreadstat.write_sav(frame.astype(float), str(tmp), file_label=SAV_FILE_LABEL,
                             row_compress=True, note=note, **sav_metadata())
        tmp.write_bytes(bytes(_fix_sav_timestamp(bytearray(tmp.read_bytes()))))
    return Path(path)


#: Re-exported for callers that rebuild regressors from a Twin's truth frame.
__all__ = [
    "COLUMNS", "COMPONENTS", "REGRESSORS", "RECORD_TYPES", "Twin", "DataError",
    "calibrate_cut_points", "draw_survey", "spawn_streams", "write_sav",
]
