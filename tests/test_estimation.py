"""Unit tests of the estimation layer against statsmodels / linearmodels and hand
computations, plus the named errors on tiny hand-made frames."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from linearmodels.iv import IV2SLS
from scipy import special, stats
from statsmodels.miscmodels.ordinal_model import OrderedModel

from analysis.errors import (
    CollinearityError,
    ConvergenceError,
    EmptyCellError,
    EstimationError,
    PerfectSeparationError,
    SpecificationError,
)
from analysis.models.estimation import (
    PREDICTION_COLUMNS,
    TIDY_COLUMNS,
    average_marginal_effects,
    fit_model,
    odds_ratios,
    ologit_ames_by_category,
    predictions,
    ratio,
    tidy,
    wald_test,
)

REGRESSORS = ["x1", "x2", "d", "f_b", "f_c"]
N_GROUPS = 60


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    """n = 3000: two continuous regressors, a dummy, a 3-level factor (base a), clusters."""
    rng = np.random.default_rng(20110601)
    n = 3000
    factor = rng.choice(["a", "b", "c"], size=n, p=[0.4, 0.35, 0.25])
    data = pd.DataFrame({
        "x1": rng.normal(size=n),
        "x2": rng.gamma(2.0, 1.5, size=n),
        "d": (rng.uniform(size=n) < 0.3).astype(float),
        "f_b": (factor == "b").astype(float),
        "f_c": (factor == "c").astype(float),
        "g": rng.integers(0, N_GROUPS, size=n),
    })
    cluster_shock = rng.normal(scale=0.5, size=N_GROUPS)[data["g"]]
    index = (-0.4 + 0.8 * data.x1 - 0.3 * data.x2 + 0.6 * data.d + 0.4 * data.f_b
             - 0.5 * data.f_c + cluster_shock)
    data["y"] = (rng.logistic(size=n) < index).astype(float)
    # 4-category ordinal outcome from the same latent index
    latent = index + rng.logistic(size=n)
    data["y_ord"] = np.digitize(latent, [-1.5, 0.0, 1.2]) + 1.0
    return data


def sm_exog(data: pd.DataFrame, cols=REGRESSORS) -> pd.DataFrame:
    return sm.add_constant(data[cols], prepend=False).rename(columns={"const": "const"})


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


SM_MODELS = {"logit": sm.Logit, "probit": sm.Probit}


# ----------------------------------------------------------------- ML fits and SEs


@pytest.mark.parametrize("estimator", ["logit", "probit"])
def test_ml_params_and_oim_match_statsmodels(sim, estimator):
    fit = fit_model(sim, "y", REGRESSORS, estimator=estimator, se_type="nonrobust")
    ref = SM_MODELS[estimator](sim["y"], sm_exog(sim)).fit(disp=0, tol=1e-12)
    assert list(fit.params.index) == [*REGRESSORS, "const"]
    assert rel_err(fit.params, ref.params) < 1e-8
    assert rel_err(fit.cov, ref.cov_params()) < 1e-8
    assert fit.llf == pytest.approx(ref.llf, rel=1e-12)
    assert fit.llnull == pytest.approx(ref.llnull, rel=1e-10)
    assert fit.pseudo_r2 == pytest.approx(ref.prsquared, rel=1e-10)
    assert fit.aic == pytest.approx(ref.aic, rel=1e-10)
    assert fit.bic == pytest.approx(ref.bic, rel=1e-10)
    assert fit.converged and fit.nobs == len(sim)


@pytest.mark.parametrize("estimator", ["logit", "probit"])
def test_robust_se_is_hc0_times_n_over_n_minus_1(sim, estimator):
    fit = fit_model(sim, "y", REGRESSORS, estimator=estimator, se_type="robust")
    ref = SM_MODELS[estimator](sim["y"], sm_exog(sim)).fit(disp=0, cov_type="HC0")
    n = len(sim)
    assert rel_err(fit.cov, ref.cov_params() * n / (n - 1)) < 1e-8


@pytest.mark.parametrize("estimator", ["logit", "probit"])
def test_cluster_se_is_uncorrected_times_g_over_g_minus_1(sim, estimator):
    fit = fit_model(sim, "y", REGRESSORS, estimator=estimator, se_type="cluster",
                    cluster="g")
    ref = SM_MODELS[estimator](sim["y"], sm_exog(sim)).fit(
        disp=0, cov_type="cluster", cov_kwds={"groups": sim["g"], "use_correction": False})
    assert fit.n_clusters == N_GROUPS
    assert rel_err(fit.cov, ref.cov_params() * N_GROUPS / (N_GROUPS - 1)) < 1e-8


def test_lpm_matches_statsmodels_and_linearmodels(sim):
    exog = sm_exog(sim)
    n, k = len(sim), len(REGRESSORS) + 1
    plain = fit_model(sim, "y", REGRESSORS, estimator="lpm", se_type="nonrobust")
    ref = sm.OLS(sim["y"], exog).fit()
    assert rel_err(plain.params, ref.params) < 1e-10
    assert rel_err(plain.cov, ref.cov_params()) < 1e-10
    assert plain.r2 == pytest.approx(ref.rsquared, rel=1e-12)
    assert plain.llf == pytest.approx(ref.llf, rel=1e-12)
    assert plain.df_resid == n - k

    robust = fit_model(sim, "y", REGRESSORS, estimator="lpm", se_type="robust")
    assert rel_err(robust.cov, sm.OLS(sim["y"], exog).fit(cov_type="HC1").cov_params()) < 1e-10
    lm_robust = IV2SLS(sim["y"], exog, None, None).fit(cov_type="robust", debiased=True)
    assert rel_err(robust.cov, lm_robust.cov) < 1e-10

    clustered = fit_model(sim, "y", REGRESSORS, estimator="lpm", se_type="cluster",
                          cluster="g")
    # statsmodels' default cluster correction is Stata's G/(G-1)*(N-1)/(N-k)
    ref_cl = sm.OLS(sim["y"], exog).fit(cov_type="cluster", cov_kwds={"groups": sim["g"]})
    assert rel_err(clustered.cov, ref_cl.cov_params()) < 1e-10
    lm_cl = IV2SLS(sim["y"], exog, None, None).fit(
        cov_type="clustered", clusters=sim["g"], debiased=True)
    assert rel_err(clustered.cov, lm_cl.cov) < 1e-10
    assert clustered.df_resid == N_GROUPS - 1


def test_ologit_matches_ordered_model(sim):
    fit = fit_model(sim, "y_ord", REGRESSORS, estimator="ologit", se_type="nonrobust")
    model = OrderedModel(sim["y_ord"], sim[REGRESSORS], distr="logit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = model.fit(method="bfgs", maxiter=5000, gtol=1e-9, disp=0)
    k = len(REGRESSORS)
    cuts = model.transform_threshold_params(ref.params.to_numpy())[1:-1]
    assert fit.cut_terms == ("cut1|2", "cut2|3", "cut3|4")
    assert rel_err(fit.params.to_numpy()[:k], ref.params.to_numpy()[:k]) < 1e-5
    assert rel_err(fit.cuts, cuts) < 1e-5
    # statsmodels' OIM is a numerical Hessian: agreement to ~1e-5
    assert rel_err(fit.bse.to_numpy()[:k], ref.bse.to_numpy()[:k]) < 1e-4
    assert fit.llf == pytest.approx(ref.llf, rel=1e-9)
    counts = sim["y_ord"].value_counts().to_numpy()
    assert fit.llnull == pytest.approx(float((counts * np.log(counts / len(sim))).sum()))


# --------------------------------------------------------------------------- AMEs


@pytest.mark.parametrize("estimator", ["logit", "probit"])
@pytest.mark.parametrize("se_type", ["nonrobust", "robust"])
def test_ames_match_statsmodels_get_margeff(sim, estimator, se_type):
    fit = fit_model(sim, "y", REGRESSORS, estimator=estimator, se_type=se_type)
    ref = SM_MODELS[estimator](sim["y"], sm_exog(sim)).fit(
        disp=0, tol=1e-12, **({"cov_type": "HC0"} if se_type == "robust" else {}))
    n = len(sim)
    # our robust covariance is statsmodels' HC0 times N/(N-1) (Stata), so are the AME SEs
    scale = np.sqrt(n / (n - 1)) if se_type == "robust" else 1.0
    cont = average_marginal_effects(fit)
    me = ref.get_margeff(at="overall")
    assert rel_err(cont.estimates, me.margeff) < 1e-8
    assert rel_err(cont.std_errors, me.margeff_se * scale) < 1e-8
    disc = average_marginal_effects(fit, binary={"d", "f_b", "f_c"})
    me_d = ref.get_margeff(at="overall", dummy=True)
    assert disc.discrete == (False, False, True, True, True)
    assert rel_err(disc.estimates, me_d.margeff) < 1e-8
    assert rel_err(disc.std_errors, me_d.margeff_se * scale) < 1e-8


def _brute_force_discrete(fit, term, zero_terms, cdf):
    """mean(F(x1 b) - F(x0 b)) and its SE with explicit X copies and a numerical gradient."""
    X = fit.design.X.copy()
    j = fit.terms.index(term)
    X1, X0 = X.copy(), X.copy()
    for t in zero_terms:
        X1[:, fit.terms.index(t)] = 0.0
        X0[:, fit.terms.index(t)] = 0.0
    X1[:, j], X0[:, j] = 1.0, 0.0

    def ame(b):
        return float(np.mean(cdf(X1 @ b) - cdf(X0 @ b)))

    b = fit.params.to_numpy()
    grad = np.array([(ame(b + h) - ame(b - h)) / 2e-6 for h in np.eye(b.size) * 1e-6])
    return ame(b), float(np.sqrt(grad @ fit.cov.to_numpy() @ grad))


def test_factor_group_discrete_change_uses_base_category(sim):
    fit = fit_model(sim, "y", REGRESSORS, estimator="logit", se_type="cluster", cluster="g")
    m = average_marginal_effects(fit, binary={"d"}, factor_groups=[["f_b", "f_c"]])
    got = m.params
    se = pd.Series(m.std_errors, index=list(m.terms))
    for term, sibling in (("f_b", "f_c"), ("f_c", "f_b")):
        est, ref_se = _brute_force_discrete(fit, term, [sibling], special.expit)
        assert got[term] == pytest.approx(est, rel=1e-9)
        assert se[term] == pytest.approx(ref_se, rel=1e-6)
    naive = average_marginal_effects(fit, binary={"f_b"})
    assert naive.params["f_b"] != pytest.approx(got["f_b"], rel=1e-6)


def test_lpm_ames_are_coefficients(sim):
    fit = fit_model(sim, "y", REGRESSORS, estimator="lpm")
    m = average_marginal_effects(fit, binary={"d"})
    assert np.allclose(m.estimates, fit.params[REGRESSORS].to_numpy(), rtol=0, atol=0)
    assert np.allclose(m.std_errors, fit.bse[REGRESSORS].to_numpy(), rtol=1e-14)


def test_ologit_ames_match_finite_differences(sim):
    fit = fit_model(sim, "y_ord", REGRESSORS, estimator="ologit", se_type="robust")
    k = len(fit.terms)
    X = fit.design.X
    beta, cuts = fit.beta, fit.cuts

    def mean_prob(Xm, category):
        ext = np.concatenate(([-np.inf], cuts, [np.inf]))
        q = Xm @ beta
        return np.mean(special.expit(ext[category + 1] - q) - special.expit(ext[category] - q))

    frame = ologit_ames_by_category(fit, binary={"d"})
    # the AMEs on the four category probabilities sum to zero
    sums = frame.groupby("term", sort=False)["estimate"].sum()
    assert np.allclose(sums, 0.0, atol=1e-12)
    top = average_marginal_effects(fit, binary={"d"})
    assert top.category == 4.0
    h = 1e-5
    shifted_up, shifted_down = X.copy(), X.copy()
    shifted_up[:, 0] += h
    shifted_down[:, 0] -= h
    numeric = (mean_prob(shifted_up, 3) - mean_prob(shifted_down, 3)) / (2 * h)
    assert top.params["x1"] == pytest.approx(numeric, rel=1e-7)
    with_d, without_d = X.copy(), X.copy()
    with_d[:, 2], without_d[:, 2] = 1.0, 0.0
    assert top.params["d"] == pytest.approx(
        mean_prob(with_d, 3) - mean_prob(without_d, 3), rel=1e-10)
    assert np.all(top.std_errors > 0) and top.jacobian.shape == (k, k + 3)


# ------------------------------------------------------------------- predictions


def test_predictions_match_hand_delta_method(sim):
    fit = fit_model(sim, "y", REGRESSORS, estimator="logit", se_type="robust",
                    model_id="m1")
    values = [0.0, 1.0, 2.0]
    frame = predictions(fit, "x2", values)
    assert list(frame.columns) == PREDICTION_COLUMNS
    b = fit.params.to_numpy()
    for row, v in zip(frame.itertuples(), values, strict=True):
        X = fit.design.X.copy()
        X[:, 1] = v

        def pred(beta, X=X):
            return float(np.mean(special.expit(X @ beta)))

        grad = np.array([(pred(b + e) - pred(b - e)) / 2e-6 for e in np.eye(b.size) * 1e-6])
        se = np.sqrt(grad @ fit.cov.to_numpy() @ grad)
        assert row.prediction == pytest.approx(pred(b), rel=1e-12)
        assert row.std_error == pytest.approx(se, rel=1e-6)
        assert row.ci_lower == pytest.approx(pred(b) - stats.norm.ppf(0.975) * se, rel=1e-5)
    assert frame["prediction"].is_monotonic_decreasing  # x2 has a negative effect


# ------------------------------------------------------- odds ratios, tests, ratios


def test_odds_ratios_follow_stata_or(sim):
    fit = fit_model(sim, "y", REGRESSORS, estimator="logit")
    frame = odds_ratios(fit).set_index("term")
    b, se = fit.params, fit.bse
    z = stats.norm.ppf(0.975)
    assert np.allclose(frame["estimate"], np.exp(b), rtol=1e-14)
    assert np.allclose(frame["std_error"], np.exp(b) * se, rtol=1e-14)
    assert np.allclose(frame["ci_lower"], np.exp(b - z * se), rtol=1e-12)
    assert np.allclose(frame["ci_upper"], np.exp(b + z * se), rtol=1e-12)
    with pytest.raises(SpecificationError):
        odds_ratios(fit_model(sim, "y", REGRESSORS, estimator="probit"))


def test_wald_test_matches_hand_computation(sim):
    fit = fit_model(sim, "y", REGRESSORS, estimator="logit", se_type="cluster", cluster="g")
    b, V = fit.params, fit.cov
    one = wald_test(fit, [{"f_b": 1, "d": -1}], test_id="fb_eq_d")
    diff = b["f_b"] - b["d"]
    var = V.loc["f_b", "f_b"] + V.loc["d", "d"] - 2 * V.loc["f_b", "d"]
    assert one.statistic == pytest.approx(diff**2 / var, rel=1e-12)
    assert one.p_value == pytest.approx(stats.chi2.sf(diff**2 / var, 1), rel=1e-10)
    assert one.estimate == pytest.approx(diff) and one.std_error == pytest.approx(np.sqrt(var))
    assert one.df == 1

    joint = wald_test(fit, [{"f_b": 1}, {"f_c": 1}], rhs=[0.4, -0.5])
    r = np.array([b["f_b"] - 0.4, b["f_c"] + 0.5])
    sub = V.loc[["f_b", "f_c"], ["f_b", "f_c"]].to_numpy()
    chi2 = float(r @ np.linalg.inv(sub) @ r)
    assert joint.statistic == pytest.approx(chi2, rel=1e-10)
    assert joint.df == 2 and joint.f_statistic == pytest.approx(chi2 / 2)
    assert joint.p_value == pytest.approx(stats.chi2.sf(chi2, 2), rel=1e-10)
    with pytest.raises(SpecificationError, match="unknown parameter 'nope'"):
        wald_test(fit, [{"nope": 1}])


def test_ratio_of_coefficients_and_of_ames(sim):
    fit = fit_model(sim, "y", REGRESSORS, estimator="logit", se_type="robust")
    b, V = fit.params, fit.cov
    res = ratio(fit, "x1", "d", test_id="x1_over_d")
    value = b["x1"] / b["d"]
    grad = np.array([1 / b["d"], -b["x1"] / b["d"] ** 2])
    sub = V.loc[["x1", "d"], ["x1", "d"]].to_numpy()
    se = np.sqrt(grad @ sub @ grad)
    assert res.estimate == pytest.approx(value, rel=1e-14)
    delta = res.delta  # Stata nlcom, reported as the extra row "<id>:delta"
    assert delta.test_id == "x1_over_d:delta" and delta.estimate == res.estimate
    assert delta.std_error == pytest.approx(se, rel=1e-12)
    assert delta.statistic == pytest.approx(value / se, rel=1e-12)
    assert delta.ci_lower == pytest.approx(value - stats.norm.ppf(0.975) * se, rel=1e-12)
    assert res.interval in ("bounded", "two rays", "whole line")

    m = average_marginal_effects(fit, binary={"d"})
    ame_res = ratio(m, "x1", "d")
    cov = m.cov_frame.loc[["x1", "d"], ["x1", "d"]].to_numpy()
    a, c = m.params["x1"], m.params["d"]
    g = np.array([1 / c, -a / c**2])
    assert ame_res.estimate == pytest.approx(a / c, rel=1e-14)
    assert ame_res.delta.std_error == pytest.approx(np.sqrt(g @ cov @ g), rel=1e-12)
    assert ame_res.test_id == "ratio:x1/d"


# -------------------------------------------------------------------------- tidy


def test_tidy_frame_follows_contract_c1(sim):
    fit = fit_model(sim, "y", REGRESSORS, estimator="logit", se_type="cluster", cluster="g",
                    model_id="t2_test")
    m = average_marginal_effects(fit, binary={"d"})
    frame = tidy(fit, margins=m, tests=[ratio(fit, "x1", "d", test_id="r1")])
    assert list(frame.columns) == TIDY_COLUMNS
    assert frame["quantity"].drop_duplicates().tolist() == [
        "coef", "ame", "odds_ratio", "fit", "test"]
    assert frame.loc[frame.quantity == "coef", "term"].tolist() == [*REGRESSORS, "const"]
    assert frame.loc[frame.quantity == "ame", "term"].tolist() == REGRESSORS
    assert frame.loc[frame.quantity == "fit", "term"].tolist() == [
        "nobs", "pseudo_r2", "llf", "llnull", "aic", "bic", "n_clusters"]
    assert (frame["nobs"] == len(sim)).all() and (frame["model"] == "t2_test").all()
    assert frame.loc[frame.quantity == "fit", "std_error"].isna().all()
    coef = frame[frame.quantity == "coef"].set_index("term")
    assert coef.loc["x1", "p_value"] == pytest.approx(
        2 * stats.norm.sf(abs(coef.loc["x1", "statistic"])))

    lpm = tidy(fit_model(sim, "y", REGRESSORS, estimator="lpm"))
    assert "odds_ratio" not in set(lpm.quantity)
    assert lpm.loc[lpm.quantity == "fit", "term"].tolist()[-1] == "r2"
    olog = tidy(fit_model(sim, "y_ord", REGRESSORS, estimator="ologit"))
    assert olog.loc[olog.quantity == "cut", "term"].tolist() == ["cut1|2", "cut2|3", "cut3|4"]
    assert "const" not in set(olog.term)


def test_listwise_deletion_reports_n(sim):
    data = sim.copy()
    data.loc[data.index[:7], "x1"] = np.nan
    data.loc[data.index[5:12], "y"] = np.nan
    fit = fit_model(data, "y", REGRESSORS)
    assert fit.nobs == len(sim) - 12
    assert list(fit.design.index) == list(data.index[12:])
    assert fit.design.X.dtype == np.float64


# ------------------------------------------------------------------ named errors


def tiny(**columns) -> pd.DataFrame:
    return pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in columns.items()})


def test_perfect_separation_by_binary_regressor_is_named():
    data = tiny(y=[0, 0, 1, 0, 1, 1, 1, 0, 1, 1], d=[0, 0, 0, 0, 0, 1, 1, 0, 1, 1],
                x=[0.1, 0.5, 0.3, 0.9, 0.2, 0.4, 0.8, 0.6, 0.7, 0.05])
    with pytest.raises(PerfectSeparationError, match=r"model 'sep'.*d=1 predicts success"):
        fit_model(data, "y", ["x", "d"], model_id="sep", perfect_prediction="error")


def test_complete_separation_by_continuous_regressor():
    data = tiny(y=[0, 0, 0, 0, 1, 1, 1, 1], x=[1, 2, 3, 4, 5, 6, 7, 8],
                z=[0.3, 0.1, 0.4, 0.1, 0.5, 0.9, 0.2, 0.6])
    with pytest.raises(PerfectSeparationError, match="model 'cont'") as info:
        fit_model(data, "y", ["x", "z"], model_id="cont", estimator="probit")
    assert "x" in info.value.terms


def test_constant_regressor_is_named():
    data = tiny(y=[0, 1, 0, 1, 1, 0], x=[1, 2, 3, 4, 5, 6], c=[3, 3, 3, 3, 3, 3])
    with pytest.raises(CollinearityError, match=r"model 'const'.*c \(always 3\)"):
        fit_model(data, "y", ["x", "c"], model_id="const")


def test_collinear_dummies_are_named():
    data = tiny(y=[0, 1, 0, 1, 1, 0, 1, 0], x=[1, 4, 2, 3, 5, 6, 2, 1],
                a=[1, 1, 0, 0, 0, 1, 0, 0], b=[0, 0, 1, 1, 1, 0, 1, 1])
    with pytest.raises(CollinearityError, match="model 'trap'") as info:
        fit_model(data, "y", ["x", "a", "b"], model_id="trap")
    assert set(info.value.terms) == {"a", "b", "const"}
    # ordered logit: thresholds play the constant's role
    data["y3"] = [1, 2, 3, 1, 2, 3, 2, 1]
    with pytest.raises(CollinearityError) as info:
        fit_model(data, "y3", ["x", "a", "b"], estimator="ologit", model_id="trap_o")
    assert {"a", "b"} <= set(info.value.terms)


def test_outcome_without_variation_and_empty_sample():
    data = tiny(y=[1, 1, 1, 1], x=[1, 2, 3, 4])
    with pytest.raises(EmptyCellError, match=r"model 'flat'.*'y' has no variation"):
        fit_model(data, "y", ["x"], model_id="flat")
    data = tiny(y=[1, 0, np.nan, 1], x=[np.nan, np.nan, 3, np.nan])
    with pytest.raises(EmptyCellError, match="no observations left"):
        fit_model(data, "y", ["x"], model_id="empty")


def test_non_convergence_is_named():
    data = tiny(y=[0, 1, 0, 1, 1, 0, 1, 1, 0, 0], x=[1, 2, 3, 4, 5, 6, 7, 8, 2, 9])
    with pytest.raises(ConvergenceError, match="model 'slow'.*did not converge in 1"):
        fit_model(data, "y", ["x"], model_id="slow", max_iter=1)


def test_specification_errors():
    data = tiny(y=[0, 1, 2, 1], x=[1, 2, 3, 4])
    with pytest.raises(SpecificationError, match="must be coded 0/1"):
        fit_model(data, "y", ["x"])
    with pytest.raises(SpecificationError, match=r"not in the data: \['nope'\]"):
        fit_model(data, "y", ["nope"])
    with pytest.raises(SpecificationError, match="needs a cluster column"):
        fit_model(data, "y", ["x"], estimator="lpm", se_type="cluster")
    data["s"] = pd.Series(["a", "b", "c", "d"], dtype="string")
    with pytest.raises(SpecificationError, match="'s' is not numeric"):
        fit_model(data, "y", ["s"], estimator="ologit")
    assert issubclass(SpecificationError, EstimationError)


# ---------------------------------------------------------------------- recovery


def test_logit_recovers_known_coefficients():
    rng = np.random.default_rng(7)
    n = 20_000
    truth = {"x1": 0.5, "x2": -1.0, "d": 0.8, "const": -0.3}
    data = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.uniform(-1, 1, size=n),
                         "d": (rng.uniform(size=n) < 0.4).astype(float)})
    index = sum(truth[t] * (data[t] if t != "const" else 1.0) for t in truth)
    data["y"] = (rng.logistic(size=n) < index).astype(float)
    fit = fit_model(data, "y", ["x1", "x2", "d"], estimator="logit")
    z = (fit.params - pd.Series(truth)) / fit.bse
    assert (z.abs() < 4).all(), z
