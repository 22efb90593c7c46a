"""RegressorFrame matrices: turn a model's variables into numeric regressor columns.

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

from analysis.errors import ModelError


@dataclass(frozen=True)
class RegressorFrame:
    """Regressor columns for one model and the map from variables to those columns."""

    frame: pd.DataFrame
    columns_of: dict[str, list[str]]
    complete: pd.Series

    @property
    def binary_terms(self) -> set[str]:
        """Columns that only take 0/1 (their AMEs are discrete changes)."""
        return {c for c in self.frame.columns if is_binary(self.frame[c])}


def is_binary(column: pd.Series | np.ndarray) -> bool:
    values = np.asarray(column, dtype=float)
    values = values[~np.isnan(values)]
    return values.size > 0 and bool(np.all((values == 0.0) | (values == 1.0)))


def is_categorical(column: pd.Series) -> bool:
    return isinstance(column.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(
        column.dtype
    ) or column.dtype == object


def dummy_arrays(column: pd.Series, name: str) -> dict[str, np.ndarray]:
    """Treatment dummies ``name[level]`` for every level but the first (the base), as
    float64 arrays (NaN where ``column`` is missing)."""
    cat = column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")
    codes = cat.cat.codes.to_numpy()
    missing = codes < 0
    out = {}
    for code, level in enumerate(cat.cat.categories[1:], start=1):
        values = (codes == code).astype(np.float64)
        values[missing] = np.nan
        out[f"{name}[{level}]"] = values
    return out


def dummies(column: pd.Series, name: str) -> pd.DataFrame:
    """Treatment dummies ``name[level]`` for every level but the first (the base)."""
    return pd.DataFrame(dummy_arrays(column, name), index=column.index)


def regressor_frame(frame: pd.DataFrame, variables: Sequence[str]) -> RegressorFrame:
    """Numeric regressors for ``variables`` (no constant; the estimator adds it)."""
    arrays: dict[str, np.ndarray] = {}
    columns_of: dict[str, list[str]] = {}
    for name in variables:
        if name not in frame.columns:
            raise ModelError(f"variable '{name}' is not in the analysis data set")
        column = frame[name]
        if is_categorical(column):
            block = dummy_arrays(column, name)
        else:
            try:
                block = {name: column.to_numpy(dtype=np.float64, na_value=np.nan)}
            except (TypeError, ValueError) as err:
                raise ModelError(f"variable '{name}' is not numeric ({column.dtype})") from err
        clash = [c for c in block if c in arrays]
        if name in columns_of or clash:
            raise ModelError(f"variable '{name}' gives columns already in the design "
                              f"({', '.join(clash) or name}): is it listed twice?")
        columns_of[name] = list(block)
        arrays.update(block)
    # One frame from the arrays (a concat of one frame per variable costs far more).
    design = pd.DataFrame(arrays, index=frame.index)
    observed = np.ones(len(frame), dtype=bool)
    for values in arrays.values():
        observed &= ~np.isnan(values)
    return RegressorFrame(frame=design, columns_of=columns_of,
                  complete=pd.Series(observed, index=frame.index))


def base_levels(frame: pd.DataFrame, variables: Sequence[str]) -> dict[str, str]:
    """The base (omitted) category of each categorical variable among ``variables``."""
    bases = {}
    for name in variables:
        if name in frame.columns and is_categorical(frame[name]):
            column = frame[name]
            cat = (column if isinstance(column.dtype, pd.CategoricalDtype)
                   else column.astype("category"))
            if len(cat.cat.categories):
                bases[name] = str(cat.cat.categories[0])
    return bases
