"""The two engines of fit_model ("numpy", default; "statsmodels") give the same results.

Same FitResult, same SE conventions: coefficients, SEs of every type, log likelihoods and
AMEs (with delta-method SEs) agree to 1e-6 (ordered logit 1e-5: statsmodels' OrderedModel
Hessian is numerical). The published Stata numbers of the known-answer tests also hold
when the statsmodels engine does the fitting.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
import test_estimation_known_answers as known  # tests/ is on sys.path (rootdir import)
from test_estimation_known_answers import auto, spector  # noqa: F401  (fixtures)

from analysis.errors import SpecificationError
from analysis.models.estimation import ENGINES, average_marginal_effects, fit_model

REGRESSORS = ["x1", "x2", "d", "f_b", "f_c"]
FACTOR = [["f_b", "f_c"]]
TOL = {"logit": 1e-6, "probit": 1e-6, "lpm": 1e-6, "ologit": 1e-5}
SE_CASES = [("nonrobust", None), ("robust", None), ("cluster", "g")]


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    """n = 1500: continuous regressors, a dummy, a 3-level factor, 40 clusters, a few NA."""
    rng = np.random.default_rng(7)
    n = 1500
    factor = rng.choice(["a", "b", "c"], size=n, p=[0.4, 0.35, 0.25])
    data = pd.DataFrame({
        "x1": rng.normal(size=n),
        "x2": rng.gamma(2.0, 1.5, size=n),
        "d": (rng.uniform(size=n) < 0.3).astype(float),
        "f_b": (factor == "b").astype(float),
        "f_c": (factor == "c").astype(float),
        "g": rng.integers(0, 40, size=n),
    })
    shock = rng.normal(scale=0.4, size=40)[data["g"]]
    index = (-0.3 + 0.7 * data.x1 - 0.25 * data.x2 + 0.5 * data.d + 0.4 * data.f_b
             - 0.5 * data.f_c + shock)
    data["y"] = (rng.logistic(size=n) < index).astype(float)
    data["y_ord"] = np.digitize(index + rng.logistic(size=n), [-1.5, 0.0, 1.2]) + 1.0
    data.loc[[3, 50, 700], "x1"] = np.nan  # listwise deletion must agree too
    return data


def close(a, b, tol: float) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return bool(np.all(np.abs(a - b) <= tol * np.maximum(np.abs(b), 1.0)))


def fit_both(data, outcome, regressors, **kw):
    return [fit_model(data, outcome, regressors, engine=e, **kw) for e in ENGINES]


@pytest.mark.parametrize("estimator", ["logit", "probit", "lpm", "ologit"])
@pytest.mark.parametrize(("se_type", "cluster"), SE_CASES)
def test_engines_agree_on_simulated_frame(sim, estimator, se_type, cluster):
    outcome = "y_ord" if estimator == "ologit" else "y"
    ours, ref = fit_both(sim, outcome, REGRESSORS, estimator=estimator, se_type=se_type,
                         cluster=cluster, model_id=f"{estimator}_{se_type}")
    tol = TOL[estimator]
    assert list(ours.params.index) == list(ref.params.index)
    assert close(ours.params, ref.params, tol)
    assert close(ours.bse, ref.bse, tol)
    assert close(ours.llf, ref.llf, tol) and close(ours.llnull, ref.llnull, tol)
    assert (ours.nobs, ours.n_clusters, ours.df_resid) == (ref.nobs, ref.n_clusters,
                                                           ref.df_resid)
    m_ours = average_marginal_effects(ours, binary={"d"}, factor_groups=FACTOR)
    m_ref = average_marginal_effects(ref, binary={"d"}, factor_groups=FACTOR)
    assert close(m_ours.estimates, m_ref.estimates, tol)
    assert close(m_ours.std_errors, m_ref.std_errors, tol)


def test_se_types_differ_so_the_comparison_can_fail(sim):
    # If the SE conventions were ignored, robust and cluster SEs would coincide.
    _, robust = fit_both(sim, "y", REGRESSORS, se_type="robust")
    _, clustered = fit_both(sim, "y", REGRESSORS, se_type="cluster", cluster="g")
    assert not close(robust.bse, clustered.bse, 1e-3)


def test_unknown_engine_is_a_named_error(sim):
    with pytest.raises(SpecificationError, match="unknown engine 'stata'"):
        fit_model(sim, "y", REGRESSORS, engine="stata")


def test_default_engine_is_numpy():
    assert fit_model.__kwdefaults__["engine"] == "numpy"


@pytest.mark.parametrize(("se_type", "cluster"), SE_CASES[:2])
def test_engines_agree_on_spector(spector, se_type, cluster):  # noqa: F811
    for estimator in ("logit", "probit"):
        ours, ref = fit_both(spector, "GRADE", known.SPECTOR_X, estimator=estimator,
                             se_type=se_type)
        assert close(ours.params, ref.params, 1e-6)
        assert close(ours.bse, ref.bse, 1e-6)
        assert close(ours.llf, ref.llf, 1e-6)
        m_ours = average_marginal_effects(ours, binary={"PSI"})
        m_ref = average_marginal_effects(ref, binary={"PSI"})
        assert close(m_ours.estimates, m_ref.estimates, 1e-6)
        assert close(m_ours.std_errors, m_ref.std_errors, 1e-6)


KNOWN_ANSWER_TESTS = [
    ("test_auto_logit_coefficients_fit_and_margins", "auto"),
    ("test_auto_probit_fit", "auto"),
    ("test_spector_logit_coefficients_and_loglik", "spector"),
    ("test_spector_logit_ames_continuous_and_discrete", "spector"),
    ("test_spector_probit_coefficients_and_loglik", "spector"),
]


@pytest.mark.parametrize(("name", "dataset"), KNOWN_ANSWER_TESTS)
def test_known_answers_hold_under_statsmodels_engine(monkeypatch, request, name, dataset):
    """Rerun the known-answer test bodies with fit_model bound to the statsmodels engine."""
    calls = []

    def statsmodels_fit(*args, **kwargs):
        calls.append(kwargs.get("model_id"))
        return fit_model(*args, engine="statsmodels", **kwargs)

    monkeypatch.setattr(known, "fit_model", functools.wraps(fit_model)(statsmodels_fit))
    getattr(known, name)(request.getfixturevalue(dataset))
    assert calls, f"{name} did not call fit_model; the rerun would prove nothing"
