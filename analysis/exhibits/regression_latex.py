"""Stargazer's LaTeX for regression tables, inside the journal layout of
:mod:`analysis.exhibits.latex`.

Stargazer writes the body (coefficient and standard-error rows in covariate order with
their labels and stars, and the custom lines); :class:`JournalLatexRenderer`, a subclass of
its LaTeX renderer, replaces what stargazer 0.0.7 cannot do for a journal page: the head
and foot (booktabs rules, ``threeparttable`` notes, one caption numbering, spanners with
``\\cmidrule``), decimal alignment (``dcolumn`` columns: stars as math superscripts, true
minus signs) and per-row precision (the :class:`~analysis.exhibits.tables.Shown` numbers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from stargazer.stargazer import LaTeXRenderer, LineLocation, Stargazer

from analysis.errors import ExhibitError
from analysis.exhibits.latex import (
    Plan,
    cell_latex,
    float_head,
    float_tail,
    plan_columns,
    row_latex,
    spilled_label,
)
from analysis.exhibits.layout import Row, Table


class JournalLatexRenderer(LaTeXRenderer):
    """Stargazer's LaTeX renderer with a journal head and foot and dcolumn cells."""

    def __init__(self, table: Stargazer, layout: Table, plan: Plan) -> None:
        super().__init__(table, escape=False)
        self.layout = layout
        self.plan = plan

    def _float_format(self, value):
        text = getattr(value, "text", None)
        if text is None:
            return super()._float_format(value)
        return text.replace(",", "{,}")

    def _format_sig_icon(self, pvalue):
        stars = self.get_sig_icon(pvalue)
        return f"^{{{stars}}}" if stars else ""

    def generate_header(self, only_tabular=False):
        return "\n".join(float_head(self.layout, self.plan)) + "\n"

    def generate_footer(self, only_tabular=False):
        footer = ""
        for location in (LineLocation.FOOTER_TOP, LineLocation.FOOTER_BOTTOM):
            lines = self.generate_custom_lines(location)
            if lines:
                footer += "\\midrule\n" + lines
        return footer + "\n".join(float_tail(self.layout.notes))


def _latex_row(cells: Sequence[str], plan: Plan, center: bool) -> list[str]:
    """The data cells of a custom line (the label is passed separately)."""
    return [cell_latex(text, column, center) for text, column in zip(cells, plan.columns[1:],
                                                                      strict=True)]


#: Where stargazer puts the grid's non-coefficient sections.
LOCATIONS = {"control": LineLocation.FOOTER_TOP, "fit": LineLocation.FOOTER_TOP,
             "test": LineLocation.FOOTER_BOTTOM}


def _configured(shown: Sequence, terms: Mapping[str, str], plan: Plan,
                sections: Sequence[str], rows: Sequence[Row]) -> Stargazer:
    """A Stargazer of the models ``shown`` with the ``terms`` any of them has, and the
    layout ``rows`` of the other ``sections`` as custom lines."""
    table = Stargazer(list(shown))
    table.significance_levels([0.10, 0.05, 0.01])
    present = [t for t in terms if any(t in m.params.index for m in shown)]
    table.covariate_order(present)
    label_column = plan.columns[0]
    # A coefficient's label may continue beside its standard error (layout rows "spill").
    table.rename_covariates({t: spilled_label(terms[t], label_column, plan.size_pt)
                             for t in present})
    table.dep_var_name = None
    table.show_model_numbers(False)
    for section, row in zip(sections, rows, strict=True):
        if section not in LOCATIONS:
            continue
        label = (spilled_label(row.cells[0], label_column, plan.size_pt) if row.spill
                 else cell_latex(row.cells[0], label_column))
        table.add_line(label, _latex_row(row.cells[1:], plan, row.center), LOCATIONS[section])
    return table


def _checked(latex: str) -> str:
    if "\\hline" in latex or "\\cline" in latex or "extracolsep" in latex:
        raise ExhibitError("unexpected stargazer output: a \\hline, \\cline or extracolsep "
                           "is left")
    return "\n".join(line.rstrip() for line in latex.splitlines()) + "\n"


def stargazer_latex(shown: Sequence, spec, cells: pd.DataFrame, layout: Table) -> str:
    """The LaTeX of a regression table: stargazer's body for the models ``shown``
    (:class:`~analysis.exhibits.tables.TidyModelResults` at display precision), the
    control, fit and test rows of ``cells`` as its custom lines, in our head and foot."""
    plan = plan_columns(layout)
    sections = cells.loc[cells["section"] != "header", "section"].tolist()
    table = _configured(shown, spec.terms, plan, sections, layout.rows)
    return _checked(JournalLatexRenderer(table, layout, plan).render())


@dataclass(frozen=True)
class Panel:
    """One panel of a panelled table: its heading row, models, grid sections and rows."""

    heading: Row
    models: Sequence[str]
    sections: Sequence[str]
    rows: Sequence[Row]


def stargazer_panels_latex(shown: Sequence, spec, panels: Sequence[Panel],
                           layout: Table) -> str:
    """A panelled regression table: per panel a heading and stargazer's body and custom
    lines for that panel's models, in one tabular with our head and foot."""
    plan = plan_columns(layout)
    by_id = {m.model_id: m for m in shown}
    lines = float_head(layout, plan)
    for panel in panels:
        table = _configured([by_id[m] for m in panel.models], spec.terms, plan,
                            panel.sections, panel.rows)
        renderer = JournalLatexRenderer(table, layout, plan)
        lines += row_latex(panel.heading, plan)
        lines.append(renderer.generate_body().rstrip("\n"))
        for location in (LineLocation.FOOTER_TOP, LineLocation.FOOTER_BOTTOM):
            custom = renderer.generate_custom_lines(location).rstrip("\n")
            if custom:
                lines.append(custom)
    lines += float_tail(layout.notes)
    return _checked("\n".join(lines))
