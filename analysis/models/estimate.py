"""Estimate every model of the specification on the analysis data (pure: no file I/O).

For each model of :func:`analysis.models.specification.expand_models`: build the regressors
(:func:`analysis.models.regressors.regressor_frame`: categorical variables become
``var[level]`` dummies, first level the base), fit it
(:func:`analysis.models.estimation.fit_model`), compute average marginal effects (discrete
changes for 0/1 regressors; the dummies of one categorical form a factor group, Stata's
``i.var``; ordered logit: effects on the top category), odds ratios (logit / ordered logit,
by :func:`analysis.models.estimation.tidy`), the ``[[tests]]`` of the specification, and the
average adjusted predictions of Figure 2. Everything comes back as the tidy frames of
contracts C1 and C5.

Variables the survey cannot provide (``unavailable``, contract C4) are dropped from the
models and recorded; a model whose outcome is unavailable is not estimated (recorded too).
A 0/1 regressor that predicts a binary outcome perfectly is dropped with the observations it
determines, as Stata does (``perfect_prediction = "drop"``), and recorded in models.csv;
with ``perfect_prediction = "error"`` the model is refused. Any
:class:`~analysis.models.EstimationError` propagates: its message names the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import config
from analysis.errors import SpecificationError
from analysis.models.estimation import (
    CONSTANT,
    PREDICTION_COLUMNS,
    TIDY_COLUMNS,
    FitResult,
    Margins,
    TestResult,
    average_marginal_effects,
    fit_model,
    ordered_ames_by_category,
    predictions,
    ratio,
    stack_tidy,
    tidy,
    wald_test,
)
from analysis.models.regressors import regressor_frame
from analysis.models.specification import ModelDef, ModelSpec, TestDef, expand_models

#: Columns of models.csv (contract C5), then our additions, which say everything a refit in
#: another package needs: the unavailable variables dropped from the model (C4), the rows
#: lost to listwise deletion, the weights (kind "none" / "pweight" / "fweight" and column),
#: the perfect-prediction option, and what it dropped: the terms (";"-separated), Stata's
#: rule for the rows removed ("x != 0": the rows where x is not 0), their number, and the
#: notes. ``nobs`` is Stata's e(N) (with frequency weights the sum of the weights).
MODEL_COLUMNS = ["model", "family", "outcome", "variant", "estimator", "se_type", "cluster",
                 "weighted", "nobs", "converged", "terms", "unavailable", "n_incomplete",
                 "weight_type", "weight_column", "perfect_prediction", "dropped_terms",
                 "dropped_rows", "dropped_nobs", "dropped_notes"]
#: Values of the headline variable at which Figure 2 predicts (0..7 partner types).
DEFAULT_PREDICTION_VALUES: tuple[float, ...] = tuple(float(v) for v in range(8))


@dataclass(frozen=True, eq=False)
class ModelEstimate:
    """One estimated model: its definition, fit, AMEs, tests and C1 rows."""

    model: ModelDef
    fit: FitResult
    margins: Margins
    tests: tuple[TestResult, ...]
    tidy: pd.DataFrame
    dropped: tuple[str, ...]
    factor_groups: tuple[tuple[str, ...], ...]
    n_incomplete: int


@dataclass(frozen=True, eq=False)
class EstimationRun:
    """All models of a specification: the C5 frames and what was left out."""

    models: tuple[ModelEstimate, ...]
    estimates: pd.DataFrame
    predictions: pd.DataFrame
    model_table: pd.DataFrame
    skipped_models: tuple[str, ...]
    skipped_tests: tuple[str, ...]


def outcome_values(series: pd.Series) -> pd.Series:
    """The outcome as float: a categorical (e.g. ordered novelty) by its category codes."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.astype("float64")
        return codes.where(series.notna())
    try:
        return series.astype("float64")
    except (TypeError, ValueError) as err:
        raise SpecificationError("?", f"outcome {series.name!r} is not numeric "
                                 f"({series.dtype})", [str(series.name)]) from err


def model_variables(spec: ModelSpec, model: ModelDef,
                    unavailable: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """The model's variables that the data provide, and those dropped as unavailable."""
    skip = set(unavailable)
    wanted = spec.variables(model)
    return [v for v in wanted if v not in skip], [v for v in wanted if v in skip]


def model_data(frame: pd.DataFrame, spec: ModelSpec, model: ModelDef,
               unavailable: Iterable[str] = ()):
    """(numeric frame of outcome, regressors [, cluster], regressor names, factor groups,
    binary columns, dropped variables) for one model."""
    kept, dropped = model_variables(spec, model, unavailable)
    design = regressor_frame(frame, kept)
    data = design.frame.copy()
    data[model.outcome] = outcome_values(frame[model.outcome]).to_numpy()
    if model.se == "cluster":
        data[model.cluster] = frame[model.cluster].to_numpy()
    if model.weights:
        weights = frame[config.WEIGHT_COLUMN]
        data[config.WEIGHT_COLUMN] = weights.to_numpy(dtype="float64", na_value=np.nan)
    if spec.survey is not None:  # the design columns of design-based SEs
        for column in spec.survey.columns:
            data[column] = frame[column].to_numpy()
    categorical = [v for v in kept if design.columns_of[v] != [v]]
    groups = tuple(tuple(design.columns_of[v]) for v in categorical)
    return data, list(design.frame.columns), groups, design.binary_terms, dropped


def in_fit(fit: FitResult, groups: Sequence[Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    """The factor groups restricted to the terms still in the fit (perfect prediction may
    have dropped a dummy)."""
    kept = tuple(tuple(t for t in group if t in fit.terms) for group in groups)
    return tuple(group for group in kept if group)


def _run_test(test: TestDef, fit: FitResult, margins: Margins) -> TestResult:
    source = margins if test.on == "ame" else fit
    if test.kind == "wald":
        return wald_test(source, [test.terms], test_id=test.id)
    return ratio(source, test.numerator, test.denominator, test_id=test.id)


def estimate_model(frame: pd.DataFrame, spec: ModelSpec, model: ModelDef,
                   unavailable: Iterable[str] = ()) -> tuple[ModelEstimate, list[str]]:
    """Fit one model with its AMEs and tests; also return the tests skipped (unavailable)."""
    unavailable = tuple(unavailable)
    data, regressors, groups, binary, dropped = model_data(frame, spec, model, unavailable)
    se = "survey" if spec.survey is not None else model.se
    fit = fit_model(data, model.outcome, regressors, estimator=model.estimator,
                    se_type=se, cluster=model.cluster if se == "cluster" else None,
                    model_id=model.id, weights=config.WEIGHT_COLUMN if model.weights else None,
                    weight_type=model.weights or "pweight",
                    perfect_prediction=model.perfect_prediction, survey=spec.survey)
    groups = in_fit(fit, groups)
    margins = average_marginal_effects(
        fit, binary=sorted(b for b in binary if b in fit.terms), factor_groups=groups)
    tests, skipped = [], []
    gone = {d.term for d in fit.perfect_prediction}
    for test in spec.tests_for(model):
        lost = [p for p in test.parameters if p in gone]
        if lost:
            skipped.append(f"{test.id} on {model.id} (dropped for perfect prediction: "
                           f"{', '.join(lost)})")
            continue
        missing = [p for p in test.parameters if p.split("[", 1)[0] in dropped]
        if missing:
            skipped.append(f"{test.id} on {model.id} (unavailable: {', '.join(missing)})")
            continue
        tests.append(_run_test(test, fit, margins))
    rows = tidy(fit, margins=margins, tests=tests,
                level=float(spec.defaults.get("confidence_level", 0.95)))
    if fit.cut_terms:  # an ordered model: its AMEs on every category's probability too
        rows = pd.concat([rows, category_rows(fit, frame[model.outcome], binary, groups)],
                         ignore_index=True)
    estimate = ModelEstimate(model=model, fit=fit, margins=margins, tests=tuple(tests),
                             tidy=rows, dropped=tuple(dropped), factor_groups=groups,
                             n_incomplete=len(frame) - fit.design.nobs
                             - fit.n_perfectly_predicted)
    return estimate, skipped


#: Quantity of the AMEs of an ordered model on the probability of each outcome category
#: (Stata ``margins, dydx(*) predict(outcome(#))``); the term is "<regressor>@<category>".
CATEGORY_AMES = "ame_category"


def category_rows(fit: FitResult, outcome: pd.Series, binary: Iterable[str],
                  groups: Sequence[Sequence[str]]) -> pd.DataFrame:
    """C1 rows of an ordered model's AMEs on P(y = c) for every category c, the category
    named by its label in the data (the categorical's categories, else its value)."""
    by_category = ordered_ames_by_category(
        fit, binary=sorted(b for b in binary if b in fit.terms), factor_groups=groups)
    labels = (list(outcome.cat.categories) if isinstance(outcome.dtype, pd.CategoricalDtype)
              else None)
    names = [str(labels[int(c)]) if labels is not None and 0 <= int(c) < len(labels)
             else f"{c:g}" for c in by_category["category"]]
    rows = by_category.drop(columns=["category", "discrete"]).assign(
        term=[f"{t}@{n}" for t, n in zip(by_category["term"], names, strict=True)])
    return rows.assign(model=fit.model_id, outcome=fit.outcome, estimator=fit.estimator,
                       se_type=fit.se_type, quantity=CATEGORY_AMES, nobs=fit.nobs,
                       interval="")[TIDY_COLUMNS]


def model_row(estimate: ModelEstimate) -> dict[str, object]:
    """One row of models.csv (a design-based fit adds its strata, PSUs and design df)."""
    model, fit = estimate.model, estimate.fit
    row: dict[str, object] = {
        "model": model.id, "family": model.family, "outcome": model.outcome,
        "variant": model.variant, "estimator": model.estimator, "se_type": fit.se_type,
        "cluster": fit.cluster or "", "weighted": model.weighted, "nobs": fit.nobs,
        "converged": bool(fit.converged),
        "terms": ";".join(fit.terms), "unavailable": ";".join(estimate.dropped),
        "n_incomplete": estimate.n_incomplete,
        "weight_type": model.weights or "none",
        "weight_column": config.WEIGHT_COLUMN if model.weights else "",
        "perfect_prediction": model.perfect_prediction,
        "dropped_terms": ";".join(d.term for d in fit.perfect_prediction),
        "dropped_rows": ";".join(d.rule for d in fit.perfect_prediction if d.predicts),
        "dropped_nobs": fit.n_perfectly_predicted,
        "dropped_notes": "; ".join(d.note for d in fit.perfect_prediction),
    }
    if fit.survey is not None:
        row.update({"n_strata": fit.survey.n_strata, "n_psus": fit.survey.n_psus,
                    "design_df": fit.survey.df, "population": fit.survey.population})
    return row


def headline_predictions(estimates: Sequence[ModelEstimate], spec: ModelSpec,
                         values: Sequence[float] = DEFAULT_PREDICTION_VALUES) -> pd.DataFrame:
    """Figure 2: average adjusted predictions at each value of the headline variable
    (``[headline] international``) for every model of the headline family and variant."""
    headline = spec.headline
    variable = headline.get("international")
    frames = []
    for est in estimates:
        if (not variable or est.model.family != headline.get("family")
                or est.model.variant != headline.get("variant")
                or variable not in est.fit.terms or variable == CONSTANT):
            continue
        frames.append(predictions(est.fit, variable, list(values),
                                  factor_groups=est.factor_groups,
                                  level=float(spec.defaults.get("confidence_level", 0.95))))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c not in ("model", "outcome",
                                          "variable") else "str") for c in PREDICTION_COLUMNS})
    return pd.concat(frames, ignore_index=True)[PREDICTION_COLUMNS]


def estimate_all(frame: pd.DataFrame, spec: ModelSpec, unavailable: Iterable[str] = (),
                 families: Iterable[str] | None = None,
                 prediction_values: Sequence[float] = DEFAULT_PREDICTION_VALUES
                 ) -> EstimationRun:
    """Estimate every model of ``spec`` (or of ``families``) on the analysis ``frame``."""
    unavailable = tuple(unavailable)
    done: list[ModelEstimate] = []
    skipped_models: list[str] = []
    skipped_tests: list[str] = []
    for model in expand_models(spec, families):
        if model.outcome in unavailable:
            skipped_models.append(f"{model.id} (outcome {model.outcome} unavailable)")
            continue
        estimate, skipped = estimate_model(frame, spec, model, unavailable)
        done.append(estimate)
        skipped_tests += skipped
    if not done:
        raise SpecificationError("(all)", "no model could be estimated: "
                                 + "; ".join(skipped_models))
    rows = [model_row(e) for e in done]
    table = pd.DataFrame(rows, columns=[*MODEL_COLUMNS, *(c for c in rows[0]
                                                          if c not in MODEL_COLUMNS)])
    for column in ("nobs", "n_incomplete", "dropped_nobs"):
        table[column] = table[column].astype(np.int64)
    return EstimationRun(
        models=tuple(done), estimates=stack_tidy([e.tidy for e in done]),
        predictions=headline_predictions(done, spec, prediction_values), model_table=table,
        skipped_models=tuple(skipped_models), skipped_tests=tuple(skipped_tests))
