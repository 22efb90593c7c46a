"""Frequency weights (Stata ``[fw=]``): a row with weight w is w identical observations.

The known answer is the definition: every estimate, cut point and standard error (OIM,
robust and clustered), the log likelihood and N equal those of the data with each row
repeated w times. Cell data (one row per combination of values, with its count) are the
case where this matters: with the counts as probability weights the SEs are several times
too large.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import SpecificationError
from analysis.models.estimation import average_marginal_effects, fit_model, wald_test

REGRESSORS = ["x", "d"]


@pytest.fixture(scope="module")
def cells() -> pd.DataFrame:
    """Cell data: 3 outcome levels x x in 0..4 x d in 0/1, with counts and a cluster id."""
    rng = np.random.default_rng(11)
    grid = pd.MultiIndex.from_product([[0.0, 1.0, 2.0], np.arange(5.0), [0.0, 1.0]],
                                      names=["y_ord", "x", "d"]).to_frame(index=False)
    grid["n"] = rng.integers(1, 40, size=len(grid)).astype(float)
    grid["y"] = (grid["y_ord"] >= 1).astype(float)
    grid["g"] = np.arange(len(grid)) % 7
    return grid


def expanded(data: pd.DataFrame) -> pd.DataFrame:
    return data.loc[data.index.repeat(data["n"].astype(int))].reset_index(drop=True)


@pytest.mark.parametrize("estimator", ["ologit", "oprobit", "logit", "probit", "lpm"])
@pytest.mark.parametrize("se_type", ["nonrobust", "robust", "cluster"])
def test_weighted_cells_equal_the_expanded_rows(cells, estimator, se_type):
    outcome = "y_ord" if estimator in ("ologit", "oprobit") else "y"
    cluster = "g" if se_type == "cluster" else None
    weighted = fit_model(cells, outcome, REGRESSORS, estimator=estimator, se_type=se_type,
                         cluster=cluster, weights="n", weight_type="fweight")
    rows = fit_model(expanded(cells), outcome, REGRESSORS, estimator=estimator,
                     se_type=se_type, cluster=cluster)
    np.testing.assert_allclose(weighted.params, rows.params, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(weighted.bse, rows.bse, rtol=1e-8, atol=1e-12)
    assert weighted.nobs == rows.nobs == int(cells["n"].sum())
    assert weighted.llf == pytest.approx(rows.llf, rel=1e-10)
    assert weighted.bic == pytest.approx(rows.bic, rel=1e-10)
    assert weighted.df_resid == rows.df_resid
    ame_w = average_marginal_effects(weighted, binary=["d"])
    ame_r = average_marginal_effects(rows, binary=["d"])
    np.testing.assert_allclose(ame_w.estimates, ame_r.estimates, rtol=1e-8)
    np.testing.assert_allclose(ame_w.std_errors, ame_r.std_errors, rtol=1e-7)


def test_ordered_logit_on_cells_known_answer(cells):
    """The issue's known answer: coefficients, cut points and OIM SEs to 1e-8."""
    weighted = fit_model(cells, "y_ord", REGRESSORS, estimator="ologit", se_type="nonrobust",
                         weights="n", weight_type="fweight")
    rows = fit_model(expanded(cells), "y_ord", REGRESSORS, estimator="ologit",
                     se_type="nonrobust")
    assert list(weighted.params.index) == ["x", "d", "cut0|1", "cut1|2"]
    np.testing.assert_allclose(weighted.params, rows.params, atol=1e-8)
    np.testing.assert_allclose(weighted.bse, rows.bse, atol=1e-8)


def test_counts_as_probability_weights_give_other_ses(cells):
    """Why frequency weights exist: pweights treat each cell as one sampled unit."""
    fw = fit_model(cells, "y", REGRESSORS, weights="n", weight_type="fweight")
    pw = fit_model(cells, "y", REGRESSORS, weights="n", weight_type="pweight")
    np.testing.assert_allclose(fw.params, pw.params, rtol=1e-10)
    assert (pw.bse / fw.bse).min() > 2.0
    assert pw.nobs == len(cells) and fw.nobs == int(cells["n"].sum())


def test_small_sample_tests_after_a_frequency_weighted_lpm(cells):
    weighted = fit_model(cells, "y", REGRESSORS, estimator="lpm", weights="n",
                         weight_type="fweight")
    rows = fit_model(expanded(cells), "y", REGRESSORS, estimator="lpm")
    a = wald_test(weighted, [{"x": 1.0}, {"d": 1.0}])
    b = wald_test(rows, [{"x": 1.0}, {"d": 1.0}])
    assert a.df_denom == b.df_denom == cells["n"].sum() - 3
    assert a.statistic == pytest.approx(b.statistic, rel=1e-8)


def test_frequency_weights_must_count(cells):
    bad = cells.assign(n=cells["n"] + 0.5)
    with pytest.raises(SpecificationError, match="non-integer value .* frequency weight"):
        fit_model(bad, "y", REGRESSORS, weights="n", weight_type="fweight")
    with pytest.raises(SpecificationError, match="unknown weight_type 'aweight'"):
        fit_model(cells, "y", REGRESSORS, weights="n", weight_type="aweight")
    # probability weights still refuse the inverse information
    with pytest.raises(SpecificationError, match="need se_type 'robust' or 'cluster'"):
        fit_model(cells, "y", REGRESSORS, weights="n", se_type="nonrobust")
