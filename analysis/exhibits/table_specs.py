"""Table layouts from the model specification (pure: no I/O).

A regression table's layout follows from ``config/models.toml`` and models.csv alone:
columns are the table's families' models (outcome by variant, file order) that were
estimated; rows are the variables of the blocks displayed as coefficients, in block
order (a categorical variable in such a block shows its dummies), then the constant or the
ordered-logit cut points; every control block gets a Yes/No row labelled with the block's
label; the notes say what the numbers are, which standard errors, the star legend, the
listwise deletion, what the survey could not provide (and which columns were therefore
omitted, see :func:`analysis.models.survey_spec.omit_unavailable`) and whether the data are
synthetic.
Adding a covariate to a block in the specification therefore adds a row to every table
whose models use the block, with no code change (its label falls back to its name).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from analysis.errors import ExhibitError
from analysis.exhibits.tables import STAR_LEGEND, TableSpec
from analysis.models.estimation import CONSTANT
from analysis.models.specification import ModelDef, ModelSpec, TableDef, expand_models
from analysis.models.survey_spec import unlabelled_note

FIT_ROWS = ("nobs", "pseudo_r2", "r2", "llf", "n_clusters")
ESTIMATOR_NAMES = {"logit": "Logit", "probit": "Probit", "ologit": "Ordered logit",
                   "oprobit": "Ordered probit", "lpm": "Linear probability model (OLS)"}
ORDERED = ("ologit", "oprobit")


def table_models(spec: ModelSpec, table: TableDef, models: pd.DataFrame) -> list[ModelDef]:
    """The table's models that were estimated (rows of models.csv), in specification order."""
    estimated = set(models["model"].astype(str))
    chosen = [m for m in expand_models(spec, table.families) if m.id in estimated]
    if not chosen:
        raise ExhibitError(f"table '{table.name}': none of the models of families "
                               f"{list(table.families)} is in models.csv")
    return chosen


def model_terms(models: pd.DataFrame) -> dict[str, list[str]]:
    """Model id -> its regressors (design columns) from the ``terms`` column of models.csv."""
    return {str(m): [t for t in str(terms).split(";") if t] if pd.notna(terms) else []
            for m, terms in zip(models["model"], models["terms"], strict=True)}


def _ordered_blocks(spec: ModelSpec, chosen: Sequence[ModelDef], which: str) -> list[str]:
    """The blocks the models use ("all") or use as controls, in specification file order."""
    used = {b for m in chosen for b in (m.blocks if which == "all" else m.control_blocks)}
    return [b for b in spec.blocks if b in used]


def term_label(spec: ModelSpec, term: str) -> str:
    """Row label: the spec's label; a dummy ``var[level]`` reads "<var label>: level"."""
    if term in spec.labels:
        return spec.labels[term]
    if term.endswith("]") and "[" in term:
        variable, level = term[:-1].split("[", 1)
        return f"{spec.labels.get(variable, variable)}: {level}"
    if term.startswith("cut") and "|" in term:
        return f"Cut point {term[3:]}"
    return term


def table_terms(spec: ModelSpec, chosen: Sequence[ModelDef], terms_of: dict[str, list[str]],
                quantity: str, cut_terms: Iterable[str] = ()) -> dict[str, str]:
    """Term -> label in display order: coefficient blocks' variables in block order, then
    the constant (coefficients only) and the cut points (coefficients of ordered models)."""
    present: list[str] = []
    for model in chosen:
        present += [t for t in terms_of.get(model.id, []) if t not in present]
    rows: list[str] = []
    for block in _ordered_blocks(spec, chosen, "all"):
        if spec.blocks[block].display != "coefficients":
            continue
        for variable in spec.blocks[block].variables:
            rows += [t for t in present if t not in rows
                     and (t == variable or t.startswith(f"{variable}["))]
    if quantity == "coef":
        rows += [CONSTANT] if CONSTANT in present else []
        rows += [c for c in cut_terms if c not in rows]
    return {t: term_label(spec, t) for t in rows}


def control_rows(spec: ModelSpec, chosen: Sequence[ModelDef],
                 unavailable: Iterable[str] = ()) -> dict[str, dict[str, bool]]:
    """Block label -> {model: included?} for every control block of the table's models.

    A block counts as included when the model uses it and the survey provides at least
    one of its variables.
    """
    skip = set(unavailable)
    rows = {}
    for block in _ordered_blocks(spec, chosen, "controls"):
        spec_block = spec.blocks[block]
        available = any(v not in skip for v in spec_block.variables)
        rows[spec_block.label] = {m.id: block in m.blocks and available for m in chosen}
    return rows


#: The start of the note under every exhibit of weighted models.
WEIGHTED_MODELS_NOTE = ("Models weighted by the survey's sampling weights as probability "
                        "weights (Stata [pw=])")
#: The same for frequency weights.
FREQUENCY_WEIGHTS_NOTE = ("Models weighted by frequency weights (Stata [fw=]): each row "
                          "counts as that many firms, and N is the sum of the weights")


def se_note(models: pd.DataFrame, spec: ModelSpec) -> str:
    """The standard errors of the table's models in words (one sentence per kind)."""
    sentences = []
    pairs = models[["se_type", "cluster"]].fillna("").astype(str).drop_duplicates()
    for se_type, cluster in pairs.itertuples(index=False, name=None):
        if se_type == "robust":
            sentences.append("Heteroskedasticity-robust standard errors in parentheses "
                             "(Stata vce(robust) convention).")
        elif se_type == "survey":
            sentences.append(survey_note(models[models["se_type"] == "survey"], spec))
        elif se_type == "cluster":
            sentences.append(f"Standard errors clustered by {spec.labels.get(cluster, cluster)}"
                             f" in parentheses (Stata vce(cluster {cluster}) convention).")
        else:
            sentences.append("Conventional standard errors (inverse of the observed "
                             "information) in parentheses.")
    return " ".join(sentences)


def survey_note(models: pd.DataFrame, spec: ModelSpec) -> str:
    """The design-based standard errors of a table, naming the design."""
    design = spec.survey
    parts = [spec.survey_source or (design.describe() if design is not None else "")]
    if "design_df" in models and models["design_df"].notna().any():
        df = sorted({int(v) for v in models["design_df"].dropna()})
        strata = sorted({int(v) for v in models["n_strata"].dropna()})
        psus = sorted({int(v) for v in models["n_psus"].dropna()})
        parts.append(f"{_span(strata)} strata, {_span(psus)} PSUs, design df {_span(df)}")
    singleton = design.singleton if design is not None else "fail"
    lonely = ("" if singleton == "fail" else
              f"; strata with one PSU: {singleton} (Stata singleunit({singleton}))")
    return (f"Linearised (Taylor) standard errors for the survey design ({'; '.join(parts)}) "
            "in parentheses: with-replacement variance of the PSU totals of the weighted "
            "scores within strata, with the finite-population correction, as Stata svy: and "
            f"R survey{lonely}; t and F tests with the design degrees of freedom.")


def _span(values: Sequence[int]) -> str:
    return f"{values[0]:,}" if len(values) == 1 else f"{values[0]:,}-{values[-1]:,}"


def quantity_note(quantity: str, estimators: Sequence[str]) -> str:
    """What the cells are."""
    names = ", ".join(dict.fromkeys(ESTIMATOR_NAMES.get(e, e) for e in estimators))
    if quantity == "ame":
        text = (f"Average marginal effects from the {names.lower()} models, on the probability "
                "of the outcome")
        if any(e in ORDERED for e in estimators):
            text += " (ordered models: on the probability of the top category)"
        return (text + ". For binary regressors (0/1 variables and category dummies) the "
                "effect is the discrete change from 0 to 1; for the others the derivative. "
                "Standard errors by the delta method.")
    if quantity == "odds_ratio":
        return (f"Odds ratios (exp(b)) from the {names.lower()} models; standard errors by "
                "the delta method; stars test b = 0.")
    text = f"{names} coefficients."
    if any(e in ORDERED for e in estimators):
        text += (" Cut points are the thresholds of the latent index (Stata's /cut "
                 "parametrisation); no constant.")
    return text


def table_notes(spec: ModelSpec, table: TableDef, chosen: Sequence[ModelDef],
                models: pd.DataFrame, *, data_note: str = "",
                unavailable: Sequence[str] = ()) -> list[str]:
    """The notes under a table, in print order."""
    rows = models[models["model"].isin([m.id for m in chosen])]
    notes = [quantity_note(table.quantity, [m.estimator for m in chosen]),
             se_note(rows, spec), STAR_LEGEND,
             "Observations: firms with complete data on the outcome and every regressor of "
             "the model (listwise deletion), so N differs across columns."]
    indicator = [spec.blocks[b] for b in _ordered_blocks(spec, chosen, "all")
                 if spec.blocks[b].display == "indicator"]
    if indicator:
        notes.append("; ".join(
            f"{b.label}: dummies of {', '.join(b.variables)} (first category omitted)"
            for b in indicator) + ".")
    used = {v for m in chosen for v in spec.variables(m)} | {m.outcome for m in chosen}
    missing = [v for v in unavailable if v in used]
    if missing:
        notes.append("Not available in this survey and left out of the models: "
                     + ", ".join(f"{term_label(spec, v)} ({v})" for v in missing) + ".")
    kinds = (rows["weight_type"].fillna("none").astype(str) if "weight_type" in rows
             else rows["weighted"].astype(bool).map({True: "pweight", False: "none"})
             if "weighted" in rows else pd.Series(dtype=str))
    if (kinds == "pweight").any():
        notes.append(f"{WEIGHTED_MODELS_NOTE}; average marginal effects and predictions are "
                     "weighted averages over firms.")
    if (kinds == "fweight").any():
        notes.append(f"{FREQUENCY_WEIGHTS_NOTE}.")
    notes += perfect_prediction_notes(spec, chosen, rows)
    notes += unlabelled_note(spec, [*table_terms(spec, chosen, model_terms(rows), "coef"),
                                    *(m.outcome for m in chosen)])
    notes += spec.omission_notes((*table.families, *table.omitted_families))
    notes += spec.notes
    if data_note:
        notes.append(data_note)
    return notes


def perfect_prediction_notes(spec: ModelSpec, chosen: Sequence[ModelDef],
                             rows: pd.DataFrame) -> list[str]:
    """Stata's notes for the regressors dropped for perfect prediction, per column."""
    if "dropped_notes" not in rows:
        return []
    notes = []
    by_id = {m.id: m for m in chosen}
    texts = rows["dropped_notes"]
    for model, text in zip(rows["model"], texts.astype(object).where(texts.notna(), ""),
                           strict=True):
        if text and model in by_id:
            m = by_id[model]
            column = (f"{spec.outcome_labels.get(m.outcome, m.outcome)}, "
                      f"{spec.variant_label(m.variant)}")
            notes.append(f"{column}: {text} (Stata's rule for perfect prediction; the blank "
                         "cell is the dropped regressor).")
    return notes


def table_spec(spec: ModelSpec, table: TableDef, models: pd.DataFrame,
               estimates: pd.DataFrame, *, data_note: str = "",
               unavailable: Sequence[str] = ()) -> TableSpec:
    """The :class:`~analysis.exhibits.tables.TableSpec` of one ``[tables.*]`` entry."""
    chosen = table_models(spec, table, models)
    ids = [m.id for m in chosen]
    cuts = estimates.loc[estimates["model"].isin(ids) & (estimates["quantity"] == "cut"), "term"]
    return TableSpec(
        models=ids,
        terms=table_terms(spec, chosen, model_terms(models), table.quantity,
                          list(dict.fromkeys(cuts.astype(str)))),
        title=table.title,
        quantity=table.quantity,
        dependent_variable=[spec.outcome_labels.get(m.outcome, m.outcome) for m in chosen],
        column_labels=[spec.variant_label(m.variant) for m in chosen],
        control_rows=control_rows(spec, chosen, unavailable),
        fit_rows=FIT_ROWS,
        notes=table_notes(spec, table, chosen, models, data_note=data_note,
                          unavailable=unavailable),
        label=f"tab:{table.name}",
    )
