"""Vocabulary of the clean data (contract C3) and the helpers every constructed variable uses."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from analysis.config import (
    PARTNER_GROUPS,
    PARTNER_TYPES,
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

#: Default employee size bands (lower bounds; the Norwegian survey's 10+ classes).
SIZE_BANDS: tuple[int, ...] = (10, 20, 50, 100, 250)
SIZE_BINS = (*SIZE_BANDS, math.inf)


def band_labels(bands: Sequence[int]) -> tuple[str, ...]:
    """``lo-hi`` for each band and ``last+`` for the top one ("10-19", ..., "250+")."""
    inner = [f"{lo}-{hi - 1}" for lo, hi in zip(bands, bands[1:], strict=False)]
    return (*inner, f"{bands[-1]}+")


SIZE_LABELS = band_labels(SIZE_BANDS)
GLOCAL_TYPES = ("No external partners", "Local only", "Non-local only", "Local and non-local")
NOVELTY_LEVELS = ("none", "new to firm", "new to market")
#: Manager education codes at or above this level are higher education (1-2 school, 3+ degree).
HIGHER_ED_LEVEL = 3
FOREIGN_OWNED_THRESHOLD = 50.0

#: Clean columns carried unchanged into the analysis data set.
PASS_THROUGH = (
    "firm_id", "interview_id", "region", "nace", "sector", "employees", "founded",
    "foreign_share", "group", "higher_ed_share", "manager_education", "trust_general",
    "trust_regional", "design_stratum", "design_psu", "design_fpc", "weight",
)

# Words joined by single underscores, so "collab__p__s__missing" companions do not match.
ITEM_PATTERN = re.compile(
    r"^collab__(?P<partner>[a-z]+(?:_[a-z]+)*)__(?P<scale>[a-z]+(?:_[a-z]+)*)$")
OPEN_PATTERN = re.compile(r"^open_(\d+)$")


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


def row_label(frame: pd.DataFrame, position: int) -> str:
    if "firm_id" in frame.columns:
        return f"firm_id {frame['firm_id'].iloc[position]}"
    return f"row {frame.index[position]}"


def numeric_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """Column as float with NaN for missing; raise if it is not numeric."""
    series = frame[column]
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        if pd.api.types.is_bool_dtype(series):
            return series.astype("Float64").astype(float)
        raise DataError(f"column {column}: expected numbers, found dtype {series.dtype}")
    return series.astype("Float64").astype(float)


def missing_kinds_array(frame: pd.DataFrame, column: str) -> np.ndarray:
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
    return pd.Series(missing_kinds_array(frame, column), index=frame.index, dtype="string")


def collaboration_layout(frame: pd.DataFrame) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Partner types and scales present in the clean data, in canonical order.

    Unknown scales (e.g. ``"domestic"``) follow the canonical ones alphabetically.
    """
    found = [m.groupdict() for c in frame.columns if (m := ITEM_PATTERN.match(c))]
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
    return sorted((c for c in frame.columns if OPEN_PATTERN.match(c)),
                  key=lambda c: int(OPEN_PATTERN.match(c).group(1)))


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
