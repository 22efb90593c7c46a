"""Regression tables in every format: the cell grid laid out, rendered and written.

:func:`render_regression_table` turns the tidy estimates and a
:class:`~analysis.exhibits.tables.TableSpec` into the cell grid
(:func:`~analysis.exhibits.tables.table_cells`), lays it out as a
:class:`~analysis.exhibits.layout.Table` (one column per model, or one panel per dependent
variable when the spec asks for panels), has stargazer write the LaTeX
(:mod:`analysis.exhibits.regression_latex`) and keeps the C1 rows behind the table for its
CSV; :func:`write_regression_table` writes .csv, .md, .tex, .html and .docx.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.exhibits.frames import write_table
from analysis.exhibits.html import to_html
from analysis.exhibits.layout import Row, Span, Table, to_markdown
from analysis.exhibits.regression_latex import Panel, stargazer_latex, stargazer_panels_latex
from analysis.exhibits.tables import TableSpec, cells_from_results, model_results, term_decimals

#: Sections of the grid that share a block of the table (a rule separates blocks).
BLOCK_OF = {"std_error": "estimate", "control": "fit"}
#: Sections whose numbers are centred (counts, fit statistics), not decimal-aligned.
CENTRED = ("control", "fit")


@dataclass(frozen=True)
class RenderedTable:
    """One regression table: its LaTeX, the layout the other formats draw, the cell grid
    and the C1 rows behind it (the CSV)."""

    latex: str
    table: Table
    cells: pd.DataFrame
    data: pd.DataFrame

    @property
    def html(self) -> str:
        return to_html(self.table)

    @property
    def markdown(self) -> str:
        return to_markdown(self.table)


def body_rows(lines: pd.DataFrame, columns: Sequence[str], rules: bool = True) -> list[Row]:
    """Table rows of grid ``lines`` (no header lines) showing ``columns``: a rule between
    blocks (``rules``), fit rows centred, a label continuing beside the next row when that
    row has none."""
    rows: list[Row] = []
    labels = [str(v) for v in lines["label"]]
    previous = None
    for i, (section, values) in enumerate(zip(
            lines["section"], lines[list(columns)].itertuples(index=False, name=None),
            strict=True)):
        block = BLOCK_OF.get(section, section)
        spill = bool(labels[i]) and i + 1 < len(labels) and labels[i + 1] == ""
        rows.append(Row((labels[i], *[str(v) for v in values]),
                        rule=rules and previous is not None and block != previous,
                        center=section in CENTRED, spill=spill))
        previous = block
    return rows


def layout_table(cells: pd.DataFrame, spec: TableSpec) -> Table:
    """The grid as a :class:`~analysis.exhibits.layout.Table`: dependent variables as
    spanners over the column labels and model numbers."""
    models = list(spec.models)
    header: list[tuple[Span, ...]] = []
    if spec.dependent_variable is not None:
        # a rule under every dependent variable, as under a group of columns
        header.append((Span(""), *[Span(g, n, rule=True) for g, n in spec.header_groups()]))
    heads = cells[cells["section"] == "header"].set_index("key")
    for key in ("column_label", "model_number"):
        if key in heads.index:
            header.append((Span(""), *[Span(str(v)) for v in heads.loc[key, models]]))
    rows = body_rows(cells[cells["section"] != "header"], models)
    return Table(title=spec.title, columns=("label", *["number"] * len(models)),
                 header=tuple(header), rows=tuple(rows), notes=tuple(spec.notes),
                 label=spec.label or "")


def panel_lines(cells: pd.DataFrame, models: Sequence[str]) -> pd.DataFrame:
    """The grid lines a panel shows: those with a cell in one of its models."""
    lines = cells[cells["section"] != "header"]
    keep = (lines[list(models)] != "").any(axis=1)
    # a standard-error line goes with its estimate line
    keep |= (lines["section"] == "std_error") & keep.shift(1, fill_value=False)
    return lines[keep]


def panels(cells: pd.DataFrame, spec: TableSpec) -> list[Panel]:
    """One panel per dependent variable: its heading, models, grid lines and rows."""
    out = []
    for i, (title, models) in enumerate(spec.panel_models()):
        lines = panel_lines(cells, models)
        heading = Row((f"Panel {chr(65 + i)}. {title}",), kind="panel", rule=i > 0)
        out.append(Panel(heading, models, lines["section"].tolist(),
                         body_rows(lines, models, rules=False)))
    return out


def panel_table(cells: pd.DataFrame, spec: TableSpec) -> tuple[Table, list[Panel]]:
    """One panel per dependent variable, stacked; columns: the column labels."""
    stacked = panels(cells, spec)
    width = len(stacked[0].models)
    labels = list(spec.column_labels or [])[:width]
    header = ((Span(""), *[Span(v) for v in labels]),
              (Span(""), *[Span(f"({i})") for i in range(1, width + 1)]))
    rows = [row for panel in stacked for row in (panel.heading, *panel.rows)]
    table = Table(title=spec.title, columns=("label", *["number"] * width), header=header,
                  rows=tuple(rows), notes=tuple(spec.notes), label=spec.label or "")
    return table, stacked


def table_data(estimates: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """The C1 rows behind the table (its models' rows of the quantity shown, thresholds,
    fit statistics and tests): the machine-readable CSV of the table."""
    quantities = [spec.quantity, "cut", "fit", "test"]
    rows = estimates[estimates["model"].isin(list(spec.models))
                     & estimates["quantity"].isin(quantities)]
    order = {m: i for i, m in enumerate(spec.models)}
    return rows.sort_values("model", key=lambda s: s.map(order), kind="stable")


def render_regression_table(estimates: pd.DataFrame, spec: TableSpec) -> RenderedTable:
    """Lay out the models of ``spec`` from the tidy ``estimates`` in every format.

    Raises :class:`~analysis.errors.ExhibitError` (naming the model, term or column) when
    the frame cannot provide a requested cell, rather than printing a blank or a "nan".
    """
    results = model_results(estimates, spec)
    cells = cells_from_results(results, spec, estimates)
    shown = [r.for_display(term_decimals(results, list(r.params.index))) for r in results]
    if spec.panels:
        table, stacked = panel_table(cells, spec)
        latex = stargazer_panels_latex(shown, spec, stacked, table)
    else:
        table = layout_table(cells, spec)
        latex = stargazer_latex(shown, spec, cells, table)
    return RenderedTable(latex=latex, table=table, cells=cells,
                         data=table_data(estimates, spec))


def write_regression_table(table: RenderedTable, directory: Path, stem: str) -> list[Path]:
    """Write ``stem``.csv/.md/.tex/.html/.docx in ``directory`` atomically; the paths."""
    return write_table(table.table, directory, stem, table.data, latex_text=table.latex)
