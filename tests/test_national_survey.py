"""The national-survey example (examples/national_survey) from its configuration alone.

A CIS-type CSV with tick-box location grids (blank = no) behind a cooperation filter,
novelty asked per product item, 26 province codes (two sharing a name, several sparse), the
survey's own size class with micro firms (some with 0 employees), expansion weights, strata
and stratum population counts. The whole pipeline runs from ``study.toml`` through the real
entry point; its estimates equal an independent statsmodels re-fit and its design-based
standard errors an R ``survey`` re-fit (``svydesign`` + ``svyglm``; skipped only without
Rscript). A configuration that forgets that the grid's blanks mean no stops before any
work, naming the battery and the option. No exhibit mentions Norway or city-regions.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis import config
from analysis.runner import pipeline

EXAMPLE = config.ROOT / "examples" / "national_survey"
STUDY = EXAMPLE / "study.toml"
RSCRIPT = shutil.which("Rscript")
#: Words no exhibit of a non-Norwegian study may contain.
NORWEGIAN = re.compile(r"norw|city-region|city region", re.IGNORECASE)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("national_survey")
    code = pipeline.main(["--config", str(STUDY), "--output-root", str(base),
                          "--option", "bootstrap_reps=19"])
    assert code == 0
    return base


def exhibits(root: Path) -> list[Path]:
    return [p for p in (root / "output").rglob("*") if p.is_file()
            and p.suffix in (".csv", ".md", ".tex", ".html", ".json", ".svg", ".txt")]


#: An embedded file (the report's figures): base64 letters, which may spell anything.
DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+")


def assert_no_norway(root: Path) -> None:
    hits = [f"{p.relative_to(root)}: {m.group(0)!r}" for p in exhibits(root)
            for m in [NORWEGIAN.search(DATA_URI.sub("", p.read_text(encoding="utf-8",
                                                                   errors="replace")))] if m]
    assert not hits, hits


def test_example_file_is_what_make_example_makes(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_example", EXAMPLE / "make_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main([str(tmp_path / "again.csv")])
    assert (tmp_path / "again.csv").read_bytes() == (
        EXAMPLE / "national_survey_2018.csv").read_bytes()


def test_runs_from_its_configuration_alone(run):
    meta = json.loads((run / "data_clean" / "analysis_meta.json").read_text())
    assert meta["study"] == "national_survey_example" and meta["weighted"]
    assert meta["design"]["source"] == "strata: stratum; fpc: n_pop"
    assert any("Other provinces" in n for n in meta["notes"])
    clean = pd.read_parquet(run / "data_clean" / "survey_clean.parquet")
    raw = pd.read_csv(EXAMPLE / "national_survey_2018.csv")
    # the derived novelty is the most novel product item
    items = raw[[f"nov_{i}" for i in range(1, 5)]].max(axis=1)
    novelty = clean["product_novelty"].map({"firm": 1.0, "market": 2.0}).astype(float)
    assert np.array_equal(novelty.fillna(-1).to_numpy(), items.fillna(-1).to_numpy())
    # the tick-box grid: blanks of cooperating firms are no, non-cooperators routed out,
    # a blank filter leaves the items unanswered
    item = clean["collab__suppliers__local"].astype("Float64")
    co = raw["co"]
    assert (item[co == 1].isin([1, 2])).all()
    assert item[co == 0].isna().all() and (
        clean.loc[co == 0, "collab__suppliers__local__missing"] == "not_applicable").all()
    assert (clean.loc[co.isna(), "collab__suppliers__local__missing"] == "no_answer").all()
    # the survey's size class, zero employees kept (log of 1 + employees)
    analysis = pd.read_parquet(run / "data_clean" / "analysis_data.parquet")
    assert list(analysis["size_class"].cat.categories) == ["0-9", "10-49", "50-249", "250+"]
    zero = analysis["employees"] == 0
    assert zero.any() and (analysis.loc[zero, "log_employees"] == 0).all()
    # 26 codes, 25 names (two island codes pooled), sparse provinces pooled
    assert "Islands" not in analysis["region"].cat.categories
    assert analysis["region"].cat.categories[-1] == "Other provinces"


def test_no_exhibit_mentions_norway_or_city_regions(run):
    assert_no_norway(run)
    table = (run / "output" / "tables" / "table2.md").read_text()
    assert "Partner types, elsewhere in Exampleland" in table
    assert "Province dummies" in table
    assert "Linearised (Taylor) standard errors for the survey design (strata: stratum; " \
           "fpc: n_pop; 20 strata" in table


def model_frame(run: Path, model: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The estimation sample of ``model``, rebuilt from the analysis data without the
    package's regressor code: dummies of sector and region, first category omitted."""
    analysis = pd.read_parquet(run / "data_clean" / "analysis_data.parquet")
    estimates = pd.read_csv(run / "output" / "estimates" / "estimates.csv")
    rows = estimates[(estimates["model"] == model) & (estimates["quantity"] == "coef")]
    outcome = rows["outcome"].iloc[0]
    frame = pd.DataFrame({"y": analysis[outcome].astype("Float64").astype(float)})
    for term in rows["term"]:
        if term == "const":
            frame[term] = 1.0
        elif "[" in term:
            var, level = term[:-1].split("[", 1)
            frame[term] = (analysis[var].astype(object) == level).astype(float).where(
                analysis[var].notna())
        else:
            frame[term] = analysis[term].astype("Float64").astype(float)
    for column in ("weight", "design_stratum", "design_fpc"):
        frame[column] = analysis[column].astype(float)
    return frame.dropna(), rows, list(rows["term"])


@pytest.mark.parametrize("model", ["breadth__product__base", "breadth__process__base",
                                   "modes__product__base"])
def test_estimates_equal_a_statsmodels_refit(run, model):
    frame, rows, terms = model_frame(run, model)
    assert len(frame) == int(rows["nobs"].iloc[0])
    fit = sm.GLM(frame["y"], frame[terms], family=sm.families.Binomial(),
                 freq_weights=frame["weight"]).fit(tol=1e-12)
    np.testing.assert_allclose(rows["estimate"].to_numpy(), fit.params[terms].to_numpy(),
                               rtol=1e-6, atol=1e-8)


R_REFIT = r"""
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], check.names = FALSE)
terms <- setdiff(names(d), c("y", "weight", "design_stratum", "design_fpc"))
des <- svydesign(ids = ~1, strata = ~design_stratum, fpc = ~design_fpc, weights = ~weight,
                 data = d)
formula <- as.formula(paste("y ~ 0 +", paste(terms, collapse = " + ")))
fit <- svyglm(formula, design = des, family = quasibinomial(),
              control = glm.control(epsilon = 1e-14, maxit = 100))
write.csv(data.frame(term = terms, estimate = coef(fit), se = sqrt(diag(vcov(fit))),
                     degf = degf(des)), args[2], row.names = FALSE)
"""


@pytest.mark.skipif(RSCRIPT is None, reason="Rscript not installed (R's survey package is "
                    "the reference for design-based SEs)")
@pytest.mark.parametrize("model", ["breadth__product__base", "modes__process__base"])
def test_design_standard_errors_equal_an_r_survey_refit(run, model, tmp_path):
    frame, rows, terms = model_frame(run, model)
    data, out, script = tmp_path / "model.csv", tmp_path / "r.csv", tmp_path / "refit.R"
    renamed = frame.rename(columns={t: f"x{i}" for i, t in enumerate(terms)})
    renamed.to_csv(data, index=False, float_format="%.17g")
    script.write_text(R_REFIT)
    done = subprocess.run([RSCRIPT, str(script), str(data), str(out)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    r = pd.read_csv(out)
    np.testing.assert_allclose(rows["estimate"].to_numpy(), r["estimate"].to_numpy(),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(rows["std_error"].to_numpy(), r["se"].to_numpy(), rtol=1e-6)
    models = pd.read_csv(run / "output" / "estimates" / "models.csv").set_index("model")
    assert models.loc[model, "design_df"] == r["degf"].iloc[0]


def test_forgetting_blank_means_no_stops_before_any_work(tmp_path, capsys):
    text = STUDY.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^blank_(means_no|scope) = .*\n", "", text)
    text = text.replace('"examples/national_survey/national_survey_2018.csv"',
                        f"'{EXAMPLE / 'national_survey_2018.csv'}'")
    study = tmp_path / "forgot.toml"
    study.write_text(text, encoding="utf-8")
    capsys.readouterr()
    code = pipeline.main(["--config", str(study), "--output-root", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code != 0
    assert "[collaboration] the battery at scale 'local'" in err
    assert "never takes its no code 0" in err and "prevalence 100%" in err
    assert "collaboration.blank_means_no = true" in err
    assert not (tmp_path / "out" / "data_clean" / "survey_clean.parquet").exists()
    assert not list((tmp_path / "out" / "output").glob("tables/*"))
