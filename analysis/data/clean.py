"""From the raw survey file to the canonical clean data (contract C3).

Order of work (each a pure function, except :func:`read_raw`):

1. :func:`read_raw` reads the file with user-missing codes kept as values, and its labels;
   :func:`prepare_raw` recodes text answers (``[recode]``) and trims text ids / regions, on
   a copy (the raw file is never written).
2. :func:`validate_raw` checks every column against its kind in the study configuration and
   raises one :class:`RawValidationError` listing every problem (file, column, row, value).
3. :func:`recode_missing` turns user-missing codes into NA and records *why* each value is
   missing (dont_know, refused, not_applicable = routed out, no_answer).
4. :func:`canonical_frame` renames and recodes to the canonical variables.
5. :func:`apply_sample_rules` removes screen-outs, break-offs and duplicate interviews, in
   that order, and accounts for every raw record; :func:`sample_flow` tabulates it.

:func:`clean_survey` chains the recoding of step 1 and steps 2-5.

The steps live in :mod:`~analysis.data.clean_read` (1), :mod:`~analysis.data.clean_validate`
(2), :mod:`~analysis.data.clean_canonical` (3-4), :mod:`~analysis.data.clean_sample` (5) and
:mod:`~analysis.data.clean_docs` (the clean data's documentation); this module chains them
and re-exports their public names.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.data.appendix import VariableDoc
from analysis.data.clean_canonical import (
    DESIGN_COLUMNS,
    FIRM_ROLES,
    FRAME_ROLES,
    LAST_ROLES,
    MISSING_DTYPE,
    NOVELTY_DTYPE,
    SOURCE_JOIN,
    TRAILING_ROLES,
    canonical_columns,
    canonical_frame,
    combine_columns,
    combined_sources,
    recode_missing,
    source_name,
)
from analysis.data.clean_docs import DEFAULT_LABELS, recode_note, variable_docs
from analysis.data.clean_read import (
    ID_ROLES,
    MAGIC,
    RawMeta,
    affected,
    prepare_raw,
    read_raw,
    recode_text,
    value_text,
)
from analysis.data.clean_sample import (
    Exclusion,
    SampleResult,
    apply_sample_rules,
    break_offs,
    check_zero_employees,
    duplicate_interviews,
    sample_flow,
    sample_rules,
    screen_outs,
)
from analysis.data.clean_validate import (
    check_batteries,
    declared_missing_conflicts,
    routed_out,
    routing_rules,
    validate_raw,
)
from analysis.data.study_config import StudyConfig, check_codes_in_data
from analysis.errors import DataError, RawValidationError

__all__ = [
    "DEFAULT_LABELS", "DESIGN_COLUMNS", "FIRM_ROLES", "FRAME_ROLES", "ID_ROLES", "LAST_ROLES",
    "MAGIC", "MISSING_DTYPE", "NOVELTY_DTYPE", "SOURCE_JOIN", "TRAILING_ROLES", "CleanResult",
    "Exclusion", "RawMeta", "SampleResult", "apply_sample_rules", "break_offs",
    "canonical_columns", "canonical_frame", "check_batteries", "clean_survey", "combine_columns",
    "combined_sources", "declared_missing_conflicts", "duplicate_interviews", "prepare_raw",
    "read_raw", "recode_missing", "recode_note", "recode_text", "routed_out", "routing_rules",
    "sample_flow", "sample_rules", "screen_outs", "source_name", "validate_raw",
    "variable_docs",
]


# ------------------------------------------------------------------------------ pipeline


@dataclass(frozen=True)
class CleanResult:
    """The clean data, its sample flow, its docs and the records each rule removed."""

    data: pd.DataFrame
    flow: pd.DataFrame
    docs: dict[str, VariableDoc]
    sample: SampleResult


def clean_survey(raw: pd.DataFrame, meta: RawMeta, cfg: StudyConfig) -> CleanResult:
    """Validate, recode, apply the sample rules: raw frame -> canonical clean data."""
    conflicts = declared_missing_conflicts(meta, cfg)
    if conflicts:
        raise RawValidationError(str(meta.path), conflicts)
    raw = prepare_raw(raw, cfg, str(meta.path))  # a copy: [recode], trimmed text ids
    validate_raw(raw, cfg, str(meta.path))
    check_codes_in_data(cfg, raw)  # a configured yes code that no row holds
    check_batteries(cfg, raw)  # a battery that never says no: a tick-box grid misread
    values, reasons = recode_missing(raw, cfg)
    canonical = canonical_frame(values, reasons, cfg)
    sample = apply_sample_rules(canonical, cfg)
    check_zero_employees(sample.kept, cfg, str(meta.path))
    data = sample.kept.sort_values("interview_id", kind="stable").reset_index(drop=True)
    if data.empty:  # an empty sample would only fail later, far from its cause
        removed = "; ".join(f"{e.rule}: {len(e.removed)}" for e in sample.exclusions)
        raise DataError(f"raw data file {meta.path}: no record is left after the sample "
                           f"rules ({sample.n_raw} raw records; removed by {removed})")
    if data["weight"].isna().any():
        bad = data["weight"].isna()
        raise DataError(f"raw data file {meta.path}: column {cfg.weight_column!r} (weight) "
                           f"is missing for interview id "
                           f"{value_text(data.loc[bad, 'interview_id'].iloc[0])}; {affected(bad)}")
    check_design_values(data, cfg, str(meta.path))
    return CleanResult(data, sample_flow(sample), variable_docs(cfg, meta), sample)


def check_design_values(data: pd.DataFrame, cfg: StudyConfig, source: str) -> None:
    """Every firm of the sample needs its stratum, PSU and a positive fpc (``[design]``)."""
    if cfg.design is None:
        return
    for key, name in DESIGN_COLUMNS.items():
        column = getattr(cfg.design, key)
        if column is None:
            continue
        values = data[name]
        bad = values.isna()
        if key == "fpc":
            bad |= ~(pd.to_numeric(values, errors="coerce") > 0)
        if bad.any():
            what = "not a positive number" if key == "fpc" else "missing"
            raise DataError(f"raw data file {source}: column {column!r} (design.{key}) is "
                            f"{what} for {int(bad.sum()):,} firm(s) of the sample; every "
                            "firm needs its stratum, PSU and finite-population value for "
                            "design-based standard errors")
