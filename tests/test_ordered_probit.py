"""Ordered probit (Stata ``oprobit``, R ``MASS::polr(method = "probit")``).

Known answer: the UCLA ordered-logit example data (tests/data/ucla_ologit.csv, provenance in
tests/data/README.md), fitted by R 4.x ``polr(apply ~ pared + public + gpa, method =
"probit", Hess = TRUE)``: coefficients 0.59811, 0.01016, 0.35815; thresholds 1.2968, 2.5028
(R's printed output; its optimiser stops earlier than our Newton, hence 1e-3), standard
errors 0.15786, 0.17283, 0.15676, 0.46752, 0.47657 (from its numerical Hessian).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from simulated import firms

from analysis.models.estimation import (
    average_marginal_effects,
    fit_model,
    ordered_ames_by_category,
    predictions,
    tidy,
)

DATA = Path(__file__).resolve().parent / "data" / "ucla_ologit.csv"
LEVELS = {"unlikely": 0.0, "somewhat likely": 1.0, "very likely": 2.0}
POLR_PROBIT = {"pared": 0.59811, "public": 0.01016, "gpa": 0.35815,
               "cut0|1": 1.2968, "cut1|2": 2.5028}
POLR_PROBIT_SE = {"pared": 0.15786, "public": 0.17283, "gpa": 0.15676,
                  "cut0|1": 0.46752, "cut1|2": 0.47657}


@pytest.fixture(scope="module")
def ucla() -> pd.DataFrame:
    data = pd.read_csv(DATA)
    assert len(data) == 400
    return data.assign(y=data["apply"].map(LEVELS))


def test_polr_probit_on_the_ucla_data(ucla):
    fit = fit_model(ucla, "y", ["pared", "public", "gpa"], estimator="oprobit",
                    se_type="nonrobust")
    for name, value in POLR_PROBIT.items():
        assert fit.params[name] == pytest.approx(value, abs=1e-3), name
        assert fit.bse[name] == pytest.approx(POLR_PROBIT_SE[name], abs=1e-3), name
    assert fit.cut_terms == ("cut0|1", "cut1|2") and fit.nobs == 400
    # R: residual deviance 717.4951
    assert -2.0 * fit.llf == pytest.approx(717.4951, abs=1e-3)


def test_polr_logit_on_the_ucla_data(ucla):
    """The same data's ordered logit, R polr's defaults (the UCLA page's model)."""
    fit = fit_model(ucla, "y", ["pared", "public", "gpa"], estimator="ologit",
                    se_type="nonrobust")
    expected = {"pared": 1.04769, "public": -0.05879, "gpa": 0.61594,
                "cut0|1": 2.2039, "cut1|2": 4.2994}
    for name, value in expected.items():
        assert fit.params[name] == pytest.approx(value, abs=1e-3), name


def test_both_engines_agree(ucla):
    regressors = ["pared", "public", "gpa"]
    for se_type in ("nonrobust", "robust"):
        ours = fit_model(ucla, "y", regressors, estimator="oprobit", se_type=se_type)
        ref = fit_model(ucla, "y", regressors, estimator="oprobit", se_type=se_type,
                        engine="statsmodels")
        np.testing.assert_allclose(ours.params, ref.params, atol=1e-6)
        np.testing.assert_allclose(ours.bse, ref.bse, rtol=1e-5)


def test_robust_and_cluster_se_are_the_hand_sandwich():
    data = firms(900, seed=3, clusters=30)
    regressors = ["x1", "d", "f_b", "f_c"]
    oim = fit_model(data, "y_ord", regressors, estimator="oprobit", se_type="nonrobust")
    # scores by central differences of each row's log likelihood
    from analysis.models.estimation.ordered import ordered_block
    cat = np.unique(data["y_ord"], return_inverse=True)[1]
    X = data[regressors].to_numpy()
    theta = oim.params.to_numpy()
    k = len(regressors)
    _, scores = ordered_block("probit", X, cat, theta[:k], theta[k:], "scores")
    bread = oim.cov.to_numpy()
    n = len(data)
    robust = fit_model(data, "y_ord", regressors, estimator="oprobit", se_type="robust")
    expected = bread @ (scores.T @ scores) @ bread * n / (n - 1)
    np.testing.assert_allclose(robust.cov.to_numpy(), expected, rtol=1e-8)
    sums = pd.DataFrame(scores).groupby(data["g"].to_numpy()).sum().to_numpy()
    clustered = fit_model(data, "y_ord", regressors, estimator="oprobit", se_type="cluster",
                          cluster="g")
    groups = data["g"].nunique()
    expected = bread @ (sums.T @ sums) @ bread * groups / (groups - 1)
    np.testing.assert_allclose(clustered.cov.to_numpy(), expected, rtol=1e-8)


def test_ames_per_category_add_to_zero_and_match_differences(ucla):
    fit = fit_model(ucla, "y", ["pared", "public", "gpa"], estimator="oprobit")
    frame = ordered_ames_by_category(fit, binary=["pared", "public"])
    totals = frame.groupby("term")["estimate"].sum()
    np.testing.assert_allclose(totals.to_numpy(), 0.0, atol=1e-10)
    # gpa: the derivative of the mean probability of the top category, numerically
    h = 1e-6
    assert predictions(fit, "gpa", [2.0, 4.0], category=2.0)["prediction"].between(0, 1).all()
    beta, cuts = fit.beta, fit.cuts
    X = ucla[["pared", "public", "gpa"]].to_numpy()

    def mean_top(shift: float) -> float:
        q = X @ beta + shift * beta[2]
        return float(np.mean(stats.norm.sf(cuts[-1] - q)))

    derivative = (mean_top(h) - mean_top(-h)) / (2 * h)
    got = frame[(frame["term"] == "gpa") & (frame["category"] == 2.0)]["estimate"].iloc[0]
    assert got == pytest.approx(derivative, rel=1e-6)
    # pared: the discrete change 0 -> 1 of the top category's probability
    change = average_marginal_effects(fit, binary=["pared", "public"], terms=["pared"])
    q0 = X @ beta - X[:, 0] * beta[0]
    expected = np.mean(stats.norm.sf(cuts[-1] - q0 - beta[0]) - stats.norm.sf(cuts[-1] - q0))
    assert change.estimates[0] == pytest.approx(expected, rel=1e-10)


def test_tidy_rows_of_an_ordered_probit(ucla):
    fit = fit_model(ucla, "y", ["pared", "public", "gpa"], estimator="oprobit")
    frame = tidy(fit, margins=average_marginal_effects(fit, binary=["pared", "public"]))
    assert set(frame["quantity"]) == {"coef", "ame", "cut", "fit"}  # no odds ratios
    assert (frame["estimator"] == "oprobit").all()
