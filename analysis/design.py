"""Design matrices: turn a model's variables into numeric regressor columns.

Categorical variables become treatment dummies named ``var[level]`` with the first
category as the base (Stata's ``i.var``); numeric variables pass through. Rows with a
missing value in any used variable are marked so the estimator can drop them
(listwise deletion) and report how many it dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


class DesignError(ValueError):
    """A variable cannot be turned into regressors (for example, it is text)."""


@dataclass(frozen=True)
class Design:
    """Regressor columns for one model and the map from variables to those columns."""

    frame: pd.DataFrame
    columns_of: dict[str, list[str]]
    complete: pd.Series

    @property
    def binary_terms(self) -> set[str]:
        """Columns that only take 0/1 (their AMEs are discrete changes)."""
        return {c for c in self.frame.columns if is_binary(self.frame[c])}


def is_binary(column: pd.Series) -> bool:
    values = pd.unique(column.dropna())
    return len(values) > 0 and set(np.asarray(values, dtype=float)) <= {0.0, 1.0}


def is_categorical(column: pd.Series) -> bool:
    return isinstance(column.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(
        column.dtype
    ) or column.dtype == object


def dummies(column: pd.Series, name: str) -> pd.DataFrame:
    """Treatment dummies ``name[level]`` for every level but the first (the base)."""
    cat = column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")
    levels = list(cat.cat.categories)
    missing = cat.isna()
    out = {}
    for level in levels[1:]:
        values = (cat == level).astype("float64")
        values[missing] = np.nan
        out[f"{name}[{level}]"] = values
    return pd.DataFrame(out, index=column.index)


def build_design(frame: pd.DataFrame, variables: Sequence[str]) -> Design:
    """Numeric regressors for ``variables`` (no constant; the estimator adds it)."""
    parts = []
    columns_of: dict[str, list[str]] = {}
    for name in variables:
        if name not in frame.columns:
            raise DesignError(f"variable '{name}' is not in the analysis data set")
        column = frame[name]
        if is_categorical(column):
            block = dummies(column, name)
        else:
            try:
                block = column.astype("float64").to_frame(name)
            except (TypeError, ValueError) as err:
                raise DesignError(f"variable '{name}' is not numeric ({column.dtype})") from err
        columns_of[name] = list(block.columns)
        parts.append(block)
    design = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
    complete = design.notna().all(axis=1)
    return Design(frame=design, columns_of=columns_of, complete=complete)
