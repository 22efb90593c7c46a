"""Writing exhibit tables: every table as .csv, .md, .tex, .html and .docx.

Regression tables come from :mod:`analysis.exhibits.tables` (stargazer); every other exhibit
(sample flow, summary statistics, prevalence, robustness, claims) is a plain frame and goes
through :func:`write_frame_exhibit`. Both end in :func:`write_table`, so all exhibits share
one look: the :class:`~analysis.exhibits.layout.Table` drawn by the LaTeX, HTML, Word and
Markdown renderers. The CSV keeps full precision (the machine-readable version).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from analysis import io
from analysis.config import TABLE_FORMATS as TABLE_FORMATS  # the files of every exhibit table
from analysis.exhibits import html as html_format
from analysis.exhibits import latex
from analysis.exhibits.docx import to_docx
from analysis.exhibits.layout import FrameLayout, Table, frame_table
from analysis.exhibits.layout import to_markdown as table_markdown


def to_markdown(frame: pd.DataFrame, title: str, notes: Sequence[str],
                decimals: int | Mapping[str, int] = 3) -> str:
    """A frame as a GitHub-flavoured Markdown table with a title line and notes below."""
    return table_markdown(frame_table(frame, title, notes, FrameLayout(decimals=decimals)))


def write_table(table: Table, directory: Path, stem: str, data: pd.DataFrame,
                latex_text: str | None = None) -> list[Path]:
    """Write ``stem``.csv (``data``), .md, .tex, .html and .docx of ``table``; the paths.

    ``latex_text``: the LaTeX when it is drawn elsewhere (regression tables: stargazer).
    """
    directory = Path(directory)
    return [
        io.write_csv(directory / f"{stem}.csv", data),
        io.write_text(directory / f"{stem}.md", table_markdown(table)),
        io.write_text(directory / f"{stem}.tex",
                      latex_text if latex_text is not None else latex.to_latex(table)),
        io.write_text(directory / f"{stem}.html", html_format.to_html(table)),
        io.write_bytes(directory / f"{stem}.docx", to_docx(table)),
    ]


def write_frame_exhibit(
    frame: pd.DataFrame,
    directory: Path,
    stem: str,
    title: str,
    notes: Sequence[str] = (),
    decimals: int | Mapping[str, int] = 3,
    layout: FrameLayout | None = None,
    shown: pd.DataFrame | None = None,
) -> list[Path]:
    """Write ``frame`` as ``stem``.csv/.md/.tex/.html/.docx in ``directory``; the paths.

    The CSV keeps ``frame`` at full precision; the others print ``shown`` (default: the
    frame) rounded to ``decimals`` for reading (``layout`` sets decimals, panels and long
    tables; it overrides ``decimals``).
    """
    layout = layout or FrameLayout(decimals=decimals)
    table = frame_table(frame if shown is None else shown, title, notes, layout,
                        label=f"tab:{stem}")
    return write_table(table, directory, stem, frame)
