"""The exhibits of the robustness analyses (:mod:`analysis.models.robustness`): regression
tables of the estimator, standard-error and manager-controls comparisons, the subsample and
bootstrap tables, and the specification curve's table and figure, with their notes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import ModelError, RobustnessError
from analysis.exhibits.disclosure import DisclosureSettings, check_counts, merge_flags
from analysis.exhibits.disclosure_text import redact
from analysis.exhibits.display import bootstrap_display, curve_display, subsample_display
from analysis.exhibits.figures import (
    placeholder_figure,
    plot_specification_curve,
    render_figure,
    write_figure,
    write_rendered,
)
from analysis.exhibits.frames import write_frame_exhibit
from analysis.exhibits.layout import FrameLayout
from analysis.exhibits.regression import render_regression_table, write_regression_table
from analysis.exhibits.table_specs import WEIGHTED_MODELS_NOTE
from analysis.exhibits.tables import STAR_LEGEND, TableSpec
from analysis.models import robustness as rb
from analysis.models.headline import Headline
from analysis.models.robustness_config import RobustnessConfig
from analysis.models.specification import ModelSpec
from analysis.models.specification_curve import curve_indicators, curve_summary, curve_table

CURVE_STEM = "specification_curve"
CURVE_TITLE = "Specification curve: international minus local AME"
CURVE_FIGURE_NOTE = ("One panel per outcome, its specifications sorted by the estimate "
                     "(black: the 95% CI excludes zero; grey: it includes zero); below "
                     "each, the estimator and control blocks of every specification.")


def unavailable_note(unavailable: list[str]) -> list[str]:
    if not unavailable:
        return []
    return [f"Not available in this survey, left out: {', '.join(unavailable)}."]


def weights_note(headline: Headline) -> list[str]:
    if not headline.weights:
        return []
    return [f"{WEIGHTED_MODELS_NOTE}; the bootstrap resamples firms and keeps their weights."]


def design_note(spec: ModelSpec) -> list[str]:
    """Under a survey design: the robustness analyses use sandwich SEs, not the design's."""
    if spec.survey is None:
        return []
    return ["The robustness analyses use the sampling weights with the standard errors "
            "named in each exhibit (heteroskedasticity-robust or clustered), not the "
            "design-based standard errors of Tables 2-5; the bootstrap resamples firms, "
            "not PSUs within strata."]


def robustness_notes(unavailable: list[str], headline: Headline, spec: ModelSpec,
                     data_note: str) -> list[str]:
    """The notes every robustness exhibit carries."""
    return (unavailable_note(unavailable) + weights_note(headline) + list(spec.notes)
            + design_note(spec) + ([data_note] if data_note else []))


def panelled(exhibit: rb.RegressionExhibit) -> bool:
    """One panel per outcome when every outcome has the same columns (estimators, SE
    types, samples): the columns then fit a portrait page, however many outcomes."""
    labels = {}
    for outcome, label in zip(exhibit.dependent, exhibit.column_labels, strict=True):
        labels.setdefault(outcome, []).append(label)
    columns = list(labels.values())
    return len(columns) > 1 and all(c == columns[0] for c in columns)


def write_regression_exhibit(exhibit: rb.RegressionExhibit, directory: Path,
                             extra_notes: list[str]) -> None:
    """The comparison as a regression table (.tex/.html/.md/.docx) plus its C1 rows (.csv)."""
    notes = [*exhibit.notes, *extra_notes]
    if not exhibit.models:  # nothing could be estimated: say why, in the same files
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
    """The specification-curve figure's PDF and PNG bytes (one panel per outcome;
    analysis.exhibits.figures.render_figure); run_analyses renders it in the curve's
    worker."""
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


def write_curve(curve: pd.DataFrame | None, headline: Headline, tables: Path, figures: Path,
                notes: list[str], problem: str = "",
                figure: Mapping[str, bytes] | None = None) -> None:
    """The specification-curve table and figure (or both saying why there is no curve);
    ``figure``: the curve's figure as rendered by render_curve_figure (given with a curve)."""
    if curve is None:
        frame = pd.DataFrame({"Problem": [problem]})
        write_frame_exhibit(frame, tables, CURVE_STEM, CURVE_TITLE, notes)
        write_figure(placeholder_figure(f"No specification curve: {problem}"), figures,
                     CURVE_STEM)
        return
    table = curve_table(curve, headline)
    shown, layout = curve_display(table)
    write_frame_exhibit(table, tables, CURVE_STEM, CURVE_TITLE,
                        curve_notes(curve, headline, notes), layout=layout, shown=shown)
    if figure is None:
        raise ModelError("write_curve: a curve needs its rendered figure")
    write_rendered(figure, figures, CURVE_STEM)


def checked_subsamples(sub: rb.FrameExhibit, disclosure: DisclosureSettings
                       ) -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    """A subsample exhibit after disclosure control: a subsample of fewer firms than the
    threshold is flagged, or suppressed (its N, estimates, problem and notes); the frame,
    the notes and the flags."""
    by = str(sub.frame.columns[0])
    checked = check_counts(sub.stem, sub.frame, by, disclosure, labels=("Outcome",),
                           row_statistics=True)
    if not disclosure.suppress:
        return checked.frame, [*sub.notes, *checked.notes], checked.flags
    hidden = set(checked.flags["row"])  # the notes of a suppressed subsample go with it; the
    notes = [redact(n, disclosure.min_cell_count, ())  # others say small counts as "fewer"
             for n in sub.notes if not any(n.startswith(f"{level}, ") for level in hidden)]
    return checked.frame, [*notes, *checked.notes], checked.flags


def write_robustness_exhibits(results: Mapping[str, Any], headline: Headline,
                              settings: RobustnessConfig, notes: list[str], tables: Path,
                              figures: Path, source: Path,
                              disclosure: DisclosureSettings | None = None) -> pd.DataFrame:
    """Every exhibit of :func:`analysis.models.robustness.run_analyses`' ``results``; the
    disclosure flags of the subsample exhibits.

    Nothing is written when an analysis other than the curve failed (ModelError naming
    ``source``, the analysis data): no half-updated set of robustness exhibits.
    """
    disclosure = disclosure or DisclosureSettings()
    flags = []
    order = ["estimators", "clustered_se", "manager",
             *[f"subsample:{by}" for by in settings.subsample_by], "bootstrap"]
    failed = [results[key] for key in order if isinstance(results[key], RobustnessError)]
    if failed:
        raise ModelError(f"{source}: {failed[0]}")
    for key in ("estimators", "clustered_se", "manager"):
        write_regression_exhibit(results[key], tables, notes)
    for by in settings.subsample_by:
        sub = results[f"subsample:{by}"]
        frame, sub_notes, sub_flags = checked_subsamples(sub, disclosure)
        flags.append(sub_flags)
        by = str(frame.columns[0])  # one panel per region or sector, named in words
        write_frame_exhibit(frame, tables, sub.stem, sub.title, [*sub_notes, *notes],
                            layout=FrameLayout(panel_column=by),
                            shown=subsample_display(frame))
    frame, result = results["bootstrap"]
    boot = rb.bootstrap_exhibit(frame, result, headline, settings.bootstrap_level)
    shown, constant, layout = bootstrap_display(boot.frame, settings.bootstrap_level)
    write_frame_exhibit(boot.frame, tables, boot.stem, boot.title,
                        [*boot.notes, *constant, *notes], layout=layout, shown=shown)
    curve = results["curve"]
    if isinstance(curve, RobustnessError):
        write_curve(None, headline, tables, figures, notes, problem=str(curve))
    else:
        write_curve(curve, headline, tables, figures, notes, figure=results["curve_figure"])
    return merge_flags(flags)
