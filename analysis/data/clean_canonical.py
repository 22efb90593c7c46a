"""User-missing codes to NA with their reasons, and the canonical variables (contract C3)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data.appendix import MISSING_KINDS, MISSING_SUFFIX
from analysis.data.clean_read import ID_ROLES, is_number_dtype
from analysis.data.clean_validate import (
    blank_means_no,
    routed_out,
    routing_rules,
    sector_codes,
)
from analysis.data.study_config import (
    BINARY_NEVER,
    BINARY_YES,
    StudyConfig,
)

MISSING_DTYPE = pd.CategoricalDtype(list(MISSING_KINDS))
NOVELTY_DTYPE = pd.CategoricalDtype(["firm", "market"], ordered=True)

#: Column order of the clean data: frame roles, firm roles, [outcomes], [collaboration],
#: manager roles, [open-mindedness], trust roles, weight.
FRAME_ROLES: tuple[str, ...] = (*ID_ROLES, "region", "nace")
FIRM_ROLES: tuple[str, ...] = ("employees", "size_class", "founded", "foreign_share",
                               "group", "higher_ed_share")
#: Canonical names of the survey-design columns (``[design]``), before the weight.
DESIGN_COLUMNS: dict[str, str] = {"strata": "design_stratum", "psu": "design_psu",
                                  "fpc": "design_fpc"}
TRAILING_ROLES: tuple[str, ...] = ("manager_education",)
LAST_ROLES: tuple[str, ...] = ("trust_general", "trust_regional")

# ---------------------------------------------------------------------- missing values


def recode_missing(frame: pd.DataFrame, cfg: StudyConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Values with user-missing codes set to NA, and the kind of missing of every cell.

    Returns ``(values, reasons)`` with the config's columns: ``values`` float64 with NaN for
    any missing; ``reasons`` categorical (dont_know, refused, not_applicable, no_answer, NA).
    A blank item of a tick-box grid (``collaboration.blank_means_no``) that was asked is an
    answer: the battery's first "no" code.
    """
    kinds = cfg.column_kinds()
    routing = routing_rules(cfg)
    blank_no, no_code, blank_ok = blank_means_no(frame, cfg)
    values: dict[str, pd.Series] = {}
    reasons: dict[str, pd.Series] = {}
    text_columns = cfg.text_columns()
    for column in cfg.used_columns():
        if column in text_columns and not is_number_dtype(frame[column]):
            # text ids / region codes: kept as text; no missing codes, empty = no_answer
            values[column] = frame[column]
            reasons[column] = pd.Categorical(
                np.where(frame[column].isna(), "no_answer", None), dtype=MISSING_DTYPE)
            continue
        raw = frame[column].to_numpy(dtype="float64", na_value=np.nan)
        kind = kinds.get(column)
        codes = kind.missing_codes if kind else {}
        reason = np.full(len(raw), None, dtype=object)
        for code, why in codes.items():
            reason[raw == code] = why
        system_missing = np.isnan(raw)
        if column in routing:
            skipped = routed_out(frame, *routing[column]).to_numpy()
            reason[system_missing & skipped] = "not_applicable"
            system_missing &= ~skipped
        if column in blank_no:
            blank = system_missing & blank_ok
            raw = np.where(blank, no_code, raw)
            system_missing &= ~blank
        reason[system_missing] = "no_answer"
        values[column] = np.where(np.isin(raw, list(codes)), np.nan, raw)
        reasons[column] = pd.Categorical(reason, dtype=MISSING_DTYPE)
    return (pd.DataFrame(values, index=frame.index),
            pd.DataFrame(reasons, index=frame.index))


# ----------------------------------------------------------------------- canonical data


def _integer_or_float(series: pd.Series) -> pd.Series:
    """Nullable Int64 when every value is whole, else nullable Float64."""
    valid = series.dropna()
    if (valid == np.floor(valid)).all():
        return series.astype("Int64")
    return series.astype("Float64")


def _binary(series: pd.Series, yes: tuple[int, ...], no: tuple[int, ...]) -> pd.Series:
    out = pd.Series(pd.NA, index=series.index, dtype="Int64")
    out[series.isin([float(c) for c in yes])] = 1
    out[series.isin([float(c) for c in no])] = 0
    return out


def _categories(series: pd.Series, mapping: dict[float, str], dtype: pd.CategoricalDtype
                ) -> pd.Series:
    labels = series.map(mapping)
    return pd.Series(pd.Categorical(labels, dtype=dtype), index=series.index)


#: Joins the file columns of a variable made of several columns (``"inpdgd+inpdsv"``).
SOURCE_JOIN = "+"


def source_name(columns: tuple[str, ...]) -> str:
    """Name of the (possibly combined) source of a canonical variable."""
    return SOURCE_JOIN.join(columns)


def combined_sources(cfg: StudyConfig) -> dict[str, tuple[tuple[str, ...], tuple[int, ...],
                                                         dict[int, float]]]:
    """Combined source -> (file columns, codes meaning "yes"/collaboration, rank of codes).

    Outcomes combine by "any yes"; a collaboration item by its most frequent answer (the
    highest intensity weight, else the highest code).
    """
    out = {}
    for outcome in cfg.outcomes.values():
        if outcome.extra_columns:
            out[source_name(outcome.columns)] = (outcome.columns, outcome.yes, {})
    c = cfg.collaboration
    for _, _, columns in cfg.collaboration_sources():
        if c is not None and len(columns) > 1:
            out[source_name(columns)] = (columns, c.yes, c.intensity)
    return out


def combine_columns(values: pd.DataFrame, reasons: pd.DataFrame, columns: tuple[str, ...],
                    positive: tuple[int, ...], rank: dict[int, float]
                    ) -> tuple[pd.Series, pd.Series]:
    """One item from several: a positive code if any column has one (the highest ranked),
    the first column's code if every column is answered, else missing with the reason of
    the first missing column (so a routed-out battery stays not_applicable)."""
    frame = values[list(columns)]
    positive_mask = frame.isin([float(c) for c in positive])
    ranks = frame.where(positive_mask).apply(
        lambda col: col.map(lambda v: rank.get(int(v), v) if pd.notna(v) else np.nan))
    best = ranks.to_numpy().copy()
    best[np.isnan(best)] = -np.inf
    pick = best.argmax(axis=1)
    chosen = frame.to_numpy()[np.arange(len(frame)), pick]
    out = np.where(positive_mask.any(axis=1), chosen,
                   np.where(frame.notna().all(axis=1), frame.iloc[:, 0], np.nan))
    why = reasons[list(columns)].astype(object).bfill(axis=1).iloc[:, 0]
    why = why.where(np.isnan(out), None)
    return (pd.Series(out, index=values.index, dtype="float64"),
            pd.Series(pd.Categorical(why, dtype=MISSING_DTYPE), index=values.index))


def canonical_columns(cfg: StudyConfig) -> list[tuple[str, str | None]]:
    """(canonical variable, file column or None if derived), in the clean data's order.

    A variable made of several file columns names their combined source (``a+b``).
    """
    cols = cfg.columns
    out: list[tuple[str, str | None]] = [(r, cols[r]) for r in FRAME_ROLES if r in cols]
    if cfg.sectors:
        out.append(("sector", None))
    out += [(r, cols[r]) for r in FIRM_ROLES if r in cols]
    for outcome in cfg.outcomes.values():
        out.append((outcome.name, source_name(outcome.columns)))
        if outcome.novelty_column:
            out.append((outcome.novelty_name, outcome.novelty_column))
    out += [(f"collab__{p}__{s}", source_name(cols))
            for p, s, cols in cfg.collaboration_sources()]
    out += [(r, cols[r]) for r in TRAILING_ROLES if r in cols]
    if cfg.open_mindedness is not None:
        out += [(f"open_{i}", col) for i, col in enumerate(cfg.open_mindedness.items, 1)]
    out += [(r, cols[r]) for r in LAST_ROLES if r in cols]
    if cfg.design is not None:
        out += [(name, getattr(cfg.design, key)) for key, name in DESIGN_COLUMNS.items()
                if getattr(cfg.design, key) is not None]
    out.append(("weight", cols.get("weight")))
    return out


def _canonical_series(name: str, column: str | None, values: pd.DataFrame,
                      cfg: StudyConfig) -> pd.Series:
    """One canonical variable from the recoded values."""
    if name == "weight":
        if column is None:  # no sampling weights: every firm counts once
            return pd.Series(1.0, index=values.index, dtype="float64")
        return values[column].astype("float64")
    if name == "sector":
        nace = values[cfg.columns["nace"]]
        return pd.Series(pd.Categorical(sector_codes(nace, cfg),
                                        categories=list(cfg.sectors)), index=values.index)
    series = values[column]
    text = not is_number_dtype(series)
    if (name in ID_ROLES or name in ("design_stratum", "design_psu")) and text:
        return series.astype("str")
    if name == "design_fpc":
        return series.astype("float64")
    if name == "region" and cfg.regions:
        if text:
            mapping = {str(k): v for k, v in cfg.regions.items()}
        else:
            mapping = {float(k): v for k, v in cfg.regions.items()}
        # several codes may share a name (pooled regions): one category per name
        names = list(dict.fromkeys(cfg.regions.values()))
        return _categories(series, mapping, pd.CategoricalDtype(names))
    if name == "size_class":
        mapping = {float(k): v for k, v in cfg.size.classes.items()}
        return _categories(series, mapping, pd.CategoricalDtype(list(cfg.size.labels()),
                                                                ordered=True))
    if name == "region" and text:  # text codes without [regions]: the codes are the names
        return pd.Series(pd.Categorical(series, categories=sorted(series.dropna().unique())),
                         index=series.index)
    if name == "group":
        return _binary(series, cfg.binary_yes, cfg.binary_no)
    c = cfg.collaboration
    if c is not None and c.type == "binary" and name.startswith("collab__"):
        # yes/no items become a two-point frequency scale: 1 = never, 2 = at least once
        recoded = pd.Series(np.nan, index=series.index)
        recoded[series.isin([float(x) for x in c.yes])] = BINARY_YES
        recoded[series.isin([float(x) for x in c.never])] = BINARY_NEVER
        return recoded.astype("Int64")
    for outcome in cfg.outcomes.values():
        if name == outcome.name:
            return _binary(series, outcome.yes, outcome.no)
        if name == outcome.novelty_name:
            mapping = {float(c): "firm" for c in outcome.new_to_firm}
            mapping.update({float(c): "market" for c in outcome.new_to_market})
            return _categories(series, mapping, NOVELTY_DTYPE)
    om = cfg.open_mindedness
    if om is not None and column in om.reverse and name.startswith("open_"):
        series = om.scale_min + om.scale_max - series
    return _integer_or_float(series)


def canonical_frame(values: pd.DataFrame, reasons: pd.DataFrame, cfg: StudyConfig
                    ) -> pd.DataFrame:
    """The canonical variables (C3), each item followed at the end by its ``__missing``."""
    spec = canonical_columns(cfg)
    combined = combined_sources(cfg)
    if combined:
        values, reasons = values.copy(), reasons.copy()
        for source, (columns, positive, rank) in combined.items():
            values[source], reasons[source] = combine_columns(values, reasons, columns,
                                                              positive, rank)
    data = {name: _canonical_series(name, column, values, cfg) for name, column in spec}
    companions = {f"{name}{MISSING_SUFFIX}": reasons[column] for name, column in spec
                  if column is not None and name not in ID_ROLES and name != "weight"
                  and name not in DESIGN_COLUMNS.values()}
    return pd.DataFrame({**data, **companions}, index=values.index)
