"""Tables step: the regression tables of ``[tables.*]`` in the model specification.

Reads output/estimates/estimates.csv and models.csv (written by the estimate step) and the
categories of the analysis data (the base categories named in the tables), and writes
output/tables/<table name>.{csv,md,tex,html,docx}; every number shown is the estimates
file's number, rounded for display (analysis.exhibits.tables).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import io
from analysis.context import Context
from analysis.data.study_config import load_study_config
from analysis.errors import ExhibitError
from analysis.exhibits.frames import TABLE_FORMATS, write_frame_exhibit
from analysis.exhibits.regression import render_regression_table, write_regression_table
from analysis.exhibits.table_specs import category_estimates, table_spec
from analysis.models.regressors import base_levels
from analysis.models.specification import load_model_spec
from analysis.tasks import build, estimate

DESCRIPTION = ("Regression tables (Tables 2-7: logit and ordered logit coefficients, "
               "marginal effects, odds ratios) in LaTeX, HTML, Word, Markdown and CSV")

FORMATS = TABLE_FORMATS


def data_note(ctx: Context) -> str:
    """The study's data note when its data are synthetic, else ""."""
    cfg = load_study_config(ctx.study_config_path, root=ctx.paths.root)
    return cfg.data_note if cfg.synthetic and cfg.data_note else ""


def categorical_bases(ctx: Context, variables: list[str]) -> dict[str, str]:
    """The base category of each categorical model variable (read from the analysis data)."""
    path = ctx.paths.data_clean / build.ANALYSIS_FILE
    if not path.is_file():
        raise ExhibitError(f"{path}: analysis data not found (run the build step first)")
    frame = io.read_parquet(path)
    return base_levels(frame, [v for v in variables if v in frame.columns])


def inputs(ctx: Context) -> list[Path]:
    folder = ctx.paths.estimates
    return [folder / estimate.ESTIMATES_FILE, folder / estimate.MODELS_FILE,
            estimate.meta_path(ctx), ctx.model_spec_path, ctx.study_config_path,
            ctx.paths.data_clean / build.ANALYSIS_FILE]


def outputs(ctx: Context) -> list[Path]:
    spec = load_model_spec(ctx.model_spec_path)
    return [ctx.paths.tables / f"{name}.{ext}" for name in spec.tables for ext in FORMATS]


def run(ctx: Context) -> None:
    spec = estimate.model_spec(ctx)
    estimates, models = estimate.read_outputs(ctx)
    meta = estimate.read_meta(estimate.meta_path(ctx))
    unavailable = [str(v) for v in meta.get("unavailable", [])]
    stand_ins = [n for n in meta.get("notes", []) if "stands in" in n]
    note = " ".join([*stand_ins, data_note(ctx)]).strip()
    bases = categorical_bases(ctx, sorted({v for b in spec.blocks.values()
                                           for v in b.variables}))
    # each category of an ordered model as a pseudo-model, for per-category AME tables
    estimates = pd.concat([estimates, category_estimates(estimates)], ignore_index=True)
    for name, table in spec.tables.items():
        if not table.families:  # every family of the table was omitted: say so instead
            write_omitted_table(ctx.paths.tables, name, table.title,
                                [*spec.omission_notes(table.omitted_families), note])
            continue
        layout = table_spec(spec, table, models, estimates, data_note=note,
                            unavailable=unavailable, bases=bases)
        write_regression_table(render_regression_table(estimates, layout), ctx.paths.tables,
                               name)


def write_omitted_table(directory: Path, name: str, title: str, notes: list[str]) -> None:
    """In place of a table none of whose models can be estimated: its title and why."""
    frame = pd.DataFrame({"Not estimated": ["No model of this table can be estimated on this "
                                            "survey (see the note)."]})
    write_frame_exhibit(frame, directory, name, title, [n for n in notes if n])
