"""Figures step: Figure 1 (marginal effects of breadth by scale) and Figure 2 (predicted
probability against international breadth), as PDF and PNG in output/figures/.

Both come from the headline family and variant of the specification (``[headline]``):
Figure 1 from the AME rows of estimates.csv, Figure 2 from predictions.csv.
"""

from __future__ import annotations

from pathlib import Path

from analysis.context import Context

DESCRIPTION = ("Figure 1 (marginal effects of breadth at each scale, 95% CI) and Figure 2 "
               "(predicted probability by international breadth), PDF and PNG")

STEMS = ("figure1_marginal_effects", "figure2_predicted_probability")


def inputs(ctx: Context) -> list[Path]:
    return [ctx.paths.estimates_file, ctx.paths.predictions_file, ctx.paths.analysis_meta,
            ctx.model_spec_path, ctx.study_config_path]


def outputs(ctx: Context) -> list[Path]:
    return [ctx.paths.figures / f"{stem}.{ext}" for stem in STEMS for ext in ("pdf", "png")]


def run(ctx: Context) -> None:
    from analysis.data.meta import read_meta
    from analysis.data.study_config import load_study_config
    from analysis.exhibits.figures import write_figures
    from analysis.exhibits.headline_figures import headline_figures
    from analysis.models.results import read_results
    from analysis.models.survey import survey_model_spec

    spec = survey_model_spec(ctx.model_spec_path, read_meta(ctx.paths.analysis_meta),
                             ctx.options)
    sources = (ctx.paths.estimates_file, ctx.paths.predictions_file)
    synthetic = load_study_config(ctx.study_config_path, root=ctx.paths.root).synthetic
    figures = headline_figures(spec, *(read_results(path) for path in sources), synthetic,
                               sources)
    write_figures(figures, ctx.paths.figures)  # the four files render side by side
