"""``[derived]`` variables: one column made of several, before any check of the values.

A survey often asks one question per item: novelty per product item (four columns), or
cooperation per partner and location. ``[derived.<name>]`` combines such columns into one
(``max``, ``min``, ``sum`` or ``any``) that the configuration then uses like a file column.
Only valid answers are combined (user-missing codes and blanks are left out); a row with no
valid answer keeps the first missing code of its columns (so a "don't know" stays a "don't
know"), or a blank when every column is blank (so routing still applies).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data.study_schema import Derived, Kind


def valid_values(values: pd.DataFrame, kind: Kind) -> pd.DataFrame:
    """``values`` with everything but the valid answers of ``kind`` set to NaN."""
    if kind.codes is not None:
        ok = values.isin([float(c) for c in kind.codes])
    else:
        assert kind.range is not None
        ok = (values >= kind.range[0]) & (values <= kind.range[1])
    return values.where(ok)


def combine(values: pd.DataFrame, derived: Derived, kind: Kind) -> pd.Series:
    """The derived column from its source ``values`` (numbers, user-missing codes kept)."""
    valid = valid_values(values, kind)
    answered = valid.notna().any(axis=1)
    if derived.combine == "max":
        result = valid.max(axis=1)
    elif derived.combine == "min":
        result = valid.min(axis=1)
    elif derived.combine == "sum":
        result = valid.sum(axis=1, min_count=1)
    else:  # any: yes if any column is yes, no if answered and none is yes
        yes = valid.isin([float(c) for c in derived.yes]).any(axis=1)
        result = pd.Series(np.where(yes, float(derived.yes[0]), float(derived.no[0])),
                           index=values.index)
    first_missing = values.where(values.notna() & valid.isna()).bfill(axis=1).iloc[:, 0]
    return result.where(answered, first_missing).astype("float64").rename(derived.name)


def derive_columns(frame: pd.DataFrame, derived: dict[str, Derived], kinds: dict[str, Kind]
                   ) -> pd.DataFrame:
    """``frame`` with every derived column added (sources absent from the frame: skipped,
    :func:`analysis.data.clean.validate_raw` names them)."""
    out = frame
    for item in derived.values():
        if not all(c in frame.columns for c in item.columns):
            continue
        values = frame[list(item.columns)].apply(pd.to_numeric, errors="coerce")
        out = out if out is not frame else frame.copy()
        out[item.name] = combine(values.astype("float64"), item, kinds[item.kind])
    return out
