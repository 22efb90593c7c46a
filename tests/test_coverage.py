"""The coverage study (analysis/models/coverage.py): at 1,000 replications on the twin's
generator the 95% intervals of coefficients, AMEs (continuous and discrete) and the Fieller
set of the international / local ratio cover the truth between 93% and 97% of the time
(about 3 Monte Carlo SEs either side of 95%); the delta-method interval of the ratio does
not (the issue's finding: 85-88%, missing low), and the exhibit says so."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.models.coverage import coverage_notes, coverage_study

REPLICATIONS = 1000
LOW, HIGH = 0.93, 0.97


@pytest.fixture(scope="module")
def study():
    return coverage_study(replications=REPLICATIONS)


def test_coefficients_ames_and_fieller_sets_hold_their_level(study):
    frame = study.frame
    assert study.used >= 0.99 * REPLICATIONS
    held = frame[~frame["Quantity"].str.endswith("delta")]
    assert set(held["Quantity"]) == {"Coefficient", "AME, continuous", "AME, discrete",
                                     "Ratio (coef.), Fieller", "Ratio (AME), Fieller"}
    outside = held[(held["Coverage"] < LOW) | (held["Coverage"] > HIGH)]
    assert outside.empty, outside.to_string()
    assert np.allclose(held["MC SE"], np.sqrt(held["Coverage"] * (1 - held["Coverage"])
                                              / study.used))


def test_the_delta_method_ratio_undercovers_and_misses_low(study):
    frame = study.frame.set_index("Quantity")
    delta = frame.loc["Ratio (coef.), delta"]
    fieller = frame.loc["Ratio (coef.), Fieller"]
    assert delta["Coverage"] < LOW  # the miscalibration the issue found
    assert delta["Missed low"] > 0.5 * (1 - delta["Coverage"])
    assert fieller["Unbounded"] > 0.3  # the local effect is often indistinguishable from 0
    text = " ".join(coverage_notes(study))
    assert f"covers {delta['Coverage']:.1%} of the time, not 95%" in text
    assert "Fieller set covers" in text


def test_the_truth_is_the_twins(study):
    frame = study.frame.set_index(["Quantity", "Term"])
    assert frame.loc[("Coefficient", "breadth_international"), "Truth"] == 0.24
    assert frame.loc[("Coefficient", "breadth_local"), "Truth"] == 0.06
    assert frame.loc[("Ratio (AME), Fieller", "international / local"), "Truth"] == \
        pytest.approx(4.0)


def test_a_rerun_gives_the_same_table():
    small = coverage_study(replications=40)
    again = coverage_study(replications=40)
    assert small.frame.equals(again.frame)
