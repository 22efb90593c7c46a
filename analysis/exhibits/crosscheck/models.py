"""What the cross-check scripts refit: one :class:`CheckModel` per estimated model, and the
analysis data as a CSV with a typed schema that R and Stata both read.

A model is described from what the run estimated (a row of ``models.csv``: estimator, SE
type, cluster, weights, the terms and the variables dropped as unavailable) and the model
specification (which variables, in which order). Its regressors are classified as the
estimate step classifies them (:func:`analysis.models.regressors.regressor_frame`):
categorical variables become treatment dummies with the first category as the base
(``factors``, Stata ``i.var``), numeric variables whose values are all 0 or 1 get discrete
changes as AMEs (``binary``, also ``i.var`` in Stata), the rest are continuous.

Extension points for estimators and designs other branches add: :func:`weight_kind` (which
weights a model uses) and :func:`survey_design` (the ``[design]`` of a survey model).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from analysis import config
from analysis.errors import ExhibitError
from analysis.models.estimate import outcome_values
from analysis.models.regressors import is_categorical, regressor_frame
from analysis.models.specification import ModelDef, ModelSpec, expand_models

#: Estimators the scripts know: binary, linear probability and ordered models.
ESTIMATORS = ("logit", "probit", "lpm", "ologit", "oprobit")
ORDERED = ("ologit", "oprobit")
#: "survey": design-based (linearised) SEs of a study with a ``[design]`` (Stata svy:)
SE_TYPES = ("nonrobust", "robust", "cluster", "survey")
#: singleton-stratum rules (the estimation layer's, survey.py) -> R survey.lonely.psu and
#: Stata svyset singleunit(); "fail" is both programs' default.
SINGLETON_R = {"fail": "fail", "certainty": "certainty", "scaled": "average",
               "centered": "adjust"}
#: "" unweighted; "pweight" sampling weights (Stata [pw=]); "fweight" frequency weights
#: (Stata [fw=]: each record counts as that many identical firms).
WEIGHT_KINDS = ("", "pweight", "fweight")
CONSTANT = "const"
#: A name both R (syntactic name) and Stata (at most 32 characters) accept unquoted.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")


@dataclass(frozen=True)
class SurveyDesign:
    """A complex survey design (Stata ``svyset psu [pw=w], strata() fpc()``; R
    ``survey::svydesign``). Empty ``psu``: every firm is its own primary sampling unit."""

    psu: str = ""
    strata: str = ""
    fpc: str = ""
    #: a stratum with a single PSU: "fail" (default), "certainty", "scaled", "centered"
    singleton: str = "fail"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c for c in (self.psu, self.strata, self.fpc) if c)


@dataclass(frozen=True)
class CheckModel:
    """One model as the scripts refit it."""

    id: str
    estimator: str
    outcome: str
    #: data variables in model order (categorical ones expand to dummies)
    regressors: tuple[str, ...]
    se: str
    #: categorical regressors: treatment dummies ``var[level]``, first level the base
    factors: tuple[str, ...] = ()
    #: numeric 0/1 regressors: AME = discrete change 0 -> 1 (Stata ``i.var``)
    binary: tuple[str, ...] = ()
    cluster: str = ""
    weight: str = ""
    weight_kind: str = ""
    design: SurveyDesign | None = None
    #: our coefficient names in model order (``const`` last; none for ordered models)
    terms: tuple[str, ...] = ()
    #: our cut-point names of an ordered model ("cut0|1", ...), in order
    cuts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.estimator not in ESTIMATORS:
            raise ExhibitError(f"model '{self.id}': the cross-check scripts know the "
                               f"estimators {', '.join(ESTIMATORS)}, not '{self.estimator}'")
        if self.se not in SE_TYPES:
            raise ExhibitError(f"model '{self.id}': unknown SE type '{self.se}'")
        if self.weight_kind not in WEIGHT_KINDS or bool(self.weight) != bool(self.weight_kind):
            raise ExhibitError(f"model '{self.id}': weights need a column and a kind "
                               f"({', '.join(k for k in WEIGHT_KINDS if k)}), got "
                               f"{self.weight!r} / {self.weight_kind!r}")
        if (self.se == "cluster") != bool(self.cluster):
            raise ExhibitError(f"model '{self.id}': clustered SEs need a cluster variable")
        if self.se == "survey" and self.design is None:
            raise ExhibitError(f"model '{self.id}': design-based SEs need a survey design")
        if self.design is not None and self.design.singleton not in SINGLETON_R:
            raise ExhibitError(f"model '{self.id}': unknown singleton rule "
                               f"'{self.design.singleton}'")

    @property
    def ordered(self) -> bool:
        return self.estimator in ORDERED

    @property
    def variables(self) -> tuple[str, ...]:
        """Every data column the model uses (listwise deletion runs on these)."""
        extra = (self.cluster, self.weight) + (self.design.columns if self.design else ())
        return tuple(dict.fromkeys((self.outcome, *self.regressors, *(c for c in extra if c))))

    def kind_of(self, term: str) -> str:
        """"const", "continuous", "binary" (0/1 variable) or "factor" (a dummy var[level])."""
        if term == CONSTANT:
            return "const"
        if term in self.binary:
            return "binary"
        if term.endswith("]") and term.split("[", 1)[0] in self.factors:
            return "factor"
        return "continuous"


@dataclass(frozen=True)
class DataSchema:
    """The columns of the cross-check data file and the labels of its coded columns.

    Every column is numeric; a categorical column is stored as codes 1..K whose labels are
    ``labels[column]`` in category order (code 1, the first category, is the base); an
    ordered outcome is stored as its category codes 0..K-1, as the estimate step fits it.
    """

    columns: tuple[str, ...]
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)


# ------------------------------------------------------------------- extension points


def weight_kind(model: ModelDef) -> str:
    """The kind of weights of ``model`` (its ``weights``): "" (none), "pweight" or
    "fweight"."""
    if model.weights not in WEIGHT_KINDS:
        raise ExhibitError(f"model '{model.id}': unknown weights '{model.weights}'")
    return model.weights


def survey_design(spec: ModelSpec, model: ModelDef) -> SurveyDesign | None:
    """The survey design of ``model``: the study's ``[design]`` (``spec.survey``, which the
    estimate step applies to every model), or None."""
    survey = spec.survey
    if survey is None:
        return None
    return SurveyDesign(psu=survey.psu or "", strata=survey.strata or "",
                        fpc=survey.fpc or "", singleton=survey.singleton)


# ------------------------------------------------------------------------- the models


def _split(text: object) -> list[str]:
    return [] if not isinstance(text, str) or not text else text.split(";")


def check_model(spec: ModelSpec, model: ModelDef, frame: pd.DataFrame,
                row: dict[str, object], cuts: Sequence[str] = ()) -> CheckModel:
    """The :class:`CheckModel` of ``model`` as the run estimated it (``row`` of models.csv).

    Raises ExhibitError when models.csv lists other terms than the specification and the
    data give (models.csv is then out of date).
    """
    dropped = set(_split(row.get("unavailable")))
    kept = [v for v in spec.variables(model) if v not in dropped]
    design = regressor_frame(frame, kept)
    factors = tuple(v for v in kept if design.columns_of[v] != [v])
    zero_one = design.binary_terms  # a property that scans every column: once
    binary = tuple(v for v in kept if v not in factors and v in zero_one)
    terms = tuple(design.frame.columns) + (() if model.estimator in ORDERED else (CONSTANT,))
    listed = tuple(_split(row.get("terms")))
    if listed != terms:
        raise ExhibitError(f"model '{model.id}': models.csv lists the terms {list(listed)}, "
                           f"but the specification and the analysis data give {list(terms)}; "
                           "rerun the estimate step")
    kind = weight_kind(model)
    se = str(row.get("se_type") or model.se)  # "survey" under a [design], whatever the family's
    return CheckModel(
        id=model.id, estimator=model.estimator, outcome=model.outcome, regressors=tuple(kept),
        se=se, factors=factors, binary=binary, cluster=model.cluster if se == "cluster" else "",
        weight=config.WEIGHT_COLUMN if kind else "", weight_kind=kind,
        design=survey_design(spec, model), terms=terms, cuts=tuple(cuts))


def check_models(spec: ModelSpec, models: pd.DataFrame, estimates: pd.DataFrame,
                 frame: pd.DataFrame) -> list[CheckModel]:
    """Every model of ``models`` (models.csv, in its order) as the scripts refit it."""
    defined = {m.id: m for m in expand_models(spec)}
    out = []
    for row in models.to_dict("records"):
        model = defined.get(str(row["model"]))
        if model is None:
            raise ExhibitError(f"models.csv lists the model '{row['model']}', which the "
                               f"specification {spec.path} does not define; rerun the "
                               "estimate step")
        mine = estimates[(estimates["model"] == model.id) & (estimates["quantity"] == "cut")]
        out.append(check_model(spec, model, frame, row, [str(t) for t in mine["term"]]))
    check_names(v for m in out for v in m.variables)
    return out


def check_names(names: Iterable[str]) -> None:
    """Every variable must be a name R and Stata accept unquoted (Stata: 32 characters)."""
    bad = sorted({n for n in names if not _NAME.fullmatch(n)})
    if bad:
        raise ExhibitError(f"variable name(s) {', '.join(bad)} cannot be used in the R and "
                           "Stata scripts: a name must start with a letter, hold only letters, "
                           "digits and '_', and have at most 32 characters")


# --------------------------------------------------------------------------- the data


def data_columns(models: Iterable[CheckModel]) -> list[str]:
    """The columns the models use, in order of first use."""
    return list(dict.fromkeys(c for m in models for c in m.variables))


def export_data(frame: pd.DataFrame, models: Sequence[CheckModel]
                ) -> tuple[pd.DataFrame, DataSchema]:
    """The analysis data the models use, all numeric, and its schema.

    Outcomes go as the estimate step fits them (an ordered categorical by its codes
    0..K-1); other categorical columns as codes 1..K in category order, with their labels.
    """
    outcomes = {m.outcome for m in models}
    columns = data_columns(models)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ExhibitError(f"the analysis data have no column(s) {', '.join(missing)}; rerun "
                           "the build and estimate steps")
    data: dict[str, pd.Series] = {}
    labels: dict[str, tuple[str, ...]] = {}
    for name in columns:
        column = frame[name]
        if name in outcomes:
            data[name] = outcome_values(column)
        elif is_categorical(column):
            cat = column if isinstance(column.dtype, pd.CategoricalDtype) else \
                column.astype("category")
            codes = cat.cat.codes.astype("Int64") + 1
            data[name] = codes.where(cat.notna())
            labels[name] = tuple(str(c) for c in cat.cat.categories)
        else:
            data[name] = column
    return pd.DataFrame(data, index=frame.index), DataSchema(tuple(columns), labels)


def data_csv(data: pd.DataFrame) -> str:
    """The data as CSV: empty cells are missing; floats at full (round-trip) precision."""
    out = data.copy()
    for name in out.columns:
        values = out[name]
        if pd.api.types.is_float_dtype(values) and values.dropna().map(float.is_integer).all():
            out[name] = values.astype("Int64")  # whole numbers (codes, counts) without ".0"
    return out.to_csv(index=False, lineterminator="\n", na_rep="")


def fingerprint(*texts: str) -> str:
    """A short digest of the script and data a results file must come from."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]
