"""Firm and manager controls: size, ownership, age, education, open-mindedness."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.data.variables_common import (
    FOREIGN_OWNED_THRESHOLD,
    HIGHER_ED_LEVEL,
    MIN_ANSWERED_SHARE,
    SIZE_BANDS,
    band_labels,
    numeric_column,
    open_items,
    require_columns,
    row_label,
)
from analysis.errors import DataError

# --------------------------------------------------------------------------------------------
# Controls
# --------------------------------------------------------------------------------------------

def log_employees(frame: pd.DataFrame, plus_one: bool = False) -> pd.Series:
    """Natural log of employees (of 1 + employees with ``plus_one``); NA if missing.

    Without ``plus_one`` a firm with 0 (or fewer) employees raises DataError saying how
    many firms and which policy of ``[sample]`` to state.
    """
    require_columns(frame, ["employees"], "log employees")
    employees = numeric_column(frame, "employees")
    bad = employees.notna() & ((employees < 0) if plus_one else (employees <= 0))
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"column employees, {row_label(frame, pos)}: {employees.iloc[pos]:g} "
                        f"employees has no logarithm ({int(bad.sum())} firm(s)); state a "
                        "policy in [sample]: zero_employees = \"exclude\" or "
                        "\"log_plus_one\", or min_employees = 1")
    values = np.log1p(employees) if plus_one else np.log(employees)
    return values.rename("log_employees")


def size_class(frame: pd.DataFrame, bands: Sequence[int] = SIZE_BANDS) -> pd.Series:
    """Ordered size class of the employee ``bands`` (lower bounds; default 10-19, 20-49,
    50-99, 100-249, 250+); NA if missing or below the first band."""
    require_columns(frame, ["employees"], "size class")
    labels = list(band_labels(bands))
    classes = pd.cut(numeric_column(frame, "employees"), bins=[*bands, math.inf],
                     right=False, labels=labels)
    return classes.astype(pd.CategoricalDtype(labels, ordered=True)).rename("size_class")


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
    share = numeric_column(frame, "foreign_share")
    return (share >= threshold).astype("Int64").where(share.notna(), pd.NA).rename(
        "foreign_owned")


def firm_age(frame: pd.DataFrame, survey_year: int) -> pd.Series:
    """Years since founding: ``survey_year`` - ``founded``; a founding after it raises."""
    require_columns(frame, ["founded"], "firm age")
    founded = numeric_column(frame, "founded")
    age = survey_year - founded
    bad = age < 0
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"column founded, {row_label(frame, pos)}: founded "
                            f"{founded.iloc[pos]:g}, after the survey year {survey_year}")
    return age.astype("Int64").rename("firm_age")


def manager_higher_ed(frame: pd.DataFrame, min_level: int = HIGHER_ED_LEVEL) -> pd.Series:
    """1 if the manager's education code is ``min_level`` or higher (a degree), NA if missing."""
    require_columns(frame, ["manager_education"], "manager higher education")
    level = numeric_column(frame, "manager_education")
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
    values = pd.DataFrame({c: numeric_column(frame, c) for c in items}, index=frame.index)
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


def pool_sparse(series: pd.Series, min_firms: int, label: str = "Other"
                ) -> tuple[pd.Series, list[str]]:
    """``series`` (categorical) with its sparse categories pooled, and the pooled names.

    Rule: the categories with fewer than ``min_firms`` firms are pooled into ``label``; if
    the pool itself has fewer than ``min_firms`` firms, the smallest remaining categories
    join it until it has enough (or no other category is left). Categories keep their
    order, the pool comes last; a ``label`` that is already a category name gets
    " (pooled)" appended. ``min_firms`` 0 changes nothing.
    """
    if min_firms <= 0 or series.dropna().empty:
        return series, []
    values = series.astype("category")
    counts = values.value_counts(sort=False)
    order = list(values.cat.categories)
    pooled = [c for c in order if counts[c] < min_firms]
    if not pooled:
        return series, []
    rest = sorted((c for c in order if c not in pooled), key=lambda c: (counts[c],
                                                                          order.index(c)))
    while sum(counts[c] for c in pooled) < min_firms and rest:
        pooled.append(rest.pop(0))
    name = label if label not in order else f"{label} (pooled)"
    kept = [c for c in order if c not in pooled]
    text = values.astype(object).where(~values.isin(pooled), name)
    out = pd.Series(pd.Categorical(text, categories=[*kept, name]), index=series.index,
                    name=series.name)
    return out, [c for c in order if c in pooled]
