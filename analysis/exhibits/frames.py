"""Descriptive exhibits: one data frame written as CSV, Markdown, LaTeX (booktabs) and HTML.

Regression tables go through :mod:`analysis.exhibits.tables` (stargazer); every other exhibit
(sample flow, summary statistics, prevalence, correlations) is a plain frame and goes
through :func:`write_frame_exhibit`, so all of them share one look and one set of notes.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from analysis import io

LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}


def escape_latex(text: object) -> str:
    """Escape LaTeX's special characters in ``text`` (non-ASCII letters pass through)."""
    return "".join(LATEX_SPECIALS.get(char, char) for char in str(text))


def display_value(value: float, decimals: int) -> float:
    """``value``, or +0.0 when it rounds to zero at ``decimals``: the sign of a number too
    small to show is noise, so no exhibit prints "-0.000"."""
    if value is None or not math.isfinite(value):
        return value
    return 0.0 if float(f"{value:.{decimals}f}") == 0.0 else float(value)


def format_cell(value: object, decimals: int) -> str:
    """Format one cell: numbers with ``decimals`` places, integers without, missing as blank."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int) or (isinstance(value, float) and float(value).is_integer() and
                                  abs(value) >= 1000):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{display_value(value, decimals):.{decimals}f}"
    return str(value)


def formatted(frame: pd.DataFrame, decimals: int = 3) -> pd.DataFrame:
    """Return a frame of strings, each cell formatted by :func:`format_cell`."""
    out = frame.astype(object).map(lambda v: format_cell(v, decimals))
    out.columns = [str(c) for c in frame.columns]
    return out


def to_markdown(frame: pd.DataFrame, title: str, notes: Sequence[str], decimals: int = 3) -> str:
    """A GitHub-flavoured Markdown table with a title line and notes below."""
    # A "|" inside a cell (e.g. a cut point "cut0|1") would end the cell: escape it.
    cells = formatted(frame, decimals).map(lambda v: v.replace("|", r"\|"))
    cells.columns = [c.replace("|", r"\|") for c in cells.columns]
    header = "| " + " | ".join(cells.columns) + " |"
    align = "|" + "|".join(
        "---:" if pd.api.types.is_numeric_dtype(frame[c]) else ":---" for c in frame.columns
    ) + "|"
    rows = ["| " + " | ".join(r) + " |" for r in cells.itertuples(index=False, name=None)]
    note_lines = [f"*Note:* {n}" for n in notes]
    return "\n".join([f"**{title}**", "", header, align, *rows, "", *note_lines]) + "\n"


def to_latex(frame: pd.DataFrame, title: str, notes: Sequence[str], decimals: int = 3,
             label: str = "") -> str:
    """A booktabs ``table`` float with escaped cells and notes in a ``minipage``."""
    cells = formatted(frame, decimals)
    spec = "".join("r" if pd.api.types.is_numeric_dtype(frame[c]) else "l" for c in frame.columns)
    head = " & ".join(escape_latex(c) for c in cells.columns) + r" \\"
    body = [" & ".join(escape_latex(v) for v in r) + r" \\" for r in
            cells.itertuples(index=False, name=None)]
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        rf"\caption{{{escape_latex(title)}}}",
    ]
    if label:
        lines.append(rf"\label{{{label}}}")
    lines += [rf"\begin{{tabular}}{{{spec}}}", r"\toprule", head, r"\midrule", *body,
              r"\bottomrule", r"\end{tabular}"]
    if notes:
        lines += [r"\par\smallskip", r"\begin{minipage}{0.95\linewidth}\footnotesize"]
        lines += [escape_latex(n) + r"\par" for n in notes]
        lines.append(r"\end{minipage}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def to_html(frame: pd.DataFrame, title: str, notes: Sequence[str], decimals: int = 3) -> str:
    """A self-contained HTML table with a caption and notes."""
    cells = formatted(frame, decimals)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cells.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>\n"
        for r in cells.itertuples(index=False, name=None)
    )
    foot = "".join(f"<p class=\"note\">{html.escape(n)}</p>\n" for n in notes)
    return (
        f"<table>\n<caption>{html.escape(title)}</caption>\n<thead><tr>{head}</tr></thead>\n"
        f"<tbody>\n{rows}</tbody>\n</table>\n{foot}"
    )


def write_frame_exhibit(
    frame: pd.DataFrame,
    directory: Path,
    stem: str,
    title: str,
    notes: Sequence[str] = (),
    decimals: int = 3,
) -> list[Path]:
    """Write ``frame`` as ``stem``.csv/.md/.tex/.html in ``directory``; return the paths.

    The CSV keeps full precision (it is the machine-readable version); the others are
    rounded to ``decimals`` for reading.
    """
    directory = Path(directory)
    return [
        io.write_csv(directory / f"{stem}.csv", frame),
        io.write_text(directory / f"{stem}.md", to_markdown(frame, title, notes, decimals)),
        io.write_text(directory / f"{stem}.tex",
                      to_latex(frame, title, notes, decimals, label=f"tab:{stem}")),
        io.write_text(directory / f"{stem}.html", to_html(frame, title, notes, decimals)),
    ]
