"""Sampling weights (Stata pweights) in the estimation layer, and the bootstrap refit path.

References: statsmodels GLM with `var_weights` and HC0 (times Stata's N/(N-1)) reproduces
the pweight sandwich of logit/probit; WLS with HC0 (times N/(N-k)) the one of `regress [pw=]`.
Integer weights must give the same point estimates, AMEs and predictions as the data with
each row repeated that many times (the definition of a frequency weight, which pweights
share for point estimates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from simulated import firms

from analysis.errors import SpecificationError
from analysis.models.estimation import (
    ame_estimates,
    average_marginal_effects,
    fit_model,
    predictions,
    refit_coefficients,
)

REGRESSORS = ["x1", "d", "f_b", "f_c"]
FACTOR = [["f_b", "f_c"]]


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return firms(1200, seed=7, weights="integer", clusters=40)


def expanded(data: pd.DataFrame) -> pd.DataFrame:
    """Each row repeated `w` times."""
    return data.loc[data.index.repeat(data["w"].astype(int))].reset_index(drop=True)


def exog(data: pd.DataFrame) -> pd.DataFrame:
    return sm.add_constant(data[REGRESSORS], prepend=False)


@pytest.mark.parametrize("estimator, link", [("logit", sm.families.links.Logit()),
                                             ("probit", sm.families.links.Probit())])
def test_weighted_ml_matches_statsmodels_glm_var_weights(sim, estimator, link):
    fit = fit_model(sim, "y", REGRESSORS, estimator=estimator, weights="w")
    ref = sm.GLM(sim["y"], exog(sim), family=sm.families.Binomial(link),
                 var_weights=sim["w"]).fit(cov_type="HC0", tol=1e-12)
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params.to_numpy(), rtol=1e-8)
    n = fit.nobs
    np.testing.assert_allclose(fit.bse.to_numpy(), ref.bse.to_numpy() * np.sqrt(n / (n - 1)),
                               rtol=1e-7)


def test_weighted_lpm_matches_wls_with_stata_scaling(sim):
    fit = fit_model(sim, "y", REGRESSORS, estimator="lpm", weights="w")
    ref = sm.WLS(sim["y"], exog(sim), weights=sim["w"]).fit(cov_type="HC0")
    n, k = fit.nobs, len(fit.terms)
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(fit.bse.to_numpy(), ref.bse.to_numpy() * np.sqrt(n / (n - k)),
                               rtol=1e-8)
    assert fit.r2 == pytest.approx(ref.rsquared, rel=1e-10)


@pytest.mark.parametrize("estimator", ["logit", "probit", "lpm", "ologit"])
def test_integer_weights_equal_repeated_rows(sim, estimator):
    outcome = "y_ord" if estimator == "ologit" else "y"
    weighted = fit_model(sim, outcome, REGRESSORS, estimator=estimator, weights="w")
    repeated = fit_model(expanded(sim), outcome, REGRESSORS, estimator=estimator)
    np.testing.assert_allclose(weighted.params.to_numpy(), repeated.params.to_numpy(),
                               rtol=1e-8, atol=1e-10)
    if estimator != "lpm":  # the LPM's Gaussian llf normalises the weights to sum to N
        assert weighted.llf == pytest.approx(repeated.llf, rel=1e-9)
    assert weighted.nobs == len(sim) and repeated.nobs == int(sim["w"].sum())
    ame_w = average_marginal_effects(weighted, binary=["d"], factor_groups=FACTOR)
    ame_r = average_marginal_effects(repeated, binary=["d"], factor_groups=FACTOR)
    np.testing.assert_allclose(ame_w.estimates, ame_r.estimates, rtol=1e-7, atol=1e-10)
    pred_w = predictions(weighted, "x1", [-1.0, 0.0, 1.0])
    pred_r = predictions(repeated, "x1", [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(pred_w["prediction"], pred_r["prediction"], rtol=1e-8)


def test_ame_covariance_uses_the_weighted_jacobian(sim):
    """Delta method by hand: numerical Jacobian of the weighted mean of dF/dx1."""
    fit = fit_model(sim, "y", REGRESSORS, weights="w")
    margins = average_marginal_effects(fit, terms=["x1"])
    X, w = fit.design.X, fit.design.weights

    def ame(beta):
        p = 1.0 / (1.0 + np.exp(-(X @ beta)))
        return np.average(p * (1 - p), weights=w) * beta[0]

    beta = fit.beta
    jac = np.array([(ame(beta + h) - ame(beta - h)) / 2e-6
                    for h in np.eye(beta.size) * 1e-6])
    assert margins.estimates[0] == pytest.approx(ame(beta), rel=1e-12)
    se = float(np.sqrt(jac @ fit.cov.to_numpy() @ jac))
    assert margins.std_errors[0] == pytest.approx(se, rel=1e-6)


def test_weighted_cluster_se_matches_hand_sandwich(sim):
    fit = fit_model(sim, "y", REGRESSORS, weights="w", se_type="cluster", cluster="g")
    X, y, w = fit.design.X, fit.design.y, fit.design.weights
    p = 1.0 / (1.0 + np.exp(-(X @ fit.beta)))
    bread = np.linalg.inv(X.T @ (X * (w * p * (1 - p))[:, None]))
    groups = sim["g"].to_numpy()
    sums = np.array([(X[groups == g] * (w * (y - p))[groups == g, None]).sum(axis=0)
                     for g in np.unique(groups)])
    n_groups = len(sums)
    cov = bread @ (sums.T @ sums) @ bread * n_groups / (n_groups - 1)
    np.testing.assert_allclose(fit.cov.to_numpy(), cov, rtol=1e-8)


def test_rescaled_weights_change_nothing(sim):
    base = fit_model(sim, "y", REGRESSORS, weights="w")
    scaled = fit_model(sim.assign(w=sim["w"] * 37.5), "y", REGRESSORS, weights="w")
    np.testing.assert_allclose(base.params, scaled.params, rtol=1e-9)
    np.testing.assert_allclose(base.bse, scaled.bse, rtol=1e-8)
    assert base.pseudo_r2 == pytest.approx(scaled.pseudo_r2, rel=1e-10)


def test_unit_weights_equal_the_unweighted_fit(sim):
    unweighted = fit_model(sim, "y", REGRESSORS)
    ones = fit_model(sim.assign(one=1.0), "y", REGRESSORS, weights="one")
    np.testing.assert_allclose(unweighted.params, ones.params, rtol=1e-10)
    np.testing.assert_allclose(unweighted.bse, ones.bse, rtol=1e-10)


def test_zero_weights_are_left_out_like_stata(sim):
    data = sim.assign(w=np.where(np.arange(len(sim)) < 100, 0.0, sim["w"]))
    with_zero = fit_model(data, "y", REGRESSORS, weights="w")
    dropped = fit_model(data.iloc[100:], "y", REGRESSORS, weights="w")
    assert with_zero.nobs == len(sim) - 100
    np.testing.assert_allclose(with_zero.params, dropped.params, rtol=1e-12)


def test_weight_errors_are_named(sim):
    negative = sim.assign(w=sim["w"].where(sim.index != 17, -2.0))
    with pytest.raises(SpecificationError, match=r"'w' has a negative value \(-2\) at row 17"):
        fit_model(negative, "y", REGRESSORS, weights="w")
    with pytest.raises(SpecificationError, match="need se_type 'robust' or 'cluster'"):
        fit_model(sim, "y", REGRESSORS, weights="w", se_type="nonrobust")
    with pytest.raises(SpecificationError, match="numpy engine only"):
        fit_model(sim, "y", REGRESSORS, weights="w", engine="statsmodels")
    with pytest.raises(SpecificationError, match="not in the data"):
        fit_model(sim, "y", REGRESSORS, weights="no_such_column")


# ------------------------------------------------------------ the bootstrap refit path


@pytest.mark.parametrize("estimator", ["logit", "probit", "lpm"])
@pytest.mark.parametrize("weighted", [False, True])
def test_refit_equals_a_full_fit_of_the_resample(sim, estimator, weighted):
    weights = "w" if weighted else None
    fit = fit_model(sim, "y", REGRESSORS, estimator=estimator, weights=weights)
    rows = np.random.default_rng(3).integers(0, fit.nobs, size=fit.nobs)
    design, beta = refit_coefficients(fit, rows)
    full = fit_model(sim.iloc[rows].reset_index(drop=True), "y", REGRESSORS,
                     estimator=estimator, weights=weights)
    np.testing.assert_allclose(beta, full.beta, rtol=1e-8, atol=1e-12)
    terms = ["x1", "d", "f_b"]
    points = ame_estimates(fit, design, beta, terms, binary=["d"], factor_groups=FACTOR)
    reference = average_marginal_effects(full, terms=terms, binary=["d"], factor_groups=FACTOR)
    np.testing.assert_allclose(points, reference.estimates, rtol=1e-8, atol=1e-12)


def test_refit_names_a_resample_that_loses_a_category(sim):
    fit = fit_model(sim, "y", REGRESSORS)
    rows = np.flatnonzero(sim["f_c"].to_numpy() == 0.0)  # no firm of category c drawn
    with pytest.raises(Exception, match="constant regressor") as err:
        refit_coefficients(fit, rows)
    assert type(err.value).__name__ == "CollinearityError"
