"""Reading the raw survey file (labels and user-missing codes kept) and recoding its text."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from analysis.data.clean_derived import derive_columns
from analysis.data.study_config import (
    StudyConfig,
)
from analysis.errors import DataError, RecodeError
from analysis.io import special_file_kind

#: Roles whose columns are identifiers or weights: never missing, no companion column.
ID_ROLES: tuple[str, ...] = ("firm_id", "interview_id")

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
    special = special_file_kind(path)
    if special is not None:  # checked by stat alone: opening a FIFO could block
        raise DataError(f"raw data file {path} is {special}, not a data file")
    if not path.is_file():
        raise DataError(f"raw data file {path} not found")
    _check_signature(path, fmt)
    try:
        _check_unique_names(column_names(path, fmt), path)
        if fmt in ("sav", "dta"):
            reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
            frame, meta = reader(str(path), user_missing=True)
            raw_meta = _meta_from_readstat(meta, path, fmt, len(frame))
        elif fmt == "csv":
            frame = pd.read_csv(path, encoding="utf-8-sig")
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


def column_names(path: Path, fmt: str) -> list[str]:
    """The column names exactly as the file stores them, read before the data.

    The readers rename a repeated name (pandas ``x.1``, pyreadstat ``x_duplicated1``) or
    refuse it (pyarrow), so the names come from the CSV header row, the SPSS / Stata
    dictionary (the renaming reported by pyreadstat) or the Parquet schema.
    """
    if fmt == "csv":
        header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False,
                             encoding="utf-8-sig")
        return [str(v) for v in header.iloc[0]] if len(header) else []
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, meta = reader(str(path), metadataonly=True)
    names = list(meta.column_names)
    renamed = {}
    for warning in caught:
        match = _RENAMED.search(str(warning.message))
        if match:
            renamed[match.group(2)] = match.group(1)
    return [renamed.get(name, name) for name in names]


#: pyreadstat's warning when it renames a repeated column name.
_RENAMED = re.compile(r"column '(.+)' is duplicated, renamed to '(.+)'")


def _check_unique_names(names: list[str], path: Path) -> None:
    """DataError naming every repeated column and its positions (1-based, file order)."""
    positions: dict[str, list[int]] = {}
    for position, name in enumerate(names, start=1):
        positions.setdefault(name, []).append(position)
    repeated = {name: where for name, where in positions.items() if len(where) > 1}
    if repeated:
        listed = "; ".join(f"{name!r} at positions {', '.join(map(str, where))}"
                           for name, where in repeated.items())
        raise DataError(f"raw data file {path} has duplicate column names: {listed} (of "
                        f"{len(names)} columns); the package cannot tell which copy is meant: "
                        "rename or drop the extra column(s) in the file")


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
    if is_number_dtype(series):
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
    return (f"column {column!r}: text {values[0]!r} at {first_row(frame, unmapped, id_column)} "
            f"is not in [recode.{column}] ({', '.join(map(repr, mapping))}); "
            f"{affected(unmapped)}; unmapped text: {shown}{case}; add each to "
            f'[recode.{column}] with its code (e.g. "{values[0]}" = 1) or correct the file')


def prepare_raw(frame: pd.DataFrame, cfg: StudyConfig, source: str) -> pd.DataFrame:
    """A copy of the raw frame with ``[recode]`` applied, text ids / regions trimmed and the
    ``[derived]`` variables added.

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
        if column in out.columns and not is_number_dtype(out[column]):
            out[column] = _trimmed_text(out[column]).astype("str")
    return derive_columns(out, cfg.derived, cfg.kinds)


def value_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def first_row(frame: pd.DataFrame, mask: pd.Series, id_column: str) -> str:
    """``record 5 (intnr=17)``: where the first flagged row is, 1-based in file order."""
    pos = int(np.flatnonzero(mask.to_numpy())[0])
    ident = frame[id_column].iloc[pos] if id_column in frame.columns else None
    known = ident is not None and pd.notna(ident)
    ident_text = f" ({id_column}={value_text(ident)})" if known else ""
    return f"record {pos + 1}{ident_text}"


def affected(mask: pd.Series) -> str:
    n = int(mask.sum())
    return f"{n} row{'s' if n != 1 else ''} affected"


def is_number_dtype(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype)
