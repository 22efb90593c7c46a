"""Tables step: the regression tables of ``[tables.*]`` in the model specification.

Reads output/estimates/estimates.csv and models.csv (written by the estimate step) and
writes output/tables/<table name>.{tex,html,md}; every number shown is the estimates
file's number, rounded for display (analysis.exhibits.tables).
"""

from __future__ import annotations

from pathlib import Path

from analysis.context import Context
from analysis.models.specification import load_model_spec

DESCRIPTION = ("Regression tables (Tables 2-5: logit and ordered logit coefficients, "
               "marginal effects) in LaTeX, HTML and Markdown")

FORMATS = ("tex", "html", "md")


def inputs(ctx: Context) -> list[Path]:
    return [ctx.paths.estimates_file, ctx.paths.models_file, ctx.paths.analysis_meta,
            ctx.model_spec_path, ctx.study_config_path]


def outputs(ctx: Context) -> list[Path]:
    spec = load_model_spec(ctx.model_spec_path)
    return [ctx.paths.tables / f"{name}.{ext}" for name in spec.tables for ext in FORMATS]


def run(ctx: Context) -> None:
    from analysis.data.meta import read_meta
    from analysis.data.study_config import load_study_config
    from analysis.data.study_settings import data_note
    from analysis.exhibits.regression_tables import write_spec_tables
    from analysis.models.results import read_results
    from analysis.models.survey import survey_model_spec

    meta = read_meta(ctx.paths.analysis_meta)
    spec = survey_model_spec(ctx.model_spec_path, meta, ctx.options)
    estimates = read_results(ctx.paths.estimates_file)
    models = read_results(ctx.paths.models_file)
    note = data_note(load_study_config(ctx.study_config_path, root=ctx.paths.root))
    write_spec_tables(spec, estimates, models, meta, note, ctx.paths.tables)
