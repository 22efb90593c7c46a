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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from analysis.data.appendix import MISSING_KINDS, MISSING_SUFFIX, VariableDoc
from analysis.data.study_config import (
    BINARY_NEVER,
    BINARY_YES,
    Kind,
    StudyConfig,
    check_codes_in_data,
)
from analysis.errors import DataError, RawValidationError, RecodeError

MISSING_DTYPE = pd.CategoricalDtype(list(MISSING_KINDS))
NOVELTY_DTYPE = pd.CategoricalDtype(["firm", "market"], ordered=True)

#: Roles whose columns are identifiers or weights: never missing, no companion column.
ID_ROLES: tuple[str, ...] = ("firm_id", "interview_id")
#: Column order of the clean data: frame roles, firm roles, [outcomes], [collaboration],
#: manager roles, [open-mindedness], trust roles, weight.
FRAME_ROLES: tuple[str, ...] = (*ID_ROLES, "region", "nace")
FIRM_ROLES: tuple[str, ...] = ("employees", "founded", "foreign_share", "group",
                               "higher_ed_share")
TRAILING_ROLES: tuple[str, ...] = ("manager_education",)
LAST_ROLES: tuple[str, ...] = ("trust_general", "trust_regional")

#: Labels of canonical variables when the raw file carries none.
DEFAULT_LABELS: dict[str, str] = {
    "firm_id": "Firm identifier (organisation number)",
    "interview_id": "Interview identifier",
    "region": "City-region of the firm",
    "nace": "NACE Rev. 2 division of the firm's main activity",
    "sector": "Sector group (from the NACE division)",
    "employees": "Number of employees",
    "founded": "Year the firm was founded",
    "foreign_share": "Share of capital owned by foreign owners (per cent)",
    "group": "Firm belongs to a business group",
    "higher_ed_share": "Share of employees with higher education (per cent)",
    "manager_education": "Highest education of the managing director",
    "trust_general": "Generalised trust",
    "trust_regional": "Trust in firms of the city-region",
    "weight": "Sampling weight",
}

#: File signatures, to tell a mislabelled file from a corrupt one.
MAGIC: dict[str, tuple[bytes, ...]] = {"sav": (b"$FL2", b"$FL3"), "parquet": (b"PAR1",)}


# ------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class RawMeta:
    """What the file says about itself: labels and declared user-missing values."""

    path: Path
    format: str
    n_rows: int
    column_labels: dict[str, str]
    value_labels: dict[str, dict[float, str]]
    missing_ranges: dict[str, tuple[tuple[float, float], ...]]


def _check_signature(path: Path, fmt: str) -> None:
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head:
        raise DataError(f"raw data file {path} is empty (0 bytes)")
    names = {"sav": "an SPSS .sav", "parquet": "a Parquet", "dta": "a Stata .dta",
             "csv": "a CSV"}
    wrong = f"raw data file {path} is not {names[fmt]} file (format {fmt!r} from the " \
            f"study config / extension)"
    if fmt in MAGIC and not head.startswith(MAGIC[fmt]):
        raise DataError(wrong)
    if fmt == "dta" and not (head.startswith(b"<stata_dta>") or 102 <= head[0] <= 119):
        raise DataError(wrong)
    if fmt == "csv" and b"\x00" in head:
        raise DataError(wrong + ": it holds binary data")


def _meta_from_readstat(meta: object, path: Path, fmt: str, n_rows: int) -> RawMeta:
    labels = {k: v for k, v in (meta.column_names_to_labels or {}).items() if v}
    value_labels = {col: {float(k): str(v) for k, v in mapping.items()}
                    for col, mapping in (meta.variable_value_labels or {}).items()}
    ranges: dict[str, tuple[tuple[float, float], ...]] = {}
    for col, items in (getattr(meta, "missing_ranges", None) or {}).items():
        ranges[col] = tuple((float(r["lo"]), float(r["hi"])) for r in items)
    for col, values in (getattr(meta, "missing_user_values", None) or {}).items():
        ranges.setdefault(col, tuple((v, v) for v in values if isinstance(v, int | float)))
    return RawMeta(path, fmt, n_rows, labels, value_labels, ranges)


def read_raw(path: Path | str, fmt: str) -> tuple[pd.DataFrame, RawMeta]:
    """Read the raw survey file; user-missing codes stay as values (not NA)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"raw data file {path} not found")
    _check_signature(path, fmt)
    try:
        if fmt in ("sav", "dta"):
            reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
            frame, meta = reader(str(path), user_missing=True)
            raw_meta = _meta_from_readstat(meta, path, fmt, len(frame))
        elif fmt == "csv":
            frame = pd.read_csv(path)
            raw_meta = RawMeta(path, fmt, len(frame), {}, {}, {})
        elif fmt == "parquet":
            frame = pd.read_parquet(path, engine="pyarrow")
            raw_meta = RawMeta(path, fmt, len(frame), {}, {}, {})
        else:
            raise DataError(f"raw data file {path}: unknown format {fmt!r}")
    except DataError:
        raise
    except UnicodeDecodeError as err:  # a CSV saved in latin-1 / cp1252: no guessing
        byte = err.object[err.start]
        raise DataError(f"raw data file {path} is not UTF-8 text (byte 0x{byte:02x} at "
                           f"byte position {err.start} cannot be decoded as utf-8); save "
                           f"the file as UTF-8 and rerun") from err
    except Exception as err:  # pyreadstat/pyarrow/pandas raise many types for a bad file
        raise DataError(f"raw data file {path} could not be read as {fmt}: "
                           f"{type(err).__name__}: {err}") from err
    if frame.empty:
        raise DataError(f"raw data file {path} has no records")
    return frame.reset_index(drop=True), raw_meta


# ----------------------------------------------------------------------- text in the file


def _trimmed_text(series: pd.Series) -> pd.Series:
    """Text of each value with surrounding whitespace removed; empty text -> NA (object)."""
    text = series.map(lambda v: str(v).strip() if pd.notna(v) else None).astype(object)
    return text.where(text.notna() & (text != ""), None)


def recode_text(frame: pd.DataFrame, column: str, mapping: dict[str, int | float]
                ) -> tuple[pd.Series, pd.Series]:
    """``(codes, unmapped)`` of one text column recoded by its ``[recode]`` table.

    Matching is exact and case-sensitive after trimming surrounding whitespace; text that
    is a number ("12", " 3.5") keeps its value; empty text is system-missing. ``unmapped``
    flags the rows whose text is neither in the table nor a number. A numeric column is
    returned unchanged (there is no text to recode).
    """
    series = frame[column]
    if _is_number_dtype(series):
        return series, pd.Series(False, index=series.index)
    text = _trimmed_text(series)
    codes = text.map(mapping).astype("float64")
    numbers = pd.to_numeric(text.where(codes.isna()), errors="coerce").astype("float64")
    unmapped = text.notna() & codes.isna() & numbers.isna()
    return codes.fillna(numbers), unmapped


def _unmapped_problem(frame: pd.DataFrame, column: str, unmapped: pd.Series,
                      mapping: dict[str, int | float], id_column: str) -> str:
    text = _trimmed_text(frame[column])[unmapped]
    values = list(dict.fromkeys(text))
    shown = ", ".join(repr(v) for v in values[:5]) + (
        f" and {len(values) - 5} more" if len(values) > 5 else "")
    lower = {k.lower(): k for k in mapping}
    near = [f"{v!r} (the table has {lower[v.lower()]!r})" for v in values if v.lower() in lower]
    case = f"; matching is case-sensitive: {', '.join(near[:3])}" if near else ""
    return (f"column {column!r}: text {values[0]!r} at {_first_row(frame, unmapped, id_column)} "
            f"is not in [recode.{column}] ({', '.join(map(repr, mapping))}); "
            f"{_affected(unmapped)}; unmapped text: {shown}{case}; add each to "
            f'[recode.{column}] with its code (e.g. "{values[0]}" = 1) or correct the file')


def prepare_raw(frame: pd.DataFrame, cfg: StudyConfig, source: str) -> pd.DataFrame:
    """A copy of the raw frame with ``[recode]`` applied and text ids / regions trimmed.

    Raises :class:`RecodeError` listing every column with text that has no code. Columns
    absent from the frame are left to :func:`validate_raw`.
    """
    out = frame.copy()
    id_column = cfg.columns["interview_id"]
    problems = []
    for column, mapping in cfg.recode.items():
        if column not in frame.columns:
            continue
        codes, unmapped = recode_text(frame, column, mapping)
        if unmapped.any():
            problems.append(_unmapped_problem(frame, column, unmapped, mapping, id_column))
        out[column] = codes
    if problems:
        raise RecodeError(source, problems)
    for column in cfg.text_columns():
        if column in out.columns and not _is_number_dtype(out[column]):
            out[column] = _trimmed_text(out[column]).astype("str")
    return out


# --------------------------------------------------------------------------- validation


def _num(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def _first_row(frame: pd.DataFrame, mask: pd.Series, id_column: str) -> str:
    """``record 5 (intnr=17)``: where the first flagged row is, 1-based in file order."""
    pos = int(np.flatnonzero(mask.to_numpy())[0])
    ident = frame[id_column].iloc[pos] if id_column in frame.columns else None
    ident_text = f" ({id_column}={_num(ident)})" if ident is not None and pd.notna(ident) else ""
    return f"record {pos + 1}{ident_text}"


def _affected(mask: pd.Series) -> str:
    n = int(mask.sum())
    return f"{n} row{'s' if n != 1 else ''} affected"


def _valid_mask(values: pd.Series, kind: Kind) -> pd.Series:
    if kind.codes is not None:
        return values.isin([float(c) for c in kind.codes])
    assert kind.range is not None
    return values.between(kind.range[0], kind.range[1])


def _is_number_dtype(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype)


def _check_numeric(frame: pd.DataFrame, column: str, id_column: str,
                   cfg: StudyConfig | None = None) -> str | None:
    series = frame[column]
    if _is_number_dtype(series):
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
                f"{_first_row(frame, bad, id_column)}; {_affected(bad)}{hint}")
    return f"column {column!r}: expected numbers, the column is stored as {series.dtype}"


def _check_kind(frame: pd.DataFrame, column: str, kind: Kind, id_column: str) -> str | None:
    values = frame[column].astype("float64")
    allowed = _valid_mask(values, kind) | values.isin(list(kind.missing_codes))
    bad = values.notna() & ~allowed
    if not bad.any():
        return None
    missing = "; ".join(f"{_num(c)} = {k}" for c, k in kind.missing_codes.items()) or "none"
    return (f"column {column!r}: value {_num(values[bad].iloc[0])} at "
            f"{_first_row(frame, bad, id_column)} is neither valid (kind {kind.name!r}: "
            f"{kind.describe()}) nor a declared missing code ({missing}); {_affected(bad)}")


def routing_rules(cfg: StudyConfig) -> dict[str, tuple[str | tuple[str, ...], tuple[int, ...]]]:
    """Routed item -> (filter column(s), codes of the filter that lead to the item).

    Novelty questions are asked of innovators only (of an outcome made of several columns:
    of firms with a yes in any of them); partner types in ``collaboration.routed_by_group``
    only of firms in a business group.
    """
    rules: dict[str, tuple[str | tuple[str, ...], tuple[int, ...]]] = {}
    for outcome in cfg.outcomes.values():
        if outcome.novelty_column:
            filters = outcome.column if not outcome.extra_columns else outcome.columns
            rules[outcome.novelty_column] = (filters, outcome.yes)
    if cfg.collaboration is not None:
        for partner, _, column in cfg.collaboration_items():
            if partner in cfg.collaboration.routed_by_group:
                rules[column] = (cfg.columns["group"], cfg.binary_yes)
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
            shown = ", ".join(f"{f} = {_num(frame[f][bad].iloc[0])}" for f in filters)
            problems.append(
                f"column {column!r}: value {_num(frame[column][bad].iloc[0])} at "
                f"{_first_row(frame, bad, id_column)} although the item is routed out "
                f"({shown}, asked only if {' or '.join(filters)} in {list(asked)}); "
                f"{_affected(bad)}")
    return problems


def _check_ids(frame: pd.DataFrame, cfg: StudyConfig, id_column: str) -> list[str]:
    problems = []
    for role in ID_ROLES:
        column = cfg.columns[role]
        absent = frame[column].isna()
        if absent.any():
            problems.append(f"column {column!r} ({role}): empty at "
                            f"{_first_row(frame, absent, id_column)}; {_affected(absent)}")
    dup = frame[id_column].notna() & frame[id_column].duplicated(keep=False)
    if dup.any():
        problems.append(f"column {id_column!r} (interview_id): duplicate id "
                        f"{_num(frame[id_column][dup].iloc[0])} at "
                        f"{_first_row(frame, dup, id_column)}; {_affected(dup)}")
    return problems


def _check_sectors(frame: pd.DataFrame, cfg: StudyConfig, id_column: str) -> list[str]:
    if not cfg.sectors:
        return []
    column = cfg.columns["nace"]
    nace = frame[column].astype("float64")
    kind = cfg.kind_of(column)
    known = _sector_codes(nace, cfg).notna() | ~nace.notna() | nace.isin(list(kind.missing_codes))
    if known.all():
        return []
    bad = ~known
    return [f"column {column!r} (nace): value {_num(nace[bad].iloc[0])} at "
            f"{_first_row(frame, bad, id_column)} is in no [sectors] range; {_affected(bad)}"]


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
    return [f"column {column!r} (weight): value {_num(values[bad].iloc[0])} at "
            f"{_first_row(frame, bad, id_column)} is not a positive number; {_affected(bad)}"]


def _check_regions(frame: pd.DataFrame, cfg: StudyConfig, id_column: str) -> list[str]:
    """Region codes without a kind: every value must be named in ``[regions]`` (if given)."""
    column = cfg.columns.get("region")
    if column is None or column not in cfg.text_columns() or not cfg.regions:
        return []
    series = frame[column]
    if _is_number_dtype(series):
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
    return [f"column {column!r} (region): code {_num(series[bad].iloc[0])} at "
            f"{_first_row(frame, bad, id_column)} has no name in [regions]; {_affected(bad)}; "
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
                    f"column {column!r}: the file declares {_num(lo)}"
                    f"{'' if lo == hi else f' to {_num(hi)}'} user-missing, but the study "
                    f"config {cfg.source} counts {_num(clash[0])} as a valid answer "
                    f"(kind {kind.name!r}: {kind.describe()})")
    return problems


# ---------------------------------------------------------------------- missing values


def recode_missing(frame: pd.DataFrame, cfg: StudyConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Values with user-missing codes set to NA, and the kind of missing of every cell.

    Returns ``(values, reasons)`` with the config's columns: ``values`` float64 with NaN for
    any missing; ``reasons`` categorical (dont_know, refused, not_applicable, no_answer, NA).
    """
    kinds = cfg.column_kinds()
    routing = routing_rules(cfg)
    values: dict[str, pd.Series] = {}
    reasons: dict[str, pd.Series] = {}
    text_columns = cfg.text_columns()
    for column in cfg.used_columns():
        if column in text_columns and not _is_number_dtype(frame[column]):
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


def _sector_codes(nace: pd.Series, cfg: StudyConfig) -> pd.Series:
    out = pd.Series(pd.NA, index=nace.index, dtype="object")
    for sector, ranges in cfg.sectors.items():
        for lo, hi in ranges:
            out[nace.between(lo, hi)] = sector
    return out


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
        return pd.Series(pd.Categorical(_sector_codes(nace, cfg),
                                        categories=list(cfg.sectors)), index=values.index)
    series = values[column]
    text = not _is_number_dtype(series)
    if name in ID_ROLES and text:
        return series.astype("str")
    if name == "region" and cfg.regions:
        if text:
            mapping = {str(k): v for k, v in cfg.regions.items()}
        else:
            mapping = {float(k): v for k, v in cfg.regions.items()}
        return _categories(series, mapping, pd.CategoricalDtype(list(cfg.regions.values())))
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
                  if column is not None and name not in ID_ROLES and name != "weight"}
    return pd.DataFrame({**data, **companions}, index=values.index)


# -------------------------------------------------------------------------- sample rules


@dataclass(frozen=True)
class Exclusion:
    """Records removed by one sample rule."""

    rule: str
    reason: str
    removed: pd.DataFrame


@dataclass(frozen=True)
class SampleResult:
    """The sample after the rules, and what each rule removed (in the order applied)."""

    n_raw: int
    kept: pd.DataFrame
    exclusions: tuple[Exclusion, ...]


def screen_outs(frame: pd.DataFrame, cfg: StudyConfig) -> pd.Series:
    """Firms below ``sample.min_employees`` (unknown size stays: the frame had >10 employees)."""
    if cfg.sample.min_employees is None:
        return pd.Series(False, index=frame.index)
    return (frame["employees"] < cfg.sample.min_employees).fillna(False).astype(bool)


def break_offs(frame: pd.DataFrame, cfg: StudyConfig) -> pd.Series:
    """Interviews with no innovation outcome answered (every outcome missing, of any kind)."""
    return frame[list(cfg.outcomes)].isna().all(axis=1)


def duplicate_interviews(frame: pd.DataFrame, cfg: StudyConfig) -> pd.Series:
    """Further interviews of a firm: keep the lowest (``first``) or highest interview id."""
    order = frame.sort_values("interview_id", kind="stable")
    keep = "first" if cfg.sample.duplicates == "first" else "last"
    dup = order["firm_id"].duplicated(keep=keep)
    return dup.reindex(frame.index)


def sample_rules(cfg: StudyConfig) -> list[tuple[str, str, Callable]]:
    """(rule id, reason text, rule) in the order they are applied."""
    rules: list[tuple[str, str, Callable]] = []
    if cfg.sample.min_employees is not None:
        rules.append(("screen_out", f"Screen-outs: fewer than {_num(cfg.sample.min_employees)} "
                      f"employees ({cfg.columns['employees']})", screen_outs))
    outcome_cols = ", ".join(c for o in cfg.outcomes.values() for c in o.columns)
    rules.append(("break_off", f"Break-offs: no innovation outcome answered ({outcome_cols})",
                  break_offs))
    which = "lowest" if cfg.sample.duplicates == "first" else "highest"
    rules.append(("duplicate", f"Duplicate interviews of a firm ({cfg.columns['firm_id']}): "
                  f"kept the one with the {which} interview id", duplicate_interviews))
    return rules


def apply_sample_rules(frame: pd.DataFrame, cfg: StudyConfig) -> SampleResult:
    """Apply the rules in order; every raw record ends up kept or in exactly one exclusion."""
    kept = frame
    exclusions = []
    for rule, reason, flag in sample_rules(cfg):
        mask = flag(kept, cfg)
        exclusions.append(Exclusion(rule, reason, kept[mask]))
        kept = kept[~mask]
    excluded = sum(len(e.removed) for e in exclusions)
    if excluded + len(kept) != len(frame):
        raise DataError(f"sample flow does not add up: {len(frame)} raw records, "
                              f"{excluded} excluded, {len(kept)} kept")
    return SampleResult(len(frame), kept, tuple(exclusions))


def sample_flow(result: SampleResult) -> pd.DataFrame:
    """Rows: raw records, each exclusion, final N; ``adds_up`` checks each subtraction."""
    rows = [("raw", "Records in the raw survey file", result.n_raw, result.n_raw, True)]
    remaining = result.n_raw
    for e in result.exclusions:
        rows.append((e.rule, e.reason, len(e.removed), remaining - len(e.removed), True))
        remaining -= len(e.removed)
    excluded = sum(len(e.removed) for e in result.exclusions)
    n_final = len(result.kept)
    rows.append(("final", "Firms in the clean data (estimation sample before item "
                 "non-response)", n_final, n_final,
                 n_final == remaining == result.n_raw - excluded))
    frame = pd.DataFrame(rows, columns=["stage", "description", "records", "remaining",
                                        "adds_up"])
    return frame.astype({"records": "int64", "remaining": "int64", "adds_up": "bool"})


# ----------------------------------------------------------------------------- the docs


def _item_values(column: str, cfg: StudyConfig, meta: RawMeta, reverse: bool = False) -> str:
    """Valid values of a file column: codes with their file labels, or the kind's range.

    ``reverse``: the canonical variable is ``scale_min + scale_max - code``, so code ``c``
    carries the label of the file's code ``lo + hi - c``.
    """
    column = column.split(SOURCE_JOIN)[0]  # a combined item has the codes of its columns
    kind = cfg.column_kinds().get(column)
    if kind is None:  # ids and text regions need no kind: the appendix reads the data
        return ""
    labels = meta.value_labels.get(column, {})
    if kind.codes is None:
        return kind.describe().removeprefix("range ")
    om = cfg.open_mindedness
    flip = (om.scale_min + om.scale_max) if reverse and om is not None else None
    parts = []
    for code in sorted(kind.codes):
        label = labels.get(float(flip - code if flip is not None else code), "")
        parts.append(f"{code} = {label}" if label else str(code))
    return "; ".join(parts)


def _novelty_values(column: str, outcome_firm: tuple[int, ...], outcome_market: tuple[int, ...],
                    meta: RawMeta) -> str:
    labels = meta.value_labels.get(column, {})

    def text(name: str, codes: tuple[int, ...]) -> str:
        described = [labels.get(float(c), "") for c in codes]
        detail = "; ".join(d for d in described if d) or f"code {list(codes)}"
        return f"{name} = {detail}"

    return f"{text('firm', outcome_firm)}; {text('market', outcome_market)}"


def recode_note(column: str | None, cfg: StudyConfig) -> str:
    """`` [text recoded: Yes = 1; No = 0]`` for a source with a ``[recode]`` table."""
    parts = []
    for name in (column or "").split(SOURCE_JOIN):
        mapping = cfg.recode.get(name)
        if mapping:
            pairs = "; ".join(f"{text} = {_num(code)}" for text, code in mapping.items())
            parts.append(f"{name}: {pairs}" if SOURCE_JOIN in (column or "") else pairs)
    return f" [text recoded: {' | '.join(parts)}]" if parts else ""


def variable_docs(cfg: StudyConfig, meta: RawMeta) -> dict[str, VariableDoc]:
    """Label, source item and valid values of every canonical variable."""
    docs: dict[str, VariableDoc] = {}
    reverse = cfg.open_mindedness.reverse if cfg.open_mindedness else ()
    for name, column in canonical_columns(cfg):
        label = meta.column_labels.get(column or "", "") or DEFAULT_LABELS.get(name, name)
        source = column or ""
        values = _item_values(column, cfg, meta) if column else ""
        if column and SOURCE_JOIN in column:
            source = " + ".join(column.split(SOURCE_JOIN)) + (
                " (yes if any is yes)" if name in cfg.outcomes else " (the most frequent answer)")
        if name == "weight" and column is None:
            label, values = "Weight (no sampling weights in the survey: every firm 1.0)", "1.0"
        elif name.startswith("collab__") and cfg.collaboration is not None \
                and cfg.collaboration.type == "binary":
            c = cfg.collaboration
            source = f"{source}: yes/no item recoded 2 if code in {list(c.yes)}, 1 if in " \
                     f"{list(c.never)}"
            values = f"{BINARY_NEVER} = no collaboration; {BINARY_YES} = collaboration"
        elif name == "sector":
            label = DEFAULT_LABELS["sector"]
            source = f"{cfg.columns['nace']} grouped by the [sectors] ranges"
            values = "; ".join(f"{s} = NACE " + ", ".join(f"{lo}-{hi}" for lo, hi in rs)
                               for s, rs in cfg.sectors.items())
        elif name == "region" and cfg.regions:
            source = f"{column} (codes mapped to names)"
            values = "; ".join(f"{v} ({k})" for k, v in cfg.regions.items())
        elif name == "group" or name in cfg.outcomes:
            outcome = cfg.outcomes.get(name)
            yes, no = (outcome.yes, outcome.no) if outcome else (cfg.binary_yes, cfg.binary_no)
            source = f"{source}: 1 if code in {list(yes)}, 0 if in {list(no)}"
            values = "0 = no; 1 = yes"
        elif any(name == o.novelty_name for o in cfg.outcomes.values()):
            o = next(o for o in cfg.outcomes.values() if o.novelty_name == name)
            source = (f"{column}: firm if code in {list(o.new_to_firm)}, market if in "
                      f"{list(o.new_to_market)}; not_applicable if not a {o.name} innovator")
            values = _novelty_values(column, o.new_to_firm, o.new_to_market, meta)
        elif column in reverse and name.startswith("open_"):
            om = cfg.open_mindedness
            source = f"{column}, reverse-coded ({om.scale_min + om.scale_max} - x)"
            values = _item_values(column, cfg, meta, reverse=True)
        source += recode_note(column, cfg)
        binary = name == "group" or name in cfg.outcomes
        docs[name] = VariableDoc(label=label, source=source, values=values,
                                 type="binary (0/1)" if binary else "",
                                 summarize=name not in ID_ROLES)
    return docs


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
    values, reasons = recode_missing(raw, cfg)
    canonical = canonical_frame(values, reasons, cfg)
    sample = apply_sample_rules(canonical, cfg)
    data = sample.kept.sort_values("interview_id", kind="stable").reset_index(drop=True)
    if data.empty:  # an empty sample would only fail later, far from its cause
        removed = "; ".join(f"{e.rule}: {len(e.removed)}" for e in sample.exclusions)
        raise DataError(f"raw data file {meta.path}: no record is left after the sample "
                           f"rules ({sample.n_raw} raw records; removed by {removed})")
    if data["weight"].isna().any():
        bad = data["weight"].isna()
        raise DataError(f"raw data file {meta.path}: column {cfg.weight_column!r} (weight) "
                           f"is missing for interview id "
                           f"{_num(data.loc[bad, 'interview_id'].iloc[0])}; {_affected(bad)}")
    return CleanResult(data, sample_flow(sample), variable_docs(cfg, meta), sample)
