"""The values of a study configuration the steps use beyond reading and cleaning the file:
the build settings (survey year, never codes, intensity weights, scale order, wording, size
bands, sparse categories, survey design), the data note of a synthetic survey, the pooling
of sparse categories, and the check of the sampling-weight column against the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.data import variables
from analysis.data.clean import DESIGN_COLUMNS
from analysis.data.study_config import StudyConfig, load_study_config
from analysis.data.study_schema import SparseCategories
from analysis.data.wording import Wording
from analysis.errors import ConfigError, DataError


@dataclass(frozen=True)
class BuildSettings:
    """The values of the study configuration the build needs."""

    survey_year: int
    never: tuple[int, ...]
    intensity: dict[int, float]
    scale_order: tuple[str, ...]
    data_note: str
    study: str = ""
    weighted: bool = False
    collaboration_type: str = "frequency"
    wording: Wording = Wording()
    size_bands: tuple[int, ...] = variables.SIZE_BANDS
    size_labels: tuple[str, ...] = variables.SIZE_LABELS
    log_plus_one: bool = False
    sparse: SparseCategories = SparseCategories()
    #: the ``[design]`` columns (canonical names) and singleton rule, or None
    design: dict[str, str] | None = None


def data_note(cfg: StudyConfig) -> str:
    """The study's data note when its data are synthetic, else ""."""
    return cfg.data_note if cfg.synthetic and cfg.data_note else ""


def settings_from_config(cfg: StudyConfig) -> BuildSettings:
    """The build settings of a loaded (and checked) study configuration.

    Survey year: ``[study].survey_year``, else the upper bound of the founding-year kind
    (a firm cannot be founded after the survey); required only when the survey has a
    founding year (firm age).
    """
    year = cfg.survey_year
    founded = cfg.columns.get("founded")
    if year is None and founded is not None:
        kind = cfg.kinds.get(cfg.validate.get(founded, ""))
        year = int(kind.range[1]) if kind is not None and kind.range is not None else None
    if year is None and founded is not None:
        raise DataError(f"study config {cfg.source}: no survey year (set [study].survey_year; "
                         f"firm age = survey year - founding year)")
    c = cfg.collaboration
    return BuildSettings(
        survey_year=year if year is not None else 0,
        never=c.canonical_never if c is not None else variables.DEFAULT_NEVER,
        intensity=(c.canonical_intensity or variables.DEFAULT_INTENSITY) if c is not None
        else variables.DEFAULT_INTENSITY,
        scale_order=tuple(c.scales) if c is not None else (),
        data_note=data_note(cfg),
        study=cfg.name,
        weighted=cfg.weight_column is not None,
        collaboration_type=c.type if c is not None else "frequency",
        wording=cfg.wording,
        size_bands=cfg.size.bands,
        size_labels=cfg.size.labels(),
        log_plus_one=cfg.sample.zero_employees == "log_plus_one",
        sparse=cfg.sparse,
        design=design_meta(cfg),
    )


def design_meta(cfg: StudyConfig) -> dict[str, str] | None:
    """The survey design as the analysis meta records it (canonical column names)."""
    if cfg.design is None:
        return None
    out = {key: DESIGN_COLUMNS[key] for key in DESIGN_COLUMNS
           if getattr(cfg.design, key) is not None}
    out["singleton"] = cfg.design.singleton
    out["source"] = "; ".join(f"{key}: {getattr(cfg.design, key)}" for key in DESIGN_COLUMNS
                              if getattr(cfg.design, key) is not None)
    return out


def study_settings(path: Path, root: Path | None = None) -> BuildSettings:
    """Load the study configuration at ``path`` (checked) and return its build settings."""
    try:
        cfg = load_study_config(path, root=root)
    except ConfigError as err:
        raise DataError(str(err)) from err
    return settings_from_config(cfg)


def layout(clean: pd.DataFrame, scale_order: tuple[str, ...]
           ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Partner types and scales of the clean data; scales in the study config's order."""
    partners, scales = variables.collaboration_layout(clean)
    if scale_order and set(scales) <= set(scale_order):
        scales = tuple(s for s in scale_order if s in scales)
    return partners, scales


def pool_sparse_categories(clean: pd.DataFrame, settings: BuildSettings
                           ) -> tuple[pd.DataFrame, list[str]]:
    """The clean data with the sparse categories of ``[sparse_categories]`` pooled, and a
    note per variable naming what was pooled."""
    rule = settings.sparse
    if rule.min_firms <= 0:
        return clean, []
    out, notes = clean, []
    for column in rule.variables:
        if column not in clean.columns:
            continue
        pooled_series, pooled = variables.pool_sparse(clean[column], rule.min_firms, rule.label)
        if pooled:
            out = out if out is not clean else clean.copy()
            out[column] = pooled_series
            name = pooled_series.cat.categories[-1]
            what = settings.wording.fill("{region_unit}") if column == "region" else column
            notes.append(f"Sparse categories pooled (fewer than {rule.min_firms} firms, "
                         f"[sparse_categories]): {what} {', '.join(map(str, pooled))} -> "
                         f"'{name}'.")
    return out, notes


def check_weight(cfg: StudyConfig, raw: pd.DataFrame) -> None:
    """The sampling weight column must hold numbers, none negative (ConfigError otherwise)."""
    column = cfg.weight_column
    if column is None or column not in raw.columns:
        return
    where = f"study config {cfg.source}: [columns.weight] column {column!r}"
    values = pd.to_numeric(raw[column], errors="coerce")
    text = raw[column].notna() & values.isna()
    if text.any():
        raise ConfigError(f"{where} is not numeric (value {raw[column][text].iloc[0]!r} in "
                          f"{int(text.sum())} record(s)); a sampling weight must be a number")
    negative = values < 0
    if negative.any():
        raise ConfigError(f"{where} has negative weights (e.g. {values[negative].iloc[0]:g} in "
                          f"{int(negative.sum())} record(s)); sampling weights must be positive")
