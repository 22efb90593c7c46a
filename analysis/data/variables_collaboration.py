"""Collaboration measures: indicators, breadth, STI / DUI groups, glocal type, intensity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.config import (
    PARTNER_GROUPS,
    REGIONAL_SCALES,
)
from analysis.data.variables_common import (
    DEFAULT_INTENSITY,
    DEFAULT_NEVER,
    GLOCAL_TYPES,
    INTERNAL_PARTNERS,
    MAX_MISSING_SHARE,
    NOT_APPLICABLE,
    collab_name,
    item_column,
    missing_kinds_array,
    numeric_column,
    require_columns,
    row_label,
)
from analysis.errors import DataError

# --------------------------------------------------------------------------------------------
# Collaboration
# --------------------------------------------------------------------------------------------

def item_unknown(frame: pd.DataFrame, partner: str, scale: str) -> pd.Series:
    """True where the item is missing for a reason other than routing (dk, refused, no answer)."""
    column = item_column(partner, scale)
    require_columns(frame, [column], "collaboration")
    kind = missing_kinds_array(frame, column)
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
    codes = numeric_column(frame, column).to_numpy()
    values = np.where(np.isin(codes, [float(c) for c in never]), 0.0, 1.0)
    values[np.isnan(codes)] = np.nan
    values[missing_kinds_array(frame, column) == NOT_APPLICABLE] = 0.0
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


def weight_map(weights: Mapping[object, float]) -> dict[float, float]:
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
    weight_of = weight_map(weights)
    out = {}
    for scale in scales:
        total = pd.Series(0.0, index=frame.index)
        for partner in partners:
            column = item_column(partner, scale)
            require_columns(frame, [column], "intensity")
            codes = numeric_column(frame, column)
            unweighted = codes.notna() & ~codes.isin(list(weight_of))
            if unweighted.any():
                pos = int(np.flatnonzero(unweighted.to_numpy())[0])
                raise DataError(f"column {column}, {row_label(frame, pos)}: frequency "
                                    f"code {codes.iloc[pos]:g} has no intensity weight")
            total += codes.map(weight_of).fillna(0.0)
        ok = _battery_ok(frame, partners, [scale], max_missing_share)
        out[f"intensity_{scale}"] = total.where(ok)
    return pd.DataFrame(out, index=frame.index)
