"""Robustness analyses of the headline family (breadth of collaboration at each scale).

Every function is pure (data in, frames/records out); :mod:`analysis.tasks.robustness`
reads the inputs and writes the exhibits. The analyses:

(a) logit vs probit vs linear probability model, compared on average marginal effects
    (AMEs are on the probability scale for all three; index coefficients are not);
(b) robust vs clustered standard errors (cluster: a variable of the analysis data);
(c) subsamples by city-region and by sector group: the AME of each breadth scale per
    subsample, with N; a subsample whose model cannot be estimated is listed with the
    error's name and message;
(d) with and without the manager controls (also without them on the with-manager sample,
    so that a change of sample is not mistaken for a change of specification);
(e) a seeded pairs bootstrap of the breadth AMEs (percentile and normal intervals),
    parallel across cores with results independent of the number of workers;
(f) a specification curve: the international-minus-local AME across every subset of the
    control blocks x estimators x outcomes, with a Simonsohn-Simmons-Nelson figure.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis import config
from analysis.errors import EstimationError, ModelError, RobustnessError
from analysis.models import resampling
from analysis.models.estimation import (
    FitResult,
    Margins,
    ame_estimates,
    average_marginal_effects,
    batched,
    fit_model,
    refit_coefficients,
    tidy,
    wald_test,
)
from analysis.models.regressors import Design, build_design
from analysis.models.specification import ModelSpec

if TYPE_CHECKING:  # matplotlib is imported by the plotting functions only, so that the
    from matplotlib.figure import Figure  # parallel workers start faster.

#: Estimators whose AMEs are comparable (probability scale).
BINARY_ESTIMATORS = ("logit", "probit", "lpm")
ESTIMATOR_LABELS = {"logit": "Logit", "probit": "Probit", "lpm": "LPM"}
SE_LABELS = {"robust": "Robust", "cluster": "Clustered", "nonrobust": "Conventional"}
SUBSAMPLE_LABELS = {"region": "City-region", "sector": "Sector group"}
CURVE_COLUMNS = ["rank", "outcome", "estimator", "controls", "estimate", "std_error",
                 "ci_lower", "ci_upper", "p_value", "nobs", "problem"]
OUTCOME_FIELD = "outcome"  # column of the spec-curve frame holding the outcome


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class RobustnessConfig:
    """Settings of the robustness step (``config/robustness.toml``; defaults below)."""

    bootstrap_reps: int = 999
    bootstrap_level: float = 0.95
    n_jobs: int = -1
    cluster: str = "region_sector"
    subsample_by: tuple[str, ...] = ("region", "sector")
    estimators: tuple[str, ...] = BINARY_ESTIMATORS
    manager_block: str = "manager"
    curve_estimators: tuple[str, ...] = BINARY_ESTIMATORS
    source: str = "built-in defaults"


#: TOML section -> {key: (RobustnessConfig field, expected type)}.
_CONFIG_KEYS: dict[str, dict[str, tuple[str, type]]] = {
    "parallel": {"n_jobs": ("n_jobs", int)},
    "bootstrap": {"reps": ("bootstrap_reps", int), "level": ("bootstrap_level", float)},
    "standard_errors": {"cluster": ("cluster", str)},
    "subsamples": {"by": ("subsample_by", list)},
    "estimators": {"compare": ("estimators", list)},
    "controls": {"manager_block": ("manager_block", str)},
    "specification_curve": {"estimators": ("curve_estimators", list)},
}
#: ``run_all.py --option KEY=VALUE`` keys that override the file (e.g. bootstrap_reps=99).
OPTION_KEYS = ("bootstrap_reps", "n_jobs")


def _checked(value: Any, kind: type, where: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise RobustnessError(f"{where} must be a {kind.__name__}, got {value!r}")
    if kind is list:
        if not all(isinstance(v, str) for v in value):
            raise RobustnessError(f"{where} must be a list of names, got {value!r}")
        return tuple(value)
    return value


def parse_robustness_config(raw: Mapping[str, Any], source: str,
                            overrides: Mapping[str, Any] | None = None) -> RobustnessConfig:
    """Check a parsed ``robustness.toml`` (and option overrides) into a config."""
    values: dict[str, Any] = {}
    for section, body in raw.items():
        if section not in _CONFIG_KEYS or not isinstance(body, dict):
            raise RobustnessError(f"{source}: unknown section [{section}] (known: "
                                  f"{', '.join(_CONFIG_KEYS)})")
        for key, value in body.items():
            if key not in _CONFIG_KEYS[section]:
                raise RobustnessError(f"{source}: [{section}] has the unknown key '{key}'")
            name, kind = _CONFIG_KEYS[section][key]
            values[name] = _checked(value, kind, f"{source}: {section}.{key}")
    for key, value in (overrides or {}).items():
        if key in OPTION_KEYS:
            values[key] = _checked(value, int, f"option {key}")
    config = RobustnessConfig(**values, source=source)
    if config.bootstrap_reps < 2:
        raise RobustnessError(f"{source}: bootstrap.reps must be at least 2, got "
                              f"{config.bootstrap_reps}")
    if not 0 < config.bootstrap_level < 1:
        raise RobustnessError(f"{source}: bootstrap.level must be in (0, 1), got "
                              f"{config.bootstrap_level}")
    if config.n_jobs == 0:
        raise RobustnessError(f"{source}: parallel.n_jobs must be -1 (all cores) or >= 1")
    for where, names in (("estimators.compare", config.estimators),
                         ("specification_curve.estimators", config.curve_estimators)):
        bad = [e for e in names if e not in BINARY_ESTIMATORS]
        if bad or not names:
            raise RobustnessError(f"{source}: {where} must list some of "
                                  f"{', '.join(BINARY_ESTIMATORS)}; got {list(names)}")
    return config


def load_robustness_config(path: Path | None,
                           overrides: Mapping[str, Any] | None = None) -> RobustnessConfig:
    """Read ``path`` (absent file: the defaults), then apply ``overrides``."""
    if path is None or not Path(path).is_file():
        return parse_robustness_config({}, "built-in defaults", overrides)
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise RobustnessError(f"{path}: not valid TOML: {err}") from err
    return parse_robustness_config(raw, str(path), overrides)


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
    weights: str | None = None  # the sampling-weight column when the family is weighted

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
        weights=config.WEIGHT_COLUMN if family.weighted else None)


def difference_name(headline: Headline) -> str:
    return f"{headline.international} - {headline.local}"


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

    @property
    def complete(self) -> pd.Series:
        """Rows with the outcome, every regressor (and cluster, weight) observed: the
        estimation sample (a zero weight leaves a firm out, as in fit_model)."""
        columns = [self.outcome, *self.terms] + ([self.cluster] if self.cluster else [])
        observed = self.frame[columns].notna().all(axis=1)
        if self.weights:
            observed &= self.frame[self.weights].fillna(0.0) > 0
        return observed


def regressor_columns(data: pd.DataFrame, variables: Sequence[str]) -> Design:
    """The numeric regressor columns of ``variables`` (categorical ones as dummies)."""
    missing = [v for v in variables if v not in data.columns]
    if missing:
        raise RobustnessError(f"analysis data lacks the column(s) {', '.join(missing)}")
    try:
        return build_design(data, list(dict.fromkeys(variables)))
    except ModelError as err:
        raise RobustnessError(f"analysis data: {err}") from err


def model_data(data: pd.DataFrame, outcome: str, variables: Sequence[str],
               cluster: str | None = None, weights: str | None = None,
               columns: Design | None = None) -> ModelData:
    """Outcome and regressors of one model; categorical variables become ``var[level]`` dummies.

    ``weights``: a sampling-weight column carried along (the fits then use it as pweights).
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
                     weights=weights)


def fit_with_margins(md: ModelData, terms: Sequence[str], *, estimator: str, se_type: str,
                     model_id: str) -> tuple[FitResult, Margins]:
    """Fit one model and its AMEs for ``terms`` (raises EstimationError by name)."""
    fit = fit_model(md.frame, md.outcome, list(md.terms), estimator=estimator,
                    se_type=se_type, cluster=md.cluster if se_type == "cluster" else None,
                    model_id=model_id, weights=md.weights)
    return fit, average_marginal_effects(fit, terms=[t for t in terms if t in fit.terms])


def error_text(err: Exception) -> str:
    """``ErrorName: message`` of an estimation problem."""
    return f"{type(err).__name__}: {err}"


# --------------------------------------------------------------------------- exhibits


@dataclass(frozen=True)
class RegressionExhibit:
    """A regression-style comparison: C1 rows (AME and fit) of one column per model."""

    stem: str
    title: str
    estimates: pd.DataFrame
    models: tuple[str, ...]
    column_labels: tuple[str, ...]
    dependent: tuple[str, ...]
    terms: Mapping[str, str]
    fit_rows: tuple[str, ...] = ("nobs",)
    notes: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()  # "column label: ErrorName: message"


@dataclass(frozen=True)
class FrameExhibit:
    """A plain table (written with :func:`analysis.exhibits.frames.write_frame_exhibit`)."""

    stem: str
    title: str
    frame: pd.DataFrame
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a comparison: which data, model and standard errors."""

    key: str
    label: str
    outcome: str
    variables: tuple[str, ...]
    estimator: str
    se_type: str
    rows: pd.Series | None = None  # boolean mask of the data rows to use (None: all)
    cluster: str | None = None


def estimate_columns(data: pd.DataFrame, columns: Sequence[ColumnSpec], terms: Sequence[str],
                     prefix: str, weights: str | None = None
                     ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Fit every column; C1 rows (ame + fit) of those that worked, their ids, and failures.

    ``weights``: the sampling-weight column of weighted models (None: unweighted)."""
    frames, ids, failures = [], [], []
    built = regressor_columns(data, [v for col in columns for v in col.variables])
    for col in columns:
        subset = data if col.rows is None else data.loc[col.rows]
        model_id = f"{prefix}__{col.outcome}__{col.key}"
        md = model_data(subset, col.outcome, col.variables,
                        col.cluster if col.se_type == "cluster" else None, weights, built)
        try:
            fit, margins = fit_with_margins(md, terms, estimator=col.estimator,
                                            se_type=col.se_type, model_id=model_id)
        except EstimationError as err:
            failures.append(f"{col.label} ({col.outcome}): {error_text(err)}")
            continue
        rows = tidy(fit, margins=margins, odds_ratio=False)
        frames.append(rows[rows["quantity"].isin(["ame", "fit"])])
        ids.append(model_id)
    estimates = (pd.concat(frames, ignore_index=True) if frames
                 else pd.DataFrame(columns=["model"]))
    return estimates, ids, failures


def _comparison(data: pd.DataFrame, headline: Headline, columns: Sequence[ColumnSpec],
                stem: str, title: str, notes: Sequence[str],
                fit_rows: tuple[str, ...] = ("nobs",)) -> RegressionExhibit:
    estimates, ids, failures = estimate_columns(data, columns, headline.main, stem,
                                                headline.weights)
    by_id = {f"{stem}__{c.outcome}__{c.key}": c for c in columns}
    shown = [by_id[i] for i in ids]
    notes = list(notes) + [f"Could not be estimated: {f}" for f in failures]
    return RegressionExhibit(
        stem=stem, title=title, estimates=estimates, models=tuple(ids),
        column_labels=tuple(c.label for c in shown),
        dependent=tuple(headline.outcome_label(c.outcome) for c in shown),
        terms={t: headline.label(t) for t in headline.main}, fit_rows=fit_rows,
        notes=tuple(notes), failures=tuple(failures))


def estimator_comparison(data: pd.DataFrame, headline: Headline,
                         estimators: Sequence[str] = BINARY_ESTIMATORS) -> RegressionExhibit:
    """(a) AMEs of the headline models under logit, probit and the LPM."""
    variables = tuple(headline.variables(headline.control_blocks))
    columns = [ColumnSpec(key=e, label=ESTIMATOR_LABELS[e], outcome=o, variables=variables,
                          estimator=e, se_type=headline.se)
               for o in headline.outcomes for e in estimators]
    notes = [f"Average marginal effects on the probability of innovation (delta-method "
             f"{SE_LABELS[headline.se].lower()} standard errors in parentheses; LPM: the "
             "coefficients, which are its marginal effects). AMEs are comparable across "
             "estimators; index coefficients are not. Controls as in the headline models "
             f"({', '.join(headline.control_blocks)})."]
    return _comparison(data, headline, columns, "robustness_estimators",
                       "Robustness: logit, probit and linear probability models (AMEs)",
                       notes)


def se_comparison(data: pd.DataFrame, headline: Headline, cluster: str) -> RegressionExhibit:
    """(b) The headline AMEs with robust and with cluster-robust standard errors."""
    variables = tuple(headline.variables(headline.control_blocks))
    # Both columns use the rows with an observed cluster, so only the SEs differ.
    rows = data[cluster].notna() if cluster in data.columns else None
    columns = [ColumnSpec(key=se, label=SE_LABELS[se], outcome=o, variables=variables,
                          estimator=headline.estimator, se_type=se, rows=rows,
                          cluster=cluster if se == "cluster" else None)
               for o in headline.outcomes for se in ("robust", "cluster")]
    notes = [f"Average marginal effects of the headline {headline.estimator} models; standard "
             f"errors robust to heteroskedasticity, or clustered by {cluster} (Stata "
             "vce(cluster)); the point estimates are identical."]
    return _comparison(data, headline, columns, "robustness_clustered_se",
                       f"Robustness: robust versus clustered standard errors ({cluster})",
                       notes, fit_rows=("nobs", "n_clusters"))


def manager_comparison(data: pd.DataFrame, headline: Headline,
                       manager_block: str) -> RegressionExhibit:
    """(d) Without the manager controls (full sample, and the with-manager sample) and with.

    A survey without any manager variable gets an exhibit that says so instead of three
    identical columns.
    """
    stem, title = "robustness_manager_controls", "Robustness: with and without manager controls"
    if not headline.blocks.get(manager_block):
        why = (f"no variable of the '{manager_block}' block is available in this survey, so "
               "there is nothing to compare")
        return RegressionExhibit(stem=stem, title=title, estimates=pd.DataFrame(columns=["model"]),
                                 models=(), column_labels=(), dependent=(), terms={},
                                 failures=(why,))
    with_blocks = list(headline.control_blocks)
    if manager_block not in with_blocks:
        with_blocks.append(manager_block)
    without = [b for b in with_blocks if b != manager_block]
    v_with = tuple(headline.variables(with_blocks))
    v_without = tuple(headline.variables(without))
    columns = []
    built = regressor_columns(data, v_with)
    for o in headline.outcomes:
        same = model_data(data, o, v_with, weights=headline.weights, columns=built).complete
        columns += [
            ColumnSpec("without", "Without", o, v_without, headline.estimator, headline.se),
            ColumnSpec("without_same_sample", "Without, same sample", o, v_without,
                       headline.estimator, headline.se, rows=same),
            ColumnSpec("with", "With", o, v_with, headline.estimator, headline.se),
        ]
    manager_vars = ", ".join(headline.blocks.get(manager_block, ())) or "none available"
    notes = [f"Average marginal effects of the headline {headline.estimator} models without "
             f"and with the manager controls ({manager_vars}). 'Same sample' drops the firms "
             "with a missing manager variable, so the comparison with 'With' isolates the "
             "controls from the change of sample."]
    return _comparison(data, headline, columns, stem, title, notes)


# --------------------------------------------------------------------------- subsamples


def subsample_frame(data: pd.DataFrame, headline: Headline, by: str) -> pd.DataFrame:
    """(c) The AME of each breadth scale per subsample (level of ``by``) and outcome.

    The ``by`` variable's dummies leave the model (constant within a subsample) and
    categories absent from a subsample are dropped; a model that cannot be estimated is a
    row whose ``problem`` names the error.
    """
    if by not in data.columns:
        raise RobustnessError(f"analysis data lacks the subsample variable '{by}'")
    variables = [v for v in headline.variables(headline.control_blocks) if v != by]
    levels = (list(data[by].cat.categories) if isinstance(data[by].dtype, pd.CategoricalDtype)
              else sorted(data[by].dropna().unique()))
    records = []
    for level in levels:
        subset = data.loc[data[by] == level]
        subset = subset.assign(**{
            v: subset[v].cat.remove_unused_categories() for v in variables
            if v in subset.columns and isinstance(subset[v].dtype, pd.CategoricalDtype)})
        built = regressor_columns(subset, variables)
        for outcome in headline.outcomes:
            record: dict[str, Any] = {SUBSAMPLE_LABELS.get(by, by): str(level),
                                      "Outcome": headline.outcome_label(outcome)}
            md = model_data(subset, outcome, variables, weights=headline.weights,
                            columns=built)
            record["N"] = int(md.complete.sum())
            try:
                _, margins = fit_with_margins(md, headline.main, estimator=headline.estimator,
                                              se_type=headline.se,
                                              model_id=f"subsample {by}={level} ({outcome})")
                values = dict(zip(margins.terms, zip(margins.estimates, margins.std_errors,
                                                     strict=True), strict=True))
                problem = ""
            except EstimationError as err:
                values, problem = {}, error_text(err)
            for term in headline.main:
                estimate, se = values.get(term, (np.nan, np.nan))
                record[f"{headline.label(term)}: AME"] = float(estimate)
                record[f"{headline.label(term)}: SE"] = float(se)
            record["Problem"] = problem
            records.append(record)
    return pd.DataFrame.from_records(records)


def subsample_exhibit(data: pd.DataFrame, headline: Headline, by: str) -> FrameExhibit:
    frame = subsample_frame(data, headline, by)
    failed = int((frame["Problem"] != "").sum())
    label = SUBSAMPLE_LABELS.get(by, by)
    notes = [f"Average marginal effects (delta-method {SE_LABELS[headline.se].lower()} SEs) "
             f"of the headline {headline.estimator} model estimated separately in each "
             f"{label.lower()}, without the {by} dummies; N is the estimation sample.",
             f"{failed} subsample model(s) could not be estimated; 'Problem' names the error "
             "(they are reported, not dropped)." if failed else
             "Every subsample model could be estimated."]
    return FrameExhibit(stem=f"robustness_subsamples_{by}",
                        title=f"Robustness: breadth AMEs by {label.lower()}", frame=frame,
                        notes=tuple(notes))


# --------------------------------------------------------------------------- bootstrap


def breadth_ame_replicate(rng: np.random.Generator, fits: Sequence[FitResult],
                          terms: Sequence[str], contrast: tuple[str, str] | None) -> np.ndarray:
    """One pairs-bootstrap replication: resample each model's firms, refit, AMEs (and the
    contrast). Refits start at the full-sample estimates and skip the covariance."""
    values: list[float] = []
    for fit in fits:
        rows = resampling.resample_indices(rng, fit.nobs)
        design, beta = refit_coefficients(fit, rows)
        ame = dict(zip(terms, ame_estimates(fit, design, beta, terms), strict=True))
        values += [ame[t] for t in terms]
        if contrast:
            values.append(ame[contrast[0]] - ame[contrast[1]])
    return np.array(values)


def breadth_ame_block(rngs: Sequence[np.random.Generator], fits: Sequence[FitResult],
                      terms: Sequence[str], contrast: tuple[str, str] | None
                      ) -> tuple[np.ndarray, list[str]]:
    """A block of replications at once (batched.bootstrap_ames): the same draws and, to
    rounding, the same values as breadth_ame_replicate on each generator; a replication
    failing in any model is NaN with that model's (first) error."""
    # Each generator draws its models' resamples in model order, as breadth_ame_replicate.
    rows = [[resampling.resample_indices(rng, fit.nobs) for fit in fits] for rng in rngs]
    parts, errors = [], [""] * len(rngs)
    for f, fit in enumerate(fits):
        counts = batched.resample_counts([draw[f] for draw in rows], fit.nobs)
        try:
            ames, fit_errors = batched.bootstrap_ames(fit, counts, terms)
        except EstimationError as err:  # e.g. a term not in the model: every replication
            ames = np.full((len(rngs), len(terms)), np.nan)
            fit_errors = [error_text(err)] * len(rngs)
        parts.append(ames)
        if contrast:
            parts.append(ames[:, [terms.index(contrast[0])]]
                         - ames[:, [terms.index(contrast[1])]])
        errors = [e or fe for e, fe in zip(errors, fit_errors, strict=True)]
    values = np.hstack(parts)
    values[[bool(e) for e in errors]] = np.nan
    return values, errors


def bootstrap_frame(data: pd.DataFrame, headline: Headline, reps: int, seed: int,
                    n_jobs: int = -1, level: float = 0.95
                    ) -> tuple[pd.DataFrame, resampling.BootstrapResult]:
    """(e) Pairs-bootstrap intervals of the headline AMEs (and international minus local)."""
    variables = headline.variables(headline.control_blocks)
    built = regressor_columns(data, variables)
    mds = [model_data(data, o, variables, weights=headline.weights, columns=built)
           for o in headline.outcomes]
    contrast = (headline.international, headline.local) if headline.has_difference else None
    names, points, delta_se, fits = [], [], [], []
    for md in mds:
        fit, margins = fit_with_margins(md, headline.main, estimator=headline.estimator,
                                        se_type=headline.se,
                                        model_id=f"bootstrap ({md.outcome})")
        fits.append(fit)
        names += [f"{md.outcome}|{t}" for t in margins.terms]
        points += list(margins.estimates)
        delta_se += list(margins.std_errors)
        if contrast:
            test = wald_test(margins, [{contrast[0]: 1.0, contrast[1]: -1.0}])
            names.append(f"{md.outcome}|{difference_name(headline)}")
            points.append(test.estimate)
            delta_se.append(test.std_error)
    statistic = functools.partial(breadth_ame_block, fits=fits, terms=list(headline.main),
                                  contrast=contrast)
    block = batched.replications_per_block(max(fit.nobs for fit in fits))
    result = resampling.run_bootstrap_batched(
        statistic, names, reps, seed, n_jobs=n_jobs,
        chunk_size=min(resampling.BATCH_CHUNK_SIZE, block))
    intervals = resampling.bootstrap_intervals(result, points, level)
    outcome, term = zip(*(n.split("|", 1) for n in names), strict=True)
    labels = {**{t: headline.label(t) for t in headline.main},
              difference_name(headline): difference_label(headline)}
    frame = pd.DataFrame({
        "Outcome": [headline.outcome_label(o) for o in outcome],
        "Term": [labels[t] for t in term],
        "AME": intervals["estimate"], "Delta-method SE": delta_se,
        "Bootstrap SE": intervals["boot_se"],
        "Percentile lower": intervals["percentile_lower"],
        "Percentile upper": intervals["percentile_upper"],
        "Normal lower": intervals["normal_lower"], "Normal upper": intervals["normal_upper"],
        "Replications": intervals["replications"].astype(int),
        "Failed": intervals["failed"].astype(int)})
    return frame, result


def bootstrap_exhibit(frame: pd.DataFrame, result: resampling.BootstrapResult,
                      headline: Headline, level: float) -> FrameExhibit:
    pct = f"{level:.0%}"
    notes = [f"Pairs bootstrap (firms resampled with replacement within each model's "
             f"estimation sample), {result.reps} replications, seed {result.seed}; "
             f"replication r draws from numpy SeedSequence({result.seed}, spawn_key=(r,)), so "
             "the results do not depend on the number of parallel workers.",
             f"{pct} percentile interval: quantiles of the replicates; {pct} normal interval: "
             "AME +- z x bootstrap SE. Delta-method SEs: "
             f"{SE_LABELS[headline.se].lower()}."]
    notes += [result.failure_summary()] if result.failed else []
    return FrameExhibit(stem="robustness_bootstrap",
                        title="Robustness: bootstrap intervals for the breadth AMEs",
                        frame=frame, notes=tuple(notes))


# --------------------------------------------------------------------------- spec curve


@dataclass(frozen=True)
class CurveSpec:
    """One specification: outcome, estimator and the control blocks included."""

    outcome: str
    estimator: str
    blocks: tuple[str, ...]


def block_subsets(blocks: Sequence[str]) -> list[tuple[str, ...]]:
    """Every subset of ``blocks`` (the empty one first), by size, in the given order."""
    return [combo for size in range(len(blocks) + 1)
            for combo in itertools.combinations(blocks, size)]


def curve_specifications(outcomes: Sequence[str], estimators: Sequence[str],
                         blocks: Sequence[str]) -> list[CurveSpec]:
    """Outcomes x estimators x every subset of the control blocks (2^len(blocks) each)."""
    return [CurveSpec(o, e, subset) for o in outcomes for e in estimators
            for subset in block_subsets(blocks)]


def curve_point(md: ModelData, headline: Headline, spec: CurveSpec,
                nobs: int) -> dict[str, Any]:
    """The international-minus-local AME of one specification (delta method), or its error;
    ``md`` holds the specification's outcome and regressors, ``nobs`` its estimation sample
    size."""
    row: dict[str, Any] = {"outcome": spec.outcome, "estimator": spec.estimator,
                           "blocks": spec.blocks, "nobs": nobs}
    try:
        _, margins = fit_with_margins(
            md, [headline.international, headline.local], estimator=spec.estimator,
            se_type=headline.se, model_id=f"curve {spec.outcome}/{spec.estimator}/"
            f"{'+'.join(spec.blocks) or 'no controls'}")
        test = wald_test(margins, [{headline.international: 1.0, headline.local: -1.0}],
                         test_id="international_minus_local")
    except EstimationError as err:
        return {**row, "estimate": np.nan, "std_error": np.nan, "ci_lower": np.nan,
                "ci_upper": np.nan, "p_value": np.nan, "problem": error_text(err)}
    return {**row, "estimate": test.estimate, "std_error": test.std_error,
            "ci_lower": test.ci_lower, "ci_upper": test.ci_upper, "p_value": test.p_value,
            "problem": ""}


def _curve_chunk(data: pd.DataFrame, headline: Headline, columns: Design,
                 specs: Sequence[CurveSpec]) -> list[dict[str, Any]]:
    # One model frame per outcome with every curve regressor; a specification uses its
    # columns only (the fits and the estimation sample look at the named columns only),
    # and its sample size comes from one missing-value matrix per outcome.
    every = headline.variables(headline.curve_blocks)
    full: dict[str, tuple[ModelData, np.ndarray, np.ndarray]] = {}
    rows = []
    for spec in specs:
        if spec.outcome not in full:
            md = model_data(data, spec.outcome, every, weights=headline.weights,
                            columns=columns)
            outcome_rows = dataclasses.replace(md, terms=()).complete.to_numpy(bool)
            full[spec.outcome] = md, md.frame.notna().to_numpy(), outcome_rows
        md, observed, outcome_rows = full[spec.outcome]
        terms = tuple(c for v in headline.variables(spec.blocks) for c in columns.columns_of[v])
        complete = outcome_rows & observed[:, md.frame.columns.get_indexer(terms)].all(axis=1)
        rows.append(curve_point(dataclasses.replace(md, terms=terms), headline, spec,
                                nobs=int(complete.sum())))
    return rows


def specification_curve(data: pd.DataFrame, headline: Headline,
                        estimators: Sequence[str] = BINARY_ESTIMATORS,
                        n_jobs: int = -1, chunk_size: int = 12) -> pd.DataFrame:
    """(f) Every specification's contrast, sorted by estimate (failures last), ranked 1..n.

    Columns: rank, outcome, estimator, controls, estimate, std_error, ci_lower, ci_upper,
    p_value, nobs, problem, then one boolean column per control block ("block:<name>").
    The specifications run in forked workers (resampling.run_forked). Measured 2026-11-22
    on 2 cores, 144 specifications: in process 1.34 s, 2 forked workers 0.79 s, 2 threads
    1.4 s (the work holds the GIL), 2 loky workers 8.4 s (start-up imports).
    """
    if not headline.has_difference:
        raise RobustnessError(f"the specification curve needs both {headline.international!r} "
                              f"and {headline.local!r}, and the data lack "
                              f"{', '.join(headline.unavailable) or 'one of them'}")
    specs = curve_specifications(headline.outcomes, estimators, headline.curve_blocks)
    # Forked workers inherit the data: nothing is pickled on the way in.
    columns = regressor_columns(data, headline.variables(headline.curve_blocks))
    tasks = [(data, headline, columns, specs[i:i + chunk_size])
             for i in range(0, len(specs), chunk_size)]
    rows = [r for part in resampling.run_forked(_curve_chunk, tasks, n_jobs) for r in part]
    frame = pd.DataFrame.from_records(rows)
    frame["order"] = np.arange(len(frame))
    frame["failed"] = frame["problem"] != ""
    frame = frame.sort_values(["failed", "estimate", "order"], kind="mergesort")
    frame["rank"] = np.arange(1, len(frame) + 1)
    frame["controls"] = [" + ".join(b) if b else "none" for b in frame["blocks"]]
    for block in headline.curve_blocks:
        frame[f"block:{block}"] = [block in b for b in frame["blocks"]]
    return frame[CURVE_COLUMNS + [f"block:{b}" for b in headline.curve_blocks]].reset_index(
        drop=True)


def curve_summary(curve: pd.DataFrame) -> str:
    """One sentence: how many specifications, positive, significant, median."""
    ok = curve[curve["problem"] == ""]
    if ok.empty:
        return "No specification could be estimated."
    positive = int((ok["estimate"] > 0).sum())
    significant = int((ok["ci_lower"] > 0).sum())
    return (f"{len(ok)} of {len(curve)} specifications estimated; the international-minus-"
            f"local AME is positive in {positive} and its 95% CI lies above zero in "
            f"{significant}; median {ok['estimate'].median():.4f} (range "
            f"{ok['estimate'].min():.4f} to {ok['estimate'].max():.4f}).")


def curve_table(curve: pd.DataFrame, headline: Headline) -> pd.DataFrame:
    """The curve frame with display labels (the CSV keeps every number at full precision)."""
    out = curve.drop(columns=[c for c in curve.columns if c.startswith("block:")])
    out = out.assign(outcome=[headline.outcome_label(o) for o in out["outcome"]],
                     estimator=[ESTIMATOR_LABELS.get(e, e) for e in out["estimator"]])
    for block in headline.curve_blocks:
        out[f"Controls: {block}"] = curve[f"block:{block}"].to_numpy()
    return out.rename(columns={"rank": "Rank", "outcome": "Outcome", "estimator": "Estimator",
                               "controls": "Control blocks", "estimate": "Intl - local AME",
                               "std_error": "SE", "ci_lower": "CI lower",
                               "ci_upper": "CI upper", "p_value": "p-value", "nobs": "N",
                               "problem": "Problem"})


def curve_indicators(curve: pd.DataFrame, headline: Headline) -> dict[str, np.ndarray]:
    """Row label -> which specifications (in curve order) use that choice."""
    rows: dict[str, np.ndarray] = {}
    for outcome in headline.outcomes:
        rows[f"Outcome: {headline.outcome_label(outcome)}"] = (
            curve[OUTCOME_FIELD] == outcome).to_numpy()
    for estimator in dict.fromkeys(curve["estimator"]):
        rows[f"Estimator: {ESTIMATOR_LABELS.get(estimator, estimator)}"] = (
            curve["estimator"] == estimator).to_numpy()
    for block in headline.curve_blocks:
        rows[f"Controls: {block}"] = curve[f"block:{block}"].to_numpy(bool)
    return rows


def plot_specification_curve(curve: pd.DataFrame, indicators: Mapping[str, np.ndarray], *,
                             ylabel: str, note: str | None = None,
                             title: str | None = None) -> Figure:
    """Sorted estimates with 95% CIs (top) over an indicator panel of the choices (bottom).

    ``curve``: estimate, ci_lower, ci_upper in plotting order (failed specifications
    removed); ``indicators``: row label -> boolean mask over those specifications. Points
    whose CI excludes zero are black, the others grey.
    """
    n = len(curve)
    x = np.arange(1, n + 1)
    estimate = curve["estimate"].to_numpy(float)
    lower, upper = curve["ci_lower"].to_numpy(float), curve["ci_upper"].to_numpy(float)
    significant = (lower > 0) | (upper < 0)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from analysis.exhibits.figures import figure_style

    with figure_style():
        figure = Figure(figsize=(7.5, 6.0), layout="constrained")
        FigureCanvasAgg(figure)
        if note:
            figure.get_layout_engine().set(rect=(0, 0.06, 1, 0.94))
            figure.text(0.01, 0.01, note, ha="left", va="bottom", fontsize=6, color="0.25",
                        wrap=True)
        top, bottom = figure.subplots(2, 1, sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
        top.axhline(0.0, color="0.5", linewidth=0.8, linestyle="--")
        for mask, colour in ((significant, "black"), (~significant, "0.6")):
            if mask.any():
                top.errorbar(x[mask], estimate[mask],
                             yerr=[estimate[mask] - lower[mask], upper[mask] - estimate[mask]],
                             fmt="o", color=colour, markersize=2.5, elinewidth=0.7,
                             linewidth=0, gid="estimates")
        top.set_ylabel(ylabel)
        top.text(0.01, 0.98, "black: 95% CI excludes zero; grey: includes zero",
                 transform=top.transAxes, ha="left", va="top", fontsize=7, color="0.3")
        if title:
            top.set_title(title)
        labels = list(indicators)
        for i, label in enumerate(labels):
            mask = np.asarray(indicators[label], dtype=bool)
            y = len(labels) - 1 - i
            bottom.scatter(x[mask], np.full(mask.sum(), y), marker="|", s=30, color="black",
                           linewidths=0.8)
        bottom.set_yticks(np.arange(len(labels))[::-1], labels)
        bottom.set_ylim(-0.6, len(labels) - 0.4)
        bottom.set_xlim(0.0, n + 1.0)
        bottom.set_xlabel("Specification (sorted by estimate)")
        bottom.tick_params(axis="y", length=0, labelsize=7)
    return figure


def placeholder_figure(message: str) -> Figure:
    """A figure holding only ``message`` (when the curve cannot be drawn)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from analysis.exhibits.figures import figure_style

    with figure_style():
        figure = Figure(figsize=(7.5, 2.0))
        FigureCanvasAgg(figure)
        figure.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    return figure


# --------------------------------------------------------------------------- all at once


def _attempt(analysis: Callable[[], Any]) -> Any:
    """The analysis' result, or the RobustnessError it raised (returned, to be handled by
    the caller like the other results, instead of stopping the other analyses)."""
    try:
        return analysis()
    except RobustnessError as err:
        return err


def _curve_with_figure(data: pd.DataFrame, headline: Headline, estimators: Sequence[str],
                       n_jobs: int, figure: Callable[[pd.DataFrame], Any]
                       ) -> tuple[pd.DataFrame, Any]:
    curve = specification_curve(data, headline, estimators, n_jobs)
    return curve, figure(curve)


def run_analyses(data: pd.DataFrame, headline: Headline, settings: RobustnessConfig,
                 seed: int, curve_figure: Callable[[pd.DataFrame], Any] | None = None
                 ) -> dict[str, Any]:
    """Every analysis of the step, side by side on the cores (forked workers).

    Keys: "estimators", "clustered_se", "manager", "subsample:<by>" (FrameExhibit),
    "bootstrap" ((frame, BootstrapResult)) and "curve" (frame); a value is the
    RobustnessError of an analysis that could not run. The longest analyses go first so
    that two workers finish together; inside a worker the curve and the bootstrap run in
    process on one thread (resampling.run_parallel), so the results equal those of a
    sequential run.
    ``curve_figure``: applied to the curve in the curve's worker (e.g. rendering its
    figure, which then overlaps the bootstrap); its result is under "curve_figure" (None
    when the curve could not be computed).
    """
    curve: Callable[[], Any] = functools.partial(
        specification_curve, data, headline, settings.curve_estimators, settings.n_jobs)
    if curve_figure is not None:
        curve = functools.partial(_curve_with_figure, data, headline,
                                  settings.curve_estimators, settings.n_jobs, curve_figure)
    analyses: dict[str, Callable[[], Any]] = {
        "curve": curve,
        "bootstrap": functools.partial(bootstrap_frame, data, headline,
                                       settings.bootstrap_reps, seed, settings.n_jobs,
                                       settings.bootstrap_level),
        **{f"subsample:{by}": functools.partial(subsample_exhibit, data, headline, by)
           for by in settings.subsample_by},
        "manager": functools.partial(manager_comparison, data, headline,
                                     settings.manager_block),
        "estimators": functools.partial(estimator_comparison, data, headline,
                                        settings.estimators),
        "clustered_se": functools.partial(se_comparison, data, headline, settings.cluster),
    }
    results = resampling.run_forked(_attempt, [(a,) for a in analyses.values()],
                                    settings.n_jobs)
    out = dict(zip(analyses, results, strict=True))
    if curve_figure is not None:
        out["curve"], out["curve_figure"] = ((out["curve"], None)
                                             if isinstance(out["curve"], RobustnessError)
                                             else out["curve"])
    return out
