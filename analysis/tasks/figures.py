"""Figures step: Figure 1 (marginal effects of breadth by scale) and Figure 2 (predicted
probability against international breadth), as PDF and PNG in output/figures/.

Both come from the headline family and variant of the specification (``[headline]``):
Figure 1 from the AME rows of estimates.csv, Figure 2 from predictions.csv over the values
observed in the estimation sample (analysis.exhibits.headline_figures).
"""

from __future__ import annotations

from pathlib import Path

from analysis.context import Context

DESCRIPTION = ("Figure 1 (marginal effects of breadth at each scale, 95% CI) and Figure 2 "
               "(predicted probability by international breadth), PDF and PNG")

STEMS = ("figure1_marginal_effects", "figure2_predicted_probability")


def inputs(ctx: Context) -> list[Path]:
    return [ctx.paths.estimates_file, ctx.paths.predictions_file, ctx.paths.models_file,
            ctx.paths.analysis_meta, ctx.model_spec_path, ctx.study_config_path,
            ctx.paths.analysis_data]


def outputs(ctx: Context) -> list[Path]:
    return [ctx.paths.figures / f"{stem}.{ext}" for stem in STEMS for ext in ("pdf", "png")]


def run(ctx: Context) -> None:
    from analysis import io
    from analysis.exhibits.figures import write_figures
    from analysis.exhibits.headline_figures import headline_figures
    from analysis.models.results import read_results
    from analysis.models.survey import survey_run

    survey = survey_run(ctx)
    sources = (ctx.paths.estimates_file, ctx.paths.predictions_file)
    estimates, predictions = (read_results(path) for path in sources)
    synthetic = survey.study is not None and survey.study.synthetic
    figures = headline_figures(survey.spec, estimates, predictions,
                               read_results(ctx.paths.models_file),
                               io.read_parquet(ctx.paths.analysis_data), survey.unavailable,
                               synthetic, sources)
    write_figures(figures, ctx.paths.figures)  # the four files render side by side
