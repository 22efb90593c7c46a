"""Summary statistics: weighted N, mean, SD, minimum and maximum (Table 1).

The statistics behind every descriptive exhibit (:func:`weighted_stats`, as Stata's
``summarize [aweight]``) and Table 1 itself: the model variables in the estimation sample
of the headline models beside the N and mean of all firms, printed with labels, one panel
per block of the specification and each row at its own precision (:func:`summary_display`);
:func:`summary_cells` lists the counts behind each cell for disclosure control.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.errors import ExhibitError
from analysis.exhibits.disclosure import COUNT_BASIS, cells_frame, magnitude_cell, share_cells


def as_float(series: pd.Series) -> pd.Series:
    """Numeric, boolean or nullable series as float64 with NaN for missing.

    An ordered categorical gives its category codes 0..k-1 (e.g. novelty 0/1/2).
    """
    if isinstance(series.dtype, pd.CategoricalDtype) and series.dtype.ordered:
        return series.cat.codes.astype(float).where(series.notna())
    if isinstance(series.dtype, pd.CategoricalDtype) or not (
            pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        raise ExhibitError(f"variable {series.name}: not numeric (dtype {series.dtype})")
    return series.astype("Float64").astype(float)


def is_weighted(weights: pd.Series | None) -> bool:
    """True if the weights vary across firms (a survey with real weights)."""
    if weights is None:
        return False
    values = as_float(weights).dropna()
    return bool(len(values) and not np.allclose(values, values.iloc[0]))


def weights_of(frame: pd.DataFrame, weight: str | None) -> pd.Series:
    if weight is None:
        return pd.Series(1.0, index=frame.index)
    if weight not in frame.columns:
        raise ExhibitError(f"weight column {weight} is not in the analysis data")
    w = as_float(frame[weight])
    if (w < 0).any() or w.isna().any():
        raise ExhibitError(f"weight column {weight}: negative or missing weights")
    return w


def weighted_stats(values: pd.Series, weights: pd.Series) -> dict[str, float]:
    """N, mean, SD, min, max of ``values`` over non-missing cases.

    Mean = sum(w x) / sum(w). SD as Stata's ``summarize [aweight]``: weights rescaled to sum
    to N, variance = sum(w (x - mean)^2) / (N - 1); with equal weights this is the usual
    sample SD. NaN SD when N < 2.
    """
    x = as_float(values)
    w = weights.reindex(x.index).astype(float)
    keep = x.notna() & w.notna()
    x, w = x[keep].to_numpy(), w[keep].to_numpy()
    n = len(x)
    if n == 0 or w.sum() <= 0:
        return {"N": n, "Mean": np.nan, "SD": np.nan, "Min": np.nan, "Max": np.nan}
    mean = float(np.sum(w * x) / np.sum(w))
    sd = np.nan
    if n > 1:
        scaled = w * n / w.sum()
        sd = float(np.sqrt(np.sum(scaled * (x - mean) ** 2) / (n - 1)))
    return {"N": n, "Mean": mean, "SD": sd, "Min": float(x.min()), "Max": float(x.max())}


def weighted_share(values: pd.Series, weights: pd.Series) -> float:
    """Weighted mean of a 0/1 series over non-missing cases (NaN if none)."""
    return weighted_stats(values, weights)["Mean"]


def known_values(frame: pd.DataFrame, column: str, weight: str | None) -> pd.Series:
    """``column`` as float over the firms a statistic uses (value and weight known)."""
    x = as_float(frame[column])
    return x[x.notna() & weights_of(frame, weight).notna()]


SAMPLE_PREFIX = "Estimation sample: "
ALL_PREFIX = "All firms: "
STAT_COLUMNS = ("N", "Mean", "SD", "Min", "Max")


def summary_statistics(
    frame: pd.DataFrame,
    variables: Sequence[str],
    labels: Mapping[str, str] | None = None,
    weight: str | None = None,
    sample: pd.Series | None = None,
) -> pd.DataFrame:
    """Table 1: Variable, Description, N, Mean, SD, Min, Max of each variable.

    ``sample``: a mask of the firms of the estimation sample; the statistics are then
    computed on it (columns "Estimation sample: N" ...) and the N and mean of all firms
    follow ("All firms: N", "All firms: Mean"), so that the selection shows.
    """
    w = weights_of(frame, weight)
    labels = labels or {}
    inside = frame if sample is None else frame[sample.reindex(frame.index).fillna(False)]
    rows = []
    for name in variables:
        if name not in frame.columns:
            raise ExhibitError(f"summary statistics: variable {name} is not in the data")
        row = {"Variable": name, "Description": labels.get(name, "")}
        stats = weighted_stats(inside[name].rename(name), w)
        if sample is None:
            row.update(stats)
        else:
            row.update({SAMPLE_PREFIX + k: v for k, v in stats.items()})
            every = weighted_stats(frame[name].rename(name), w)
            row.update({ALL_PREFIX + "N": every["N"], ALL_PREFIX + "Mean": every["Mean"]})
        rows.append(row)
    columns = ["Variable", "Description", *STAT_COLUMNS] if sample is None else [
        "Variable", "Description", *(SAMPLE_PREFIX + c for c in STAT_COLUMNS),
        ALL_PREFIX + "N", ALL_PREFIX + "Mean"]
    out = pd.DataFrame(rows, columns=columns)
    for column in out.columns:
        if column.endswith("N"):
            out[column] = out[column].astype("int64")
    return out


def stat_decimals(values: pd.Series, sd: float) -> int:
    """Decimals of a row of Table 1: three for a 0/1 variable, else three significant
    digits of its SD (at least one decimal, at most three)."""
    known = values.dropna()
    if len(known) and known.isin([0.0, 1.0]).all():
        return 3
    if not np.isfinite(sd) or sd <= 0:
        return 3
    return int(min(3, max(1, 2 - np.floor(np.log10(sd)))))


def _stat_text(value: object, decimals: int, whole: bool) -> str:
    if isinstance(value, str):  # a suppressed cell's marker
        return value
    if value is None or pd.isna(value):
        return ""
    if whole and float(value).is_integer():
        return f"{int(value):,}"
    return f"{float(value):,.{decimals}f}"


def readable(label: str) -> str:
    """A dummy's label with its category name in words ("Sector group: accommodation
    food" for the level accommodation_food)."""
    head, sep, level = label.partition(": ")
    return head + sep + level.replace("_", " ") if sep else label


def summary_display(table: pd.DataFrame, frame: pd.DataFrame,
                    groups: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Table 1 for print: labels instead of variable names, each row at its own precision
    (:func:`stat_decimals`; minimum and maximum as whole numbers when both are), N with
    thousands separators, and a ``group`` column for panels (``groups``: variable ->
    heading; variables without one under "Other variables")."""
    groups = groups or {}
    rows = []
    for _, row in table.iterrows():
        name = str(row["Variable"])
        sd_column = next(c for c in table.columns if c.endswith("SD"))
        sd = row[sd_column]
        places = stat_decimals(as_float(frame[name]) if name in frame.columns
                               else pd.Series(dtype=float),
                               float(sd) if not isinstance(sd, str) and pd.notna(sd)
                               else np.nan)
        out = {"group": groups.get(name, "Other variables"),
               "Variable": readable(str(row["Description"] or name))}
        extremes = [row[c] for c in table.columns[2:] if c.endswith(("Min", "Max"))]
        # minimum and maximum as whole numbers only when both are (not "1.250 ... 5")
        both_whole = all(not isinstance(v, str) and pd.notna(v) and float(v).is_integer()
                         for v in extremes)
        for column in table.columns[2:]:
            whole = column.endswith("N") or (column.endswith(("Min", "Max")) and both_whole)
            out[column] = _stat_text(row[column], places, whole)
        rows.append(out)
    return pd.DataFrame(rows, columns=["group", "Variable", *table.columns[2:]])


def summary_cells(frame: pd.DataFrame, variables: Sequence[str],
                  weight: str | None = None, sample: pd.Series | None = None) -> pd.DataFrame:
    """Counts behind Table 1: N of each row; 1s and 0s of binary rows; firms at min and max;
    each mean as a magnitude cell (the dominance rule, :func:`magnitude_cell`).

    A share of a 0/1 variable reveals how many firms have 1 (and 0); the minimum and the
    maximum of any other variable are the values of the firms at the extremes. With a
    ``sample`` (see :func:`summary_statistics`) the columns carry their prefixes and the
    all-firm N and mean are checked too.
    """
    prefix = "" if sample is None else SAMPLE_PREFIX
    inside = frame if sample is None else frame[sample.reindex(frame.index).fillna(False)]
    records: list[tuple] = []
    for name in variables:
        x = known_values(inside, name, weight)
        n = len(x)
        records.append((name, prefix + "N", n, COUNT_BASIS))
        records.append(magnitude_cell(name, prefix + "Mean", x))  # and the dominance rule
        records += [(name, prefix + col, n, "firms with the variable known")
                    for col in ("SD", "Min", "Max")]
        if n and x.isin([0.0, 1.0]).all():
            for col in ("Mean", "SD"):
                records += share_cells(name, prefix + col, x)[1:]
        elif n:
            records.append((name, prefix + "Min", int((x == x.min()).sum()),
                            "firms at the minimum"))
            records.append((name, prefix + "Max", int((x == x.max()).sum()),
                            "firms at the maximum"))
        if sample is not None:
            every = known_values(frame, name, weight)
            records.append((name, ALL_PREFIX + "N", len(every), COUNT_BASIS))
            records.append(magnitude_cell(name, ALL_PREFIX + "Mean", every))
            if len(every) and every.isin([0.0, 1.0]).all():
                records += share_cells(name, ALL_PREFIX + "Mean", every)[1:]
    return cells_frame(records)
