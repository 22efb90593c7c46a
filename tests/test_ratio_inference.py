"""Ratio inference (Fieller sets beside the delta method) and small-sample tests after the LPM.

Fieller's set for a/b is {theta: (a - theta b)^2 <= c Var(a - theta b)}, c the squared
critical value: theta is in it exactly when the Wald test of a - theta b = 0 does not
reject. Its kind follows from A = b^2 - c Var(b) and the discriminant: bounded when the
denominator differs significantly from 0, two rays or the whole line otherwise.
After the LPM, Stata's `test` reports F(q, N-k) (F(q, G-1) with clusters), and `nlcom` and
coefficient intervals use t with the same degrees of freedom.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from simulated import firms

from analysis.models.estimation import (
    TIDY_COLUMNS,
    fieller_contains,
    fieller_set,
    fit_model,
    ratio,
    tidy,
    wald_test,
)

Z = stats.norm.ppf(0.975)


@pytest.mark.parametrize(("b", "vbb", "kind"), [(1.0, 0.04, "bounded"),
                                                 (0.3, 0.04, "two rays"),
                                                 (0.05, 0.04, "whole line")])
def test_fieller_kinds_and_bounds(b, vbb, kind):
    a, vaa, vab = 2.0, 0.25, 0.01
    if kind == "whole line":
        a = 0.1
    got, lower, upper = fieller_set(a, b, vaa, vab, vbb, Z)
    assert got == kind
    grid = np.linspace(-200.0, 200.0, 400_001)
    inside = fieller_contains(grid, a, b, vaa, vab, vbb, Z)
    if kind == "bounded":
        assert lower < a / b < upper
        np.testing.assert_array_equal(inside, (grid >= lower) & (grid <= upper))
    elif kind == "two rays":
        assert lower < upper
        np.testing.assert_array_equal(inside, (grid <= lower) | (grid >= upper))
    else:
        assert np.isnan(lower) and np.isnan(upper) and inside.all()
    for bound in (lower, upper):  # the bounds solve the quadratic
        if np.isfinite(bound):
            gap = (a - bound * b) ** 2 - Z**2 * (vaa - 2 * bound * vab + bound**2 * vbb)
            assert abs(gap) < 1e-9 * (1 + bound**2)


def test_fieller_set_is_the_set_of_ratios_a_wald_test_accepts():
    data = firms(800, seed=5)
    fit = fit_model(data, "y", ["x1", "x2", "d"])
    res = ratio(fit, "d", "x1")
    for theta in np.linspace(-3.0, 3.0, 61):
        wald = wald_test(fit, [{"d": 1.0, "x1": -theta}])
        inside = bool(fieller_contains(theta, fit.params["d"], fit.params["x1"],
                                       fit.cov.loc["d", "d"], fit.cov.loc["d", "x1"],
                                       fit.cov.loc["x1", "x1"], Z))
        if abs(wald.p_value - 0.05) > 1e-9:
            assert inside == (wald.p_value >= 0.05), theta
    if res.interval == "bounded":
        assert res.ci_lower <= res.estimate <= res.ci_upper


def test_ratio_rows_in_the_tidy_frame():
    data = firms(800, seed=5)
    fit = fit_model(data, "y", ["x1", "x2", "d"], model_id="m")
    frame = tidy(fit, tests=[ratio(fit, "d", "x1", test_id="d_over_x1"),
                             wald_test(fit, [{"d": 1.0, "x1": -1.0}], test_id="equal")])
    assert list(frame.columns) == TIDY_COLUMNS and TIDY_COLUMNS[-1] == "interval"
    tests = frame[frame["quantity"] == "test"].set_index("term")
    assert list(tests.index) == ["d_over_x1", "d_over_x1:delta", "equal"]
    assert tests.loc["d_over_x1", "interval"] in ("bounded", "two rays", "whole line")
    assert np.isnan(tests.loc["d_over_x1", "std_error"])
    assert tests.loc["d_over_x1:delta", "interval"] == ""
    assert tests.loc["d_over_x1:delta", "estimate"] == tests.loc["d_over_x1", "estimate"]
    assert tests.loc["d_over_x1:delta", "std_error"] > 0
    assert (frame.loc[frame["quantity"] != "test", "interval"] == "").all()


def test_wald_after_lpm_is_stata_test_after_regress():
    data = firms(600, seed=9, clusters=25)
    regressors = ["x1", "x2", "d"]
    exog = sm.add_constant(data[regressors], prepend=False)
    restrictions = [{"x1": 1.0, "d": -1.0}, {"x2": 1.0}]
    R = np.array([[1.0, 0.0, -1.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    fit = fit_model(data, "y", regressors, estimator="lpm", se_type="robust")
    test = wald_test(fit, restrictions)
    reference = sm.OLS(data["y"], exog).fit(cov_type="HC1", use_t=True).f_test(R)
    assert test.df_denom == len(data) - 4 == reference.df_denom
    assert test.statistic == pytest.approx(float(reference.fvalue), rel=1e-8)
    assert test.p_value == pytest.approx(float(reference.pvalue), rel=1e-8)
    assert test.f_statistic == test.statistic
    clustered = fit_model(data, "y", regressors, estimator="lpm", se_type="cluster",
                          cluster="g")
    test = wald_test(clustered, restrictions)
    assert test.df_denom == 24  # G - 1
    assert test.p_value == pytest.approx(stats.f.sf(test.statistic, 2, 24), rel=1e-12)
    # one restriction: F = t^2 and the interval uses t(N-k)
    one = wald_test(fit, [{"d": 1.0}])
    coef = fit.params["d"] / fit.bse["d"]
    assert one.statistic == pytest.approx(coef**2, rel=1e-10)
    t = stats.t.ppf(0.975, len(data) - 4)
    assert one.ci_upper == pytest.approx(fit.params["d"] + t * fit.bse["d"], rel=1e-10)
    # and the ratio's delta row and Fieller set use t as well
    res = ratio(fit, "d", "x1")
    assert res.delta.p_value == pytest.approx(
        2 * stats.t.sf(abs(res.delta.statistic), len(data) - 4), rel=1e-10)
    kind, lower, upper = fieller_set(fit.params["d"], fit.params["x1"], fit.cov.loc["d", "d"],
                                     fit.cov.loc["d", "x1"], fit.cov.loc["x1", "x1"], t)
    assert res.interval == kind and (res.ci_lower, res.ci_upper) == pytest.approx(
        (float(lower), float(upper)))


def test_wald_after_ml_models_stays_chi2():
    data = firms(600, seed=9)
    fit = fit_model(data, "y", ["x1", "x2", "d"])
    test = wald_test(fit, [{"x1": 1.0}, {"x2": 1.0}])
    assert test.df_denom is None
    assert test.p_value == pytest.approx(stats.chi2.sf(test.statistic, 2), rel=1e-12)
    assert isinstance(pd.Series([test.statistic]).iloc[0], float)
