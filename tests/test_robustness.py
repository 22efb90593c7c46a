"""Tests of analysis.models.robustness on a small hand-made analysis-like frame."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pandas as pd
import pytest

from analysis.errors import RobustnessError
from analysis.models import robustness as rb
from analysis.models.estimation import fit_model
from analysis.models.headline import Headline, fit_with_margins, model_data
from analysis.models.robustness_config import BINARY_ESTIMATORS, RobustnessConfig
from analysis.models.specification_curve import (
    block_subsets,
    curve_specifications,
    curve_summary,
    specification_curve,
)

OUTCOMES = ("product", "process")
MAIN = ("local", "national", "international")


def simulated_data(n: int = 600, seed: int = 20110101) -> pd.DataFrame:
    """Breadth counts, a size control, sector/region categories and a manager variable."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({
        "local": rng.integers(0, 5, n).astype(float),
        "national": rng.integers(0, 5, n).astype(float),
        "international": rng.integers(0, 5, n).astype(float),
        "size": rng.normal(3.0, 1.0, n),
        "sector": pd.Categorical(rng.choice(["manuf", "services", "other"], n),
                                 categories=["manuf", "services", "other"]),
        "region": pd.Categorical(rng.choice(["oslo", "bergen", "stavanger"], n),
                                 categories=["oslo", "bergen", "stavanger"]),
        "manager_edu": rng.integers(0, 2, n).astype(float),
    })
    index = (-1.2 + 0.05 * data["local"] + 0.15 * data["national"]
             + 0.35 * data["international"] + 0.2 * (data["size"] - 3.0))
    for name, shift in zip(OUTCOMES, (0.0, -0.3), strict=True):
        p = 1.0 / (1.0 + np.exp(-(index + shift)))
        data[name] = (rng.random(n) < p).astype(float)
    data.loc[rng.choice(n, 20, replace=False), "manager_edu"] = np.nan  # some missing
    return data


def make_headline(curve_blocks: tuple[str, ...] = ("firm", "manager"),
                  estimator: str = "logit") -> Headline:
    return Headline(
        family="breadth", variant="full", estimator=estimator, se="robust",
        outcomes=OUTCOMES, main=MAIN, control_blocks=("firm",), curve_blocks=curve_blocks,
        international="international", local="local",
        blocks={"breadth": MAIN, "firm": ("size", "sector"), "manager": ("manager_edu",),
                "place": ("region",)},
        labels={"local": "Local", "national": "National", "international": "International"},
        outcome_labels={"product": "Product", "process": "Process"})


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return simulated_data()


@pytest.fixture(scope="module")
def headline() -> Headline:
    return make_headline()


def ames(data: pd.DataFrame, outcome: str, variables, estimator: str) -> dict[str, float]:
    md = model_data(data, outcome, variables)
    _, margins = fit_with_margins(md, MAIN, estimator=estimator, se_type="robust",
                                     model_id="check")
    return dict(zip(margins.terms, margins.estimates, strict=True))


# ----------------------------------------------------------------------------- estimators


def test_lpm_ames_equal_its_coefficients(data, headline):
    exhibit = rb.estimator_comparison(data, headline, ("lpm",))
    rows = exhibit.estimates[exhibit.estimates["quantity"] == "ame"]
    assert exhibit.failures == ()
    variables = headline.variables(headline.control_blocks)
    for outcome in OUTCOMES:
        md = model_data(data, outcome, variables)
        frame = md.frame.loc[md.complete]
        # Independent OLS (numpy lstsq) on the same design: the LPM's coefficients.
        X = np.column_stack([frame[list(md.terms)].to_numpy(float), np.ones(len(frame))])
        beta, *_ = np.linalg.lstsq(X, frame[outcome].to_numpy(float), rcond=None)
        coef = dict(zip(md.terms, beta[:-1], strict=True))  # last: constant
        fit = fit_model(md.frame, outcome, list(md.terms), estimator="lpm")
        got = rows[rows["outcome"] == outcome].set_index("term")["estimate"]
        assert len(got) == len(MAIN)
        for term in MAIN:
            assert got[term] == pytest.approx(coef[term], rel=1e-9, abs=1e-12)
            assert got[term] == pytest.approx(fit.params[term], rel=1e-12, abs=1e-14)


def test_logit_and_probit_ames_are_close_and_differ_from_index_coefficients(data, headline):
    exhibit = rb.estimator_comparison(data, headline, ("logit", "probit", "lpm"))
    assert exhibit.failures == ()
    assert len(exhibit.models) == len(OUTCOMES) * 3
    rows = exhibit.estimates[exhibit.estimates["quantity"] == "ame"]
    for outcome in OUTCOMES:
        by = rows[rows["outcome"] == outcome].pivot(index="term", columns="estimator",
                                                    values="estimate")
        np.testing.assert_allclose(by.loc[list(MAIN), "logit"], by.loc[list(MAIN), "probit"],
                                   atol=0.01)
        # The international AME is the largest by design; the three estimators agree on it.
        assert (by.loc["international"] > by.loc["local"]).all()
        assert by.loc["international", "lpm"] == pytest.approx(by.loc["international", "logit"],
                                                               abs=0.02)


def test_se_comparison_same_points_different_ses(data, headline):
    data = data.assign(cluster=data["region"].astype(str) + "_" + data["sector"].astype(str))
    exhibit = rb.se_comparison(data, headline, "cluster")
    rows = exhibit.estimates[exhibit.estimates["quantity"] == "ame"]
    for outcome in OUTCOMES:
        sub = rows[rows["outcome"] == outcome]
        robust = sub[sub["se_type"] == "robust"].set_index("term")
        cluster = sub[sub["se_type"] == "cluster"].set_index("term")
        np.testing.assert_allclose(robust["estimate"], cluster["estimate"], rtol=1e-12)
        assert not np.allclose(robust["std_error"], cluster["std_error"])


def test_manager_comparison_same_sample_column(data, headline):
    exhibit = rb.manager_comparison(data, headline, "manager")
    nobs = exhibit.estimates[(exhibit.estimates["term"] == "nobs")]
    by_model = dict(zip(nobs["model"], nobs["estimate"], strict=True))
    prefix = "robustness_manager_controls__product__"
    assert by_model[prefix + "without"] == len(data)
    assert by_model[prefix + "without_same_sample"] == len(data) - 20
    assert by_model[prefix + "with"] == len(data) - 20


# ----------------------------------------------------------------------------- subsamples


def test_subsample_without_outcome_variation_is_reported_by_error_name(data, headline):
    broken = data.copy()
    stavanger = broken["region"] == "stavanger"
    broken.loc[stavanger, "process"] = 0.0  # process has no variation in Stavanger
    frame = rb.subsample_frame(broken, headline, "region")
    assert len(frame) == 3 * len(OUTCOMES)  # every level x outcome, nothing dropped
    failed = frame[frame["Problem"] != ""]
    assert failed[["City-region", "Outcome"]].values.tolist() == [["stavanger", "Process"]]
    problem = failed["Problem"].iloc[0]
    assert problem.startswith("EmptyCellError: ")
    assert "subsample region=stavanger (process)" in problem
    assert failed[["Local: AME", "International: SE"]].isna().all().all()
    assert failed["N"].iloc[0] == int(stavanger.sum())
    ok = frame[frame["Problem"] == ""]
    assert ok["International: AME"].notna().all()
    exhibit = rb.subsample_exhibit(broken, headline, "region")
    assert any("1 subsample model(s) could not be estimated" in n for n in exhibit.notes)


def test_subsample_with_perfect_separation_is_reported(data, headline):
    broken = data.copy()
    services = broken["sector"] == "services"
    # Within services, product innovation is perfectly predicted by international > 2.
    broken.loc[services, "product"] = (broken.loc[services, "international"] > 2).astype(float)
    frame = rb.subsample_frame(broken, headline, "sector")
    assert len(frame) == 3 * len(OUTCOMES)
    row = frame[(frame["Sector group"] == "services") & (frame["Outcome"] == "Product")]
    assert row["Problem"].iloc[0].startswith("PerfectSeparationError: ")
    assert np.isnan(row["International: AME"].iloc[0])
    assert (frame["Problem"] != "").sum() == 1


def test_subsample_ames_match_a_direct_fit(data, headline):
    frame = rb.subsample_frame(data, headline, "region")
    bergen = data[data["region"] == "bergen"]
    direct = ames(bergen, "product", ["local", "national", "international", "size", "sector"],
                  "logit")
    row = frame[(frame["City-region"] == "bergen") & (frame["Outcome"] == "Product")]
    assert row["International: AME"].iloc[0] == pytest.approx(direct["international"],
                                                              rel=1e-10)
    with pytest.raises(RobustnessError, match="'nowhere'"):
        rb.subsample_frame(data, headline, "nowhere")


# ----------------------------------------------------------------------- spec curve


def test_block_subsets_every_subset_once():
    subsets = block_subsets(["a", "b", "c"])
    assert len(subsets) == 8
    assert subsets[0] == ()
    assert len({frozenset(s) for s in subsets}) == 8


def test_curve_specifications_count_and_uniqueness():
    blocks = ["firm", "manager", "place", "extra"]
    specs = curve_specifications(OUTCOMES, BINARY_ESTIMATORS, blocks)
    assert len(specs) == len(OUTCOMES) * len(BINARY_ESTIMATORS) * 2 ** len(blocks)
    keys = {(s.outcome, s.estimator, frozenset(s.blocks)) for s in specs}
    assert len(keys) == len(specs)
    assert {s.outcome for s in specs} == set(OUTCOMES)
    assert {s.estimator for s in specs} == set(BINARY_ESTIMATORS)


def test_specification_curve_difference_equals_difference_of_ames(data):
    headline = make_headline(curve_blocks=("firm", "manager"))
    curve = specification_curve(data, headline, ("logit", "lpm"), n_jobs=1)
    assert len(curve) == len(OUTCOMES) * 2 * 4
    assert curve["outcome"].tolist() == [o for o in OUTCOMES for _ in range(8)]
    assert curve["rank"].tolist() == list(range(1, 9)) * len(OUTCOMES)
    assert (curve["problem"] == "").all()
    for _, one in curve.groupby("outcome"):  # one curve per outcome
        assert one["estimate"].is_monotonic_increasing
    keys = set(zip(curve["outcome"], curve["estimator"], curve["controls"], strict=True))
    assert len(keys) == len(curve)
    for _, row in curve.iterrows():
        blocks = [b for b in headline.curve_blocks if row[f"block:{b}"]]
        expected_controls = " + ".join(blocks) if blocks else "none"
        assert row["controls"] == expected_controls
        got = ames(data, row["outcome"], headline.variables(blocks), row["estimator"])
        assert row["estimate"] == pytest.approx(got["international"] - got["local"],
                                                rel=1e-9, abs=1e-12)
        assert row["ci_lower"] < row["estimate"] < row["ci_upper"]
    with_manager = curve[curve["block:manager"]]
    assert (with_manager["nobs"] == len(data) - 20).all()


def test_specification_curve_sample_sizes_are_each_models_complete_cases(data):
    """N of each specification: rows with its outcome, its regressors and a positive weight
    observed (missing values in other specifications' columns do not count)."""
    rng = np.random.default_rng(7)
    holes = data.assign(w=rng.choice([0.0, 1.0, 2.0], len(data)))
    for column, count in (("product", 15), ("size", 25), ("manager_edu", 10)):
        holes.loc[rng.choice(len(holes), count, replace=False), column] = np.nan
    headline = dataclasses.replace(make_headline(curve_blocks=("firm", "manager")),
                                   weights="w")
    curve = specification_curve(holes, headline, ("lpm",), n_jobs=1)
    for _, row in curve.iterrows():
        blocks = [b for b in headline.curve_blocks if row[f"block:{b}"]]
        md = model_data(holes, row["outcome"], headline.variables(blocks), weights="w")
        assert row["nobs"] == int(md.complete.sum())
    assert curve["nobs"].nunique() >= 4  # the holes make the samples differ


def test_specification_curve_failures_are_listed_last(data):
    broken = data.assign(process=0.0)  # every process model fails: no variation
    headline = make_headline(curve_blocks=("manager",))
    curve = specification_curve(broken, headline, ("lpm",), n_jobs=1)
    assert len(curve) == 4
    assert curve["problem"].iloc[:2].eq("").all()
    assert curve["problem"].iloc[2:].str.startswith("EmptyCellError: ").all()
    assert (curve["outcome"].iloc[2:] == "process").all()
    assert "2 of 4 specifications estimated" in curve_summary(curve)


def test_specification_curve_needs_both_scales(data):
    headline = make_headline()
    partial = Headline(**{**headline.__dict__, "main": ("national", "international")})
    with pytest.raises(RobustnessError, match="specification curve needs"):
        specification_curve(data, partial, ("lpm",), n_jobs=1)


# ----------------------------------------------------------------------------- bootstrap


def test_bootstrap_identical_for_one_and_two_workers_and_seed_sensitive(data):
    small = data.iloc[:300]
    headline = make_headline()
    one, res1 = rb.bootstrap_frame(small, headline, reps=9, seed=42, n_jobs=1)
    two, res2 = rb.bootstrap_frame(small, headline, reps=9, seed=42, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)
    np.testing.assert_array_equal(res1.replicates, res2.replicates)
    assert res1.replicates.shape == (9, len(OUTCOMES) * (len(MAIN) + 2))  # + difference, ratio
    assert np.isfinite(res1.replicates).all()
    _, other = rb.bootstrap_frame(small, headline, reps=9, seed=43, n_jobs=1)
    assert not np.array_equal(res1.replicates, other.replicates)
    # Point estimates: the full-sample AMEs, and the contrast is their difference.
    got = ames(small, "product", headline.variables(headline.control_blocks), "logit")
    product = one[one["Outcome"] == "Product"].set_index("Term")["AME"]
    assert product["International"] == pytest.approx(got["international"], rel=1e-10)
    assert product["International minus local"] == pytest.approx(
        got["international"] - got["local"], rel=1e-9)
    # Each replicate's contrast column is the difference of its two AME columns.
    names = list(res1.names)
    diff = res1.replicates[:, names.index("product|international - local")]
    np.testing.assert_allclose(
        diff, res1.replicates[:, names.index("product|international")]
        - res1.replicates[:, names.index("product|local")], rtol=1e-12)
    assert (one["Replications"] == 9).all() and (one["Failed"] == 0).all()


def test_bootstrap_replicate_uses_only_its_generator(data):
    small = data.iloc[:200]
    headline = make_headline()
    md = model_data(small, "product", headline.variables(headline.control_blocks))
    fit, _ = fit_with_margins(md, MAIN, estimator="logit", se_type="robust", model_id="m")
    args = dict(fits=[fit], terms=list(MAIN), contrast=("international", "local"))
    a = rb.breadth_ame_replicate(np.random.default_rng(5), **args)
    b = rb.breadth_ame_replicate(np.random.default_rng(5), **args)
    c = rb.breadth_ame_replicate(np.random.default_rng(6), **args)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a[3] == pytest.approx(a[2] - a[0])


def test_weighted_headline_weights_every_robustness_fit(data):
    """Integer weights: each analysis equals the unweighted one on rows repeated w times."""
    small = data.iloc[:300].assign(w=np.tile([1.0, 2.0, 3.0], 100))
    repeated = small.loc[small.index.repeat(small["w"].astype(int))].reset_index(drop=True)
    weighted = dataclasses.replace(make_headline(), weights="w")
    plain = make_headline()
    boot_w, _ = rb.bootstrap_frame(small, weighted, reps=5, seed=1, n_jobs=1)
    boot_r, _ = rb.bootstrap_frame(repeated, plain, reps=5, seed=1, n_jobs=1)
    np.testing.assert_allclose(boot_w["AME"], boot_r["AME"], rtol=1e-7)
    curve_w = specification_curve(small, weighted, ["logit", "lpm"], n_jobs=1)
    curve_r = specification_curve(repeated, plain, ["logit", "lpm"], n_jobs=1)
    np.testing.assert_allclose(curve_w["estimate"], curve_r["estimate"], rtol=1e-7)
    assert curve_w["nobs"].max() == len(small)  # N counts firms, not weights
    comparison_w = rb.estimator_comparison(small, weighted, ["logit", "probit"])
    comparison_r = rb.estimator_comparison(repeated, plain, ["logit", "probit"])
    ame = comparison_w.estimates["quantity"] == "ame"
    np.testing.assert_allclose(comparison_w.estimates.loc[ame, "estimate"],
                               comparison_r.estimates.loc[ame, "estimate"], rtol=1e-7)


def test_manager_comparison_without_manager_variables_says_why(data):
    headline = make_headline()
    headline = dataclasses.replace(headline, blocks={**headline.blocks, "manager": ()})
    exhibit = rb.manager_comparison(data, headline, "manager")
    assert exhibit.models == ()
    assert "no variable of the 'manager' block is available" in exhibit.failures[0]


def test_run_analyses_equal_the_single_analyses_and_return_errors(data):
    headline = make_headline()
    small = data.iloc[:300]
    settings = RobustnessConfig(bootstrap_reps=5, subsample_by=("sector",), n_jobs=2,
                                   cluster="region")
    results = rb.run_analyses(small, headline, settings, seed=3)
    assert set(results) == {"curve", "bootstrap", "subsample:sector", "manager", "estimators",
                            "clustered_se"}
    pd.testing.assert_frame_equal(results["curve"], specification_curve(
        small, headline, settings.curve_estimators, n_jobs=1))
    frame, _ = rb.bootstrap_frame(small, headline, 5, 3, n_jobs=1)
    pd.testing.assert_frame_equal(results["bootstrap"][0], frame)
    pd.testing.assert_frame_equal(results["estimators"].estimates,
                                  rb.estimator_comparison(small, headline,
                                                          settings.estimators).estimates)
    missing = rb.run_analyses(small, headline, dataclasses.replace(settings, subsample_by=(
        "no_such_column",)), seed=3)
    assert isinstance(missing["subsample:no_such_column"], RobustnessError)


def test_run_analyses_applies_the_curve_hook_in_the_curves_worker(data):
    headline = make_headline(curve_blocks=("manager",))
    small = data.iloc[:300]
    settings = RobustnessConfig(bootstrap_reps=5, subsample_by=("sector",), n_jobs=2,
                                   cluster="region", curve_estimators=("lpm",))
    results = rb.run_analyses(small, headline, settings, seed=3,
                              curve_figure=lambda curve: (os.getpid(), curve["rank"].sum()))
    assert results["curve_figure"][1] == results["curve"]["rank"].sum() == 2 * (1 + 2)
    assert results["curve_figure"][0] != os.getpid()  # rendered in a forked worker
    no_local = dataclasses.replace(headline, main=("national", "international"))
    failed = rb.run_analyses(small, no_local, settings, seed=3,
                             curve_figure=lambda curve: 1 / 0)
    assert isinstance(failed["curve"], RobustnessError)
    assert failed["curve_figure"] is None
