"""The cross-check generators without R or Stata: models, data file, R script, do-file and
the comparison (analysis/exhibits/crosscheck). The R runs are in test_crosscheck_r.py."""

from __future__ import annotations

import re
import shutil
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from latex import compile_latex

from analysis import config
from analysis.errors import ExhibitError
from analysis.exhibits.crosscheck import compare, models, r_script, stata_script
from analysis.exhibits.crosscheck.models import CheckModel, DataSchema, SurveyDesign
from analysis.models import estimate as est
from analysis.models.specification import parse_model_spec, with_weights
from analysis.models.survey_spec import for_survey_design

RAW = {
    "blocks": {"main": {"variables": ["x", "d"]},
               "cat": {"variables": ["sector"], "display": "indicator"}},
    "families": {
        "bin": {"outcomes": ["y"], "main": ["main"], "variants": {"base": ["cat"]},
                "se": "cluster", "cluster": "g"},
        "ord": {"outcomes": ["novelty"], "main": ["main"], "estimator": "ologit",
                "variants": {"base": ["cat"]}},
    },
}


def make_frame(n: int = 300, seed: int = 5) -> pd.DataFrame:
    """Outcomes y (0/1) and novelty (ordered), a continuous x (2 missing), a 0/1 d, a
    categorical sector whose levels hold a space and a quote, clusters g, sampling weights
    and frequency weights f."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    d = rng.integers(0, 2, n)
    sector = pd.Categorical(rng.choice(["a", "b c", 'q"t'], n), categories=["a", "b c", 'q"t'])
    index = 0.3 + 0.8 * x - 0.5 * d + 0.4 * (np.asarray(sector) == "b c")
    y = (rng.random(n) < 1 / (1 + np.exp(-index))).astype(float)
    novelty = pd.Categorical.from_codes(np.digitize(index + rng.logistic(size=n), [0.0, 1.5]),
                                        categories=["none", "firm", "market"], ordered=True)
    frame = pd.DataFrame({"y": y, "x": x, "d": pd.array(d, dtype="Int64"), "sector": sector,
                          "novelty": novelty, "g": rng.integers(0, 12, n),
                          "weight": rng.uniform(0.5, 3.0, n),
                          "f": rng.integers(1, 5, n).astype(float)})
    frame.loc[[3, 7], "x"] = np.nan
    return frame


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return parse_model_spec(RAW, tmp_path_factory.mktemp("spec") / "models.toml")


@pytest.fixture(scope="module")
def run(spec):
    return est.estimate_all(make_frame(), spec)


@pytest.fixture(scope="module")
def checks(spec, run):
    return models.check_models(spec, run.model_table, run.estimates, make_frame())


# ------------------------------------------------------------------------------ models


def test_models_are_described_as_the_estimate_step_fitted_them(checks):
    binary, ordered = checks
    assert binary.id == "bin__y__base" and binary.estimator == "logit"
    assert binary.regressors == ("x", "d", "sector") and binary.factors == ("sector",)
    assert binary.binary == ("d",) and binary.cluster == "g" and binary.se == "cluster"
    assert binary.terms == ("x", "d", "sector[b c]", 'sector[q"t]', "const")
    assert [binary.kind_of(t) for t in binary.terms] == [
        "continuous", "binary", "factor", "factor", "const"]
    assert binary.variables == ("y", "x", "d", "sector", "g") and binary.weight == ""
    assert ordered.ordered and ordered.cuts == ("cut0|1", "cut1|2") and ordered.cluster == ""
    assert ordered.terms == ("x", "d", "sector[b c]", 'sector[q"t]')


def test_weights_and_the_design_come_from_the_specification(spec, run):
    """Each model's weight kind is its family's (pweight or fweight, not just "weighted"),
    and a study [design] gives every model design-based SEs in the scripts."""
    for kind in ("pweight", "fweight"):
        weighted = with_weights(spec, kind)
        frame = make_frame().assign(weight=lambda f: f["f"])  # whole numbers for fweights
        ours = est.estimate_all(frame, weighted)
        found = models.check_models(weighted, ours.model_table, ours.estimates, frame)
        assert {(c.weight, c.weight_kind) for c in found} == {("weight", kind)}
    design = for_survey_design(with_weights(spec, "pweight"),
                               {"strata": "s", "psu": "g", "fpc": "f", "singleton": "scaled"},
                               survey_weighted=True)
    frame = make_frame().assign(s=lambda f: f["g"] % 2, f=100.0)
    ours = est.estimate_all(frame, design)
    found = models.check_models(design, ours.model_table, ours.estimates, frame)
    assert {(c.se, c.design) for c in found} == {
        ("survey", SurveyDesign(psu="g", strata="s", fpc="f", singleton="scaled"))}
    assert found[0].variables == ("y", "x", "d", "sector", "weight", "g", "s", "f")


def test_a_stale_models_file_is_an_error_naming_the_model(spec, run):
    table = run.model_table.copy()
    table.loc[0, "terms"] = "x;const"
    with pytest.raises(ExhibitError, match="bin__y__base.*rerun the estimate step"):
        models.check_models(spec, table, run.estimates, make_frame())
    table = run.model_table.assign(model=["bin__y__base", "gone__y__base"])
    with pytest.raises(ExhibitError, match="gone__y__base"):
        models.check_models(spec, table, run.estimates, make_frame())


def test_names_r_and_stata_cannot_take_are_refused():
    models.check_names(["x", "breadth_local", "a" * 32])
    with pytest.raises(ExhibitError, match="1x, a.b, " + "b" * 33):
        models.check_names(["1x", "a.b", "b" * 33, "ok"])


def test_bad_model_descriptions_are_refused():
    with pytest.raises(ExhibitError, match="tobit"):
        CheckModel("m", "tobit", "y", ("x",), "robust")
    with pytest.raises(ExhibitError, match="weights need"):
        CheckModel("m", "logit", "y", ("x",), "robust", weight="w")
    with pytest.raises(ExhibitError, match="cluster"):
        CheckModel("m", "logit", "y", ("x",), "cluster")


def test_data_file_codes_categories_and_keeps_every_digit(checks):
    frame = make_frame()
    data, schema = models.export_data(frame, checks)
    assert schema.columns == ("y", "x", "d", "sector", "g", "novelty")
    assert schema.labels == {"sector": ("a", "b c", 'q"t')}
    assert data["sector"].tolist() == (frame["sector"].cat.codes + 1).tolist()
    assert data["novelty"].tolist() == frame["novelty"].cat.codes.astype(float).tolist()
    text = models.data_csv(data)
    back = pd.read_csv(pd.io.common.StringIO(text))
    assert back["x"].isna().sum() == 2
    np.testing.assert_array_equal(back["x"].to_numpy(), frame["x"].to_numpy())  # bit for bit
    assert text.splitlines()[1].split(",")[3] in {"1", "2", "3"}  # codes without ".0"


def test_fingerprint_depends_on_every_text():
    assert models.fingerprint("a", "b") != models.fingerprint("a", "c")
    assert models.fingerprint("ab", "") != models.fingerprint("a", "b")
    assert re.fullmatch(r"[0-9a-f]{16}", models.fingerprint("x"))


# -------------------------------------------------------------- every kind of model


def every_kind() -> list[CheckModel]:
    """A model of each estimator x SE type x weight kind, and survey designs."""
    out = []
    for estimator, se, kind in product(models.ESTIMATORS, models.SE_TYPES,
                                       models.WEIGHT_KINDS):
        if (kind == "pweight" and se == "nonrobust") or se == "survey":
            continue  # Stata imposes robust SEs with pweights; designs come below
        ordered = estimator in models.ORDERED
        out.append(CheckModel(
            id=f"{estimator}_{se}_{kind or 'none'}", estimator=estimator,
            outcome="novelty" if ordered else "y", regressors=("x", "d", "sector"), se=se,
            factors=("sector",), binary=("d",), cluster="g" if se == "cluster" else "",
            weight="weight" if kind else "", weight_kind=kind,
            terms=("x", "d", "sector[b c]", 'sector[q"t]') + (() if ordered else ("const",)),
            cuts=("cut0|1", "cut1|2") if ordered else ()))
    for estimator in models.ESTIMATORS:
        ordered = estimator in models.ORDERED
        singleton = "scaled" if estimator == "oprobit" else "fail"
        out.append(CheckModel(
            id=f"{estimator}_svy", estimator=estimator, outcome="novelty" if ordered else "y",
            regressors=("x", "d"), se="survey", binary=("d",), weight="weight",
            weight_kind="pweight",
            design=SurveyDesign(psu="g", strata="s", fpc="f", singleton=singleton),
            terms=("x", "d") + (() if ordered else ("const",)),
            cuts=("cut0|1", "cut1|2") if ordered else ()))
    return out


SCHEMA = DataSchema(("y", "x", "d", "sector", "g", "novelty", "weight", "s", "f"),
                    {"sector": ("a", "b c", 'q"t')})


def blocks(text: str, marker: str) -> dict[str, str]:
    """Model id -> its block of a generated script."""
    parts = re.split(rf"^{re.escape(marker)} (\S+?):", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_r_script_fits_every_kind_with_stata_conventions():
    kinds = every_kind()
    text = r_script.r_script(kinds, SCHEMA, "../../data_clean/crosscheck_data.csv", "tol",
                             library="# lib\n")
    found = blocks(text, "##")
    assert list(found) == [m.id for m in kinds]
    expect = {
        "logit_robust_none": ['settle(glm(F, family = binomial("logit")',
                              'vcovHC(fit, type = "HC0") * nrow(d) / (nrow(d) - 1)'],
        "logit_cluster_pweight": ["weights = weight", "allow_noninteger_weights(",
                                  'vcovCL(fit, cluster = d[["g"]], type = "HC0", '
                                  "cadjust = TRUE)"],
        "logit_nonrobust_none": ["V <- vcov(fit)"],
        "probit_nonrobust_none": ['binomial("probit")', "V <- observed_bread(fit)"],
        "probit_robust_pweight": ["sandwich_vcov(observed_bread(fit), cluster_meat("
                                  "sandwich::estfun(fit))) * nrow(d) / (nrow(d) - 1)"],
        "lpm_robust_none": ["lm(F, data = d)", 'vcovHC(fit, type = "HC1")',
                            "weighted_r2("],
        "lpm_cluster_pweight": ["lm(F, data = d, weights = weight)",
                                'type = "HC1", cadjust = TRUE'],
        "lpm_nonrobust_fweight": ["sum(w * residuals(fit)^2) / (N - k)", "nobs = sum(w)"],
        "logit_robust_fweight": ["fweight_meat(sandwich::estfun(fit), w)) * N / (N - 1)"],
        "lpm_cluster_fweight": ['fweight_meat(sandwich::estfun(fit), w, d[["g"]])',
                                "G / (G - 1) * (N - 1) / (N - k)"],
        "ologit_robust_none": ['MASS::polr(F, data = d, method = "logistic", Hess = TRUE',
                               "polr_control(", "cluster_meat(sandwich::estfun(fit)))",
                               'factor(d[["novelty"]], ordered = TRUE)', "ordered_results("],
        "oprobit_cluster_pweight": ['method = "probit"', "G / (G - 1)",
                                    "cluster_meat(sandwich::estfun(fit), d[[\"g\"]])"],
        "oprobit_nonrobust_fweight": ["V <- vcov(fit)  # inverse information of the "
                                      "repeated records"],
        "probit_nonrobust_fweight": ["V <- observed_bread(fit)  # inverse information"],
        "logit_svy": ["survey::svydesign(ids = ~g, strata = ~s, fpc = ~f, weights = ~weight",
                      'survey::svyglm(F, design = des, family = quasibinomial("logit")',
                      "V <- vcov(fit)"],
        "lpm_svy": ["family = gaussian()", 'options(survey.lonely.psu = "fail")'],
        "probit_svy": ['quasibinomial("probit")', "V <- design_vcov(fit, des, "
                       "observed_bread(fit))"],
        "oprobit_svy": ['survey::svyolr(F, design = des, method = "probit", ',
                        'options(survey.lonely.psu = "average")'],
        "ologit_svy": ['survey::svyolr(F, design = des, method = "logistic", '
                       "control = polr_control(", "llf = NULL"],
    }
    for model_id, lines in expect.items():
        for line in lines:
            assert line in found[model_id], (model_id, line)
    assert 'binary = c("d"), factors = c("sector")' in found["logit_robust_none"]
    assert "library(survey)" in text and 'sector = c("a", "b c", "q\\"t")' in text
    assert text.count(r_script.FINGERPRINT_SLOT) == 1


def test_r_script_without_survey_designs_does_not_load_survey(checks):
    data, schema = models.export_data(make_frame(), checks)
    text = r_script.r_script(checks, schema, "data.csv", "tol")
    assert "library(survey)" not in text and "library(sandwich)" in text
    assert "ame_ordered <- function" in text  # the helpers are in the script


def test_do_file_has_command_weights_se_and_margins_for_every_model():
    kinds = every_kind()
    text = stata_script.stata_script(kinds, SCHEMA, "../../data_clean/x.csv", "tol")
    found = blocks(text, "* ----")
    assert list(found) == [m.id for m in kinds]
    for model in kinds:
        assert_complete_stata_block(model, found[model.id])
    assert 'label define sector 1 `"a"\' 2 `"b c"\' 3 `"q"t"\', replace' in text
    assert "svyset g [pw=weight], strata(s) fpc(f)" in found["logit_svy"]
    assert "svy: ologit novelty x i.d\n" in found["ologit_svy"]
    assert "svyset g [pw=weight], strata(s) fpc(f) singleunit(scaled)" in found["oprobit_svy"]
    assert "svy: probit y x i.d\n" in found["probit_svy"]


def assert_complete_stata_block(model: CheckModel, block: str) -> None:
    """The model's command with its regressors, weights and SE type; a post line per
    coefficient and cut point; its margins line; a post line per AME."""
    command = stata_script.COMMANDS[model.estimator]
    prefix = "svy: " if model.design else ""
    lines = block.splitlines()
    fit = [line for line in lines if line.startswith(f"{prefix}{command} {model.outcome} ")]
    assert len(fit) == 1, block
    fit = fit[0]
    for variable in model.regressors:
        token = f"i.{variable}" if variable in (*model.factors, *model.binary) else variable
        assert f" {token}" in fit
    weights = {"": "[", "pweight": f"[pw={model.weight}]", "fweight": f"[fw={model.weight}]"}
    if model.design is None:
        assert (weights[model.weight_kind] in fit) == bool(model.weight_kind)
        se = {"nonrobust": "vce(", "robust": ", vce(robust)",
              "cluster": f", vce(cluster {model.cluster})"}[model.se]
        assert (se in fit) == (model.se != "nonrobust"), fit
    else:
        assert any(line.startswith("svyset ") and f"[pw={model.weight}]" in line
                   for line in lines)
    margins = [i for i, line in enumerate(lines) if line.startswith("margins, dydx(*)")]
    assert len(margins) == 1
    if model.ordered:
        assert f"predict(outcome(#{len(model.cuts) + 1}))" in lines[margins[0]]

    def posted(part: list[str]) -> list[tuple[str, str]]:
        return [re.search(r'\("(\w+)"\) \(`"(.*?)"\'\)', line).groups()
                for line in part if line.startswith("post ")]
    before, after = posted(lines[:margins[0]]), posted(lines[margins[0]:])
    assert [t for q, t in before if q == "coef"] == list(model.terms)
    assert [t for q, t in before if q == "cut"] == list(model.cuts)
    assert [t for q, t in after if q == "ame"] == [t for t in model.terms if t != "const"]
    assert {q for q, _ in before} <= {"fit", "coef", "cut"}


def test_stata_coefficient_names(checks):
    binary = checks[0]
    schema = DataSchema((), {"sector": ("a", "b c", 'q"t')})
    names = [stata_script.coefficient_name(binary, t, schema) for t in binary.terms]
    assert names == ["x", "1.d", "2.sector", "3.sector", "_cons"]


# ---------------------------------------------------------------------- comparison


def results_file(path: Path, rows: list[tuple], fingerprint: str = "abc") -> Path:
    frame = pd.DataFrame(rows, columns=["model", "quantity", "term", "estimate", "std_error"])
    frame.assign(fingerprint=fingerprint).to_csv(path, index=False)
    return path


OURS = pd.DataFrame({
    "model": ["m"] * 6, "estimator": ["logit"] * 6, "se_type": ["robust"] * 6,
    "quantity": ["coef", "coef", "ame", "odds_ratio", "fit", "fit"],
    "term": ["x", "const", "x", "x", "nobs", "aic"],
    "estimate": [0.5, 0.0, 0.1, 1.6, 100.0, 5.0], "std_error": [0.2, 0.3, 0.05, 0.3, np.nan,
                                                               np.nan]})
MODELS = pd.DataFrame({"model": ["m"], "estimator": ["logit"], "se_type": ["robust"],
                       "weighted": [False]})


def test_results_absent_stale_or_bad(tmp_path):
    assert compare.read_results(tmp_path / "none.csv", "R", "abc").status == "absent"
    path = results_file(tmp_path / "r.csv", [("m", "coef", "x", 0.5, 0.2)], "old")
    stale = compare.read_results(path, "R", "abc")
    assert stale.status == "stale" and "old" in stale.message and stale.frame is None
    path.write_text("model,quantity,term,estimate,std_error,fingerprint\n"
                    "m,coef,x,zero,0.2,abc\n")
    with pytest.raises(ExhibitError, match="row 2, column 'estimate': 'zero'"):
        compare.read_results(path, "R", "abc")
    path.write_text("model,quantity,term,estimate\nm,coef,x,1\n")
    with pytest.raises(ExhibitError, match="std_error, fingerprint"):
        compare.read_results(path, "R", "abc")


def test_every_number_side_by_side_and_the_largest_difference(tmp_path):
    path = results_file(tmp_path / "r.csv", [
        ("m", "coef", "x", 0.5 * (1 + 2e-7), 0.2), ("m", "coef", "const", 1e-9, 0.3),
        ("m", "ame", "x", 0.1, 0.05 * (1 - 4e-7)), ("m", "fit", "nobs", 100, None)])
    results = compare.read_results(path, "R", "abc")
    numbers, table = compare.comparison(OURS, MODELS, [results])
    assert numbers[["quantity", "term"]].values.tolist() == [
        ["coef", "x"], ["coef", "const"], ["ame", "x"], ["fit", "nobs"]]
    assert numbers["rel_diff_r"].tolist() == pytest.approx([2e-7, 1e-9, 4e-7, 0.0])
    row = table.iloc[0]
    assert row["largest_rel_diff_r"] == pytest.approx(4e-7) and row["where_r"] == "ame x"
    assert row["numbers_r"] == 4 and row["missing_r"] == 0 and row["verdict_r"] == "agrees"
    _, table = compare.comparison(OURS, MODELS, [results], tolerance=1e-7)
    assert table.iloc[0]["verdict_r"] == "differs"


def test_the_pseudo_likelihood_of_a_design_based_fit_is_not_compared():
    """svy: and svyglm report no log likelihood; the LPM's Gaussian one is not compared."""
    rows = pd.DataFrame({"model": ["a", "b", "c"], "estimator": ["logit", "logit", "lpm"],
                         "se_type": ["robust", "survey", "robust"], "quantity": ["fit"] * 3,
                         "term": ["llf"] * 3, "estimate": [-5.0, -6.0, -7.0],
                         "std_error": [np.nan] * 3})
    assert compare.our_numbers(rows)["model"].tolist() == ["a"]


def test_a_number_one_side_lacks_is_a_difference(tmp_path):
    path = results_file(tmp_path / "r.csv", [
        ("m", "coef", "x", 0.5, 0.2), ("m", "ame", "x", 0.1, 0.05), ("m", "fit", "nobs", 100,
                                                                     None),
        ("m", "coef", "extra", 1.0, 1.0)])
    numbers, table = compare.comparison(OURS, MODELS, [compare.read_results(path, "R", "abc")])
    assert numbers.set_index("term").loc["const", "missing_r"] == "not in R"
    assert numbers.iloc[-1]["term"] == "extra"
    assert numbers.iloc[-1]["missing_r"] == "not in ours"
    assert table.iloc[0]["missing_r"] == 2 and table.iloc[0]["verdict_r"] == "differs"
    shown = compare.display_numbers(numbers, ["R"])
    assert shown.set_index("term").loc["const", "rel. diff. (R)"] == "not in R"


def test_absent_results_keep_their_columns_empty_and_say_so(tmp_path):
    absent = compare.read_results(tmp_path / "none.csv", "R", "abc")
    numbers, table = compare.comparison(OURS, MODELS, [absent])
    assert numbers["estimate_r"].isna().all() and (numbers["missing_r"] == "").all()
    assert table.iloc[0]["verdict_r"] == "R results absent"
    shown = compare.display_summary(table, ["R"])
    assert shown.iloc[0]["largest rel. diff. (R)"] == ""


# --------------------------------------------------------------- the step, end to end


def full_run_checks(root: Path) -> list[CheckModel]:
    from analysis.context import Context, Paths
    from analysis.models.results import read_results
    from analysis.models.survey import survey_run

    ctx = Context(paths=Paths.under(root), study_config_path=config.DEFAULT_STUDY_CONFIG,
                  model_spec_path=config.DEFAULT_MODEL_SPEC)
    estimates = read_results(ctx.paths.estimates_file)
    model_table = read_results(ctx.paths.models_file)
    frame = pd.read_parquet(ctx.paths.analysis_data)
    return models.check_models(survey_run(ctx).spec, model_table, estimates, frame)


def test_the_runs_do_file_is_complete_for_every_model(full_run):
    checks = full_run_checks(full_run)
    text = (full_run / "output" / "crosscheck" / "crosscheck.do").read_text("utf-8")
    found = blocks(text, "* ----")
    models_csv = pd.read_csv(full_run / "output" / "estimates" / "models.csv")
    assert list(found) == models_csv["model"].tolist() == [m.id for m in checks]
    for model in checks:
        assert_complete_stata_block(model, found[model.id])
    assert "@FINGERPRINT@" not in text and re.search(r'local fingerprint "[0-9a-f]{16}"', text)
    assert 'import delimited using "../../data_clean/crosscheck_data.csv"' in text


def test_the_runs_r_script_and_exhibits_without_r_results(full_run, tmp_path):
    output = full_run / "output"
    script = (output / "crosscheck" / "crosscheck.R").read_text("utf-8")
    models_csv = pd.read_csv(output / "estimates" / "models.csv")
    assert list(blocks(script, "##")) == models_csv["model"].tolist()
    assert 'file.path(here, "../../data_clean/crosscheck_data.csv")' in script
    assert (full_run / "data_clean" / "crosscheck_data.csv").is_file()
    summary = pd.read_csv(output / "tables" / "crosscheck_summary.csv")
    assert (summary["verdict_r"] == "R results absent").all()
    shown = (output / "tables" / "crosscheck_summary.md").read_text("utf-8")
    assert "Rscript output/crosscheck/crosscheck.R" in shown and "synthetic twin" in shown
    numbers = pd.read_csv(output / "tables" / "crosscheck_comparison.csv")
    ours = compare.our_numbers(pd.read_csv(output / "estimates" / "estimates.csv"))
    assert len(numbers) == len(ours) and numbers["estimate_r"].isna().all()
    assert r"cut0\|1" in (output / "tables" / "crosscheck_comparison.md").read_text("utf-8")
    for stem in ("crosscheck_summary", "crosscheck_comparison"):
        shutil.copy(output / "tables" / f"{stem}.tex", tmp_path / f"{stem}.tex")
    compile_latex([r"\input{crosscheck_summary.tex}", r"\input{crosscheck_comparison.tex}"],
                  tmp_path)


def test_stata_results_get_their_own_columns(tmp_path):
    r = results_file(tmp_path / "r.csv", [("m", "coef", "x", 0.5, 0.2),
                                          ("m", "coef", "const", 0.0, 0.3),
                                          ("m", "ame", "x", 0.1, 0.05),
                                          ("m", "fit", "nobs", 100, None)])
    # as Stata's export delimited may write them: padded numbers, "." never (missing = "")
    (tmp_path / "s.csv").write_text(
        "model,quantity,term,estimate,std_error,fingerprint\n"
        "m,coef,x, .5000001,.2,abc\nm,coef,const,0,.3,abc\nm,ame,x,.1,.05,abc\n"
        "m,fit,nobs,100,,abc\n")
    results = [compare.read_results(r, "R", "abc"),
               compare.read_results(tmp_path / "s.csv", "Stata", "abc")]
    numbers, table = compare.comparison(OURS, MODELS, results)
    assert numbers["rel_diff_stata"].max() == pytest.approx(2e-7)
    assert table.iloc[0]["verdict_r"] == table.iloc[0]["verdict_stata"] == "agrees"
    shown = compare.display_numbers(numbers, ["R", "Stata"])
    assert list(shown.columns)[-3:] == ["estimate (Stata)", "SE (Stata)",
                                        "rel. diff. (Stata)"]
    assert "largest rel. diff. (Stata)" in compare.display_summary(table, ["R", "Stata"])
