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

The functions live by concern in :mod:`~analysis.data.variables_common` (vocabulary and
helpers), :mod:`~analysis.data.variables_outcomes`,
:mod:`~analysis.data.variables_collaboration`, :mod:`~analysis.data.variables_controls`,
:mod:`~analysis.data.variables_policy` and :mod:`~analysis.data.variables_docs`; this module
builds the data set from them and re-exports their public names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from analysis.config import (
    PARTNER_GROUPS,
    PARTNER_LABELS,
    PARTNER_TYPES,
    REGIONAL_SCALES,
    SCALE_LABELS,
    SCALES,
)
from analysis.data.variables_collaboration import (
    any_collaboration,
    breadth,
    collaboration_indicator,
    collaboration_indicators,
    collaboration_intensity,
    glocal_type,
    group_counts,
    item_unknown,
    near_far_scales,
    partner_count,
    scale_answered,
    split_scales,
    weight_map,
)
from analysis.data.variables_common import (
    DEFAULT_INTENSITY,
    DEFAULT_NEVER,
    FOREIGN_OWNED_THRESHOLD,
    GLOCAL_TYPES,
    HIGHER_ED_LEVEL,
    INTERNAL_PARTNERS,
    ITEM_MISSING_KINDS,
    ITEM_PATTERN,
    MAX_MISSING_SHARE,
    MIN_ANSWERED_SHARE,
    MISSING_SUFFIX,
    NOT_APPLICABLE,
    NOVELTY_LEVELS,
    OPEN_PATTERN,
    PASS_THROUGH,
    SIZE_BANDS,
    SIZE_BINS,
    SIZE_LABELS,
    band_labels,
    collab_name,
    collaboration_layout,
    dummies,
    item_column,
    missing_kind,
    missing_kinds_array,
    numeric_column,
    open_items,
    require_columns,
    row_label,
    slug,
)
from analysis.data.variables_controls import (
    cronbach_alpha,
    firm_age,
    foreign_owned,
    log_employees,
    manager_higher_ed,
    min_answered,
    open_mindedness,
    pool_sparse,
    region_sector,
    size_class,
)
from analysis.data.variables_docs import (
    VARIABLES,
    VariableDoc,
    scale_phrase,
    variable_registry,
)
from analysis.data.variables_outcomes import (
    any_innovation,
    binary_outcome,
    new_to_market,
    novelty_code,
    novelty_flag,
    novelty_ordered,
    process_new_to_industry,
)
from analysis.data.variables_policy import (
    MISSING_DATA_POLICY,
    policy_counts,
)
from analysis.errors import DataError

__all__ = [
    "DEFAULT_INTENSITY",
    "DEFAULT_NEVER",
    "FOREIGN_OWNED_THRESHOLD",
    "GLOCAL_TYPES",
    "HIGHER_ED_LEVEL",
    "INTERNAL_PARTNERS",
    "ITEM_MISSING_KINDS",
    "ITEM_PATTERN",
    "MAX_MISSING_SHARE",
    "MIN_ANSWERED_SHARE",
    "MISSING_DATA_POLICY",
    "MISSING_SUFFIX",
    "NOT_APPLICABLE",
    "NOVELTY_LEVELS",
    "OPEN_PATTERN",
    "PARTNER_GROUPS",
    "PARTNER_LABELS",
    "PARTNER_TYPES",
    "PASS_THROUGH",
    "REGIONAL_SCALES",
    "SCALES",
    "SCALE_LABELS",
    "SIZE_BANDS",
    "SIZE_BINS",
    "SIZE_LABELS",
    "VARIABLES",
    "VariableDoc",
    "any_collaboration",
    "any_innovation",
    "band_labels",
    "binary_outcome",
    "breadth",
    "build_analysis_data",
    "collab_name",
    "collaboration_indicator",
    "collaboration_indicators",
    "collaboration_intensity",
    "collaboration_layout",
    "cronbach_alpha",
    "dummies",
    "firm_age",
    "foreign_owned",
    "glocal_type",
    "group_counts",
    "item_column",
    "item_unknown",
    "log_employees",
    "manager_higher_ed",
    "min_answered",
    "missing_kind",
    "missing_kinds_array",
    "near_far_scales",
    "new_to_market",
    "novelty_code",
    "novelty_flag",
    "novelty_ordered",
    "numeric_column",
    "open_items",
    "open_mindedness",
    "partner_count",
    "policy_counts",
    "pool_sparse",
    "process_new_to_industry",
    "region_sector",
    "require_columns",
    "row_label",
    "scale_answered",
    "scale_phrase",
    "size_class",
    "slug",
    "split_scales",
    "variable_registry",
    "weight_map",
]

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
    size_bands: Sequence[int] = SIZE_BANDS,
    log_plus_one: bool = False,
) -> pd.DataFrame:
    """The analysis data set: pass-through columns, outcomes, collaboration and controls.

    ``partners`` and ``scales`` default to those present in ``clean``. The size class is
    the survey's own (a ``size_class`` column of the clean data) or made from employees
    with ``size_bands``; ``log_plus_one``: log(1 + employees) instead of log(employees).
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
        controls["log_employees"] = log_employees(clean, plus_one=log_plus_one)
    if "size_class" in clean.columns:  # the survey's own size class
        controls["size_class"] = clean["size_class"]
    elif "employees" in clean.columns:
        controls["size_class"] = size_class(clean, size_bands)
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


