"""Robustness step: how much do the headline breadth effects depend on the choices made?

Reads the analysis data, the model specification (``[headline]`` family and variant), the
study configuration (data note) and ``config/robustness.toml``; writes into
``<output>/tables``: robustness_estimators, robustness_clustered_se,
robustness_manager_controls, robustness_subsamples_<by>, robustness_bootstrap and
specification_curve (each .csv/.md/.tex/.html/.docx), and ``<output>/figures``
specification_curve.pdf/.png; the subsamples' disclosure flags (a subsample of fewer firms
than the threshold is flagged or suppressed) to ``Paths.flags_file("robustness")``.
Progress of the analyses goes to stderr.
"""

from __future__ import annotations

import functools
from pathlib import Path

from analysis import config
from analysis.config import TABLE_FORMATS
from analysis.context import Context
from analysis.errors import ModelError, RobustnessError
from analysis.models.robustness_config import RobustnessConfig, load_robustness_config

DESCRIPTION = ("Robustness of the headline breadth effects: estimators, clustered SEs, "
               "subsamples, manager controls, bootstrap intervals, specification curve")

FIXED_STEMS = ("robustness_estimators", "robustness_clustered_se",
               "robustness_manager_controls", "robustness_bootstrap", "specification_curve")
CURVE_STEM = "specification_curve"


def config_path(ctx: Context) -> Path:
    """``config/robustness.toml`` (or ``--option robustness_config=PATH``)."""
    return Path(ctx.options.get("robustness_config", config.CONFIG_DIR / "robustness.toml"))


def settings(ctx: Context) -> RobustnessConfig:
    try:
        return load_robustness_config(config_path(ctx), ctx.options)
    except RobustnessError as err:
        raise ModelError(str(err)) from err


def inputs(ctx: Context) -> list[Path]:
    return [ctx.paths.analysis_data, ctx.paths.analysis_meta, ctx.study_config_path,
            ctx.model_spec_path, config_path(ctx)]


def outputs(ctx: Context) -> list[Path]:
    stems = [*FIXED_STEMS, *(f"robustness_subsamples_{by}" for by in settings(ctx).subsample_by)]
    return ([ctx.paths.tables / f"{stem}.{ext}" for stem in stems for ext in TABLE_FORMATS]
            + [ctx.paths.figures / f"{CURVE_STEM}.{ext}" for ext in ("pdf", "png")]
            + [ctx.paths.flags_file("robustness")])


def run(ctx: Context) -> None:
    from analysis import io
    from analysis.exhibits import disclosure
    from analysis.exhibits import robustness_exhibits as exhibits
    from analysis.exhibits.figures import preload_savefig_modules
    from analysis.models import robustness
    from analysis.models.survey import survey_headline, survey_run

    chosen = settings(ctx)
    data = io.read_parquet(ctx.paths.analysis_data)
    survey = survey_run(ctx)
    headline = survey_headline(survey.spec, survey.unavailable, survey.wording)
    notes = exhibits.robustness_notes(survey.unavailable, headline, survey.spec, survey.data_note)
    # The curve's figure is rendered in the curve's worker, beside the bootstrap.
    preload_savefig_modules()
    results = robustness.run_analyses(
        data, headline, chosen, ctx.seed, curve_figure=functools.partial(
            exhibits.render_curve_figure, headline=headline, notes=notes))
    flags = exhibits.write_robustness_exhibits(
        results, headline, chosen, notes, ctx.paths.tables, ctx.paths.figures,
        ctx.paths.analysis_data, disclosure.settings_from_config(survey.study))
    disclosure.write_flags(ctx.paths.flags_file("robustness"), flags)
