"""Innovation outcomes: product, process, novelty (new to the market / industry), any."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.data.variables_common import (
    NOVELTY_LEVELS,
    numeric_column,
    require_columns,
    row_label,
)
from analysis.errors import DataError

# --------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------

def binary_outcome(frame: pd.DataFrame, column: str) -> pd.Series:
    """A 0/1 outcome (Int64, NA if missing); any other value raises :class:`DataError`."""
    require_columns(frame, [column], "outcome")
    values = numeric_column(frame, column)
    bad = values.notna() & ~values.isin([0.0, 1.0])
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"column {column}, {row_label(frame, pos)}: value "
                            f"{values.iloc[pos]} is not 0/1")
    return pd.Series(values, index=frame.index, name=column).astype("Int64")


def novelty_flag(
    frame: pd.DataFrame,
    outcome: str,
    novelty: str,
    new_values: Sequence[str] = ("market",),
    firm_values: Sequence[str] = ("firm",),
) -> pd.Series:
    """Innovation new to the market (or industry): 1 / 0 / NA.

    Rule: 0 if ``outcome`` == 0 (no innovation is not a new-to-market innovation); for
    innovators 1 if the novelty answer is in ``new_values``, 0 if in ``firm_values`` (new to
    the firm only); NA for innovators whose novelty answer is missing and when the outcome
    itself is missing (we do not guess the novelty of an unknown innovation).
    """
    require_columns(frame, [outcome, novelty], "novelty")
    innovated = binary_outcome(frame, outcome)
    answer = frame[novelty].astype("string")
    known = set(new_values) | set(firm_values)
    bad = answer.notna() & ~answer.isin(known)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"column {novelty}, {row_label(frame, pos)}: value "
                            f"{answer.iloc[pos]!r} is not one of {sorted(known)}")
    flag = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    flag[innovated == 0] = 0
    flag[(innovated == 1) & answer.isin(list(firm_values)).fillna(False)] = 0
    flag[(innovated == 1) & answer.isin(list(new_values)).fillna(False)] = 1
    return flag


def new_to_market(frame: pd.DataFrame) -> pd.Series:
    """Product innovation new to the firm's market ("radical", 2011): see :func:`novelty_flag`."""
    return novelty_flag(frame, "product", "product_novelty").rename("new_to_market")


def process_new_to_industry(frame: pd.DataFrame) -> pd.Series:
    """Process innovation new to the firm's industry (novelty "market" or "industry")."""
    return novelty_flag(frame, "process", "process_novelty",
                        new_values=("market", "industry")).rename("process_new_to_industry")


def novelty_code(frame: pd.DataFrame) -> pd.Series:
    """Ordered product novelty as an integer: 0 none, 1 new to the firm, 2 new to the market.

    NA when product innovation is missing, or for product innovators without a novelty answer.
    """
    product = binary_outcome(frame, "product")
    market = new_to_market(frame)
    return (product + market).rename("novelty_code")


def novelty_ordered(frame: pd.DataFrame) -> pd.Series:
    """Ordered categorical of :func:`novelty_code` (none < new to firm < new to market)."""
    codes = novelty_code(frame)
    labels = codes.map(dict(enumerate(NOVELTY_LEVELS)), na_action="ignore")
    dtype = pd.CategoricalDtype(list(NOVELTY_LEVELS), ordered=True)
    return pd.Series(labels.astype(object), index=frame.index).astype(dtype).rename(
        "novelty_ordered")


def any_innovation(frame: pd.DataFrame) -> pd.Series:
    """1 if product or process innovation; 0 only if both are 0; NA otherwise (Kleene or)."""
    product = binary_outcome(frame, "product").astype("boolean")
    process = binary_outcome(frame, "process").astype("boolean")
    return (product | process).astype("Int64").rename("any_innovation")
