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

import functools
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import EstimationError, RobustnessError
from analysis.models import resampling
from analysis.models.estimation import (
    FitResult,
    ame_estimates,
    batched,
    ratio,
    refit_coefficients,
    tidy,
    wald_test,
)
from analysis.models.headline import (
    ESTIMATOR_LABELS,
    Headline,
    difference_label,
    difference_name,
    error_text,
    fit_with_margins,
    model_data,
    ratio_label,
    ratio_name,
    regressor_columns,
)
from analysis.models.robustness_config import BINARY_ESTIMATORS, RobustnessConfig
from analysis.models.specification_curve import specification_curve
from analysis.parallel import run_forked

SE_LABELS = {"robust": "Robust", "cluster": "Clustered", "nonrobust": "Conventional"}


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
                     prefix: str, weights: str | None = None, weight_type: str = "pweight"
                     ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Fit every column; C1 rows (ame + fit) of those that worked, their ids, and failures.

    ``weights``: the weight column of weighted models (None: unweighted), of kind
    ``weight_type``."""
    frames, ids, failures = [], [], []
    built = regressor_columns(data, [v for col in columns for v in col.variables])
    for col in columns:
        subset = data if col.rows is None else data.loc[col.rows]
        model_id = f"{prefix}__{col.outcome}__{col.key}"
        md = model_data(subset, col.outcome, col.variables,
                        col.cluster if col.se_type == "cluster" else None, weights, built,
                        weight_type)
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
                                                headline.weights, headline.weight_type)
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
    words = cluster_words(headline, cluster)
    notes = [f"Average marginal effects of the headline {headline.estimator} models; standard "
             f"errors robust to heteroskedasticity, or clustered by {words} (Stata "
             f"vce(cluster {cluster})); the point estimates are identical."]
    return _comparison(data, headline, columns, "robustness_clustered_se",
                       f"Robustness: robust versus clustered standard errors (clusters: "
                       f"{words})", notes, fit_rows=("nobs", "n_clusters"))


def cluster_words(headline: Headline, cluster: str) -> str:
    """The clusters in words: "city-region x sector group cells" for the region-sector
    cells, else the variable's label (its name when it has none)."""
    if cluster == "region_sector":
        return " x ".join(headline.subsample_labels.get(v, v).lower()
                          for v in ("region", "sector")) + " cells"
    return headline.labels.get(cluster, cluster)


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
        same = model_data(data, o, v_with, weights=headline.weights,
                          weight_type=headline.weight_type, columns=built).complete
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
    row whose ``problem`` names the error. A dummy that predicts the outcome perfectly in a
    subsample is dropped with the firms it determines (Stata's rule); the frame's
    ``attrs["notes"]`` say which, and N counts the firms used.
    """
    if by not in data.columns:
        raise RobustnessError(f"analysis data lacks the subsample variable '{by}'")
    variables = [v for v in headline.variables(headline.control_blocks) if v != by]
    levels = (list(data[by].cat.categories) if isinstance(data[by].dtype, pd.CategoricalDtype)
              else sorted(data[by].dropna().unique()))
    records, notes = [], []
    for level in levels:
        subset = data.loc[data[by] == level]
        subset = subset.assign(**{
            v: subset[v].cat.remove_unused_categories() for v in variables
            if v in subset.columns and isinstance(subset[v].dtype, pd.CategoricalDtype)})
        built = regressor_columns(subset, variables)
        for outcome in headline.outcomes:
            record: dict[str, Any] = {headline.subsample_labels.get(by, by): str(level),
                                      "Outcome": headline.outcome_label(outcome)}
            md = model_data(subset, outcome, variables, weights=headline.weights,
                            weight_type=headline.weight_type,
                            columns=built)
            record["N"] = int(md.complete.sum())
            try:
                fit, margins = fit_with_margins(md, headline.main, estimator=headline.estimator,
                                                se_type=headline.se,
                                                model_id=f"subsample {by}={level} ({outcome})")
                values = dict(zip(margins.terms, zip(margins.estimates, margins.std_errors,
                                                     strict=True), strict=True))
                problem = ""
                record["N"] = int(fit.nobs)
                notes += [f"{level}, {headline.outcome_label(outcome)}: {d.note} (Stata's rule "
                          "for perfect prediction)." for d in fit.perfect_prediction]
            except EstimationError as err:
                values, problem = {}, error_text(err)
            for term in headline.main:
                estimate, se = values.get(term, (np.nan, np.nan))
                record[f"{headline.label(term)}: AME"] = float(estimate)
                record[f"{headline.label(term)}: SE"] = float(se)
            record["Problem"] = problem
            records.append(record)
    frame = pd.DataFrame.from_records(records)
    frame.attrs["notes"] = notes
    return frame


def subsample_exhibit(data: pd.DataFrame, headline: Headline, by: str) -> FrameExhibit:
    frame = subsample_frame(data, headline, by)
    failed = int((frame["Problem"] != "").sum())
    label = headline.subsample_labels.get(by, by)
    notes = [f"Average marginal effects (delta-method {SE_LABELS[headline.se].lower()} SEs) "
             f"of the headline {headline.estimator} model estimated separately in each "
             f"{label.lower()}, without the {by} dummies; N is the estimation sample.",
             f"{failed} subsample model(s) could not be estimated; 'Problem' names the error "
             "(they are reported, not dropped)." if failed else
             "Every subsample model could be estimated."]
    notes += frame.attrs.get("notes", [])
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
        rows = resampling.resample_indices(rng, fit.design.nobs)
        design, beta = refit_coefficients(fit, rows)
        ame = dict(zip(terms, ame_estimates(fit, design, beta, terms), strict=True))
        values += [ame[t] for t in terms]
        if contrast:
            values.append(ame[contrast[0]] - ame[contrast[1]])
            values.append(ame[contrast[0]] / ame[contrast[1]])
    return np.array(values)


def breadth_ame_block(rngs: Sequence[np.random.Generator], fits: Sequence[FitResult],
                      terms: Sequence[str], contrast: tuple[str, str] | None
                      ) -> tuple[np.ndarray, list[str]]:
    """A block of replications at once (batched.bootstrap_ames): the same draws and, to
    rounding, the same values as breadth_ame_replicate on each generator; a replication
    failing in any model is NaN with that model's (first) error."""
    # Each generator draws its models' resamples in model order, as breadth_ame_replicate.
    rows = [[resampling.resample_indices(rng, fit.design.nobs) for fit in fits] for rng in rngs]
    parts, errors = [], [""] * len(rngs)
    for f, fit in enumerate(fits):
        counts = batched.resample_counts([draw[f] for draw in rows], fit.design.nobs)
        try:
            ames, fit_errors = batched.bootstrap_ames(fit, counts, terms)
        except EstimationError as err:  # e.g. a term not in the model: every replication
            ames = np.full((len(rngs), len(terms)), np.nan)
            fit_errors = [error_text(err)] * len(rngs)
        parts.append(ames)
        if contrast:
            intl, local = ames[:, [terms.index(contrast[0])]], ames[:, [terms.index(contrast[1])]]
            parts += [intl - local, intl / local]
        errors = [e or fe for e, fe in zip(errors, fit_errors, strict=True)]
    values = np.hstack(parts)
    values[[bool(e) for e in errors]] = np.nan
    return values, errors


def bootstrap_frame(data: pd.DataFrame, headline: Headline, reps: int, seed: int,
                    n_jobs: int = -1, level: float = 0.95
                    ) -> tuple[pd.DataFrame, resampling.BootstrapResult]:
    """(e) Pairs-bootstrap intervals of the headline AMEs, and of international minus local
    and international over local (the percentile interval of the ratio, beside its Fieller
    set in estimates.csv)."""
    if headline.weights and headline.weight_type == "fweight":
        raise RobustnessError("the pairs bootstrap resamples rows, and with frequency weights "
                              "a row is several firms: expand the data to bootstrap them")
    variables = headline.variables(headline.control_blocks)
    built = regressor_columns(data, variables)
    mds = [model_data(data, o, variables, weights=headline.weights,
                      weight_type=headline.weight_type, columns=built)
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
            quotient = ratio(margins, contrast[0], contrast[1]).delta
            names.append(f"{md.outcome}|{ratio_name(headline)}")
            points.append(quotient.estimate)
            delta_se.append(quotient.std_error)
    statistic = functools.partial(breadth_ame_block, fits=fits, terms=list(headline.main),
                                  contrast=contrast)
    block = batched.replications_per_block(max(fit.nobs for fit in fits))
    result = resampling.run_bootstrap_batched(
        statistic, names, reps, seed, n_jobs=n_jobs,
        chunk_size=min(resampling.BATCH_CHUNK_SIZE, block))
    intervals = resampling.bootstrap_intervals(result, points, level)
    outcome, term = zip(*(n.split("|", 1) for n in names), strict=True)
    labels = {**{t: headline.label(t) for t in headline.main},
              difference_name(headline): difference_label(headline),
              ratio_name(headline): ratio_label(headline)}
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
    if headline.has_difference:
        notes.append("The ratio rows (international over local AME) are there for their "
                     "percentile interval; a ratio whose denominator is near zero has no "
                     "useful SE or normal interval. Its Fieller confidence set is in "
                     "output/estimates/estimates.csv (test rows of the ratio).")
    notes += [result.failure_summary()] if result.failed else []
    return FrameExhibit(stem="robustness_bootstrap",
                        title="Robustness: bootstrap intervals for the breadth AMEs",
                        frame=frame, notes=tuple(notes))


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
    names = list(analyses)
    print(f"  robustness: running {len(names)} analyses ({', '.join(names)})",
          file=sys.stderr, flush=True)
    finished: list[str] = []

    def done(index: int) -> None:  # progress on stderr, never part of an output
        finished.append(names[index])
        print(f"  robustness: {names[index]} done ({len(finished)}/{len(names)})",
              file=sys.stderr, flush=True)

    results = run_forked(_attempt, [(a,) for a in analyses.values()], settings.n_jobs,
                         on_done=done)
    out = dict(zip(analyses, results, strict=True))
    if curve_figure is not None:
        out["curve"], out["curve_figure"] = ((out["curve"], None)
                                             if isinstance(out["curve"], RobustnessError)
                                             else out["curve"])
    return out
