"""Perfect prediction handled as Stata's logit/probit handle it (estimation/perfect.py).

The constructed example: 300 firms, x continuous, d a dummy; every firm with d = 1 (40 of
them) innovates. The ML coefficient of d is then +infinity. Stata's rule, derived by hand:
"d != 0 predicts success perfectly; d dropped and 40 obs not used": the expected fit is the
model without d on the 260 firms with d = 0, which the test computes independently with
statsmodels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.errors import (
    CollinearityError,
    EmptyCellError,
    EstimationError,
    PerfectSeparationError,
)
from analysis.models.estimation import fit_model


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = 300
    x = rng.normal(size=n)
    d = np.zeros(n)
    d[:40] = 1.0
    sector = np.where(np.arange(n) % 3 == 0, "b", np.where(np.arange(n) % 3 == 1, "c", "a"))
    y = (rng.logistic(size=n) < 0.8 * x - 0.2).astype(float)
    y[d == 1] = 1.0
    return pd.DataFrame({"y": y, "x": x, "d": d, "s_b": (sector == "b") * 1.0,
                         "s_c": (sector == "c") * 1.0})


@pytest.mark.parametrize("engine", ["numpy", "statsmodels"])
@pytest.mark.parametrize("estimator", ["logit", "probit"])
def test_a_dummy_that_predicts_success_is_dropped_with_its_observations(data, engine,
                                                                        estimator):
    fit = fit_model(data, "y", ["x", "d", "s_b", "s_c"], estimator=estimator, engine=engine,
                    se_type="nonrobust", model_id="pp")
    kept = data[data["d"] == 0]
    family = sm.Logit if estimator == "logit" else sm.Probit
    reference = family(kept["y"], sm.add_constant(kept[["x", "s_b", "s_c"]],
                                                  prepend=False)).fit(disp=0, tol=1e-12)
    assert fit.terms == ("x", "s_b", "s_c", "const")
    np.testing.assert_allclose(fit.params.to_numpy(), reference.params.to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(fit.bse.to_numpy(), reference.bse.to_numpy(), rtol=1e-6)
    assert fit.nobs == 260 and fit.n_perfectly_predicted == 40
    (dropped,) = fit.perfect_prediction
    assert (dropped.term, dropped.rule) == ("d", "d != 0")
    assert dropped.note == "d != 0 predicts success perfectly; d dropped and 40 obs not used"


def test_the_zero_side_and_a_category_without_events(data):
    # firms with d = 0 never innovate: "d != 1 predicts failure perfectly", and the rows
    # with d = 0 go; a factor level (s_c) without any event among them goes next.
    flipped = data.copy()
    flipped.loc[flipped["d"] == 0, "y"] = 0.0
    flipped.loc[flipped["d"] == 1, "y"] = np.r_[np.ones(30), np.zeros(10)]
    flipped.loc[(flipped["d"] == 1) & (flipped["s_c"] == 1), "y"] = 0.0
    fit = fit_model(flipped, "y", ["x", "d", "s_b", "s_c"], model_id="pp0")
    notes = [d.note for d in fit.perfect_prediction]
    assert notes[0].startswith("d != 1 predicts failure perfectly; d dropped and 260 obs")
    assert notes[1].startswith("s_c != 0 predicts failure perfectly; s_c dropped")
    rows = (flipped["d"] == 1) & (flipped["s_c"] == 0)
    assert fit.nobs == int(rows.sum())
    reference = sm.Logit(flipped.loc[rows, "y"], sm.add_constant(
        flipped.loc[rows, ["x", "s_b"]], prepend=False)).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(fit.params.to_numpy(), reference.params.to_numpy(), rtol=1e-7)


def test_the_strict_option_refuses_the_model_as_before(data):
    with pytest.raises(PerfectSeparationError, match="d=1 predicts success perfectly") as info:
        fit_model(data, "y", ["x", "d"], model_id="strict", perfect_prediction="error")
    assert info.value.terms[0] == "d"


def test_a_dummy_that_predicts_everything_is_an_error(data):
    exact = data.assign(y=data["d"])
    with pytest.raises(PerfectSeparationError, match=r"predict\(s\) the data perfectly"):
        fit_model(exact, "y", ["x", "d"], model_id="exact")


@pytest.mark.parametrize("engine", ["numpy", "statsmodels"])
def test_complete_separation_by_a_continuous_regressor_names_it(data, engine):
    separated = data.assign(y=(data["x"] > 0.1).astype(float))
    with pytest.raises(PerfectSeparationError, match="model 'cont'") as info:
        fit_model(separated, "y", ["x", "s_b"], model_id="cont", engine=engine)
    assert info.value.terms[0] == "x"


def test_ordered_models_keep_the_strict_rule(data):
    # every firm with d = 1 is in the top category: Stata's ologit has no dropping rule
    ordered = data.assign(y3=np.where(data["d"] == 1, 2.0, data["y"] + (data["x"] > 1.0)))
    with pytest.raises(PerfectSeparationError):
        fit_model(ordered, "y3", ["x", "d"], estimator="ologit", model_id="ord")


def _error_type(frame: pd.DataFrame, regressors: list[str], engine: str, **kw) -> type:
    try:
        fit_model(frame, "y", regressors, engine=engine, **kw)
    except EstimationError as err:
        return type(err)
    return type(None)


@pytest.mark.parametrize("case", ["constant", "collinear", "continuous", "flat", "dummy",
                                  "strict"])
def test_both_engines_raise_the_same_error_types(data, case):
    frame, regressors, kw = data, ["x", "d"], {}
    if case == "constant":
        frame = data.assign(c=1.0)
        regressors = ["x", "c"]
    elif case == "collinear":
        frame = data.assign(x2=2.0 * data["x"])
        regressors = ["x", "x2"]
    elif case == "continuous":
        frame = data.assign(y=(data["x"] > 0).astype(float))
        regressors = ["x"]
    elif case == "flat":
        frame = data.assign(y=1.0)
    elif case == "dummy":
        frame = data.assign(y=data["d"])
    else:
        kw = {"perfect_prediction": "error"}
    expected = {"constant": CollinearityError, "collinear": CollinearityError,
                "continuous": PerfectSeparationError, "flat": EmptyCellError,
                "dummy": PerfectSeparationError, "strict": PerfectSeparationError}[case]
    for estimator in ("logit", "probit"):
        assert _error_type(frame, regressors, "numpy", estimator=estimator, **kw) is expected
        assert _error_type(frame, regressors, "statsmodels", estimator=estimator,
                           **kw) is expected
