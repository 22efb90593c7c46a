"""Robustness step: how much do the headline breadth effects depend on the choices made?

Reads the analysis data, the model specification (``[headline]`` family and variant), the
study configuration (data note) and ``config/robustness.toml``; writes into
``<output>/tables``: robustness_estimators, robustness_clustered_se,
robustness_manager_controls, robustness_subsamples_<by>, robustness_bootstrap and
specification_curve (each .csv/.md/.tex/.html/.docx), and ``<output>/figures``
specification_curve.pdf/.png.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pandas as pd

from analysis import config, io
from analysis.context import Context
from analysis.data.study_config import load_study_config
from analysis.errors import ModelError, RobustnessError
from analysis.exhibits.display import bootstrap_display, curve_display
from analysis.exhibits.figures import (
    placeholder_figure,
    plot_specification_curve,
    preload_savefig_modules,
    render_figure,
    write_figure,
    write_rendered,
)
from analysis.exhibits.frames import TABLE_FORMATS, write_frame_exhibit
from analysis.exhibits.layout import FrameLayout
from analysis.exhibits.regression import render_regression_table, write_regression_table
from analysis.exhibits.table_specs import WEIGHTED_MODELS_NOTE
from analysis.exhibits.tables import STAR_LEGEND, TableSpec
from analysis.models import robustness as rb
from analysis.models.headline import Headline, headline_setup
from analysis.models.robustness_config import RobustnessConfig, load_robustness_config
from analysis.models.specification_curve import curve_indicators, curve_summary, curve_table
from analysis.tasks import estimate

DESCRIPTION = ("Robustness of the headline breadth effects: estimators, clustered SEs, "
               "subsamples, manager controls, bootstrap intervals, specification curve")

ANALYSIS_FILE = "analysis_data.parquet"
META_FILE = "analysis_meta.json"
CONFIG_FILE = "robustness.toml"
EXTENSIONS = TABLE_FORMATS
FIXED_STEMS = ("robustness_estimators", "robustness_clustered_se",
               "robustness_manager_controls", "robustness_bootstrap", "specification_curve")
CURVE_STEM = "specification_curve"
CURVE_FIGURE_NOTE = ("One panel per outcome, its specifications sorted by the estimate; below "
                     "each, the estimator and control blocks of every specification.")


# ------------------------------------------------------------------ shared by the steps


def config_path(ctx: Context) -> Path:
    """``config/robustness.toml`` (or ``--option robustness_config=PATH``)."""
    return Path(ctx.options.get("robustness_config", config.CONFIG_DIR / CONFIG_FILE))


def data_notes(study_config_path: Path) -> list[str]:
    """The study's data note when its data are synthetic (else nothing)."""
    study = load_study_config(study_config_path)
    return [study.data_note] if study.synthetic and study.data_note else []


def unavailable_variables(data_clean: Path) -> list[str]:
    """Contract C4: variables this survey cannot provide (absent file: none)."""
    path = Path(data_clean) / META_FILE
    if not path.is_file():
        return []
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ModelError(f"{path}: not valid JSON: {err}") from err
    return [str(v) for v in meta.get("unavailable", [])]


def unavailable_note(unavailable: list[str]) -> list[str]:
    if not unavailable:
        return []
    return [f"Not available in this survey, left out: {', '.join(unavailable)}."]


def weights_note(headline: Headline) -> list[str]:
    if not headline.weights:
        return []
    return [f"{WEIGHTED_MODELS_NOTE}; the bootstrap resamples firms and keeps their weights."]


# ------------------------------------------------------------------------- the step


def _settings(ctx: Context) -> RobustnessConfig:
    try:
        return load_robustness_config(config_path(ctx), ctx.options)
    except RobustnessError as err:
        raise ModelError(str(err)) from err


def design_note(spec) -> list[str]:
    """Under a survey design: the robustness analyses use sandwich SEs, not the design's."""
    if spec.survey is None:
        return []
    return ["The robustness analyses use the sampling weights with the standard errors "
            "named in each exhibit (heteroskedasticity-robust or clustered), not the "
            "design-based standard errors of Tables 2-5; the bootstrap resamples firms, "
            "not PSUs within strata."]


def inputs(ctx: Context) -> list[Path]:
    return [ctx.paths.data_clean / ANALYSIS_FILE, ctx.paths.data_clean / META_FILE,
            ctx.study_config_path, ctx.model_spec_path, config_path(ctx)]


def outputs(ctx: Context) -> list[Path]:
    stems = list(FIXED_STEMS) + [f"robustness_subsamples_{by}"
                                 for by in _settings(ctx).subsample_by]
    return ([ctx.paths.tables / f"{stem}.{ext}" for stem in stems for ext in EXTENSIONS]
            + [ctx.paths.figures / f"{CURVE_STEM}.{ext}" for ext in ("pdf", "png")])


def write_regression_exhibit(exhibit: rb.RegressionExhibit, directory: Path,
                             extra_notes: list[str]) -> None:
    """The comparison as a regression table (.tex/.html/.md/.docx) plus its C1 rows (.csv)."""
    notes = [*exhibit.notes, *extra_notes]
    if not exhibit.models:  # nothing could be estimated: say why, in the same four files
        frame = pd.DataFrame({"Problem": list(exhibit.failures) or ["no model to estimate"]})
        write_frame_exhibit(frame, directory, exhibit.stem, exhibit.title, notes)
        return
    spec = TableSpec(models=list(exhibit.models), terms=dict(exhibit.terms),
                     title=exhibit.title, quantity="ame",
                     dependent_variable=list(exhibit.dependent),
                     column_labels=list(exhibit.column_labels), fit_rows=exhibit.fit_rows,
                     notes=[*notes, STAR_LEGEND], label=f"tab:{exhibit.stem}",
                     panels=panelled(exhibit))
    rendered = render_regression_table(exhibit.estimates, spec)
    write_regression_table(replace(rendered, data=exhibit.estimates), directory, exhibit.stem)


def panelled(exhibit: rb.RegressionExhibit) -> bool:
    """One panel per outcome when every outcome has the same columns (estimators, SE
    types, samples): the columns then fit a portrait page, however many outcomes."""
    labels = {}
    for outcome, label in zip(exhibit.dependent, exhibit.column_labels, strict=True):
        labels.setdefault(outcome, []).append(label)
    columns = list(labels.values())
    return len(columns) > 1 and all(c == columns[0] for c in columns)


def curve_notes(curve: pd.DataFrame, headline: Headline, notes: list[str]) -> list[str]:
    """The notes of the specification-curve table."""
    return [
        "Every combination of the control blocks used by the headline family's variants "
        f"({', '.join(headline.curve_blocks)}) x estimators x outcomes; the estimate is the "
        "AME of international minus local breadth with its delta-method "
        f"{rb.SE_LABELS[headline.se].lower()} SE and 95% CI, sorted by the estimate "
        "(specifications that could not be estimated last, with the error).",
        curve_summary(curve), *notes]


def render_curve_figure(curve: pd.DataFrame, headline: Headline,
                        notes: list[str]) -> dict[str, bytes]:
    """The specification-curve figure's PDF and PNG bytes (analysis.exhibits.figures.render_figure);
    run_analyses renders it in the curve's worker."""
    panels = {}
    for outcome in headline.outcomes:
        ok = curve[(curve["problem"] == "") & (curve["outcome"] == outcome)]
        if ok.empty:
            continue
        ok = ok.reset_index(drop=True)
        indicators = {k: v for k, v in curve_indicators(ok, headline).items()
                      if not k.startswith("Outcome: ")}
        panels[headline.outcome_label(outcome)] = (ok, indicators)
    figure = plot_specification_curve(
        panels, ylabel="AME, international minus local",
        note=" ".join([curve_summary(curve), CURVE_FIGURE_NOTE, *notes]))
    return render_figure(figure)


def write_curve(curve: pd.DataFrame | None, headline: Headline, ctx: Context,
                notes: list[str], problem: str = "",
                figure: Mapping[str, bytes] | None = None) -> None:
    """The specification-curve table and figure (or both saying why there is no curve);
    ``figure``: the curve's figure as rendered by render_curve_figure (given with a curve)."""
    title = "Specification curve: international minus local AME"
    if curve is None:
        frame = pd.DataFrame({"Problem": [problem]})
        write_frame_exhibit(frame, ctx.paths.tables, CURVE_STEM, title, notes)
        write_figure(placeholder_figure(f"No specification curve: {problem}"),
                     ctx.paths.figures, CURVE_STEM)
        return
    table = curve_table(curve, headline)
    shown, layout = curve_display(table)
    write_frame_exhibit(table, ctx.paths.tables, CURVE_STEM, title,
                        curve_notes(curve, headline, notes), layout=layout, shown=shown)
    if figure is None:
        raise ModelError("write_curve: a curve needs its rendered figure")
    write_rendered(figure, ctx.paths.figures, CURVE_STEM)


def warm_up() -> None:
    """What saving the figures imports lazily (see analysis.runner.pipeline: steps run ahead)."""
    preload_savefig_modules()


def run(ctx: Context) -> None:
    path = ctx.paths.data_clean / ANALYSIS_FILE
    if not path.is_file():
        raise ModelError(f"{path}: analysis data not found (run the build step first)")
    settings = _settings(ctx)
    data = io.read_parquet(path)
    unavailable = unavailable_variables(ctx.paths.data_clean)
    # The spec's [headline] variant is already the surviving one when the configured
    # variant repeats another on this survey (e.g. "manager" without manager questions).
    spec = estimate.model_spec(ctx)
    family_omitted = spec.headline and spec.headline.get("family") not in spec.families
    headline = None if family_omitted else headline_setup(spec, unavailable)
    if headline is None or not headline.main:
        raise ModelError(f"{ctx.model_spec_path}: the headline family has no "
                                  "variable available in the analysis data")
    unit = estimate.study_wording(ctx).placeholders()["Region_unit"]
    headline = replace(headline, subsample_labels={**headline.subsample_labels,
                                                   "region": unit})
    notes = (unavailable_note(unavailable) + weights_note(headline) + list(spec.notes)
             + design_note(spec) + data_notes(ctx.study_config_path))
    tables = ctx.paths.tables
    # The curve's figure is rendered in the curve's worker, beside the bootstrap.
    preload_savefig_modules()
    results = rb.run_analyses(
        data, headline, settings, ctx.seed,
        curve_figure=functools.partial(render_curve_figure, headline=headline, notes=notes))
    # Every analysis is done before the first file is written: a failure leaves no
    # half-updated set of robustness exhibits.
    order = ["estimators", "clustered_se", "manager",
             *[f"subsample:{by}" for by in settings.subsample_by], "bootstrap"]
    failed = [results[key] for key in order if isinstance(results[key], RobustnessError)]
    if failed:
        raise ModelError(f"{path}: {failed[0]}")
    for key in ("estimators", "clustered_se", "manager"):
        write_regression_exhibit(results[key], tables, notes)
    for by in settings.subsample_by:
        sub = results[f"subsample:{by}"]
        by = str(sub.frame.columns[0])  # one panel per region or sector, named in words
        shown = sub.frame.assign(**{by: sub.frame[by].astype(str).str.replace("_", " ")})
        write_frame_exhibit(sub.frame, tables, sub.stem, sub.title, [*sub.notes, *notes],
                            layout=FrameLayout(panel_column=by), shown=shown)
    frame, result = results["bootstrap"]
    boot = rb.bootstrap_exhibit(frame, result, headline, settings.bootstrap_level)
    shown, constant, layout = bootstrap_display(boot.frame, settings.bootstrap_level)
    write_frame_exhibit(boot.frame, tables, boot.stem, boot.title,
                        [*boot.notes, *constant, *notes], layout=layout, shown=shown)
    curve = results["curve"]
    if isinstance(curve, RobustnessError):
        write_curve(None, headline, ctx, notes, problem=str(curve))
        return
    write_curve(curve, headline, ctx, notes, figure=results["curve_figure"])
