"""Tables step: the regression tables of ``[tables.*]`` in the model specification.

Reads output/estimates/estimates.csv and models.csv (written by the estimate step) and the
categories of the analysis data (the base categories named in the tables), and writes
output/tables/<table name>.{csv,md,tex,html,docx}; every number shown is the estimates
file's number, rounded for display (analysis.exhibits.tables).
"""

from __future__ import annotations

from pathlib import Path

from analysis.config import TABLE_FORMATS
from analysis.context import Context

DESCRIPTION = ("Regression tables (Tables 2-7: logit and ordered logit coefficients, "
               "marginal effects, odds ratios) in LaTeX, HTML, Word, Markdown and CSV")


def inputs(ctx: Context) -> list[Path]:
    return [ctx.paths.estimates_file, ctx.paths.models_file, ctx.paths.analysis_meta,
            ctx.model_spec_path, ctx.study_config_path, ctx.paths.analysis_data]


def outputs(ctx: Context) -> list[Path]:
    from analysis.models.specification import load_model_spec

    spec = load_model_spec(ctx.model_spec_path)
    return [ctx.paths.tables / f"{name}.{ext}" for name in spec.tables for ext in TABLE_FORMATS]


def run(ctx: Context) -> None:
    from analysis import io
    from analysis.exhibits.regression_tables import categorical_bases, write_spec_tables
    from analysis.models.results import read_results
    from analysis.models.survey import survey_run

    survey = survey_run(ctx)
    estimates = read_results(ctx.paths.estimates_file)
    models = read_results(ctx.paths.models_file)
    bases = categorical_bases(io.read_parquet(ctx.paths.analysis_data), survey.spec)
    write_spec_tables(survey.spec, estimates, models, survey.meta, survey.data_note, bases,
                      ctx.paths.tables)
