"""Descriptive exhibits for the estimation sample beside all firms, as Table 1 shows them.

A descriptive frame computed twice, on the firms of the headline models' estimation sample
and on all firms of the clean survey, becomes one frame: the key column, then the sample's
columns ("Estimation sample: ..."), then all firms' ("All firms: ..."), which every format
prints under two spanners; the counts behind the cells (disclosure control) get the same
column names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from analysis.errors import ExhibitError
from analysis.exhibits.summary import ALL_PREFIX, SAMPLE_PREFIX


def within(frame: pd.DataFrame, sample: pd.Series | None) -> np.ndarray:
    """The firms of ``sample`` (a mask on ``frame``'s index) as a boolean array; every firm
    when there is no sample."""
    if sample is None:
        return np.ones(len(frame), dtype=bool)
    return sample.reindex(frame.index).fillna(False).to_numpy(dtype=bool)


def side_by_side(key: str, inside: pd.DataFrame, every: pd.DataFrame) -> pd.DataFrame:
    """``key``, the sample's columns, then all firms' (rows in the same order in both)."""
    if inside[key].tolist() != every[key].tolist():
        raise ExhibitError(f"rows differ between the samples: {inside[key].tolist()} "
                         f"vs {every[key].tolist()}")
    out = pd.DataFrame({key: every[key].to_numpy()})
    for prefix, part in ((SAMPLE_PREFIX, inside), (ALL_PREFIX, every)):
        for column in part.columns:
            if column != key:
                out[prefix + str(column)] = part[column].to_numpy()
    return out


def both_cells(inside: pd.DataFrame, every: pd.DataFrame) -> pd.DataFrame:
    """The counts behind both halves of a :func:`side_by_side` frame."""
    return pd.concat([inside.assign(column=SAMPLE_PREFIX + inside["column"]),
                      every.assign(column=ALL_PREFIX + every["column"])], ignore_index=True)


def with_firm_counts(frame: pd.DataFrame, counts: Mapping[str, int]) -> pd.DataFrame:
    """``frame`` for print, the number of firms of each sample in its spanner:
    "Estimation sample: Abroad" -> "Estimation sample (1,388 firms): Abroad"."""
    names = {}
    for column in frame.columns:
        for prefix, n in counts.items():
            if str(column).startswith(prefix):
                head = prefix.removesuffix(": ")
                names[column] = f"{head} ({n:,} firms): {str(column)[len(prefix):]}"
    return frame.rename(columns=names)


def paired(key: str, compute: Callable[[np.ndarray], tuple[pd.DataFrame, pd.DataFrame]],
           n_firms: int, inside: np.ndarray | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An exhibit's frame and cells (``compute(mask)`` on the firms of a mask) for the
    estimation sample beside all firms (:func:`side_by_side`), or for all firms alone when
    there is no sample (``inside`` None)."""
    every = compute(np.ones(n_firms, dtype=bool))
    if inside is None:
        return every
    sample = compute(inside)
    return side_by_side(key, sample[0], every[0]), both_cells(sample[1], every[1])
