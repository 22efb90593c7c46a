"""Figure 1 (marginal effects of breadth by scale) and Figure 2 (predicted probability
against international breadth) of the headline family and variant (``[headline]`` of the
model specification): Figure 1 from the AME rows of estimates.csv, Figure 2 from
predictions.csv, drawn only over the values of the variable observed in the estimation
sample (read from the analysis data), whose distribution it shows. The notes name the
models, the variant, the tables they appear in and how the effects and predictions are
averaged."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from analysis.errors import ExhibitError
from analysis.exhibits.figures import plot_marginal_effects, plot_predicted_probabilities
from analysis.exhibits.samples import table_columns, union_mask
from analysis.exhibits.table_specs import ESTIMATOR_NAMES
from analysis.models.specification import ModelDef, ModelSpec, expand_models

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


def models_phrase(spec: ModelSpec, chosen: list[ModelDef], models: pd.DataFrame,
                  quantity: str) -> str:
    """"the logit models (variant: manager controls; Table 4, columns 2, 4 and 6), weighted
    by the sampling weights": where the models' ``quantity`` (AMEs, coefficients) is
    tabulated, and how the averages are weighted."""
    estimator = ESTIMATOR_NAMES.get(chosen[0].estimator, chosen[0].estimator).lower()
    variant = spec.variant_label(chosen[0].variant)
    where = table_columns(spec, models, quantity)
    places = [where[m.id] for m in chosen if m.id in where]
    inside = f"variant: {variant[:1].lower() + variant[1:]}"
    tables = {p.split(",")[0] for p in places}
    if places and len(tables) == 1:
        columns = [p.split("col. ")[1] for p in places]
        listed = columns[0] if len(columns) == 1 else (", ".join(columns[:-1]) + " and "
                                                      + columns[-1])
        inside += f"; {tables.pop()}, column{'s' if len(columns) > 1 else ''} {listed}"
    rows = models[models["model"].isin([m.id for m in chosen])]
    weighted = ("weight_type" in rows and (rows["weight_type"].astype(str)
                                           .isin(["pweight", "fweight"])).any())
    if weighted or spec.survey is not None:
        return f"the {estimator} models ({inside}), averaged with the sampling weights"
    if any("Unweighted models" in n for n in spec.notes):
        return f"the {estimator} models ({inside}), unweighted"
    return f"the {estimator} models ({inside})"


def intervals(spec: ModelSpec) -> str:
    """The confidence intervals in words: design-based when the survey design is set."""
    kind = "design-based 95%" if spec.survey is not None else "95%"
    return f"Bars: {kind} confidence intervals (delta method)."


def synthetic_prefix(synthetic: bool) -> str:
    return "Synthetic data (not the original microdata). " if synthetic else ""


def figure1_note(synthetic: bool, phrase: str, bars: str) -> str:
    return (f"{synthetic_prefix(synthetic)}Average marginal effects from {phrase}: the "
            "derivative of the probability of innovation with respect to the number of "
            "partner types, averaged over the firms of each model's estimation sample (Stata: "
            f"margins, dydx()). {bars}")


def figure2_note(synthetic: bool, phrase: str, bars: str, label: str, top: float,
                 n: int) -> str:
    return (f"{synthetic_prefix(synthetic)}Average adjusted predictions from {phrase}: every "
            f"firm of a model's estimation sample is set to each value on the axis ({label}), "
            "its other covariates as observed, and the predicted probabilities are averaged "
            f"(Stata: margins, at()). {bars} Lower panel: the {n:,} firms of the estimation "
            f"samples at each value; the predictions stop at the largest observed value "
            f"({top:g}).")


def headline_figures(spec: ModelSpec, estimates: pd.DataFrame, predictions: pd.DataFrame,
                     models: pd.DataFrame, data: pd.DataFrame, unavailable: Sequence[str],
                     synthetic: bool, sources: tuple[Path, Path]) -> dict[str, Figure]:
    """Figures 1 and 2 by file stem. ``models``: models.csv; ``data``: the analysis data
    (the estimation samples); ``sources`` (estimates, predictions) name the files in the
    messages of an ExhibitError."""
    ames = estimates[estimates["quantity"] == "ame"]
    panels = headline_models(spec, set(estimates["model"]))
    chosen = [m for m in expand_models(spec) if m.id in panels]
    terms = figure1_terms(spec, ames, list(panels))
    if not terms:
        raise ExhibitError(f"{sources[0]}: the headline models {list(panels)} have no AMEs "
                           "of the breadth variables")
    bars = intervals(spec)
    figure1 = plot_marginal_effects(
        ames, panels, terms,
        note=figure1_note(synthetic, models_phrase(spec, chosen, models, "ame"), bars))

    variable = spec.headline.get("international", "breadth_international")
    lines = {m: label for m, label in panels.items() if (predictions["model"] == m).any()}
    if not lines:
        raise ExhibitError(f"{sources[1]}: no predictions along '{variable}' (is it "
                           "unavailable in this survey?)")
    sample = union_mask(data, spec, [m for m in chosen if m.id in lines], unavailable)
    observed = data.loc[sample, variable]
    label = spec.labels.get(variable, variable)
    note = figure2_note(synthetic, models_phrase(spec, chosen, models, "coef"), bars,
                        label.lower(), float(observed.max()), int(sample.sum()))
    figure2 = plot_predicted_probabilities(predictions, lines, variable, observed, note=note,
                                           xlabel=label)
    return {FIGURE1: figure1, FIGURE2: figure2}
