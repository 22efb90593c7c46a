"""Checks of the raw values against the study configuration (kinds, ids, routing, ...)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data.clean_read import (
    ID_ROLES,
    RawMeta,
    affected,
    first_row,
    is_number_dtype,
    value_text,
)
from analysis.data.study_config import (
    Kind,
    StudyConfig,
)
from analysis.data.study_schema import num_text
from analysis.errors import ConfigError, RawValidationError


def valid_mask(values: pd.Series, kind: Kind) -> pd.Series:
    if kind.codes is not None:
        return values.isin([float(c) for c in kind.codes])
    assert kind.range is not None
    return values.between(kind.range[0], kind.range[1])


def _check_numeric(frame: pd.DataFrame, column: str, id_column: str,
                   cfg: StudyConfig | None = None) -> str | None:
    series = frame[column]
    if is_number_dtype(series):
        return None
    coerced = pd.to_numeric(series, errors="coerce")
    bad = series.notna() & coerced.isna()
    if bad.any():
        value = series[bad].iloc[0]
        if cfg is not None and column in cfg.text_role_columns():
            hint = (f"; ids and regions may be text: remove {column!r} from [validate] so "
                    "that it needs no numeric kind")
        else:
            hint = (f"; to use text answers, map each to a code in [recode.{column}] (e.g. "
                    f'"{str(value).strip()}" = 1)')
        return (f"column {column!r}: expected numbers, found text {value!r} at "
                f"{first_row(frame, bad, id_column)}; {affected(bad)}{hint}")
    return f"column {column!r}: expected numbers, the column is stored as {series.dtype}"


def _check_kind(frame: pd.DataFrame, column: str, kind: Kind, id_column: str) -> str | None:
    values = frame[column].astype("float64")
    allowed = valid_mask(values, kind) | values.isin(list(kind.missing_codes))
    bad = values.notna() & ~allowed
    if not bad.any():
        return None
    missing = "; ".join(f"{value_text(c)} = {k}" for c, k in kind.missing_codes.items()) or "none"
    return (f"column {column!r}: value {value_text(values[bad].iloc[0])} at "
            f"{first_row(frame, bad, id_column)} is neither valid (kind {kind.name!r}: "
            f"{kind.describe()}) nor a declared missing code ({missing}); {affected(bad)}")


def routing_rules(cfg: StudyConfig) -> dict[str, tuple[str | tuple[str, ...], tuple[int, ...]]]:
    """Routed item -> (filter column(s), codes of the filter that lead to the item).

    Novelty questions are asked of innovators only (of an outcome made of several columns:
    of firms with a yes in any of them); partner types in ``collaboration.routed_by_group``
    only of firms in a business group; the whole battery, with ``collaboration.filter``,
    only of firms whose filter answer is in ``filter_asked``.
    """
    rules: dict[str, tuple[str | tuple[str, ...], tuple[int, ...]]] = {}
    for outcome in cfg.outcomes.values():
        if outcome.novelty_column:
            filters = outcome.column if not outcome.extra_columns else outcome.columns
            rules[outcome.novelty_column] = (filters, outcome.yes)
    c = cfg.collaboration
    if c is not None:
        for partner, _, column in cfg.collaboration_items():
            if partner in c.routed_by_group:
                rules[column] = (cfg.columns["group"], cfg.binary_yes)
            elif c.filter is not None:
                rules[column] = (c.filter, c.filter_asked)
    return rules


def routed_out(frame: pd.DataFrame, filter_column: str | tuple[str, ...],
               asked_codes: tuple[int, ...]) -> pd.Series:
    """Records whose filter answer (incl. don't know / refused) skips the routed item.

    A system-missing filter means the interview ended before it: that is a break-off
    (no_answer), not routing. With several filter columns the item is skipped when one is
    answered and none has an asked code.
    """
    columns = [filter_column] if isinstance(filter_column, str) else list(filter_column)
    values = frame[columns].astype("float64")
    asked = values.isin([float(c) for c in asked_codes]).any(axis=1)
    return values.notna().any(axis=1) & ~asked


def _check_routing(frame: pd.DataFrame, cfg: StudyConfig, id_column: str) -> list[str]:
    problems = []
    for column, (filter_column, asked) in routing_rules(cfg).items():
        bad = routed_out(frame, filter_column, asked) & frame[column].notna()
        if bad.any():
            filters = [filter_column] if isinstance(filter_column, str) else filter_column
            shown = ", ".join(f"{f} = {value_text(frame[f][bad].iloc[0])}" for f in filters)
            problems.append(
                f"column {column!r}: value {value_text(frame[column][bad].iloc[0])} at "
                f"{first_row(frame, bad, id_column)} although the item is routed out "
                f"({shown}, asked only if {' or '.join(filters)} in {list(asked)}); "
                f"{affected(bad)}")
    return problems


def _check_ids(frame: pd.DataFrame, cfg: StudyConfig, id_column: str) -> list[str]:
    problems = []
    for role in ID_ROLES:
        column = cfg.columns[role]
        absent = frame[column].isna()
        if absent.any():
            problems.append(f"column {column!r} ({role}): empty at "
                            f"{first_row(frame, absent, id_column)}; {affected(absent)}")
    dup = frame[id_column].notna() & frame[id_column].duplicated(keep=False)
    if dup.any():
        problems.append(f"column {id_column!r} (interview_id): duplicate id "
                        f"{value_text(frame[id_column][dup].iloc[0])} at "
                        f"{first_row(frame, dup, id_column)}; {affected(dup)}")
    return problems


def _check_sectors(frame: pd.DataFrame, cfg: StudyConfig, id_column: str) -> list[str]:
    if not cfg.sectors:
        return []
    column = cfg.columns["nace"]
    nace = frame[column].astype("float64")
    kind = cfg.kind_of(column)
    known = sector_codes(nace, cfg).notna() | ~nace.notna() | nace.isin(list(kind.missing_codes))
    if known.all():
        return []
    bad = ~known
    return [f"column {column!r} (nace): value {value_text(nace[bad].iloc[0])} at "
            f"{first_row(frame, bad, id_column)} is in no [sectors] range; {affected(bad)}"]


def _check_weight(frame: pd.DataFrame, cfg: StudyConfig, id_column: str) -> list[str]:
    column = cfg.weight_column
    if column is None:
        return []
    values = frame[column].astype("float64")
    kind = cfg.kinds.get(cfg.validate.get(column, ""))
    codes = list(kind.missing_codes) if kind else []
    missing = values.isin(codes)
    bad = values.notna() & ~missing & ~(np.isfinite(values) & (values > 0))
    if not bad.any():
        return []
    return [f"column {column!r} (weight): value {value_text(values[bad].iloc[0])} at "
            f"{first_row(frame, bad, id_column)} is not a positive number; {affected(bad)}"]


def _check_regions(frame: pd.DataFrame, cfg: StudyConfig, id_column: str) -> list[str]:
    """Region codes without a kind: every value must be named in ``[regions]`` (if given)."""
    column = cfg.columns.get("region")
    if column is None or column not in cfg.text_columns() or not cfg.regions:
        return []
    series = frame[column]
    if is_number_dtype(series):
        text = [k for k in cfg.regions if isinstance(k, str)]
        if text:
            return [f"column {column!r} (region): holds numbers, but [regions] names text "
                    f"code {text[0]!r}; use the file's codes as [regions] keys"]
        named = series.isna() | series.isin([float(k) for k in cfg.regions])
    else:
        named = series.isna() | series.astype(object).isin([str(k) for k in cfg.regions])
    if named.all():
        return []
    bad = ~named
    return [f"column {column!r} (region): code {value_text(series[bad].iloc[0])} at "
            f"{first_row(frame, bad, id_column)} has no name in [regions]; {affected(bad)}; "
            f"add it to [regions] (or drop [regions] to name regions by their codes)"]


def validate_raw(frame: pd.DataFrame, cfg: StudyConfig, source: str) -> None:
    """Check the raw frame against the config; raise RawValidationError listing all problems."""
    id_column = cfg.columns["interview_id"]
    missing = [c for c in cfg.used_columns() if c not in frame.columns]
    if missing:
        raise RawValidationError(source, [f"column {c!r} named in the study config "
                                          f"{cfg.source} is not in the file" for c in missing])
    text = cfg.text_columns()
    problems = [p for c in cfg.used_columns()
                if c not in text and (p := _check_numeric(frame, c, id_column, cfg))]
    if problems:  # the value checks below need numbers
        raise RawValidationError(source, problems)
    for column, kind in cfg.column_kinds().items():
        problem = _check_kind(frame, column, kind, id_column)
        if problem:
            problems.append(problem)
    problems += _check_ids(frame, cfg, id_column)
    problems += _check_sectors(frame, cfg, id_column)
    problems += _check_routing(frame, cfg, id_column)
    problems += _check_weight(frame, cfg, id_column)
    problems += _check_regions(frame, cfg, id_column)
    if problems:
        raise RawValidationError(source, problems)


def declared_missing_conflicts(meta: RawMeta, cfg: StudyConfig) -> list[str]:
    """Codes the file declares user-missing but the config counts as valid answers.

    Such a code would silently enter the analysis as an answer (e.g. 8 = don't know read
    as a frequency), so it is an error; declared codes the config does not mention are fine.
    """
    kinds = cfg.column_kinds()
    problems = []
    for column, ranges in meta.missing_ranges.items():
        kind = kinds.get(column)
        if kind is None:
            continue
        for lo, hi in ranges:
            if kind.codes is not None:
                clash = [c for c in kind.codes if lo <= c <= hi]
            else:
                assert kind.range is not None
                clash = [lo] if lo <= kind.range[1] and kind.range[0] <= hi else []
            if clash:
                problems.append(
                    f"column {column!r}: the file declares {value_text(lo)}"
                    f"{'' if lo == hi else f' to {value_text(hi)}'} user-missing, but the study "
                    f"config {cfg.source} counts {value_text(clash[0])} as a valid answer "
                    f"(kind {kind.name!r}: {kind.describe()})")
    return problems


def sector_codes(nace: pd.Series, cfg: StudyConfig) -> pd.Series:
    out = pd.Series(pd.NA, index=nace.index, dtype="object")
    for sector, ranges in cfg.sectors.items():
        for lo, hi in ranges:
            out[nace.between(lo, hi)] = sector
    return out


def blank_means_no(frame: pd.DataFrame, cfg: StudyConfig
                   ) -> tuple[frozenset[str], float, np.ndarray]:
    """(item columns whose blank means no, the code it becomes, rows where it applies).

    With ``blank_scope = "filter_answered"`` a blank is no only where the filter question
    holds a valid answer; elsewhere it stays unanswered (no_answer).
    """
    c = cfg.collaboration
    everywhere = np.ones(len(frame), dtype=bool)
    if c is None or not c.blank_means_no:
        return frozenset(), np.nan, everywhere
    if c.blank_scope == "filter_answered" and c.filter is not None:
        kind = cfg.column_kinds()[c.filter]
        answer = pd.to_numeric(frame[c.filter], errors="coerce")
        valid = answer.notna() & ~answer.isin(list(kind.missing_codes))
        everywhere = valid.to_numpy()
    return frozenset(c.blank_means_no), float(c.never[0]), everywhere


def check_batteries(cfg: StudyConfig, raw: pd.DataFrame) -> None:
    """Raise ConfigError when a scale of the collaboration battery never says "no".

    Every answered item at the scale is collaboration (prevalence 100%): almost always a
    tick-box grid whose "no" is a blank (read as no answer, so breadth would be defined
    only for the few firms that gave an explicit no), or wrong codes. Blanks that
    ``collaboration.blank_means_no`` turns into no count as no.
    """
    c = cfg.collaboration
    if c is None or not cfg.collaboration_items():
        return
    covered, _, blank_ok = blank_means_no(raw, cfg)
    routing = routing_rules(cfg)
    yes, no = [float(v) for v in c.yes], [float(v) for v in c.never]
    for scale in c.scales:
        columns = [col for p in c.partners for col in c.columns(p, scale)]
        n_yes = n_no = n_blank = 0
        for column in columns:
            values = pd.to_numeric(raw[column], errors="coerce")
            blank = values.isna()
            if column in routing:
                blank &= ~routed_out(raw, *routing[column])
            n_yes += int(values.isin(yes).sum())
            n_no += int(values.isin(no).sum())
            if column in covered:
                n_no += int((blank & blank_ok).sum())
            else:
                n_blank += int(blank.sum())
        if n_yes == 0 or n_no > 0:
            continue
        shown = ", ".join(columns[:4]) + (f", ... ({len(columns)} columns)"
                                          if len(columns) > 4 else "")
        codes = ", ".join(num_text(v) for v in c.never)
        if n_blank:
            advice = (f"{n_blank:,} cells are blank: a tick-box grid records no as a blank; set "
                      "collaboration.blank_means_no = true (or list these columns), with "
                      'blank_scope = "filter_answered" to count blanks as no only where the '
                      "filter question (collaboration.filter) was answered")
        else:
            advice = "check the collaboration codes (yes / no or never) against the codebook"
        raise ConfigError(
            f"study config {cfg.source}: [collaboration] the battery at scale {scale!r} "
            f"({shown}) never takes its no code {codes} in {cfg.data_file.name}: every "
            f"answered item is collaboration (prevalence 100%), so breadth and the other "
            f"measures would rest on blanks read as missing; {advice}")
