"""The regression tables of the model specification (``[tables.*]``), each written as .csv,
.md, .tex, .html and .docx: from its layout (:mod:`analysis.exhibits.table_specs`), or,
when none of its models can be estimated on this survey, its title and why."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.exhibits.frames import write_frame_exhibit
from analysis.exhibits.regression import render_regression_table, write_regression_table
from analysis.exhibits.table_specs import category_estimates, table_spec
from analysis.models.regressors import base_levels
from analysis.models.specification import ModelSpec


def write_omitted_table(directory: Path, name: str, title: str, notes: list[str]) -> None:
    """In place of a table none of whose models can be estimated: its title and why."""
    frame = pd.DataFrame({"Not estimated": ["No model of this table can be estimated on this "
                                            "survey (see the note)."]})
    write_frame_exhibit(frame, directory, name, title, [n for n in notes if n])


def categorical_bases(frame: pd.DataFrame, spec: ModelSpec) -> dict[str, str]:
    """The base category of each categorical block variable of ``spec`` (read from the
    analysis data ``frame``)."""
    variables = sorted({v for b in spec.blocks.values() for v in b.variables})
    return base_levels(frame, [v for v in variables if v in frame.columns])


def write_spec_tables(spec: ModelSpec, estimates: pd.DataFrame, models: pd.DataFrame,
                      meta: Mapping[str, Any], data_note: str, bases: Mapping[str, str],
                      directory: Path) -> None:
    """Every table of ``spec`` into ``directory``.

    The notes carry the stand-ins of the analysis meta (C4) and the data note; ``bases``
    (variable -> base category) name the base of each indicator block.
    """
    unavailable = [str(v) for v in meta.get("unavailable", [])]
    stand_ins = [n for n in meta.get("notes", []) if "stands in" in n]
    note = " ".join([*stand_ins, data_note]).strip()
    # each category of an ordered model as a pseudo-model, for per-category AME tables
    estimates = pd.concat([estimates, category_estimates(estimates)], ignore_index=True)
    for name, table in spec.tables.items():
        if not table.families:  # every family of the table was omitted: say so instead
            write_omitted_table(directory, name, table.title,
                                [*spec.omission_notes(table.omitted_families), note])
            continue
        layout = table_spec(spec, table, models, estimates, data_note=note,
                            unavailable=unavailable, bases=dict(bases))
        write_regression_table(render_regression_table(estimates, layout), directory, name)
