"""Step: the claims report, each headline claim tested in every specification of the run.

Reads the analysis data, the analysis meta, the model specification and the study
configuration; estimates the claims' specifications (analysis.models.sensitivity: each
variant of the headline and modes families with each ``[claims] estimators`` entry, and
both weightings on a weighted survey); writes the rows behind every verdict to
``output/estimates/claims_estimates.csv``, the report to ``tables/claims_report.*`` (one
row per claim: its short statement, the main specification's verdict and evidence, and in
how many specifications it holds) and every claim's verdict in every specification to
``tables/claims_specifications.*`` (each .csv, .md, .tex, .html, .docx).
"""

from __future__ import annotations

from pathlib import Path

from analysis.config import TABLE_FORMATS
from analysis.context import Context

DESCRIPTION = "Claims report: each headline claim of the papers tested in every specification"
STEM = "claims_report"
DETAIL_STEM = "claims_specifications"


def inputs(ctx: Context) -> list[Path]:
    return [ctx.paths.analysis_data, ctx.paths.analysis_meta, ctx.model_spec_path,
            ctx.study_config_path]


def outputs(ctx: Context) -> list[Path]:
    return ([ctx.paths.tables / f"{STEM}.{ext}" for ext in TABLE_FORMATS]
            + [ctx.paths.tables / f"{DETAIL_STEM}.{ext}" for ext in TABLE_FORMATS]
            + [ctx.paths.claims_estimates])


def run(ctx: Context) -> None:
    from analysis import io
    from analysis.exhibits import claims_report as cr
    from analysis.exhibits.claims import evaluate_claims
    from analysis.exhibits.frames import write_frame_exhibit
    from analysis.models.results import results_csv
    from analysis.models.sensitivity import specification_estimates
    from analysis.models.survey import survey_run

    survey = survey_run(ctx)
    weighted = bool(survey.meta.get("weighted", False))
    rows = specification_estimates(io.read_parquet(ctx.paths.analysis_data), survey.spec,
                                   survey.unavailable, survey_weighted=weighted)
    io.write_text(ctx.paths.claims_estimates, results_csv(rows))
    context = cr.claim_context(survey.spec, survey.meta, survey.wording)
    report, detail = evaluate_claims(rows, context)
    notes = cr.report_notes(report, context, cr.weighting_text(rows, weighted), survey.data_note,
                            cr.design_text(survey.spec))
    frame = cr.report_frame(report, detail, context)
    write_frame_exhibit(frame, ctx.paths.tables, STEM, cr.TITLE, notes,
                        shown=cr.printed_report(frame, detail))
    write_frame_exhibit(detail, ctx.paths.tables, DETAIL_STEM, cr.DETAIL_TITLE, notes[-2:])
