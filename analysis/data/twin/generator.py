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

The steps live in :mod:`~analysis.data.twin.latent` (layout constants and distribution
helpers), :mod:`~analysis.data.twin.draws` (steps 1-5), :mod:`~analysis.data.twin.delivery`
(step 6) and :mod:`~analysis.data.twin.sav` (the SPSS file); this module draws a survey.

Random streams: ``SeedSequence(seed)`` spawns one child stream per component
(:data:`COMPONENTS`), so adding draws to one component does not move the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from analysis.data.twin.delivery import (
    apply_nonresponse,
    blank_frame,
    check_digit,
    draw_break_offs,
    draw_duplicates,
    draw_orgnr,
    draw_screen_outs,
    record_counts,
)
from analysis.data.twin.draws import draw_firms, draw_truth
from analysis.data.twin.latent import (
    COLUMNS,
    COMPONENTS,
    RECORD_TYPES,
    bisect,
)
from analysis.data.twin.sav import write_sav
from analysis.data.twin.truth import (
    DEFAULT,
    REGRESSORS,
    TwinParams,
    build_regressors,
    linear_index,
)
from analysis.errors import DataError


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



def draw_survey(n_usable: int, seed: int, params: TwinParams = DEFAULT) -> Twin:
    """Draw the synthetic survey: the delivered raw frame, the truth frame and record types.

    Pure: no I/O. The same (n_usable, seed, params) always gives the same result.
    """
    if int(n_usable) != n_usable or n_usable < 1:
        raise DataError(f"n_usable must be a positive integer, got {n_usable!r}")
    n_usable = int(n_usable)
    counts = record_counts(n_usable, params)
    if sum(counts.values()) > 99999:
        raise DataError(f"{sum(counts.values())} records exceed the intnr range 1-99999")
    streams = spawn_streams(seed)

    truth = draw_truth(n_usable, streams, params)
    answers = blank_frame(n_usable)
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
            cuts.append(round(float(bisect(gap, -50, 50)), 3))
        result[model.name] = (cuts[0], cuts[1])
    return result


#: Re-exported for callers that rebuild regressors from a Twin's truth frame.
__all__ = [
    "COLUMNS", "COMPONENTS", "REGRESSORS", "RECORD_TYPES", "Twin", "DataError",
    "calibrate_cut_points", "check_digit", "draw_survey", "spawn_streams", "write_sav",
]
