"""Batched bootstrap refits (analysis.models.estimation.batched) against the per-replication path
(refit_coefficients + ame_estimates) on the same resamples: values and failure kinds."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from simulated import firms

from analysis.errors import (
    ModelError,
    SpecificationError,
)
from analysis.models import resampling
from analysis.models.estimation import ame_estimates, fit_model, refit_coefficients
from analysis.models.estimation.batched import bootstrap_ames, resample_counts

REGRESSORS = ["x1", "x2", "d", "f_b", "f_c"]
FACTOR = [["f_b", "f_c"]]
TERMS = ["x1", "d", "f_b"]


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return firms(300, seed=11, weights="uniform")


def per_replication(fit, rows_list):
    """The reference: refit_coefficients + ame_estimates per resample (NaN, error name)."""
    values, kinds = [], []
    for rows in rows_list:
        try:
            design, beta = refit_coefficients(fit, rows)
            values.append(ame_estimates(fit, design, beta, TERMS, binary=["d"],
                                        factor_groups=FACTOR))
            kinds.append("")
        except Exception as err:  # noqa: BLE001  (compared by kind below)
            values.append(np.full(len(TERMS), np.nan))
            kinds.append(type(err).__name__)
    return np.array(values), kinds


def resamples(n: int, reps: int, seed: int = 5) -> list[np.ndarray]:
    return [resampling.resample_indices(resampling.replication_rng(seed, r), n)
            for r in range(reps)]


@pytest.mark.parametrize("estimator", ["logit", "probit", "lpm"])
@pytest.mark.parametrize("weighted", [False, True])
def test_batched_equals_per_replication(sim, estimator, weighted):
    fit = fit_model(sim, "y", REGRESSORS, estimator=estimator,
                    weights="w" if weighted else None)
    rows = resamples(fit.nobs, 50)
    got, errors = bootstrap_ames(fit, resample_counts(rows, fit.nobs), TERMS, binary=["d"],
                                 factor_groups=FACTOR)
    expected, kinds = per_replication(fit, rows)
    assert errors == [""] * 50 and kinds == [""] * 50
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)
    assert np.ptp(got, axis=0).min() > 1e-4  # the replications really differ


def crafted_failures(sim, fit) -> dict[str, np.ndarray]:
    """Resamples that fail the per-replication path, by the error kind expected."""
    y, f_c = sim["y"].to_numpy(), sim["f_c"].to_numpy()
    d = sim["d"].to_numpy()
    rng = np.random.default_rng(1)
    no_c = np.flatnonzero(f_c == 0)  # category c never drawn: constant regressor
    ones = np.flatnonzero(y == 1)  # outcome without variation
    # d = 1 only among firms with y = 1: d predicts success perfectly (separation)
    separated = np.flatnonzero((d == 0) | (y == 1))
    return {
        "CollinearityError": rng.choice(no_c, fit.nobs),
        "EmptyCellError": rng.choice(ones, fit.nobs),
        "PerfectSeparationError": rng.choice(separated, fit.nobs),
    }


@pytest.mark.parametrize("estimator", ["logit", "lpm"])
def test_failures_have_the_per_replication_error_kind(sim, estimator):
    fit = fit_model(sim, "y", REGRESSORS, estimator=estimator)
    crafted = crafted_failures(sim, fit)
    if estimator == "lpm":  # no separation check for the linear model
        crafted.pop("PerfectSeparationError")
    good = resamples(fit.nobs, 6)
    rows = [good[0], *crafted.values(), *good[1:]]
    got, errors = bootstrap_ames(fit, resample_counts(rows, fit.nobs), TERMS, binary=["d"],
                                 factor_groups=FACTOR)
    expected, kinds = per_replication(fit, rows)
    assert [e.split(":", 1)[0] for e in errors] == kinds
    assert kinds[1:1 + len(crafted)] == list(crafted)
    for error in errors[1:1 + len(crafted)]:
        assert f"model {fit.model_id!r}" in error
    assert "f_c" in errors[1]  # names the term
    failed = np.array([bool(k) for k in kinds])
    assert np.isnan(got[failed]).all()
    # the others in the block are unaffected
    np.testing.assert_allclose(got[~failed], expected[~failed], rtol=1e-8, atol=1e-10)
    alone, _ = bootstrap_ames(fit, resample_counts(good, fit.nobs), TERMS, binary=["d"],
                              factor_groups=FACTOR)
    np.testing.assert_allclose(got[~failed], alone, rtol=1e-12, atol=1e-14)


def test_bad_counts_and_ordered_logit_are_named_errors(sim):
    fit = fit_model(sim, "y", REGRESSORS)
    with pytest.raises(SpecificationError, match="R x 300"):
        bootstrap_ames(fit, np.ones((2, 10)), TERMS)
    with pytest.raises(SpecificationError, match="non-negative integers"):
        bootstrap_ames(fit, np.full((2, 300), 0.5), TERMS)
    data = sim.assign(y3=sim["y"] + (sim["x1"] > 1))
    ologit = fit_model(data, "y3", REGRESSORS, estimator="ologit")
    with pytest.raises(SpecificationError, match="not batched"):
        bootstrap_ames(ologit, np.ones((2, 300)), TERMS)


def block_statistic(rngs, fit):
    """Module-level batched statistic for the runner (one resample per generator)."""
    rows = [resampling.resample_indices(rng, fit.nobs) for rng in rngs]
    return bootstrap_ames(fit, resample_counts(rows, fit.nobs), TERMS, binary=["d"],
                          factor_groups=FACTOR)


def test_batched_runner_independent_of_workers_and_equal_to_run_bootstrap(sim):
    backend = "threading"  # the production backend (loky: same code path, 6 s of start-up)
    fit = fit_model(sim, "y", REGRESSORS)
    stat = functools.partial(block_statistic, fit=fit)
    one = resampling.run_bootstrap_batched(stat, TERMS, 20, seed=3, n_jobs=1, chunk_size=6,
                                           backend=backend)
    two = resampling.run_bootstrap_batched(stat, TERMS, 20, seed=3, n_jobs=2, chunk_size=6,
                                           backend=backend)
    np.testing.assert_array_equal(one.replicates, two.replicates)
    assert one.errors == two.errors == ("",) * 20

    def single(rng):
        design, beta = refit_coefficients(fit, resampling.resample_indices(rng, fit.nobs))
        return ame_estimates(fit, design, beta, TERMS, binary=["d"], factor_groups=FACTOR)
    reference = resampling.run_bootstrap(single, TERMS, 20, seed=3, n_jobs=1)
    np.testing.assert_allclose(one.replicates, reference.replicates, rtol=1e-10, atol=1e-12)


def test_batched_runner_records_failures_and_checks_shapes():
    def stat(rngs):
        u = np.array([[rng.random()] for rng in rngs])
        return u, ["EmptyCellError: x" if v < 0.5 else "" for v in u[:, 0]]
    result = resampling.run_bootstrap_batched(stat, ["u"], 15, seed=2, n_jobs=1, chunk_size=4)
    failed = np.array([bool(e) for e in result.errors])
    assert 0 < failed.sum() < 15
    assert np.isnan(result.replicates[failed]).all()
    assert (result.replicates[~failed] >= 0.5).all()
    with pytest.raises(ModelError, match="expected"):
        resampling.run_bootstrap_batched(lambda rngs: (np.zeros((len(rngs), 2)), [""] * len(rngs)),
                                         ["u"], 5, seed=2, n_jobs=1)
