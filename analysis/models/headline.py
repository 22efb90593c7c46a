"""The headline family of the robustness analyses and the model frames they fit.

The headline models (outcomes x breadth at each scale, with their controls) are what
every robustness analysis and the specification curve vary; ``model_data`` turns the
analysis data into the numeric arrays one fit needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from analysis import config
from analysis.errors import ModelError, RobustnessError
from analysis.models.estimation import (
    FitResult,
    Margins,
    average_marginal_effects,
    fit_model,
)
from analysis.models.regressors import RegressorFrame, regressor_frame
from analysis.models.specification import ModelSpec

ESTIMATOR_LABELS = {"logit": "Logit", "probit": "Probit", "lpm": "LPM"}


# --------------------------------------------------------------------------- headline


@dataclass(frozen=True)
class Headline:
    """The headline family's models, as the robustness analyses vary them."""

    family: str
    variant: str
    estimator: str
    se: str
    outcomes: tuple[str, ...]
    main: tuple[str, ...]  # breadth variables present in the data
    control_blocks: tuple[str, ...]  # of the headline variant
    curve_blocks: tuple[str, ...]  # every non-main block of any variant, in file order
    international: str
    local: str
    blocks: Mapping[str, tuple[str, ...]]  # block -> its available variables
    labels: Mapping[str, str]
    outcome_labels: Mapping[str, str]
    unavailable: tuple[str, ...] = ()
    weights: str | None = None  # the weight column when the family is weighted
    weight_type: str = "pweight"  # its kind: "pweight" or "fweight"
    #: how a subsample variable is named in the exhibits ("City-region", "Province", ...)
    subsample_labels: Mapping[str, str] = field(default_factory=lambda: {
        "region": "City-region", "sector": "Sector group"})

    def variables(self, blocks: Sequence[str]) -> list[str]:
        """The main variables followed by the variables of ``blocks`` (no repeats)."""
        names = list(self.main)
        for block in blocks:
            names += [v for v in self.blocks[block] if v not in names]
        return names

    @property
    def has_difference(self) -> bool:
        """Whether the international-minus-local contrast can be formed."""
        return self.international in self.main and self.local in self.main

    def label(self, name: str) -> str:
        return self.labels.get(name, name)

    def outcome_label(self, outcome: str) -> str:
        return self.outcome_labels.get(outcome, outcome)


def headline_setup(spec: ModelSpec, unavailable: Sequence[str] = ()) -> Headline:
    """The headline family and variant of ``spec`` (``[headline]``), minus unavailable variables."""
    head = spec.headline
    if not head:
        raise RobustnessError(f"{spec.path}: no [headline] section names the family to vary")
    family = spec.families[head["family"]]
    variant = head.get("variant") or next(iter(family.variants))
    if variant not in family.variants:
        raise RobustnessError(f"{spec.path}: [headline] variant '{variant}' is not a variant "
                              f"of family '{family.name}'")
    skip = set(unavailable)
    blocks = {name: tuple(v for v in block.variables if v not in skip)
              for name, block in spec.blocks.items()}
    main = tuple(v for b in family.main for v in blocks[b])
    used = {b for controls in family.variants.values() for b in controls}
    labels = {**spec.labels}
    return Headline(
        family=family.name, variant=variant, estimator=family.estimator, se=family.se,
        outcomes=family.outcomes, main=main, control_blocks=family.variants[variant],
        curve_blocks=tuple(b for b in spec.blocks if b in used and b not in family.main),
        international=head.get("international", ""), local=head.get("local", ""),
        blocks=blocks, labels=labels, outcome_labels=dict(spec.outcome_labels),
        unavailable=tuple(sorted(skip)),
        weights=config.WEIGHT_COLUMN if family.weighted else None,
        weight_type=family.weights or "pweight")


def difference_name(headline: Headline) -> str:
    return f"{headline.international} - {headline.local}"


def ratio_name(headline: Headline) -> str:
    return f"{headline.international} / {headline.local}"


def ratio_label(headline: Headline) -> str:
    """Display label of the international-over-local ratio."""
    return (f"{headline.label(headline.international)} over "
            f"{headline.label(headline.local).lower()} (ratio)")


def difference_label(headline: Headline) -> str:
    """Display label of the international-minus-local contrast."""
    return (f"{headline.label(headline.international)} minus "
            f"{headline.label(headline.local).lower()}")


# --------------------------------------------------------------------------- fitting


@dataclass(frozen=True, eq=False)
class ModelData:
    """Numeric model columns: the outcome, the regressors (dummies built) and a cluster."""

    frame: pd.DataFrame
    outcome: str
    terms: tuple[str, ...]
    cluster: str | None = None
    weights: str | None = None
    weight_type: str = "pweight"

    @property
    def complete(self) -> pd.Series:
        """Rows with the outcome, every regressor (and cluster, weight) observed: the
        estimation sample (a zero weight leaves a firm out, as in fit_model)."""
        columns = [self.outcome, *self.terms] + ([self.cluster] if self.cluster else [])
        observed = self.frame[columns].notna().all(axis=1)
        if self.weights:
            observed &= self.frame[self.weights].fillna(0.0) > 0
        return observed


def regressor_columns(data: pd.DataFrame, variables: Sequence[str]) -> RegressorFrame:
    """The numeric regressor columns of ``variables`` (categorical ones as dummies)."""
    missing = [v for v in variables if v not in data.columns]
    if missing:
        raise RobustnessError(f"analysis data lacks the column(s) {', '.join(missing)}")
    try:
        return regressor_frame(data, list(dict.fromkeys(variables)))
    except ModelError as err:
        raise RobustnessError(f"analysis data: {err}") from err


def model_data(data: pd.DataFrame, outcome: str, variables: Sequence[str],
               cluster: str | None = None, weights: str | None = None,
               columns: RegressorFrame | None = None,
               weight_type: str = "pweight") -> ModelData:
    """Outcome and regressors of one model; categorical variables become ``var[level]`` dummies.

    ``weights``: a weight column carried along (the fits then use it, as weights of kind
    ``weight_type``).
    ``columns``: regressor columns already built for these rows (regressor_columns of a
    superset of ``variables``), so that many models of one data set build dummies once.
    """
    needed = [outcome, *variables] + ([cluster] if cluster else []) + (
        [weights] if weights else [])
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise RobustnessError(f"analysis data lacks the column(s) {', '.join(missing)}")
    if columns is None:
        columns = regressor_columns(data, variables)
    terms = [c for v in variables for c in columns.columns_of[v]]
    frame = (columns.frame[terms].copy() if columns.frame.index.equals(data.index)
             else columns.frame.loc[data.index, terms])
    frame.insert(0, outcome, pd.to_numeric(data[outcome], errors="coerce").astype("float64"))
    if cluster:
        frame[cluster] = data[cluster]
    if weights:
        frame[weights] = pd.to_numeric(data[weights], errors="coerce").astype("float64")
    return ModelData(frame=frame, outcome=outcome, terms=tuple(terms), cluster=cluster,
                     weights=weights, weight_type=weight_type)


def fit_with_margins(md: ModelData, terms: Sequence[str], *, estimator: str, se_type: str,
                     model_id: str) -> tuple[FitResult, Margins]:
    """Fit one model and its AMEs for ``terms`` (raises EstimationError by name)."""
    fit = fit_model(md.frame, md.outcome, list(md.terms), estimator=estimator,
                    se_type=se_type, cluster=md.cluster if se_type == "cluster" else None,
                    model_id=model_id, weights=md.weights, weight_type=md.weight_type)
    return fit, average_marginal_effects(fit, terms=[t for t in terms if t in fit.terms])


def error_text(err: Exception) -> str:
    """``ErrorName: message`` of an estimation problem."""
    return f"{type(err).__name__}: {err}"
