"""The data appendix: one row per variable of a data set (label, source, values, counts).

:func:`describe_variables` is generic: it works on the clean survey data (where each item
``X`` has a companion ``X__missing`` telling why it is missing) and on any frame of
constructed variables (no companions: only the total of missing values is reported).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from analysis.data.study_config import StudyConfig

#: Kinds of missing values, in the order the appendix shows them.
MISSING_KINDS: tuple[str, ...] = ("dont_know", "refused", "not_applicable", "no_answer")
#: Suffix of the companion column telling why a value is missing.
MISSING_SUFFIX = "__missing"

APPENDIX_COLUMNS: tuple[str, ...] = (
    "variable", "label", "source", "type", "valid values", "N valid", "N missing",
    *(f"N {kind}" for kind in MISSING_KINDS), "mean", "shares",
)


@dataclass(frozen=True)
class VariableDoc:
    """Documentation of one variable.

    ``label``: what it measures; ``source``: the raw item(s) and the transformation;
    ``values``: the valid values as text (codes with labels, or a range); empty means "infer
    from the data"; ``type``: e.g. "binary (0/1)"; empty means "from the dtype";
    ``summarize``: False for identifiers (no mean or shares).
    """

    label: str
    source: str = ""
    values: str = ""
    type: str = ""
    summarize: bool = True


def variable_type(series: pd.Series) -> str:
    """A reader's name of the dtype: categorical, integer, float, boolean or text."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_numeric_dtype(dtype):
        return "float"
    return "text"


def _number(x: float) -> str:
    return f"{int(x)}" if float(x).is_integer() else f"{x:.4g}"


def inferred_values(series: pd.Series) -> str:
    """Valid values read from the data when the docs give none."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "; ".join(str(c) for c in series.cat.categories)
    valid = series.dropna()
    if valid.empty:
        return ""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
            series.dtype):
        return f"{_number(valid.min())} to {_number(valid.max())} (observed)"
    return "; ".join(sorted(str(v) for v in valid.unique())[:10])


def shares_text(series: pd.Series, decimals: int = 2) -> str:
    """Shares of each category among valid values, e.g. ``Oslo 0.45; Bergen 0.18``."""
    valid = series.dropna()
    if valid.empty:
        return ""
    counts = valid.value_counts(sort=False)
    if isinstance(series.dtype, pd.CategoricalDtype):
        counts = counts.reindex(series.cat.categories, fill_value=0)
    else:
        counts = counts.sort_index()
    return "; ".join(f"{cat} {n / len(valid):.{decimals}f}" for cat, n in counts.items())


def missing_counts(frame: pd.DataFrame, column: str) -> dict[str, object]:
    """Counts of each missing kind from the companion column (NA when there is none)."""
    companion = f"{column}{MISSING_SUFFIX}"
    if companion not in frame.columns:
        return {f"N {kind}": pd.NA for kind in MISSING_KINDS}
    reasons = frame[companion].astype("string")
    return {f"N {kind}": int((reasons == kind).sum()) for kind in MISSING_KINDS}


def _listed_values(series: pd.Series, doc: VariableDoc) -> str:
    """Inferred valid values; text identifiers are counted, never listed (disclosure)."""
    text = not pd.api.types.is_numeric_dtype(series.dtype) and not isinstance(
        series.dtype, pd.CategoricalDtype)
    if text and not doc.summarize:
        return f"text ({series.dropna().nunique():,} distinct values, not listed)"
    return inferred_values(series)


def describe_variable(frame: pd.DataFrame, column: str, doc: VariableDoc) -> dict[str, object]:
    """One appendix row."""
    series = frame[column]
    numeric = pd.api.types.is_numeric_dtype(series.dtype) and not isinstance(
        series.dtype, pd.CategoricalDtype)
    valid = series.dropna()
    mean = pd.NA
    shares = ""
    if doc.summarize and not valid.empty:
        if numeric:
            mean = float(valid.astype("float64").mean())
        else:
            shares = shares_text(series)
    return {
        "variable": column,
        "label": doc.label,
        "source": doc.source,
        "type": doc.type or variable_type(series),
        "valid values": doc.values or _listed_values(series, doc),
        "N valid": int(series.notna().sum()),
        "N missing": int(series.isna().sum()),
        **missing_counts(frame, column),
        "mean": mean,
        "shares": shares,
    }


def describe_variables(frame: pd.DataFrame, docs: Mapping[str, VariableDoc]) -> pd.DataFrame:
    """The data appendix of ``frame``: one row per variable, in frame order.

    Companion ``X__missing`` columns are not rows of their own: they feed the missing-kind
    counts of ``X``. Variables without a doc get an empty label (so gaps show).
    """
    rows = [describe_variable(frame, col, docs.get(col, VariableDoc(label="")))
            for col in frame.columns if not str(col).endswith(MISSING_SUFFIX)]
    out = pd.DataFrame(rows, columns=list(APPENDIX_COLUMNS))
    for kind in MISSING_KINDS:
        out[f"N {kind}"] = out[f"N {kind}"].astype("Int64")
    out["mean"] = out["mean"].astype("Float64")
    return out


# ------------------------------------------------ the appendices of the clean and analysis data


def clean_appendix_notes(cfg: StudyConfig) -> list[str]:
    """Notes under the data appendix of the clean survey."""
    notes = [
        "N missing by kind: dont_know and refused are the survey's user-missing codes; "
        "not_applicable = not asked because of the questionnaire's routing; no_answer = "
        "system-missing (item skipped or interview broken off).",
    ]
    if cfg.collaboration is not None and cfg.collaboration.type == "binary":
        notes.append("Collaboration items are yes/no in the survey; the clean data hold them "
                     "as 1 = no collaboration, 2 = collaboration.")
    elif cfg.collaboration is not None:
        notes.append("Collaboration items keep the frequency code of the file (lowest code "
                     "= never).")
    if cfg.synthetic and cfg.data_note:
        notes.append(cfg.data_note)
    return notes
