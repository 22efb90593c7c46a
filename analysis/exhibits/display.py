"""Printed versions of wide exhibit frames (the CSV keeps the full frame).

A machine-readable frame has one column per number (lower and upper bounds apart, counts
that never vary, one indicator column per choice); a page has room for about eight
columns. These functions make the printed frame of such exhibits: bounds joined into one
interval column, constant columns moved into a note, rows grouped into panels.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis.exhibits.layout import FrameLayout, display_value


def interval_text(lower: float, upper: float, decimals: int) -> str:
    """"[-0.005, 0.034]" (blank when a bound is missing)."""
    if pd.isna(lower) or pd.isna(upper):
        return ""
    low, high = display_value(lower, decimals), display_value(upper, decimals)
    return f"[{low:.{decimals}f}, {high:.{decimals}f}]"


def join_interval(frame: pd.DataFrame, lower: str, upper: str, name: str,
                  decimals: int) -> pd.DataFrame:
    """``frame`` with columns ``lower`` and ``upper`` replaced by one interval column."""
    out = frame.copy()
    position = list(out.columns).index(lower)
    text = [interval_text(a, b, decimals) for a, b in zip(out[lower], out[upper], strict=True)]
    out = out.drop(columns=[lower, upper])
    out.insert(position, name, text)
    return out


def constant_columns(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame,
                                                                          list[str]]:
    """Columns of ``columns`` that take one value in every row, dropped and described in a
    note ("Replications: 999 in every row")."""
    notes, drop = [], []
    for column in columns:
        if column not in frame.columns:
            continue
        values = frame[column].dropna().unique()
        if len(values) == 1:
            value = float(values[0])
            notes.append(f"{column}: {int(value):,} in every row." if value.is_integer()
                         else f"{column}: {value} in every row.")
            drop.append(column)
    return frame.drop(columns=drop), notes


def bootstrap_display(frame: pd.DataFrame, level: float) -> tuple[pd.DataFrame, list[str],
                                                                  FrameLayout]:
    """The bootstrap exhibit for print: percentile and normal intervals as one column each,
    constant replication counts in a note, one panel per outcome."""
    pct = f"{level:.0%}"
    shown = join_interval(frame, "Percentile lower", "Percentile upper",
                          f"{pct} percentile interval", 4)
    shown = join_interval(shown, "Normal lower", "Normal upper", f"{pct} normal interval", 4)
    shown, notes = constant_columns(shown, ["Replications", "Failed"])
    return shown, notes, FrameLayout(decimals=4, panel_column="Outcome")


def curve_display(table: pd.DataFrame) -> tuple[pd.DataFrame, FrameLayout]:
    """The specification-curve table for print: one panel per outcome, the choices as the
    "Control blocks" text (not one Yes/No column each), the 95% CI as one column, the
    problem column only when a specification failed."""
    shown = table.drop(columns=[c for c in table.columns if c.startswith("Controls: ")])
    shown = shown.rename(columns={"Intl - local AME": "Estimate"})
    shown = join_interval(shown, "CI lower", "CI upper", "95% CI", 4)
    if "Problem" in shown.columns and not (shown["Problem"].astype(str) != "").any():
        shown = shown.drop(columns=["Problem"])
    return shown, FrameLayout(decimals=4, panel_column="Outcome", long=True)


def subsample_display(frame: pd.DataFrame) -> pd.DataFrame:
    """A subsample exhibit for print: each level of the first column (the panels) in words
    with a capital ("accommodation_food" -> "Accommodation food"), the problem column only
    when a subsample model failed."""
    by = str(frame.columns[0])
    levels = frame[by].astype(str).str.replace("_", " ")
    shown = frame.assign(**{by: [v[:1].upper() + v[1:] for v in levels]})
    if "Problem" in shown.columns and not (shown["Problem"].astype(str) != "").any():
        shown = shown.drop(columns=["Problem"])
    return shown
