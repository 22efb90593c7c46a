"""Table layouts from the model specification (pure: no I/O).

A regression table's layout follows from ``config/models.toml`` and models.csv alone:
columns are the table's families' models (outcome by variant, file order) that were
estimated; rows are the variables of the blocks displayed as coefficients, in block
order (a categorical variable in such a block shows its dummies), then the constant or the
ordered-logit cut points; every block shown as indicators (sector, region dummies) gets a
Yes/No row naming its base category (blocks shown as coefficients need no such row: their
rows are there); the ``[[tests]]`` of the table's families follow the fit statistics; the
notes say what the numbers are, which standard errors, the star legend, the listwise
deletion, the base categories, the tests, what the survey could not provide (and which
columns were therefore omitted, see :func:`analysis.models.survey_spec.omit_unavailable`)
and whether the data are synthetic.
Adding a covariate to a block in the specification therefore adds a row to every table
whose models use the block, with no code change (its label falls back to its name).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from analysis.errors import ExhibitError
from analysis.exhibits.hypothesis_rows import TestRow
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


def base_names(variables: Sequence[str], bases: Mapping[str, str]) -> str:
    """"manufacturing": the base categories known of ``variables`` ("" when none is)."""
    return ", ".join(bases[v] for v in variables if v in bases)


def base_text(variables: Sequence[str], bases: Mapping[str, str]) -> str:
    """" (base: manufacturing)" for the base categories known of ``variables``."""
    known = base_names(variables, bases)
    return f" (base: {known})" if known else ""


def control_rows(spec: ModelSpec, chosen: Sequence[ModelDef],
                 unavailable: Iterable[str] = (),
                 bases: Mapping[str, str] | None = None) -> dict[str, dict[str, bool]]:
    """Row label -> {model: included?} for every indicator block of the table's models.

    Blocks shown as coefficients get no row (their coefficients are the rows). A block
    counts as included when the model uses it and the survey provides at least one of
    its variables; the label names the base category (``bases``: variable -> level).
    """
    skip = set(unavailable)
    rows = {}
    for block in _ordered_blocks(spec, chosen, "all"):
        spec_block = spec.blocks[block]
        if spec_block.display != "indicator":
            continue
        available = any(v not in skip for v in spec_block.variables)
        label = spec_block.label + base_text(spec_block.variables, bases or {})
        rows[label] = {m.id: block in m.blocks and available for m in chosen}
    return rows


def table_tests(spec: ModelSpec, table: TableDef, chosen: Sequence[ModelDef]) -> list[TestRow]:
    """The ``[[tests]]`` of the table's families, as rows under the table."""
    linear = all(m.estimator == "lpm" for m in chosen)
    level = float(spec.defaults.get("confidence_level", 0.95))
    return [TestRow(test_id=t.id, kind=t.kind, label=t.description or t.id,
                    statistic="F" if linear else "\u03c7\u00b2(1)", level=level)
            for t in spec.tests if t.family in table.families]


def tests_note(spec: ModelSpec, table: TableDef, estimates: pd.DataFrame) -> str:
    """What the test rows show (empty when the table has none)."""
    tests = [t for t in spec.tests if t.family in table.families]
    if not tests:
        return ""
    variants = sorted({spec.variant_label(t.variant) for t in tests})
    text = (f"Tests below the fit statistics, in the models with {' and '.join(variants)} "
            "(blank where not computed), on the index coefficients")
    if table.quantity == "ame":
        text += (" (for continuous regressors the hypotheses are the same for the average "
                 "marginal effects, which are the coefficients times a common factor)")
    text += (". Wald tests of equal effects: the statistic (stars from its p-value) with "
             "the p-value in brackets below.")
    if any(t.kind == "ratio" for t in tests):
        level = f"{float(spec.defaults.get('confidence_level', 0.95)):.0%}"
        if "interval" in estimates.columns:
            text += (f" Ratios: the estimate with its {level} Fieller confidence set below, "
                     "which is unbounded (two rays, or the whole line) when the denominator "
                     "is not significantly different from zero; delta-method intervals are "
                     "in estimates.csv.")
        else:
            text += f" Ratios: the estimate with its {level} delta-method interval below."
    return text


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
                unavailable: Sequence[str] = (), bases: Mapping[str, str] | None = None,
                estimates: pd.DataFrame | None = None) -> list[str]:
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
            f"{b.label}: one dummy per category of "
            f"{', '.join(spec.labels.get(v, v).lower() for v in b.variables)} except the "
            f"base category ({base_names(b.variables, bases or {}) or 'the first'})"
            for b in indicator) + ".")
    if any(m.estimator != "lpm" for m in chosen):
        notes.append("Pseudo R²: McFadden's, one minus the ratio of the model's "
                     "log-likelihood to that of the model with only the constant (and cut "
                     "points).")
    tested = tests_note(spec, table, estimates if estimates is not None else pd.DataFrame())
    if tested:
        notes.append(tested)
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


#: The separator of an ordered model's per-category AME terms ("<regressor>@<category>").
CATEGORY_SEPARATOR = "@"


def category_estimates(estimates: pd.DataFrame) -> pd.DataFrame:
    """One pseudo-model "<model>@<category>" per ordered model and outcome category, whose
    "ame" rows are that model's AMEs on the category's probability (the "ame_category"
    rows) and whose fit rows are the model's: a table can then show every category as a
    column. Empty when no model has such rows."""
    rows = estimates[estimates["quantity"] == "ame_category"]
    if rows.empty:
        return estimates.iloc[0:0]
    split = rows["term"].astype(str).str.rsplit(CATEGORY_SEPARATOR, n=1, expand=True)
    shown = rows.assign(model=rows["model"].astype(str) + CATEGORY_SEPARATOR + split[1],
                        term=split[0], quantity="ame")
    fits = []
    for pseudo, model in dict(zip(shown["model"], rows["model"], strict=True)).items():
        fit = estimates[(estimates["model"] == model) & (estimates["quantity"] == "fit")]
        fits.append(fit.assign(model=pseudo))
    return pd.concat([shown, *fits], ignore_index=True)


def category_layout(layout: TableSpec, estimates: pd.DataFrame,
                    spec: ModelSpec, chosen: Sequence[ModelDef]) -> TableSpec:
    """The layout of a per-category AME table: each model of ``layout`` becomes one column
    per outcome category ("P(category)") under a spanner naming the model."""
    pseudo = category_estimates(estimates)
    columns, headers, labels = [], [], []
    one_outcome = len({m.outcome for m in chosen}) == 1  # the title names it
    for model in chosen:
        prefix = model.id + CATEGORY_SEPARATOR
        categories = list(dict.fromkeys(m.removeprefix(prefix) for m in pseudo["model"]
                                        if m.startswith(prefix)))
        if not categories:
            raise ExhibitError(f"table {layout.title!r}: model {model.id!r} has no AMEs by "
                               "category (is it an ordered model?)")
        header = spec.variant_label(model.variant)
        if not one_outcome:
            header = f"{spec.outcome_labels.get(model.outcome, model.outcome)}, {header}"
        for category in categories:
            columns.append(prefix + category)
            headers.append(header)
            labels.append(f"P({category})")
    control = {label: {c: included[c.rsplit(CATEGORY_SEPARATOR, 1)[0]] for c in columns}
               for label, included in layout.control_rows.items()}
    notes = [CATEGORY_NOTE, *[n for n in layout.notes
                              if not n.startswith(("Average marginal", "Pseudo R"))]]
    return dataclasses.replace(layout, models=columns, dependent_variable=headers,
                               column_labels=labels, control_rows=control, tests=(),
                               fit_rows=("nobs",), notes=notes)


CATEGORY_NOTE = ("Average marginal effects of the ordered models on the probability of each "
                 "outcome category (Stata: margins, dydx(*) predict(outcome(#))); in each "
                 "model they sum to zero over the categories, as the probabilities sum to one. "
                 "For binary regressors (0/1 variables and category dummies) the discrete "
                 "change from 0 to 1, for the others the derivative; standard errors by the "
                 "delta method.")


def table_spec(spec: ModelSpec, table: TableDef, models: pd.DataFrame,
               estimates: pd.DataFrame, *, data_note: str = "",
               unavailable: Sequence[str] = (),
               bases: Mapping[str, str] | None = None) -> TableSpec:
    """The :class:`~analysis.exhibits.tables.TableSpec` of one ``[tables.*]`` entry.

    ``bases``: the base category of each categorical variable (named in the table)."""
    if table.quantity == "ame_category":
        chosen = table_models(spec, table, models)
        layout = table_spec(spec, dataclasses.replace(table, quantity="ame"), models,
                            estimates, data_note=data_note, unavailable=unavailable,
                            bases=bases)
        return category_layout(layout, estimates, spec, chosen)
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
        control_rows=control_rows(spec, chosen, unavailable, bases),
        fit_rows=FIT_ROWS,
        tests=table_tests(spec, table, chosen),
        notes=table_notes(spec, table, chosen, models, data_note=data_note,
                          unavailable=unavailable, bases=bases, estimates=estimates),
        label=f"tab:{table.name}",
    )
