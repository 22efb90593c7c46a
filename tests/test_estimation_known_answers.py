"""Known-answer tests: published Stata output on public data (docs/study.md section 7).

The data and their provenance are in tests/data/.

Every number goes through the public path the pipeline uses: fit_model ->
average_marginal_effects -> tidy. A printed Stata number is matched to its printed
precision (half a unit in the last printed digit) or to a relative 1e-5, whichever is
looser: Stata prints seven significant digits and stops Newton earlier than we do.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.models.estimation import average_marginal_effects, fit_model, tidy

REL_TOL = 1e-5


def reference_dir() -> Path:
    """The public reference data shipped with the tests (provenance: tests/data/README.md)."""
    return Path(__file__).resolve().parent / "data"


def reference_file(name: str) -> Path:
    path = reference_dir() / name
    if not path.is_file():
        pytest.fail(f"reference data file missing: {path}")
    return path


def assert_stata(actual: float, printed: str) -> None:
    """actual matches a number as Stata printed it."""
    expected = float(printed)
    mantissa = printed.lstrip("-+").split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    tol = max(0.5 * 10.0 ** (-decimals) * 1.0001, REL_TOL * abs(expected))
    assert abs(actual - expected) <= tol, (
        f"{actual!r} != Stata {printed} (tolerance {tol:.2g})")


def rows(frame: pd.DataFrame, quantity: str) -> pd.DataFrame:
    return frame[frame["quantity"] == quantity].set_index("term")


def check_table(frame: pd.DataFrame, quantity: str, expected: dict[str, tuple[str, str]]):
    got = rows(frame, quantity)
    for term, (estimate, std_error) in expected.items():
        assert_stata(got.loc[term, "estimate"], estimate)
        assert_stata(got.loc[term, "std_error"], std_error)


# ---------------------------------------------------------------------------- data


@pytest.fixture(scope="module")
def auto() -> pd.DataFrame:
    # convert_categoricals=False keeps foreign as its 0/1 codes (1 = Foreign).
    return pd.read_stata(reference_file("stata_auto.dta"), convert_categoricals=False)


@pytest.fixture(scope="module")
def spector() -> pd.DataFrame:
    return pd.read_csv(reference_file("spector_statsmodels.csv"), sep=r"\s+", quotechar="'")


@pytest.fixture(scope="module")
def ucla() -> pd.DataFrame:
    data = pd.read_csv(reference_file("ucla_binary_admit_glmjl.csv"))
    for level in (2, 3, 4):  # i.rank with base 1
        data[f"rank_{level}"] = (data["rank"] == level).astype(float)
    return data


# ---------------------------------------------------------------------------- auto


def test_auto_logit_coefficients_fit_and_margins(auto):
    fit = fit_model(auto, "foreign", ["weight", "mpg"], estimator="logit",
                    se_type="nonrobust", model_id="auto_logit")
    frame = tidy(fit, margins=average_marginal_effects(fit))
    check_table(frame, "coef", {
        "weight": ("-.0039067", ".0010116"),
        "mpg": ("-.1685869", ".0919175"),
        "const": ("13.70837", "4.518709"),
    })
    fit_rows = rows(frame, "fit")
    assert_stata(fit_rows.loc["llf", "estimate"], "-27.175156")
    assert_stata(fit_rows.loc["pseudo_r2", "estimate"], "0.3966")
    assert fit_rows.loc["nobs", "estimate"] == 74
    check_table(frame, "ame", {
        "mpg": ("-.0197187", ".0096987"),
        "weight": ("-.0004569", ".0000571"),
    })


def test_auto_probit_fit(auto):
    fit = fit_model(auto, "foreign", ["weight", "mpg"], estimator="probit",
                    se_type="nonrobust", model_id="auto_probit")
    fit_rows = rows(tidy(fit), "fit")
    assert_stata(fit_rows.loc["llf", "estimate"], "-26.844189")
    assert_stata(fit_rows.loc["pseudo_r2", "estimate"], "0.4039")


# ------------------------------------------------------------------------- spector

SPECTOR_X = ["GPA", "TUCE", "PSI"]


def test_spector_logit_coefficients_and_loglik(spector):
    fit = fit_model(spector, "GRADE", SPECTOR_X, estimator="logit", se_type="nonrobust",
                    model_id="spector_logit")
    frame = tidy(fit)
    check_table(frame, "coef", {
        "GPA": ("2.82611297201", "1.26294114526"),
        "TUCE": (".0951576702557", ".141554207662"),
        "PSI": ("2.37868772835", "1.06456430165"),
        "const": ("-13.0213483201", "4.93132462871"),
    })
    assert_stata(rows(frame, "fit").loc["llf", "estimate"], "-12.8896334653335")


def test_spector_logit_ames_continuous_and_discrete(spector):
    fit = fit_model(spector, "GRADE", SPECTOR_X, estimator="logit", se_type="nonrobust",
                    model_id="spector_logit")
    continuous = tidy(fit, margins=average_marginal_effects(fit))
    check_table(continuous, "ame", {
        "GPA": (".36258084688424", ".1094412"),
        "TUCE": (".01220841099085", ".0177942"),
        "PSI": (".30517768382304", ".0923796"),
    })
    discrete = tidy(fit, margins=average_marginal_effects(fit, binary={"PSI"}))
    check_table(discrete, "ame", {"PSI": (".35751515254729", ".1420034")})


def test_spector_probit_coefficients_and_loglik(spector):
    fit = fit_model(spector, "GRADE", SPECTOR_X, estimator="probit", se_type="nonrobust",
                    model_id="spector_probit")
    frame = tidy(fit)
    check_table(frame, "coef", {
        "GPA": ("1.62581025407", ".693882522754"),
        "TUCE": (".051728948442", ".083890261293"),
        "PSI": ("1.42633236818", ".595037920474"),
        "const": ("-7.45232041607", "2.54247249731"),
    })
    assert_stata(rows(frame, "fit").loc["llf", "estimate"], "-12.8188033249334")


# ---------------------------------------------------------------------------- ucla


def test_ucla_logit_with_rank_dummies(ucla):
    fit = fit_model(ucla, "admit", ["gre", "gpa", "rank_2", "rank_3", "rank_4"],
                    estimator="logit", se_type="nonrobust", model_id="ucla_logit")
    frame = tidy(fit)
    check_table(frame, "coef", {
        "gre": (".0022644", ".001094"),
        "gpa": (".8040377", ".3318193"),
        "rank_2": ("-.6754429", ".3164897"),
        "rank_3": ("-1.340204", ".3453064"),
        "rank_4": ("-1.551464", ".4178316"),
        "const": ("-3.989979", "1.139951"),
    })
    fit_rows = rows(frame, "fit")
    assert_stata(fit_rows.loc["llf", "estimate"], "-229.25875")
    assert_stata(fit_rows.loc["pseudo_r2", "estimate"], "0.0829")
    assert fit_rows.loc["nobs", "estimate"] == 400


def test_assert_stata_can_fail():
    # Guard against a vacuous helper: a difference of one printed unit must fail.
    with pytest.raises(AssertionError):
        assert_stata(-0.0039068, "-.0039067")
    assert np.isclose(float("-.0039067"), -0.0039067)
