"""Rows of hypothesis tests under a regression table (the ``test`` rows of estimates.csv).

A Wald test shows its statistic (stars from its p-value) and the p-value in brackets. A
ratio shows its estimate and its confidence set as the inference recorded it in the
``interval`` column of estimates.csv: "bounded" ([lower, upper]), "two rays"
((-inf, lower] U [upper, inf), drawn on two lines) or "whole line" ((-inf, inf)); an
estimates file without that column holds delta-method intervals, which are bounded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from analysis.errors import ExhibitError
from analysis.exhibits.layout import significance_stars

INTERVAL_KINDS = ("bounded", "two rays", "whole line")
INFINITY = "\u221e"
UNION = "\u222a"


@dataclass(frozen=True)
class TestRow:
    """One test shown under a table: its id in estimates.csv, kind and row label.

    kind: "wald" or "ratio"; statistic: the name of a Wald statistic ("χ²(1)" or "F");
    level: the confidence level of a ratio's set.
    """

    __test__ = False  # not a pytest test class

    test_id: str
    kind: str
    label: str
    statistic: str = "\u03c7\u00b2(1)"
    level: float = 0.95

    def __post_init__(self) -> None:
        if self.kind not in ("wald", "ratio"):
            raise ExhibitError(f"test {self.test_id!r}: kind {self.kind!r} is neither 'wald' "
                               "nor 'ratio'")


def p_value_text(p_value: float) -> str:
    """A p-value in brackets: three decimals, "[<0.001]" below that."""
    if p_value is None or not math.isfinite(p_value):
        return ""
    return "[<0.001]" if p_value < 0.0005 else f"[{p_value:.3f}]"


def bound(value: float) -> str:
    """A bound of a confidence set (ASCII minus: the renderers print true minus signs)."""
    return f"{value:.2f}"


def interval_lines(kind: str, lower: float, upper: float) -> tuple[str, str]:
    """The confidence set on (at most) two lines."""
    if kind == "whole line":
        return f"(-{INFINITY}, {INFINITY})", ""
    if kind == "two rays":
        return f"(-{INFINITY}, {bound(lower)}]", f"{UNION} [{bound(upper)}, {INFINITY})"
    if not (math.isfinite(lower) and math.isfinite(upper)):
        return "", ""
    return f"[{bound(lower)}, {bound(upper)}]", ""


def _test_row(estimates: pd.DataFrame, test_id: str, model: str) -> pd.Series | None:
    rows = estimates[(estimates["model"] == model) & (estimates["quantity"] == "test")
                     & (estimates["term"] == test_id)]
    if len(rows) > 1:
        raise ExhibitError(f"model {model!r}: test {test_id!r} appears {len(rows)} times")
    return None if rows.empty else rows.iloc[0]


def interval_kind(row: pd.Series) -> str:
    """The kind of a ratio's confidence set ("" or absent: a bounded interval)."""
    kind = row.get("interval", "")
    kind = "" if kind is None or (isinstance(kind, float) and math.isnan(kind)) else str(kind)
    kind = kind or "bounded"
    if kind not in INTERVAL_KINDS:
        raise ExhibitError(f"model {row['model']!r}, test {row['term']!r}: interval {kind!r} "
                           f"is not one of {INTERVAL_KINDS}")
    return kind


def test_cells(estimates: pd.DataFrame, tests: Sequence[TestRow],
               models: Sequence[str]) -> list[tuple[str, str, list[str]]]:
    """(row key, label, one cell per model) of every row of ``tests``; a model without the
    test shows blanks; a test no model has is left out."""
    out: list[tuple[str, str, list[str]]] = []
    for test in tests:
        found = {m: _test_row(estimates, test.test_id, m) for m in models}
        if all(row is None for row in found.values()):
            continue
        if test.kind == "wald":
            statistics = ["" if r is None else
                          f"{r['statistic']:.2f}{significance_stars(r['p_value'])}"
                          for r in found.values()]
            out.append((f"{test.test_id}:statistic", f"{test.label}, {test.statistic}",
                        statistics))
            out.append((f"{test.test_id}:p_value", "",
                        ["" if r is None else p_value_text(r["p_value"])
                         for r in found.values()]))
            continue
        out.append((f"{test.test_id}:estimate", test.label,
                    ["" if r is None else f"{r['estimate']:.2f}" for r in found.values()]))
        lines = [("", "") if r is None else
                 interval_lines(interval_kind(r), r["ci_lower"], r["ci_upper"])
                 for r in found.values()]
        out.append((f"{test.test_id}:set", "", [first for first, _ in lines]))
        if any(second for _, second in lines):
            out.append((f"{test.test_id}:set_upper", "", [second for _, second in lines]))
    return out
