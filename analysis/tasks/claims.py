"""Step: the claims report, each headline claim tested on the estimates file."""

from __future__ import annotations

from pathlib import Path

from analysis.context import Context

DESCRIPTION = "Claims report: each headline claim of the papers tested on the estimates"
STEM = "claims_report"
FORMATS = ("csv", "md", "tex", "html")
TITLE = "Claims report: do this run's estimates support the papers' claims?"


def inputs(ctx: Context) -> list[Path]:
    return [ctx.paths.estimates_file, ctx.paths.analysis_meta, ctx.model_spec_path,
            ctx.study_config_path]


def outputs(ctx: Context) -> list[Path]:
    return [ctx.paths.tables / f"{STEM}.{ext}" for ext in FORMATS]


def run(ctx: Context) -> None:
    from analysis.data.meta import read_meta
    from analysis.data.study_config import load_study_config
    from analysis.data.study_settings import data_note
    from analysis.exhibits.claims import claim_context, claims_notes, evaluate_claims
    from analysis.exhibits.frames import write_frame_exhibit
    from analysis.models.results import read_results
    from analysis.models.survey import survey_model_spec

    meta = read_meta(ctx.paths.analysis_meta)
    spec = survey_model_spec(ctx.model_spec_path, meta, ctx.options)
    report = evaluate_claims(read_results(ctx.paths.estimates_file), claim_context(spec, meta))
    note = data_note(load_study_config(ctx.study_config_path, root=ctx.paths.root))
    write_frame_exhibit(report, ctx.paths.tables, STEM, TITLE, claims_notes(note))
