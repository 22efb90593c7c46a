"""Estimate step: every model of the specification -> output/estimates/ (contract C5).

Writes estimates.csv (C1 rows: coef, ame, ame_category, odds_ratio, cut, fit and test
rows), predictions.csv (Figure 2) and models.csv (one row per model). An estimation problem
in any model stops the step with the error's message, which names the model. Its
``check`` runs before any step: the specification's variables against every variable the
build step can make for the study.
"""

from __future__ import annotations

from pathlib import Path

from analysis.context import Context

DESCRIPTION = ("Estimate every model of the specification (logit, ordered logit, ...): "
               "coefficients, marginal effects, odds ratios, tests and predictions")


def inputs(ctx: Context) -> list[Path]:
    return [ctx.paths.analysis_data, ctx.paths.analysis_meta, ctx.model_spec_path]


def outputs(ctx: Context) -> list[Path]:
    return [ctx.paths.estimates_file, ctx.paths.predictions_file, ctx.paths.models_file]


def check(ctx: Context) -> None:
    """Before any step runs: every variable the model specification names is one the build
    step can make for this study, so a typo stops the run before the clean step (the exact
    check against the analysis data's columns comes when this step runs). A study
    configuration that cannot be read is left to the clean step to report."""
    from analysis.data.meta import producible_variables
    from analysis.data.study_config import load_study_config
    from analysis.errors import ConfigError, DataError
    from analysis.models.specification import load_model_spec
    from analysis.models.survey_spec import check_before_build

    try:
        cfg = load_study_config(ctx.study_config_path, root=ctx.paths.root)
    except (ConfigError, DataError, OSError):
        return
    battery = cfg.collaboration
    partners, scales = (tuple(battery.partners), tuple(battery.scales)) if battery else ((), ())
    check_before_build(load_model_spec(ctx.model_spec_path),
                       *producible_variables(partners, scales))


def run(ctx: Context) -> None:
    from analysis import io
    from analysis.models.results import results_csv
    from analysis.models.survey import estimate_survey, survey_run

    survey = survey_run(ctx)
    result = estimate_survey(io.read_parquet(ctx.paths.analysis_data), survey.spec, survey.meta)
    io.write_text(ctx.paths.estimates_file, results_csv(result.estimates))
    io.write_text(ctx.paths.predictions_file, results_csv(result.predictions))
    io.write_text(ctx.paths.models_file, results_csv(result.model_table))
