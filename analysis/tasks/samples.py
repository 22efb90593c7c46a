"""Samples step: the flow from the raw survey records to every model's estimation sample.

Reads the clean step's flow (data_clean/clean_flow.csv), the analysis data, the model
specification and models.csv; writes output/tables/sample_flow.{csv,md,tex,html,docx}:
panel A the records removed by each sample rule, panel B for every estimated model the
firms without its outcome, those without one of its regressors, and its N (checked against
models.csv).
"""

from __future__ import annotations

from pathlib import Path

from analysis.config import TABLE_FORMATS
from analysis.context import Context

DESCRIPTION = "Sample flow: from the raw survey records to every model's estimation sample"

STEM = "sample_flow"
TITLE = "Sample flow: from the raw survey records to each model's estimation sample"


def inputs(ctx: Context) -> list[Path]:
    return [ctx.paths.clean_flow, ctx.paths.analysis_data, ctx.paths.analysis_meta,
            ctx.paths.models_file, ctx.model_spec_path, ctx.study_config_path]


def outputs(ctx: Context) -> list[Path]:
    return [*(ctx.paths.tables / f"{STEM}.{ext}" for ext in TABLE_FORMATS),
            ctx.paths.flags_file("samples")]


def run(ctx: Context) -> None:
    from analysis import io
    from analysis.exhibits import disclosure
    from analysis.exhibits.frames import write_frame_exhibit
    from analysis.exhibits.layout import FrameLayout
    from analysis.exhibits.samples import flow_notes, read_flow, sample_flow
    from analysis.models.results import read_results
    from analysis.models.specification import expand_models
    from analysis.models.survey import survey_run

    flow = read_flow(ctx.paths.clean_flow)
    models = read_results(ctx.paths.models_file)
    data = io.read_parquet(ctx.paths.analysis_data)
    survey = survey_run(ctx)
    frame = sample_flow(flow, data, survey.spec, expand_models(survey.spec), models,
                        survey.unavailable)
    cfg = survey.study
    notes = flow_notes(Path(cfg.source).name, Path(cfg.data_file).name, survey.data_note)
    checked = disclosure.check_counts(STEM, frame, "Stage",
                                      disclosure.settings_from_config(cfg))
    write_frame_exhibit(checked.frame, ctx.paths.tables, STEM, TITLE,
                        [*notes, *checked.notes],
                        layout=FrameLayout(decimals=0, panel_column="panel", long=False))
    disclosure.write_flags(ctx.paths.flags_file("samples"), checked.flags)
