"""The generated R cross-check, run in R: every coefficient, SE, AME and cut point agrees
with ours within compare.TOLERANCE (1e-6 relative).

Runs on the default replication, on examples/cis_like (the default models, then a wider
specification: probit, LPM, nonrobust and clustered SEs, probability weights, ordered
logit with clusters and weights), on examples/national_survey (design-based SEs: strata,
fpc, expansion weights), and on hand-made data: frequency weights (against our fit of the
data with each record repeated), ordered probit (against statsmodels), survey designs
(against our pweighted fit with SEs clustered by PSU, which Stata's svy: linearisation
equals with one stratum, and our design-based fits of all five estimators).

Without Rscript (or its packages MASS, sandwich, survey) the tests are skipped, saying so.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats
from test_crosscheck import make_frame

from analysis import config
from analysis.exhibits.crosscheck import compare, models, r_script
from analysis.exhibits.crosscheck.models import CheckModel, SurveyDesign
from analysis.models import estimate as est
from analysis.models.regressors import regressor_frame
from analysis.models.specification import parse_model_spec
from analysis.models.survey_spec import for_survey_design
from analysis.runner import pipeline

STUDY = config.ROOT / "examples" / "cis_like" / "study.toml"
PACKAGES = ("MASS", "sandwich", "survey")
#: Steps that make the estimates and the scripts (the other steps do not touch them).
STEPS = ["--only", "clean", "--only", "build", "--only", "estimate", "--only", "crosscheck"]


@pytest.fixture(scope="module")
def rscript() -> str:
    """Rscript with the packages the scripts load; else skip with the reason."""
    found = shutil.which("Rscript")
    if found is None:
        pytest.skip("Rscript is not on PATH, so the R cross-check was NOT run: install R "
                    "(Debian: r-base-core r-cran-mass r-cran-sandwich r-cran-survey; .ci/run "
                    "does)")
    probe = subprocess.run(
        [found, "-e", f"for (p in c({', '.join(repr(p) for p in PACKAGES)})) "
         "library(p, character.only = TRUE)"], capture_output=True, text=True, timeout=120,
        check=False)
    if probe.returncode != 0:
        pytest.skip(f"R lacks a package the cross-check needs ({', '.join(PACKAGES)}), so the "
                    f"R cross-check was NOT run: {probe.stderr.strip()[-300:]}")
    return found


def run_r(rscript: str, script: Path, out: Path | None = None) -> None:
    args = [rscript, str(script)] + ([str(out)] if out is not None else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{script} failed in R:\n{done.stderr[-3000:]}"


def script_fingerprint(script: Path) -> str:
    return re.search(r'^FINGERPRINT <- "(\w+)"$', script.read_text("utf-8"), re.M).group(1)


def read_run(base: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = base / "output" / "estimates"
    return (pd.read_csv(folder / "estimates.csv"),
            pd.read_csv(folder / "models.csv", dtype=str, keep_default_na=False))


def check_run(rscript: str, base: Path, tmp_path: Path) -> pd.DataFrame:
    """Run the run's R script (results to tmp_path) and compare: the per-model summary."""
    script = base / "output" / "crosscheck" / "crosscheck.R"
    out = tmp_path / "crosscheck_r.csv"
    run_r(rscript, script, out)
    results = compare.read_results(out, "R", script_fingerprint(script))
    assert results.status == "current"
    estimates, model_table = read_run(base)
    numbers, table = compare.comparison(estimates, model_table, [results])
    assert_agrees(numbers, table)
    return table


def assert_agrees(numbers: pd.DataFrame, table: pd.DataFrame) -> None:
    missing = numbers[numbers["missing_r"] != ""]
    assert missing.empty, f"numbers only one side has:\n{missing.head(20)}"
    worst = table[["model", "estimator", "se_type", "largest_rel_diff_r", "where_r"]]
    assert (table["verdict_r"] == "agrees").all(), f"R differs from ours:\n{worst}"
    assert (table["numbers_r"] > 0).all()


def measured(table: pd.DataFrame) -> dict[str, float]:
    return table.groupby("estimator")["largest_rel_diff_r"].max().to_dict()


# ------------------------------------------------------------------ the package's runs


def test_default_replication_agrees_in_r(rscript, full_run, tmp_path):
    table = check_run(rscript, full_run, tmp_path)
    assert len(table) == 12  # Tables 2-5's models
    largest = measured(table)
    assert largest["logit"] < 1e-8 and largest["ologit"] < compare.TOLERANCE


@pytest.fixture(scope="module")
def cis_like(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("crosscheck_cis")
    assert pipeline.main(["--config", str(STUDY), "--output-root", str(base), *STEPS]) == 0
    return base


def test_cis_like_example_agrees_in_r(rscript, cis_like, tmp_path):
    table = check_run(rscript, cis_like, tmp_path)
    assert set(table["estimator"]) == {"logit", "ologit"}


WIDE = """
# cis_like has domestic and international scales: the local and national breadth are
# replaced by their stand-in or left out, as declared here.
optional = ["breadth_local", "breadth_national"]
[defaults]
cluster = "region_sector"
[blocks.breadth]
variables = ["breadth_local", "breadth_national", "breadth_international"]
[blocks.firm]
variables = ["log_employees", "group", "higher_ed_share"]
[blocks.sector]
display = "indicator"
variables = ["sector"]
[blocks.region]
display = "indicator"
variables = ["region"]
[families.probit_robust]
estimator = "probit"
outcomes = ["product"]
main = ["breadth"]
variants = { base = ["firm", "sector", "region"] }
[families.probit_pw]
estimator = "probit"
weights = true
outcomes = ["process"]
main = ["breadth"]
variants = { base = ["firm", "region"] }
[families.logit_nonrobust]
se = "nonrobust"
outcomes = ["new_to_market"]
main = ["breadth"]
variants = { base = ["firm", "sector", "region"] }
[families.logit_cluster_pw]
se = "cluster"
weights = true
outcomes = ["product"]
main = ["breadth"]
variants = { base = ["firm", "sector", "region"] }
[families.lpm_cluster]
estimator = "lpm"
se = "cluster"
outcomes = ["process"]
main = ["breadth"]
variants = { base = ["firm", "sector", "region"] }
[families.lpm_nonrobust]
estimator = "lpm"
se = "nonrobust"
outcomes = ["product"]
main = ["breadth"]
variants = { base = ["firm", "region"] }
[families.lpm_robust_pw]
estimator = "lpm"
weights = true
outcomes = ["product"]
main = ["breadth"]
variants = { base = ["firm", "sector"] }
[families.ologit_nonrobust]
estimator = "ologit"
se = "nonrobust"
outcomes = ["novelty_ordered"]
main = ["breadth"]
variants = { base = ["firm", "sector", "region"] }
[families.ologit_cluster_pw]
estimator = "ologit"
se = "cluster"
weights = true
outcomes = ["novelty_ordered"]
main = ["breadth"]
variants = { base = ["firm", "sector", "region"] }
"""


@pytest.fixture(scope="module")
def wide(tmp_path_factory) -> Path:
    """The CIS-like example (it has sampling weights) with every supported estimator, SE
    type and weighting."""
    base = tmp_path_factory.mktemp("crosscheck_wide")
    spec = base.parent / f"{base.name}_wide.toml"  # an input: outside the output root
    spec.write_text(WIDE, encoding="utf-8")
    code = pipeline.main(["--config", str(STUDY), "--models", str(spec), "--output-root",
                          str(base), *STEPS])
    assert code == 0
    return base


def test_every_estimator_se_type_and_weighting_agrees_in_r(rscript, wide, tmp_path):
    table = check_run(rscript, wide, tmp_path)
    kinds = set(zip(table["estimator"], table["se_type"], table["weighted"], strict=True))
    assert kinds == {("probit", "robust", "False"), ("probit", "robust", "True"),
                     ("logit", "nonrobust", "False"), ("logit", "cluster", "True"),
                     ("lpm", "cluster", "False"), ("lpm", "nonrobust", "False"),
                     ("lpm", "robust", "True"), ("ologit", "nonrobust", "False"),
                     ("ologit", "cluster", "True")}


def test_the_step_compares_the_r_results_a_referee_made(rscript, wide):
    """Rscript writes crosscheck_r.csv next to the script; the next run compares it; results
    of another script version are stale, not compared."""
    folder = wide / "output"
    run_r(rscript, folder / "crosscheck" / "crosscheck.R")
    args = ["--config", str(STUDY), "--models", str(wide.parent / f"{wide.name}_wide.toml"),
            "--output-root",
            str(wide), "--only", "crosscheck"]
    assert pipeline.main(args) == 0
    summary = pd.read_csv(folder / "tables" / "crosscheck_summary.csv")
    assert (summary["verdict_r"] == "agrees").all() and len(summary) == 9
    shown = (folder / "tables" / "crosscheck_comparison.md").read_text("utf-8")
    assert "| estimate (R) |" in shown and "absent" not in shown
    results = folder / "crosscheck" / "crosscheck_r.csv"
    results.write_text(re.sub(r',"[0-9a-f]{16}"\n', ',"0123456789abcdef"\n', results.read_text()))
    assert pipeline.main(args) == 0
    summary = pd.read_csv(folder / "tables" / "crosscheck_summary.csv")
    assert (summary["verdict_r"] == "R results stale").all()
    assert "0123456789abcdef" in (folder / "tables" / "crosscheck_summary.md").read_text()


# ------------------------------------------------- hand-made: beyond our estimation side


def hand_frame() -> pd.DataFrame:
    return make_frame(500, 11)


HAND_SPEC = {
    "blocks": {"main": {"variables": ["x", "d"]},
               "cat": {"variables": ["sector"], "display": "indicator"}},
    "families": {
        "logit_robust": {"outcomes": ["y"], "main": ["main"], "variants": {"base": ["cat"]}},
        "probit_nonrobust": {"outcomes": ["y"], "main": ["main"], "estimator": "probit",
                             "se": "nonrobust", "variants": {"base": ["cat"]}},
        "lpm_cluster": {"outcomes": ["y"], "main": ["main"], "estimator": "lpm",
                        "se": "cluster", "cluster": "g", "variants": {"base": ["cat"]}},
        "lpm_nonrobust": {"outcomes": ["y"], "main": ["main"], "estimator": "lpm",
                          "se": "nonrobust", "variants": {"base": ["cat"]}},
        "ologit_cluster": {"outcomes": ["novelty"], "main": ["main"], "estimator": "ologit",
                           "se": "cluster", "cluster": "g", "variants": {"base": ["cat"]}},
    },
}


def run_hand_made(rscript: str, folder: Path, checks: list[CheckModel], frame: pd.DataFrame
                  ) -> pd.DataFrame:
    """Write the data and the script of ``checks`` into ``folder``, run R, its results."""
    data, schema = models.export_data(frame, checks)
    data_text = models.data_csv(data)
    text = r_script.r_script(checks, schema, "data.csv", compare.TOLERANCE_NOTE)
    script = folder / "crosscheck.R"
    (folder / "data.csv").write_text(data_text, encoding="utf-8")
    script.write_text(text.replace(r_script.FINGERPRINT_SLOT, "hand"), encoding="utf-8")
    run_r(rscript, script, folder / "out.csv")
    results = compare.read_results(folder / "out.csv", "R", "hand")
    assert results.status == "current"
    return results.frame


def test_frequency_weights_are_repeated_records(rscript, tmp_path):
    """R with [fw=f] on the data = ours on the data with each record repeated f times: the
    coefficients, every SE type (N = sum of the weights), AMEs, N, llf and R2."""
    frame = hand_frame()
    spec = parse_model_spec(HAND_SPEC, tmp_path / "models.toml")
    expanded = frame.loc[frame.index.repeat(frame["f"].astype(int))].reset_index(drop=True)
    ours = est.estimate_all(expanded, spec)
    checks = [dataclasses.replace(c, weight="f", weight_kind="fweight")
              for c in models.check_models(spec, ours.model_table, ours.estimates, frame)]
    theirs = run_hand_made(rscript, tmp_path, checks, frame)
    numbers, table = compare.comparison(ours.estimates, ours.model_table,
                                        [compare.Results("R", theirs, "current")])
    assert_agrees(numbers, table)
    nobs = numbers[numbers["term"] == "nobs"]
    assert (nobs["estimate_r"] == frame.loc[frame["x"].notna(), "f"].sum()).all()


def test_survey_design_with_psus_is_the_pweighted_cluster_sandwich(rscript, tmp_path):
    """survey::svyglm / svyolr with PSUs g and weights (one stratum) = our pweighted fit
    clustered by g (Stata: svy: logit = logit [pw=], vce(cluster g) without strata)."""
    frame = hand_frame()
    raw = {"blocks": HAND_SPEC["blocks"], "defaults": {"weights": True},
           "families": {k: {**v, "se": "cluster", "cluster": "g"}
                        for k, v in HAND_SPEC["families"].items()
                        if k in ("logit_robust", "ologit_cluster")}}
    spec = parse_model_spec(raw, tmp_path / "models.toml")
    ours = est.estimate_all(frame, spec)
    checks = [dataclasses.replace(c, se="robust", cluster="", design=SurveyDesign(psu="g"))
              for c in models.check_models(spec, ours.model_table, ours.estimates, frame)]
    theirs = run_hand_made(rscript, tmp_path, checks, frame)
    mine = ours.estimates[~((ours.estimates["quantity"] == "fit")
                            & (ours.estimates["term"] == "llf"))]  # svy: no likelihood
    numbers, table = compare.comparison(mine, ours.model_table,
                                        [compare.Results("R", theirs, "current")])
    assert_agrees(numbers, table)


def test_ordered_probit_matches_statsmodels(rscript, tmp_path):
    """polr(method = "probit") against statsmodels' OrderedModel (probit): slopes, cut
    points and model-based SEs (to 1e-5: statsmodels' SEs come from a numerical Hessian),
    and the AMEs on the top category computed here from statsmodels' estimates."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    frame = hand_frame().dropna(subset=["x"]).reset_index(drop=True)
    design = regressor_frame(frame, ["x", "d", "sector"])
    y = frame["novelty"].cat.codes
    sm = OrderedModel(y, design.frame, distr="probit").fit(method="newton", maxiter=200,
                                                           tol=1e-12, disp=False)
    assert sm.mle_retvals["converged"]
    k = design.frame.shape[1]
    beta = sm.params.to_numpy()[:k]
    cuts = sm.model.transform_threshold_params(sm.params.to_numpy())[1:-1]
    check = CheckModel("oprobit", "oprobit", "novelty", ("x", "d", "sector"), "nonrobust",
                       factors=("sector",), binary=("d",),
                       terms=tuple(design.frame.columns), cuts=("cut0|1", "cut1|2"))
    theirs = run_hand_made(rscript, tmp_path, [check], frame).set_index(["quantity", "term"])
    coefs = theirs.loc["coef"].loc[list(design.frame.columns)]
    np.testing.assert_allclose(coefs["estimate"], beta, rtol=1e-6)
    np.testing.assert_allclose(coefs["std_error"], sm.bse.to_numpy()[:k], rtol=1e-5)
    np.testing.assert_allclose(theirs.loc["cut"]["estimate"], cuts, rtol=1e-6)
    X = design.frame.to_numpy()
    q = X @ beta
    top = cuts[-1]
    ame_x = stats.norm.pdf(top - q).mean() * beta[0]
    x0, x1 = X.copy(), X.copy()
    x0[:, 1], x1[:, 1] = 0.0, 1.0
    ame_d = (stats.norm.sf(top - x1 @ beta) - stats.norm.sf(top - x0 @ beta)).mean()
    ames = theirs.loc["ame"]["estimate"]
    np.testing.assert_allclose([ames["x"], ames["d"]], [ame_x, ame_d], rtol=1e-6)
    assert theirs.loc[("fit", "nobs"), "estimate"] == len(frame)


def test_survey_design_with_strata_and_fpc_is_stratified_linearisation(rscript, tmp_path):
    """svyglm with strata, PSUs and a finite population correction against the
    linearisation written out here: V = B [sum_h n_h/(n_h-1) (1-f_h) sum_i (u_hi - u_h)
    (u_hi - u_h)'] B, u_hi the PSU totals of the weighted scores, B the inverse weighted
    Hessian, f_h = n_h / N_h (Stata's svy: and R's survey alike)."""
    frame = hand_frame()
    frame["s"] = frame["g"] % 3  # 3 strata of 8-9 PSUs each
    frame["f"] = frame["s"].map({0: 40.0, 1: 60.0, 2: 90.0})  # PSUs in the population
    raw = {"blocks": HAND_SPEC["blocks"], "defaults": {"weights": True},
           "families": {"logit": {"outcomes": ["y"], "main": ["main"],
                                  "variants": {"base": ["cat"]}}}}
    spec = parse_model_spec(raw, tmp_path / "models.toml")
    ours = est.estimate_all(frame, spec)
    check = dataclasses.replace(
        models.check_models(spec, ours.model_table, ours.estimates, frame)[0],
        design=SurveyDesign(psu="g", strata="s", fpc="f"))
    theirs = run_hand_made(rscript, tmp_path, [check], frame).set_index(["quantity", "term"])
    fit = ours.models[0].fit
    X, y, w = fit.design.X, fit.design.y, fit.design.weights
    p = special.expit(X @ fit.beta)
    bread = np.linalg.inv(X.T @ (X * (w * p * (1 - p))[:, None]))
    scores = pd.DataFrame(X * (w * (y - p))[:, None])
    keys = frame.loc[fit.design.index, ["s", "g"]].reset_index(drop=True)
    meat = np.zeros((X.shape[1], X.shape[1]))
    for stratum, rows in scores.groupby(keys["s"]):
        totals = rows.groupby(keys.loc[rows.index, "g"]).sum().to_numpy()
        n_h = len(totals)
        centred = totals - totals.mean(axis=0)
        population = frame.loc[frame["s"] == stratum, "f"].iloc[0]
        meat += n_h / (n_h - 1) * (1 - n_h / population) * centred.T @ centred
    se = np.sqrt(np.diag(bread @ meat @ bread))
    coefs = theirs.loc["coef"].loc[list(fit.terms)]
    np.testing.assert_allclose(coefs["estimate"], fit.beta, rtol=1e-9)
    np.testing.assert_allclose(coefs["std_error"], se, rtol=1e-8)


def test_every_estimator_under_a_stratified_design_agrees_in_r(rscript, tmp_path):
    """The estimate step's design-based fits (a study [design]: strata, PSUs, fpc totals,
    pweights) of logit, probit, LPM, ordered logit and ordered probit against the generated
    script's svyglm / svyolr (probit: R's linearisation around the observed information,
    as Stata's svy: probit), every coefficient, SE, AME and cut point."""
    frame = hand_frame()
    frame["s"] = frame["g"] % 3
    frame["f"] = frame["s"].map({0: 40.0, 1: 60.0, 2: 90.0})
    families = {
        "logit": {"outcomes": ["y"]},
        "probit": {"outcomes": ["y"], "estimator": "probit"},
        "lpm": {"outcomes": ["y"], "estimator": "lpm"},
        "ologit": {"outcomes": ["novelty"], "estimator": "ologit"},
        "oprobit": {"outcomes": ["novelty"], "estimator": "oprobit"},
    }
    raw = {"blocks": HAND_SPEC["blocks"],
           "families": {k: {**v, "main": ["main"], "variants": {"base": ["cat"]}}
                        for k, v in families.items()}}
    spec = for_survey_design(parse_model_spec(raw, tmp_path / "models.toml"),
                             {"strata": "s", "psu": "g", "fpc": "f"}, survey_weighted=True)
    ours = est.estimate_all(frame, spec)
    assert set(ours.model_table["se_type"]) == {"survey"}
    assert ours.model_table["weighted"].all()
    checks = models.check_models(spec, ours.model_table, ours.estimates, frame)
    assert {c.design for c in checks} == {SurveyDesign(psu="g", strata="s", fpc="f")}
    theirs = run_hand_made(rscript, tmp_path, checks, frame)
    numbers, table = compare.comparison(ours.estimates, ours.model_table,
                                        [compare.Results("R", theirs, "current")])
    assert_agrees(numbers, table)
    assert set(table["estimator"]) == set(families)


@pytest.fixture(scope="module")
def national_survey(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("crosscheck_national")
    study = config.ROOT / "examples" / "national_survey" / "study.toml"
    assert pipeline.main(["--config", str(study), "--output-root", str(base), *STEPS]) == 0
    return base


def test_national_survey_example_agrees_in_r(rscript, national_survey, tmp_path):
    """The national-survey example's design ([design]: strata and fpc, expansion weights):
    every model of the run refitted with svyglm / svyolr by the generated script."""
    table = check_run(rscript, national_survey, tmp_path)
    assert set(table["se_type"]) == {"survey"}
    script = (national_survey / "output" / "crosscheck" / "crosscheck.R").read_text("utf-8")
    assert ("survey::svydesign(ids = ~1, strata = ~design_stratum, fpc = ~design_fpc, "
            "weights = ~weight") in script
