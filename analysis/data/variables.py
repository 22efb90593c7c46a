"""Constructed variables of the analysis data set, each made by one small pure function.

Input is the clean canonical survey (contract C3: ``collab__{partner}__{scale}`` frequency
codes, ``X__missing`` companions giving the kind of missing answer, ...). Output is the
analysis data set: outcomes, collaboration measures (Fitjar and Rodriguez-Pose 2011: breadth
by scale; 2013: STI / DUI groups, regional vs extra-regional), the glocal typology, and the
controls. Nothing here reads the study configuration: partner types, scales, codes and weights
are plain arguments, so a survey that lacks a scale or a partner type works too.

The missing-data policy is stated once, in :data:`MISSING_DATA_POLICY`, applied by the
functions below and counted by :func:`policy_counts`. Every constructed variable is documented
in :func:`variable_registry` (and :data:`VARIABLES` for the canonical layout).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.config import (
    PARTNER_GROUPS,
    PARTNER_LABELS,
    PARTNER_TYPES,
    REGIONAL_SCALES,
    SCALE_LABELS,
    SCALES,
)
from analysis.errors import DataError

# --------------------------------------------------------------------------------------------
# Vocabulary of the clean data (contract C3)
# --------------------------------------------------------------------------------------------

MISSING_SUFFIX = "__missing"
#: Routed-out answer (e.g. group-firm items for firms outside a business group).
NOT_APPLICABLE = "not_applicable"
#: Kinds of missing answer that make an item unknown (as opposed to routed out).
ITEM_MISSING_KINDS = ("dont_know", "refused", "no_answer")
#: Codes of the canonical frequency items that mean "never collaborated".
DEFAULT_NEVER: tuple[int, ...] = (1,)
#: Canonical intensity weights of the frequency codes (never, rarely, sometimes, often, very often).
DEFAULT_INTENSITY: dict[int, float] = {1: 0.0, 2: 1.0, 3: 2.0, 4: 3.0, 5: 4.0}
#: A scale's collaboration battery is usable if at most this share of its items is missing.
MAX_MISSING_SHARE = 0.5
#: Open-mindedness needs at least this share of its items answered (3 of 4).
MIN_ANSWERED_SHARE = 0.75
#: Partner groups that are internal to the firm's business group (not "external" partners).
INTERNAL_PARTNERS: tuple[str, ...] = PARTNER_GROUPS["internal"]

SIZE_BINS = (10, 20, 50, 100, 250, math.inf)
SIZE_LABELS = ("10-19", "20-49", "50-99", "100-249", "250+")
GLOCAL_TYPES = ("No external partners", "Local only", "Non-local only", "Local and non-local")
NOVELTY_LEVELS = ("none", "new to firm", "new to market")
#: Manager education codes at or above this level are higher education (1-2 school, 3+ degree).
HIGHER_ED_LEVEL = 3
FOREIGN_OWNED_THRESHOLD = 50.0

#: Clean columns carried unchanged into the analysis data set.
PASS_THROUGH = (
    "firm_id", "interview_id", "region", "nace", "sector", "employees", "founded",
    "foreign_share", "group", "higher_ed_share", "manager_education", "trust_general",
    "trust_regional", "weight",
)

# Words joined by single underscores, so "collab__p__s__missing" companions do not match.
_ITEM = re.compile(r"^collab__(?P<partner>[a-z]+(?:_[a-z]+)*)__(?P<scale>[a-z]+(?:_[a-z]+)*)$")
_OPEN = re.compile(r"^open_(\d+)$")


def item_column(partner: str, scale: str) -> str:
    """Clean column of the frequency item for ``partner`` at ``scale``."""
    return f"collab__{partner}__{scale}"


def collab_name(partner: str, scale: str) -> str:
    """Analysis column of the collaboration indicator for ``partner`` at ``scale``."""
    return f"collab_{partner}_{scale}"


def slug(text: object) -> str:
    """A lower-case ASCII identifier for a category (``"Tromsø"`` -> ``"tromso"``)."""
    text = str(text).lower().translate(str.maketrans({"æ": "ae", "ø": "o", "å": "a",
                                                      "+": "plus"}))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_") or "missing"


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise :class:`DataError` naming the columns ``what`` needs but the frame lacks."""
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise DataError(f"{what}: the clean data lack column(s) {', '.join(absent)}")


def _row_label(frame: pd.DataFrame, position: int) -> str:
    if "firm_id" in frame.columns:
        return f"firm_id {frame['firm_id'].iloc[position]}"
    return f"row {frame.index[position]}"


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    """Column as float with NaN for missing; raise if it is not numeric."""
    series = frame[column]
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        if pd.api.types.is_bool_dtype(series):
            return series.astype("Float64").astype(float)
        raise DataError(f"column {column}: expected numbers, found dtype {series.dtype}")
    return series.astype("Float64").astype(float)


def _kinds(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Object array of missing kinds (None where answered); see :func:`missing_kind`."""
    missing = frame[column].isna().to_numpy()
    companion = column + MISSING_SUFFIX
    kinds = np.full(len(frame), None, dtype=object)
    if companion in frame.columns:
        given = frame[companion].astype(object).to_numpy()
        kinds = np.where(pd.isna(given), None, given)
    return np.where(missing, np.where(pd.isna(kinds), "no_answer", kinds), None)


def missing_kind(frame: pd.DataFrame, column: str) -> pd.Series:
    """Kind of missing answer of ``column`` (``X__missing`` companion); NA where answered.

    Without a companion column (or an empty companion cell) a missing value counts as
    ``"no_answer"``.
    """
    return pd.Series(_kinds(frame, column), index=frame.index, dtype="string")


def collaboration_layout(frame: pd.DataFrame) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Partner types and scales present in the clean data, in canonical order.

    Unknown scales (e.g. ``"domestic"``) follow the canonical ones alphabetically.
    """
    found = [m.groupdict() for c in frame.columns if (m := _ITEM.match(c))]
    if not found:
        raise DataError("collaboration: the clean data hold no collab__<partner>__<scale> "
                            "columns")
    partners = {f["partner"] for f in found}
    scales = {f["scale"] for f in found}
    unknown = sorted(partners - set(PARTNER_TYPES))
    if unknown:
        raise DataError(f"collaboration: unknown partner type(s) {', '.join(unknown)} in "
                            f"the clean data (known: {', '.join(PARTNER_TYPES)})")
    order = {s: i for i, s in enumerate(("local", "national", "domestic", "international"))}
    return (tuple(p for p in PARTNER_TYPES if p in partners),
            tuple(sorted(scales, key=lambda s: (order.get(s, 99), s))))


def open_items(frame: pd.DataFrame) -> list[str]:
    """The open-mindedness item columns (``open_1`` ... ``open_k``) in item order."""
    return sorted((c for c in frame.columns if _OPEN.match(c)),
                  key=lambda c: int(_OPEN.match(c).group(1)))


def dummies(series: pd.Series, prefix: str) -> pd.DataFrame:
    """0/1 columns ``{prefix}_{slug(category)}`` for every category; NA where ``series`` is NA.

    All categories get a column (the model specification picks the reference category).
    """
    categories = (series.cat.categories if isinstance(series.dtype, pd.CategoricalDtype)
                  else pd.Index(sorted(series.dropna().unique())))
    out = {}
    for category in categories:
        name = f"{prefix}_{slug(category)}"
        if name in out:
            raise DataError(f"column {series.name}: categories collide as dummy {name}")
        out[name] = (series == category).astype("Int64").where(series.notna(), pd.NA)
    return pd.DataFrame(out, index=series.index)


# --------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------

def binary_outcome(frame: pd.DataFrame, column: str) -> pd.Series:
    """A 0/1 outcome (Int64, NA if missing); any other value raises :class:`DataError`."""
    require_columns(frame, [column], "outcome")
    values = _numeric(frame, column)
    bad = values.notna() & ~values.isin([0.0, 1.0])
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"column {column}, {_row_label(frame, pos)}: value "
                            f"{values.iloc[pos]} is not 0/1")
    return pd.Series(values, index=frame.index, name=column).astype("Int64")


def novelty_flag(
    frame: pd.DataFrame,
    outcome: str,
    novelty: str,
    new_values: Sequence[str] = ("market",),
    firm_values: Sequence[str] = ("firm",),
) -> pd.Series:
    """Innovation new to the market (or industry): 1 / 0 / NA.

    Rule: 0 if ``outcome`` == 0 (no innovation is not a new-to-market innovation); for
    innovators 1 if the novelty answer is in ``new_values``, 0 if in ``firm_values`` (new to
    the firm only); NA for innovators whose novelty answer is missing and when the outcome
    itself is missing (we do not guess the novelty of an unknown innovation).
    """
    require_columns(frame, [outcome, novelty], "novelty")
    innovated = binary_outcome(frame, outcome)
    answer = frame[novelty].astype("string")
    known = set(new_values) | set(firm_values)
    bad = answer.notna() & ~answer.isin(known)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"column {novelty}, {_row_label(frame, pos)}: value "
                            f"{answer.iloc[pos]!r} is not one of {sorted(known)}")
    flag = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    flag[innovated == 0] = 0
    flag[(innovated == 1) & answer.isin(list(firm_values)).fillna(False)] = 0
    flag[(innovated == 1) & answer.isin(list(new_values)).fillna(False)] = 1
    return flag


def new_to_market(frame: pd.DataFrame) -> pd.Series:
    """Product innovation new to the firm's market ("radical", 2011): see :func:`novelty_flag`."""
    return novelty_flag(frame, "product", "product_novelty").rename("new_to_market")


def process_new_to_industry(frame: pd.DataFrame) -> pd.Series:
    """Process innovation new to the firm's industry (novelty "market" or "industry")."""
    return novelty_flag(frame, "process", "process_novelty",
                        new_values=("market", "industry")).rename("process_new_to_industry")


def novelty_code(frame: pd.DataFrame) -> pd.Series:
    """Ordered product novelty as an integer: 0 none, 1 new to the firm, 2 new to the market.

    NA when product innovation is missing, or for product innovators without a novelty answer.
    """
    product = binary_outcome(frame, "product")
    market = new_to_market(frame)
    return (product + market).rename("novelty_code")


def novelty_ordered(frame: pd.DataFrame) -> pd.Series:
    """Ordered categorical of :func:`novelty_code` (none < new to firm < new to market)."""
    codes = novelty_code(frame)
    labels = codes.map(dict(enumerate(NOVELTY_LEVELS)), na_action="ignore")
    dtype = pd.CategoricalDtype(list(NOVELTY_LEVELS), ordered=True)
    return pd.Series(labels.astype(object), index=frame.index).astype(dtype).rename(
        "novelty_ordered")


def any_innovation(frame: pd.DataFrame) -> pd.Series:
    """1 if product or process innovation; 0 only if both are 0; NA otherwise (Kleene or)."""
    product = binary_outcome(frame, "product").astype("boolean")
    process = binary_outcome(frame, "process").astype("boolean")
    return (product | process).astype("Int64").rename("any_innovation")


# --------------------------------------------------------------------------------------------
# Collaboration
# --------------------------------------------------------------------------------------------

def item_unknown(frame: pd.DataFrame, partner: str, scale: str) -> pd.Series:
    """True where the item is missing for a reason other than routing (dk, refused, no answer)."""
    column = item_column(partner, scale)
    require_columns(frame, [column], "collaboration")
    kind = _kinds(frame, column)
    return pd.Series((kind != None) & (kind != NOT_APPLICABLE), index=frame.index,  # noqa: E711
                     dtype=bool)


def collaboration_indicator(
    frame: pd.DataFrame, partner: str, scale: str, never: Sequence[int] = DEFAULT_NEVER
) -> pd.Series:
    """1 if the frequency code is not a "never" code, 0 if it is or the item was routed out.

    Don't know / refused / no answer stay NA at the item level (aggregates then apply the
    battery rule of :func:`scale_answered`).
    """
    column = item_column(partner, scale)
    require_columns(frame, [column], "collaboration")
    codes = _numeric(frame, column).to_numpy()
    values = np.where(np.isin(codes, [float(c) for c in never]), 0.0, 1.0)
    values[np.isnan(codes)] = np.nan
    values[_kinds(frame, column) == NOT_APPLICABLE] = 0.0
    return pd.Series(values, index=frame.index, name=collab_name(partner, scale)).astype(
        "Int64")


def collaboration_indicators(
    frame: pd.DataFrame,
    partners: Sequence[str],
    scales: Sequence[str],
    never: Sequence[int] = DEFAULT_NEVER,
) -> pd.DataFrame:
    """``collab_{partner}_{scale}`` for every partner type and scale, partner-major order."""
    return pd.DataFrame({collab_name(p, s): collaboration_indicator(frame, p, s, never)
                         for p in partners for s in scales}, index=frame.index)


def scale_answered(
    frame: pd.DataFrame,
    partners: Sequence[str],
    scales: Sequence[str],
    max_missing_share: float = MAX_MISSING_SHARE,
) -> pd.DataFrame:
    """Per scale (columns): True if at most ``max_missing_share`` of its partner items are unknown.

    Routed-out items are known zeros, not missing.
    """
    if not partners:
        raise DataError("collaboration: no partner types given")
    out = {}
    for scale in scales:
        unknown = sum(item_unknown(frame, p, scale).astype(int) for p in partners)
        out[scale] = (unknown / len(partners)) <= max_missing_share
    return pd.DataFrame(out, index=frame.index)


def partner_count(
    frame: pd.DataFrame,
    partners: Sequence[str],
    scales: Sequence[str],
    never: Sequence[int] = DEFAULT_NEVER,
) -> pd.Series:
    """Number of ``partners`` the firm collaborates with at any of ``scales`` (Int64, no NA).

    A partner counts once even if it is a partner at several of the scales. Unknown items
    count as no collaboration here; callers set the count to NA where the battery rule
    (:func:`scale_answered`, over the full battery of each scale) fails.
    """
    all_partners = tuple(dict.fromkeys(partners))
    indicators = collaboration_indicators(frame, all_partners, scales, never).fillna(0)
    used = np.zeros(len(frame), dtype=int)
    for partner in all_partners:
        columns = [collab_name(partner, s) for s in scales]
        used += (indicators[columns].max(axis=1) > 0).to_numpy().astype(int)
    return pd.Series(used, index=frame.index, dtype="Int64")


def _battery_ok(frame: pd.DataFrame, battery: Sequence[str], scales: Sequence[str],
                max_missing_share: float) -> pd.Series:
    """True where every one of ``scales`` passes the battery rule over ``battery``."""
    if not scales:
        return pd.Series(True, index=frame.index)
    return scale_answered(frame, battery, scales, max_missing_share).all(axis=1)


def breadth(
    frame: pd.DataFrame,
    partners: Sequence[str],
    scales: Sequence[str],
    never: Sequence[int] = DEFAULT_NEVER,
    max_missing_share: float = MAX_MISSING_SHARE,
) -> pd.DataFrame:
    """``breadth_{scale}``: number of partner types (0..len(partners)) at each scale."""
    out = {}
    for scale in scales:
        count = partner_count(frame, partners, [scale], never)
        ok = _battery_ok(frame, partners, [scale], max_missing_share)
        out[f"breadth_{scale}"] = count.where(ok, pd.NA)
    return pd.DataFrame(out, index=frame.index)


def any_collaboration(
    frame: pd.DataFrame,
    partners: Sequence[str],
    scales: Sequence[str],
    never: Sequence[int] = DEFAULT_NEVER,
    max_missing_share: float = MAX_MISSING_SHARE,
) -> pd.DataFrame:
    """``any_collab_{scale}``: 1 if breadth at the scale is positive (NA where breadth is NA)."""
    widths = breadth(frame, partners, scales, never, max_missing_share)
    return pd.DataFrame({f"any_collab_{s}": (widths[f"breadth_{s}"] > 0).astype("Int64")
                         for s in scales}, index=frame.index)


def split_scales(scales: Sequence[str], regional_scales: Sequence[str] = REGIONAL_SCALES
                 ) -> tuple[list[str], list[str]]:
    """(regional, extra-regional) scales among ``scales``."""
    return ([s for s in scales if s in regional_scales],
            [s for s in scales if s not in regional_scales])


def near_far_scales(scales: Sequence[str], regional_scales: Sequence[str] = REGIONAL_SCALES
                    ) -> tuple[list[str], list[str]]:
    """(near, far) scales for the glocal typology.

    Near = the regional scales; a survey without one (e.g. "domestic" / "international")
    uses its nearest scale instead, so the typology becomes home / abroad.
    """
    regional, extra = split_scales(scales, regional_scales)
    if regional or len(scales) < 2:
        return regional, extra
    return [scales[0]], list(scales[1:])


def group_counts(
    frame: pd.DataFrame,
    partners: Sequence[str],
    scales: Sequence[str],
    groups: Mapping[str, Sequence[str]] = PARTNER_GROUPS,
    regional_scales: Sequence[str] = REGIONAL_SCALES,
    never: Sequence[int] = DEFAULT_NEVER,
    max_missing_share: float = MAX_MISSING_SHARE,
) -> pd.DataFrame:
    """Fitjar and Rodriguez-Pose (2013) groups: ``{group}_regional`` and ``{group}_extra``.

    Each is the number of the group's partner types (present in the survey) the firm
    collaborates with at a regional scale / at any extra-regional scale (a partner counts
    once even if it is a partner at several extra-regional scales). A group with no partner
    type in the survey, or a side (regional / extra) with no scale, yields no column.

    A survey without a regional scale (e.g. "domestic" and "international") cannot split
    regional from extra-regional: the groups are then counted at each scale
    (``{group}_{scale}``, e.g. ``sti_domestic``, ``sti_international``).
    """
    regional, extra = split_scales(scales, regional_scales)
    sides = [("regional", regional), ("extra", extra)] if regional else [
        (scale, [scale]) for scale in scales]
    out = {}
    for group, members in groups.items():
        present = [p for p in members if p in partners]
        if not present:
            continue
        for suffix, side in sides:
            if not side:
                continue
            count = partner_count(frame, present, side, never)
            ok = _battery_ok(frame, partners, side, max_missing_share)
            out[f"{group}_{suffix}"] = count.where(ok, pd.NA)
    return pd.DataFrame(out, index=frame.index)


def glocal_type(
    frame: pd.DataFrame,
    partners: Sequence[str],
    scales: Sequence[str],
    regional_scales: Sequence[str] = REGIONAL_SCALES,
    internal: Sequence[str] = INTERNAL_PARTNERS,
    never: Sequence[int] = DEFAULT_NEVER,
    max_missing_share: float = MAX_MISSING_SHARE,
) -> pd.Series:
    """Local buzz and global pipelines: external partners locally, non-locally, both, none.

    "External" partners exclude firms of the own business group (``internal``); "local" is
    any external partner at a regional scale, "non-local" at any other scale. NA if any
    scale fails the battery rule.
    """
    external = [p for p in partners if p not in internal]
    if not external:
        raise DataError("glocal type: the survey has no external partner type")
    regional, extra = near_far_scales(scales, regional_scales)
    local = partner_count(frame, external, regional, never) > 0 if regional else (
        pd.Series(False, index=frame.index))
    distant = partner_count(frame, external, extra, never) > 0 if extra else (
        pd.Series(False, index=frame.index))
    code = local.astype(int) + 2 * distant.astype(int)
    labels = code.map(dict(enumerate(GLOCAL_TYPES))).astype(object)
    ok = _battery_ok(frame, partners, list(scales), max_missing_share)
    labels = labels.where(ok.to_numpy(), None)
    return pd.Series(labels, index=frame.index, name="glocal_type").astype(
        pd.CategoricalDtype(list(GLOCAL_TYPES)))


def _weight_map(weights: Mapping[object, float]) -> dict[float, float]:
    try:
        return {float(int(code)): float(value) for code, value in weights.items()}
    except (TypeError, ValueError) as err:
        raise DataError(f"intensity weights: codes must be integers ({err})") from err


def collaboration_intensity(
    frame: pd.DataFrame,
    partners: Sequence[str],
    scales: Sequence[str],
    weights: Mapping[object, float] = DEFAULT_INTENSITY,
    max_missing_share: float = MAX_MISSING_SHARE,
) -> pd.DataFrame:
    """``intensity_{scale}``: sum over partner types of the weight of the frequency code.

    Routed-out and unknown items contribute 0; NA where the scale fails the battery rule.
    A code without a weight raises :class:`DataError`.
    """
    weight_of = _weight_map(weights)
    out = {}
    for scale in scales:
        total = pd.Series(0.0, index=frame.index)
        for partner in partners:
            column = item_column(partner, scale)
            require_columns(frame, [column], "intensity")
            codes = _numeric(frame, column)
            unweighted = codes.notna() & ~codes.isin(list(weight_of))
            if unweighted.any():
                pos = int(np.flatnonzero(unweighted.to_numpy())[0])
                raise DataError(f"column {column}, {_row_label(frame, pos)}: frequency "
                                    f"code {codes.iloc[pos]:g} has no intensity weight")
            total += codes.map(weight_of).fillna(0.0)
        ok = _battery_ok(frame, partners, [scale], max_missing_share)
        out[f"intensity_{scale}"] = total.where(ok)
    return pd.DataFrame(out, index=frame.index)


# --------------------------------------------------------------------------------------------
# Controls
# --------------------------------------------------------------------------------------------

def log_employees(frame: pd.DataFrame) -> pd.Series:
    """Natural log of employees; NA if missing; non-positive values raise DataError."""
    require_columns(frame, ["employees"], "log employees")
    employees = _numeric(frame, "employees")
    bad = employees.notna() & (employees <= 0)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"column employees, {_row_label(frame, pos)}: "
                            f"{employees.iloc[pos]:g} employees has no logarithm")
    return np.log(employees).rename("log_employees")


def size_class(frame: pd.DataFrame) -> pd.Series:
    """Ordered size class 10-19 / 20-49 / 50-99 / 100-249 / 250+ (NA if missing or < 10)."""
    require_columns(frame, ["employees"], "size class")
    classes = pd.cut(_numeric(frame, "employees"), bins=list(SIZE_BINS), right=False,
                     labels=list(SIZE_LABELS))
    return classes.astype(pd.CategoricalDtype(list(SIZE_LABELS), ordered=True)).rename(
        "size_class")


def region_sector(frame: pd.DataFrame) -> pd.Series:
    """City-region x sector cell (e.g. ``"Oslo / trade"``), the default cluster of the models.

    NA if either is missing; categories in region-major order of the two categoricals.
    """
    require_columns(frame, ["region", "sector"], "region x sector")
    regions = frame["region"].astype("category")
    sectors = frame["sector"].astype("category")
    cells = [f"{r} / {s}" for r in regions.cat.categories for s in sectors.cat.categories]
    text = regions.astype(object).astype(str) + " / " + sectors.astype(object).astype(str)
    text = text.where(regions.notna() & sectors.notna(), None)
    return pd.Series(text.astype(object), index=frame.index).astype(
        pd.CategoricalDtype(cells)).rename("region_sector")


def foreign_owned(frame: pd.DataFrame, threshold: float = FOREIGN_OWNED_THRESHOLD) -> pd.Series:
    """1 if the foreign share (0-100) is at least ``threshold`` (majority); NA if missing."""
    require_columns(frame, ["foreign_share"], "foreign owned")
    share = _numeric(frame, "foreign_share")
    return (share >= threshold).astype("Int64").where(share.notna(), pd.NA).rename(
        "foreign_owned")


def firm_age(frame: pd.DataFrame, survey_year: int) -> pd.Series:
    """Years since founding: ``survey_year`` - ``founded``; a founding after it raises."""
    require_columns(frame, ["founded"], "firm age")
    founded = _numeric(frame, "founded")
    age = survey_year - founded
    bad = age < 0
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"column founded, {_row_label(frame, pos)}: founded "
                            f"{founded.iloc[pos]:g}, after the survey year {survey_year}")
    return age.astype("Int64").rename("firm_age")


def manager_higher_ed(frame: pd.DataFrame, min_level: int = HIGHER_ED_LEVEL) -> pd.Series:
    """1 if the manager's education code is ``min_level`` or higher (a degree), NA if missing."""
    require_columns(frame, ["manager_education"], "manager higher education")
    level = _numeric(frame, "manager_education")
    return (level >= min_level).astype("Int64").where(level.notna(), pd.NA).rename(
        "manager_higher_ed")


def min_answered(n_items: int, share: float = MIN_ANSWERED_SHARE) -> int:
    """Least number of answered items an index needs (3 of 4 with the default share)."""
    return max(1, math.ceil(share * n_items - 1e-9))


def open_mindedness(frame: pd.DataFrame, items: Sequence[str] | None = None,
                    share: float = MIN_ANSWERED_SHARE) -> pd.Series:
    """Mean of the (already reverse-coded) open-mindedness items answered.

    NA if fewer than :func:`min_answered` items are answered (3 of 4).
    """
    items = list(items) if items is not None else open_items(frame)
    if not items:
        raise DataError("open-mindedness: the clean data hold no open_<k> item columns")
    require_columns(frame, items, "open-mindedness")
    values = pd.DataFrame({c: _numeric(frame, c) for c in items}, index=frame.index)
    answered = values.notna().sum(axis=1)
    return values.mean(axis=1).where(answered >= min_answered(len(items))).rename(
        "open_mindedness")


def cronbach_alpha(items: pd.DataFrame) -> float:
    """Cronbach's alpha of the item columns on complete cases (sample variances, ddof 1).

    alpha = k / (k - 1) * (1 - sum of item variances / variance of the item sum).
    """
    complete = items.astype("Float64").astype(float).dropna()
    k = complete.shape[1]
    if k < 2 or len(complete) < 2:
        raise DataError(f"Cronbach's alpha needs at least 2 items and 2 complete cases "
                            f"(got {k} items, {len(complete)} cases)")
    total_variance = complete.sum(axis=1).var(ddof=1)
    if total_variance == 0:
        raise DataError("Cronbach's alpha: the item sum has zero variance")
    return float(k / (k - 1) * (1 - complete.var(ddof=1).sum() / total_variance))


# --------------------------------------------------------------------------------------------
# The analysis data set
# --------------------------------------------------------------------------------------------

def build_analysis_data(
    clean: pd.DataFrame,
    *,
    survey_year: int,
    partners: Sequence[str] | None = None,
    scales: Sequence[str] | None = None,
    never: Sequence[int] = DEFAULT_NEVER,
    intensity_weights: Mapping[object, float] = DEFAULT_INTENSITY,
    groups: Mapping[str, Sequence[str]] = PARTNER_GROUPS,
    regional_scales: Sequence[str] = REGIONAL_SCALES,
) -> pd.DataFrame:
    """The analysis data set: pass-through columns, outcomes, collaboration and controls.

    ``partners`` and ``scales`` default to those present in ``clean``.
    """
    if partners is None or scales is None:
        found_partners, found_scales = collaboration_layout(clean)
        partners = found_partners if partners is None else partners
        scales = found_scales if scales is None else scales
    require_columns(clean, ["firm_id", "product", "process"], "analysis data")
    keep = [c for c in PASS_THROUGH if c in clean.columns]
    # A survey without a novelty question has no novelty outcomes (not an empty column).
    outcomes = {"product": binary_outcome(clean, "product"),
                "process": binary_outcome(clean, "process")}
    if "product_novelty" in clean.columns:
        outcomes["new_to_market"] = new_to_market(clean)
    if "process_novelty" in clean.columns:
        outcomes["process_new_to_industry"] = process_new_to_industry(clean)
    if "product_novelty" in clean.columns:
        outcomes["novelty_ordered"] = novelty_ordered(clean)
        outcomes["novelty_code"] = novelty_code(clean)
    outcomes["any_innovation"] = any_innovation(clean)
    parts = [
        clean[keep],
        pd.DataFrame(outcomes),
        collaboration_indicators(clean, partners, scales, never),
        breadth(clean, partners, scales, never),
        group_counts(clean, partners, scales, groups, regional_scales, never),
        any_collaboration(clean, partners, scales, never),
        collaboration_intensity(clean, partners, scales, intensity_weights),
    ]
    glocal = glocal_type(clean, partners, scales, regional_scales, never=never)
    parts += [glocal.to_frame(), dummies(glocal, "glocal_type")]
    controls = {}
    if "employees" in clean.columns:
        controls["log_employees"] = log_employees(clean)
        controls["size_class"] = size_class(clean)
    if "foreign_share" in clean.columns:
        controls["foreign_owned"] = foreign_owned(clean)
    if "founded" in clean.columns:
        controls["firm_age"] = firm_age(clean, survey_year)
    if "manager_education" in clean.columns:
        controls["manager_higher_ed"] = manager_higher_ed(clean)
    if {"region", "sector"} <= set(clean.columns):
        controls["region_sector"] = region_sector(clean)
    if open_items(clean):
        controls["open_mindedness"] = open_mindedness(clean)
    parts.append(pd.DataFrame(controls, index=clean.index))
    if "size_class" in controls:
        parts.append(dummies(controls["size_class"], "size_class"))
    for column in ("sector", "region"):
        if column in clean.columns:
            parts.append(dummies(clean[column], column))
    out = pd.concat(parts, axis=1)
    duplicated = out.columns[out.columns.duplicated()].tolist()
    if duplicated:
        raise DataError(f"analysis data: duplicate column(s) {duplicated}")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Missing-data policy
# --------------------------------------------------------------------------------------------

MISSING_DATA_POLICY: dict[str, str] = {
    "Product / process innovation": (
        "A don't know, refusal or no answer leaves the outcome missing (NA); the firm drops "
        "out of models of that outcome (listwise). No imputation."),
    "New to market / industry": (
        "0 for firms without the innovation; for innovators 1 if new to the market "
        "(industry), 0 if new to the firm only; NA for innovators whose novelty answer is "
        "missing (their novelty is not guessed) and when the innovation item is missing."),
    "Ordered novelty": (
        "0 none, 1 new to the firm, 2 new to the market (product innovation); NA exactly when "
        "new_to_market is NA."),
    "Any innovation": "1 if product or process is 1; 0 only if both are 0; otherwise NA.",
    "Collaboration item": (
        "The partner-by-scale indicator is NA for don't know, refusal or no answer (item "
        "prevalence uses the firms that answered the item)."),
    "Routed-out collaboration item": (
        "not_applicable (group-firm items for firms outside a business group) means no "
        "collaboration (0), not missing."),
    "Collaboration aggregates": (
        "Breadth, group counts, any-collaboration, intensity and the glocal type at a scale "
        "are defined if at most half of the partner items at that scale are unknown; unknown "
        "items then count as no collaboration. They are NA if more than half are unknown; a "
        "measure spanning several scales (extra-regional counts, glocal type) is NA if any of "
        "its scales is."),
    "Open-mindedness index": (
        "Mean of the answered items (after reverse coding) if at least 3 of 4 items (75%, "
        "rounded up) are answered; otherwise NA. Cronbach's alpha uses complete cases."),
    "Controls": (
        "Employees, founding year, foreign share, business group, higher-education share, "
        "manager education and trust are NA when the item is missing; no imputation; models "
        "drop such firms (listwise) and report N."),
}


def _firms(mask: pd.Series) -> int:
    return int(mask.fillna(False).astype(bool).sum())


def policy_counts(
    clean: pd.DataFrame,
    partners: Sequence[str],
    scales: Sequence[str],
    items: Sequence[str] | None = None,
    max_missing_share: float = MAX_MISSING_SHARE,
) -> pd.DataFrame:
    """Number of firms each missing-data rule touches: construct, case, firms.

    ``construct`` is a key of :data:`MISSING_DATA_POLICY`.
    """
    rows: list[tuple[str, str, int]] = []
    for outcome in ("product", "process"):
        rows.append(("Product / process innovation", f"{outcome} missing (NA)",
                     _firms(clean[outcome].isna())))
    for outcome, novelty in (("product", "product_novelty"), ("process", "process_novelty")):
        if novelty in clean.columns:
            rows.append(("New to market / industry",
                         f"{outcome} innovator without novelty answer (NA)",
                         _firms((clean[outcome] == 1) & clean[novelty].isna())))
    if "product_novelty" in clean.columns:
        rows.append(("Ordered novelty", "novelty_code NA",
                     _firms(novelty_code(clean).isna())))
    rows.append(("Any innovation", "any_innovation NA", _firms(any_innovation(clean).isna())))
    unknown = pd.DataFrame({(p, s): item_unknown(clean, p, s) for p in partners
                            for s in scales})
    routed = pd.DataFrame({(p, s): missing_kind(clean, item_column(p, s)) == NOT_APPLICABLE
                           for p in partners for s in scales}).fillna(False)
    answered = scale_answered(clean, partners, scales, max_missing_share)
    rows.append(("Collaboration item", "at least one partner item unknown (indicator NA)",
                 _firms(unknown.any(axis=1))))
    rows.append(("Routed-out collaboration item", "at least one item not applicable (= 0)",
                 _firms(routed.any(axis=1))))
    in_usable = pd.concat([unknown.xs(s, axis=1, level=1).any(axis=1) & answered[s]
                           for s in scales], axis=1).any(axis=1)
    rows.append(("Collaboration aggregates",
                 "unknown item(s) counted as no collaboration at a usable scale",
                 _firms(in_usable)))
    for scale in scales:
        rows.append(("Collaboration aggregates",
                     f"more than half the items unknown at {scale}: aggregates NA",
                     _firms(~answered[scale])))
    items = list(items) if items is not None else open_items(clean)
    if items:
        n_answered = clean[items].notna().sum(axis=1)
        need = min_answered(len(items))
        answered_range = (f"{need}" if need == len(items) - 1
                          else f"{need} to {len(items) - 1}")
        rows.append(("Open-mindedness index", f"{answered_range} of {len(items)} items "
                     "answered: mean of answered items",
                     _firms((n_answered >= need) & (n_answered < len(items)))))
        rows.append(("Open-mindedness index", f"fewer than {need} items answered: NA",
                     _firms(n_answered < need)))
    for column in ("employees", "founded", "foreign_share", "group", "higher_ed_share",
                   "manager_education", "trust_general", "trust_regional"):
        if column in clean.columns:
            rows.append(("Controls", f"{column} missing (NA)", _firms(clean[column].isna())))
    return pd.DataFrame(rows, columns=["construct", "case", "firms"])


# --------------------------------------------------------------------------------------------
# Documentation of every constructed variable
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VariableDoc:
    """Label, definition and source items (clean columns) of one analysis variable."""

    label: str
    definition: str
    source: str


def _scale_label(scale: str) -> str:
    return SCALE_LABELS.get(scale, scale.replace("_", " ").capitalize())


def scale_phrase(scale: str) -> str:
    """The scale's label inside a sentence ("elsewhere in Norway", "same city-region")."""
    label = _scale_label(scale)
    return label[:1].lower() + label[1:]


def _group_label(group: str) -> str:
    return {"sti": "STI partners", "dui_supply": "DUI supply-chain partners",
            "dui_competitors": "DUI competitors", "internal": "Group-internal partners"
            }.get(group, group)


def _items(partners: Sequence[str], scales: Sequence[str]) -> str:
    return ", ".join(item_column(p, s) for p in partners for s in scales)


def _collaboration_docs(partners, scales, groups, regional_scales, intensity_weights):
    docs: dict[str, VariableDoc] = {}
    battery = "defined when at most half of the partner items at the scale are unknown"
    for p in partners:
        for s in scales:
            docs[collab_name(p, s)] = VariableDoc(
                f"Collaborates with {PARTNER_LABELS[p].lower()}: {scale_phrase(s)}",
                "1 if the frequency code is not 'never', 0 if never or routed out; NA if "
                "unknown", item_column(p, s))
    for s in scales:
        docs[f"breadth_{s}"] = VariableDoc(
            f"Breadth of collaboration: {scale_phrase(s)}",
            f"Number of partner types (0-{len(partners)}) collaborated with at this scale; "
            f"{battery}", _items(partners, [s]))
    regional, extra = split_scales(scales, regional_scales)
    sides = [("regional", regional, "in the own city-region"),
             ("extra", extra, "outside the own city-region")] if regional else [
        (s, [s], scale_phrase(s)) for s in scales]  # no regional scale: one count per scale
    for g, members in groups.items():
        present = [p for p in members if p in partners]
        for suffix, side, where in sides:
            if present and side:
                docs[f"{g}_{suffix}"] = VariableDoc(
                    f"{_group_label(g)}, {where}",
                    f"Number of the types {', '.join(present)} collaborated with at any of "
                    f"the scales {', '.join(side)} (a type counts once); {battery}, at "
                    "each of these scales",
                    _items(present, side))
    for s in scales:
        docs[f"any_collab_{s}"] = VariableDoc(
            f"Any collaboration: {scale_phrase(s)}", f"1 if breadth_{s} > 0",
            _items(partners, [s]))
        weights = ", ".join(f"code {k:g} = {v:g}"
                            for k, v in _weight_map(intensity_weights).items())
        docs[f"intensity_{s}"] = VariableDoc(
            f"Collaboration intensity: {scale_phrase(s)}",
            f"Sum over partner types of the weight of the frequency code ({weights}); "
            f"unknown and routed-out items 0; {battery}", _items(partners, [s]))
    near, _ = near_far_scales(scales, regional_scales)
    where = ("in the own city-region" if near == regional
             else f"at the nearest scale recorded ({', '.join(near) or 'none'}; the survey has "
                  "no city-region scale)")
    docs["glocal_type"] = VariableDoc(
        "Glocal type (local buzz / global pipelines)",
        f"External partners (excluding firms of the own business group) {where} only, "
        "outside it only, both, or none; NA if any scale is unusable",
        _items([p for p in partners if p not in INTERNAL_PARTNERS], scales))
    for t in GLOCAL_TYPES:
        docs[f"glocal_type_{slug(t)}"] = VariableDoc(f"Glocal type: {t}",
                                                f"1 if glocal_type is '{t}'", "glocal_type")
    return docs


_FIXED_DOCS: dict[str, VariableDoc] = {
    "firm_id": VariableDoc("Firm identifier", "Organisation number", "firm_id"),
    "interview_id": VariableDoc("Interview identifier", "Survey vendor's interview number",
                                "interview_id"),
    "region": VariableDoc("City-region", "City-region of the firm's address", "region"),
    "nace": VariableDoc("NACE division", "NACE Rev. 2 division of the main activity", "nace"),
    "sector": VariableDoc("Sector group", "Sector group of the NACE division", "sector"),
    "employees": VariableDoc("Employees", "Number of employees incl. owners", "employees"),
    "founded": VariableDoc("Founding year", "Year the firm was founded", "founded"),
    "foreign_share": VariableDoc("Foreign ownership share (%)",
                                 "Share of capital owned by foreign owners, 0-100",
                                 "foreign_share"),
    "group": VariableDoc("Business group", "1 if the firm is part of a business group", "group"),
    "higher_ed_share": VariableDoc("Employees with higher education (%)",
                                   "Share of employees with a degree, 0-100", "higher_ed_share"),
    "manager_education": VariableDoc("Manager education (1-5)",
                                     "Highest education of the managing director (1 compulsory "
                                     "... 5 doctorate)", "manager_education"),
    "trust_general": VariableDoc("Generalised trust (0-10)",
                                 "Most people can be trusted (10) vs can't be too careful (0)",
                                 "trust_general"),
    "trust_regional": VariableDoc("Trust in regional firms (1-5)",
                                  "Most firms in the city-region keep their agreements",
                                  "trust_regional"),
    "weight": VariableDoc("Sampling weight", "Survey weight; 1 when the survey has none",
                          "weight"),
    "product": VariableDoc("Product innovation", "1 if new or significantly improved goods or "
                           "services in the last three years", "product"),
    "process": VariableDoc("Process innovation", "1 if new or significantly improved methods "
                           "in the last three years", "process"),
    "new_to_market": VariableDoc(
        "New-to-market product innovation", "1 if a product innovation new to the market; 0 "
        "if no product innovation or new to the firm only; NA if novelty unknown",
        "product, product_novelty"),
    "process_new_to_industry": VariableDoc(
        "New-to-industry process innovation", "1 if a process innovation new to the industry; "
        "0 if none or new to the firm only; NA if novelty unknown", "process, process_novelty"),
    "novelty_ordered": VariableDoc(
        "Product novelty (ordered)", "none < new to firm < new to market",
        "product, product_novelty"),
    "novelty_code": VariableDoc(
        "Product novelty (0/1/2)", "0 none, 1 new to the firm, 2 new to the market (for "
        "ordered logit)", "product, product_novelty"),
    "any_innovation": VariableDoc("Any innovation", "1 if product or process innovation",
                                  "product, process"),
    "log_employees": VariableDoc("Log employees", "Natural log of employees", "employees"),
    "size_class": VariableDoc("Size class", "Employees 10-19, 20-49, 50-99, 100-249, 250+",
                              "employees"),
    "foreign_owned": VariableDoc("Foreign owned",
                                 f"1 if foreign ownership share >= {FOREIGN_OWNED_THRESHOLD:g}%"
                                 " (majority foreign owned)", "foreign_share"),
    "region_sector": VariableDoc("City-region x sector cell",
                                 "Combination of city-region and sector group (cluster of "
                                 "robust standard errors)", "region, sector"),
    "manager_higher_ed": VariableDoc("Manager has higher education",
                                     f"1 if manager education code >= {HIGHER_ED_LEVEL}",
                                     "manager_education"),
}


def variable_registry(
    partners: Sequence[str] = PARTNER_TYPES,
    scales: Sequence[str] = SCALES,
    *,
    survey_year: int = 2010,
    items: Sequence[str] = ("open_1", "open_2", "open_3", "open_4"),
    groups: Mapping[str, Sequence[str]] = PARTNER_GROUPS,
    regional_scales: Sequence[str] = REGIONAL_SCALES,
    intensity_weights: Mapping[object, float] = DEFAULT_INTENSITY,
    categories: Mapping[str, Sequence[object]] | None = None,
) -> dict[str, VariableDoc]:
    """Documentation (label, definition, source) of every analysis variable of a layout.

    ``categories`` maps ``sector`` / ``region`` to their categories, for the dummies.
    """
    docs = dict(_FIXED_DOCS)
    docs["firm_age"] = VariableDoc("Firm age (years)", f"{survey_year} (survey year) minus "
                                   "founding year", "founded")
    docs["open_mindedness"] = VariableDoc(
        "Open-mindedness index (1-5)", f"Mean of the answered items (reverse-coded where "
        f"needed) if at least {min_answered(len(items))} of {len(items)} answered",
        ", ".join(items))
    docs.update(_collaboration_docs(partners, scales, groups, regional_scales,
                                    intensity_weights))
    for label in SIZE_LABELS:
        docs[f"size_class_{slug(label)}"] = VariableDoc(f"Size class {label}",
                                                  f"1 if size_class is {label}", "employees")
    for column, values in (categories or {}).items():
        for value in values:
            docs[f"{column}_{slug(value)}"] = VariableDoc(
                f"{_FIXED_DOCS[column].label}: {value}", f"1 if {column} is {value}", column)
    return docs


#: Documentation of the canonical layout (7 partner types x 3 scales; dummies not included).
VARIABLES: dict[str, VariableDoc] = variable_registry()
