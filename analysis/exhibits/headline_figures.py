"""Figure 1 (marginal effects of breadth by scale) and Figure 2 (predicted probability
against international breadth) of the headline family and variant (``[headline]`` of the
model specification): Figure 1 from the AME rows of estimates.csv, Figure 2 from
predictions.csv."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from analysis.errors import ExhibitError
from analysis.exhibits.figures import plot_marginal_effects, plot_predicted_probabilities
from analysis.models.specification import ModelSpec, expand_models

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


def figure_note(synthetic: bool) -> str:
    # One short line: the note strip of analysis.exhibits.figures holds about 80 characters.
    note = "95% confidence intervals (delta method)."
    return ("Synthetic data (not the original microdata). " + note) if synthetic else note


def headline_figures(spec: ModelSpec, estimates: pd.DataFrame, predictions: pd.DataFrame,
                     synthetic: bool, sources: tuple[Path, Path]) -> dict[str, Figure]:
    """Figures 1 and 2 by file stem; ``sources`` (estimates, predictions) name the files
    in the messages of an ExhibitError."""
    ames = estimates[estimates["quantity"] == "ame"]
    panels = headline_models(spec, set(estimates["model"]))
    note = figure_note(synthetic)
    terms = figure1_terms(spec, ames, list(panels))
    if not terms:
        raise ExhibitError(f"{sources[0]}: the headline models {list(panels)} have no AMEs "
                           "of the breadth variables")
    figure1 = plot_marginal_effects(ames, panels, terms, note=note)
    variable = spec.headline.get("international", "breadth_international")
    lines = {m: label for m, label in panels.items() if (predictions["model"] == m).any()}
    if not lines:
        raise ExhibitError(f"{sources[1]}: no predictions along '{variable}' (is it "
                           "unavailable in this survey?)")
    figure2 = plot_predicted_probabilities(predictions, lines, variable, note=note)
    return {FIGURE1: figure1, FIGURE2: figure2}
