"""The regression tables of the model specification (``[tables.*]``), written in LaTeX,
HTML and Markdown: each from its layout (:mod:`analysis.exhibits.table_specs`), or, when
none of its models can be estimated on this survey, its title and why."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import io
from analysis.exhibits.frames import to_html, to_latex, to_markdown
from analysis.exhibits.table_specs import table_spec
from analysis.exhibits.tables import render_regression_table, write_regression_table
from analysis.models.specification import ModelSpec


def write_omitted_table(directory: Path, name: str, title: str, notes: list[str]) -> None:
    """In place of a table none of whose models can be estimated: its title and why."""
    frame = pd.DataFrame({"Not estimated": ["No model of this table can be estimated on this "
                                            "survey (see the note)."]})
    notes = [n for n in notes if n]
    io.write_text(directory / f"{name}.tex", to_latex(frame, title, notes, label=f"tab:{name}"))
    io.write_text(directory / f"{name}.html", to_html(frame, title, notes))
    io.write_text(directory / f"{name}.md", to_markdown(frame, title, notes))


def write_spec_tables(spec: ModelSpec, estimates: pd.DataFrame, models: pd.DataFrame,
                      meta: Mapping[str, Any], data_note: str, directory: Path) -> None:
    """Every table of ``spec`` into ``directory`` as <name>.{tex,html,md}.

    The notes carry the stand-ins of the analysis meta (C4) and the data note.
    """
    unavailable = [str(v) for v in meta.get("unavailable", [])]
    stand_ins = [n for n in meta.get("notes", []) if "stands in" in n]
    note = " ".join([*stand_ins, data_note]).strip()
    for name, table in spec.tables.items():
        if not table.families:  # every family of the table was omitted: say so instead
            write_omitted_table(directory, name, table.title,
                                [*spec.omission_notes(table.omitted_families), note])
            continue
        layout = table_spec(spec, table, models, estimates, data_note=note,
                            unavailable=unavailable)
        write_regression_table(render_regression_table(estimates, layout), directory, name)
