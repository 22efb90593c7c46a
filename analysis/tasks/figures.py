"""Figures step: Figure 1 (marginal effects of breadth by scale) and Figure 2 (predicted
probability against international breadth), as PDF and PNG in output/figures/.

Both come from the headline family and variant of the specification (``[headline]``):
Figure 1 from the AME rows of estimates.csv, Figure 2 from predictions.csv.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.context import Context
from analysis.data.study_config import load_study_config
from analysis.errors import ExhibitError
from analysis.exhibits.figures import (
    plot_marginal_effects,
    plot_predicted_probabilities,
    write_figures,
)
from analysis.models.specification import ModelSpec, expand_models
from analysis.tasks import estimate

DESCRIPTION = ("Figure 1 (marginal effects of breadth at each scale, 95% CI) and Figure 2 "
               "(predicted probability by international breadth), PDF and PNG")

FIGURE1 = "figure1_marginal_effects"
FIGURE2 = "figure2_predicted_probability"


def headline_models(spec: ModelSpec, estimated: set[str]) -> dict[str, str]:
    """Model id -> outcome label for the headline family and variant (estimated ones)."""
    head = spec.headline
    if not head:
        raise ExhibitError(f"{spec.path}: no [headline] section (family, variant)")
    if head.get("family") not in spec.families:
        raise ExhibitError(f"{spec.path}: the headline family '{head.get('family')}' has no "
                           "model on this survey: "
                           + " ".join(spec.omission_notes([str(head.get("family"))])))
    chosen = {m.id: spec.outcome_labels.get(m.outcome, m.outcome)
              for m in expand_models(spec, [head["family"]])
              if m.variant == head.get("variant") and m.id in estimated}
    if not chosen:
        raise ExhibitError(f"{spec.path}: no estimated model of the headline family "
                           f"'{head['family']}' and variant '{head.get('variant')}'")
    return chosen


def scale_label(spec: ModelSpec, term: str) -> str:
    """Tick label: "Local" for breadth_local, else the term's label."""
    if term.startswith("breadth_"):
        return term.removeprefix("breadth_").replace("_", " ").capitalize()
    return spec.labels.get(term, term)


def figure1_terms(spec: ModelSpec, ames: pd.DataFrame, models: list[str]) -> dict[str, str]:
    """The headline family's main-block variables that every panel's model estimated."""
    family = spec.families[spec.headline["family"]]
    wanted = [v for b in family.main for v in spec.blocks[b].variables]
    have = [set(ames.loc[ames["model"] == m, "term"]) for m in models]
    return {t: scale_label(spec, t) for t in wanted if all(t in h for h in have)}


def figure_note(ctx: Context, spec: ModelSpec | None = None) -> str:
    cfg = load_study_config(ctx.study_config_path, root=ctx.paths.root)
    # One short line: the note strip of analysis.exhibits.figures holds about 80 characters.
    note = "95% confidence intervals (delta method)."
    if spec is not None and spec.survey is not None:
        note = "Weighted; design-based 95% CIs (delta method)."
    elif spec is not None and any(f.weighted for f in spec.families.values()):
        note = "Weighted; 95% CIs (delta method)."
    elif spec is not None and any("Unweighted models" in n for n in spec.notes):
        note = "Unweighted; 95% CIs (delta method)."
    return ("Synthetic data (not the original microdata). " + note) if cfg.synthetic else note


def inputs(ctx: Context) -> list[Path]:
    folder = ctx.paths.estimates
    return [folder / estimate.ESTIMATES_FILE, folder / estimate.PREDICTIONS_FILE,
            estimate.meta_path(ctx), ctx.model_spec_path, ctx.study_config_path]


def outputs(ctx: Context) -> list[Path]:
    return [ctx.paths.figures / f"{stem}.{ext}" for stem in (FIGURE1, FIGURE2)
            for ext in ("pdf", "png")]


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ExhibitError(f"{path}: not found (run the estimate step first)")
    return pd.read_csv(path, dtype={"model": str, "term": str, "variable": str})


def run(ctx: Context) -> None:
    spec = estimate.model_spec(ctx)
    estimates = _read(ctx.paths.estimates / estimate.ESTIMATES_FILE)
    preds = _read(ctx.paths.estimates / estimate.PREDICTIONS_FILE)
    ames = estimates[estimates["quantity"] == "ame"]
    panels = headline_models(spec, set(estimates["model"]))
    note = figure_note(ctx, spec)
    terms = figure1_terms(spec, ames, list(panels))
    if not terms:
        raise ExhibitError(f"{ctx.paths.estimates / estimate.ESTIMATES_FILE}: the headline "
                           f"models {list(panels)} have no AMEs of the breadth variables")
    figure1 = plot_marginal_effects(ames, panels, terms, note=note)

    variable = spec.headline.get("international", "breadth_international")
    lines = {m: label for m, label in panels.items() if (preds["model"] == m).any()}
    if not lines:
        raise ExhibitError(f"{ctx.paths.estimates / estimate.PREDICTIONS_FILE}: no "
                           f"predictions along '{variable}' (is it unavailable in this "
                           "survey?)")
    figure2 = plot_predicted_probabilities(preds, lines, variable, note=note)
    # Both at once: the four files render side by side (see write_figures).
    write_figures({FIGURE1: figure1, FIGURE2: figure2}, ctx.paths.figures)
