"""Bring your own survey: the whole pipeline on the CIS-like example (examples/cis_like).

The example is a Stata file with its own names and codes, yes/no collaboration items at a
domestic and a foreign scale only, no group partner type, no manager/trust/openness items and
sampling weights. The pipeline runs once (module fixture) into a temporary folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from latex import measure_exhibits, tex_exhibits
from word import docx_geometry

from analysis import config
from analysis.data import clean
from analysis.data.study_config import load_study_config, parse_study_config
from analysis.runner import pipeline

EXAMPLE = config.ROOT / "examples" / "cis_like"
STUDY = EXAMPLE / "study.toml"
DATA = EXAMPLE / "cis_like_2012.dta"


def tree_digest(*folders: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folders`` (the default replication's outputs)."""
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest()
            for folder in folders if folder.is_dir()
            for f in sorted(folder.rglob("*")) if f.is_file()}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("cis_like")
    default_before = tree_digest(config.DATA_CLEAN, config.OUTPUT / "tables")
    code = pipeline.main(["--config", str(STUDY), "--output-root", str(base),
                          "--option", "bootstrap_reps=19"])
    assert code == 0, (f"pipeline failed on the example (exit {code}); see "
                       f"{base / 'output' / 'logs' / 'run_log.md'}")
    assert tree_digest(config.DATA_CLEAN, config.OUTPUT / "tables") == default_before
    assert not (config.OUTPUT / "studies" / "study").exists()
    return base


def test_every_latex_exhibit_of_the_example_fits_the_page(run, tmp_path):
    """The page-fit test of tests/test_page_fit.py on the CIS-like example's exhibits."""
    files = tex_exhibits(run / "output")
    assert len(files) >= 25
    fits = measure_exhibits(files, tmp_path)
    assert [f.problem() for f in fits if not f.fits] == []


def test_every_word_table_of_the_example_fits_the_page(run):
    """The geometry test of tests/test_word_tables.py on the CIS-like example's tables."""
    files = sorted((run / "output" / "tables").glob("*.docx"))
    assert len(files) >= 25
    problems = {f.name: docx_geometry(f).problems() for f in files}
    assert {name: p for name, p in problems.items() if p} == {}


def read_csv(run: Path, stem: str) -> pd.DataFrame:
    return pd.read_csv(run / "output" / "tables" / f"{stem}.csv")


# ------------------------------------------------------------------ the shipped example


def test_example_file_is_what_the_generator_makes() -> None:
    spec = importlib.util.spec_from_file_location("make_example", EXAMPLE / "make_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made = module.make_survey()
    stored, _ = pyreadstat.read_dta(str(DATA), user_missing=True)
    assert list(stored.columns) == list(made.columns)
    pd.testing.assert_frame_equal(stored.astype("float64"), made.astype("float64"),
                                  check_dtype=False)
    assert len(made) == 1500 and (made == -9).any().any()


# ------------------------------------------------------------------------- end to end


def test_meta_describes_what_the_survey_has(run: Path) -> None:
    meta = json.loads((run / "data_clean" / "analysis_meta.json").read_text())
    assert meta["study"] == "cis_like_example"
    assert meta["scales"] == ["domestic", "international"]
    assert "group" not in meta["partners"] and len(meta["partners"]) == 6
    assert meta["weighted"] is True
    for name in ("breadth_local", "breadth_national", "sti_regional", "internal_extra",
                 "manager_higher_ed", "open_mindedness", "trust_general", "firm_age"):
        assert name in meta["unavailable"], name
    assert "breadth_international" not in meta["unavailable"]
    assert meta["substitutes"]["breadth_local"] == "breadth_domestic"
    assert "breadth_national" not in meta["substitutes"]


def test_analysis_data_has_the_survey_scales_and_no_empty_columns(run: Path) -> None:
    data = pd.read_parquet(run / "data_clean" / "analysis_data.parquet")
    assert not [c for c in data.columns if data[c].isna().all()]
    assert not [c for c in data.columns
                if c.endswith(("_national", "_local")) and not c.startswith("glocal")]
    assert {"breadth_domestic", "breadth_international", "sti_domestic",
            "sti_international"} <= set(data.columns)
    assert data["breadth_domestic"].max() <= 6
    # yes/no items: intensity is the number of partner types
    known = data["breadth_domestic"].notna()
    assert (data.loc[known, "intensity_domestic"] == data.loc[known, "breadth_domestic"]).all()


def test_combined_product_outcome_and_binary_items(run: Path) -> None:
    raw, _ = pyreadstat.read_dta(str(DATA), user_missing=True)
    survey = pd.read_parquet(run / "data_clean" / "survey_clean.parquet")
    merged = survey[["firm_id", "product", "collab__suppliers__domestic"]].merge(
        raw, left_on="firm_id", right_on="id")
    any_yes = (merged["inpdgd"] == 1) | (merged["inpdsv"] == 1)
    assert (merged.loc[any_yes, "product"] == 1).all()
    both_no = (merged["inpdgd"] == 0) & (merged["inpdsv"] == 0)
    assert (merged.loc[both_no, "product"] == 0).all()
    item = merged["collab__suppliers__domestic"]
    assert set(item.dropna().unique()) <= {1, 2}
    assert ((item == 2) == (merged["co_sup_nat"] == 1)).all()
    assert (item.isna() == (merged["co_sup_nat"] == -9)).all()


def test_exhibits_have_the_survey_scales_and_say_what_is_missing(run: Path) -> None:
    prevalence = read_csv(run, "collaboration_prevalence")
    assert list(prevalence.columns) == ["Partner type", "Estimation sample: Domestic",
                                        "Estimation sample: Abroad", "All firms: Domestic",
                                        "All firms: Abroad"]
    assert prevalence.notna().all().all()
    table1 = (run / "output" / "tables" / "table1_summary_statistics.md").read_text()
    assert "breadth_national" not in table1.split("*Note:*")[0]
    assert "Not available in this survey" in table1 and "trust_general" in table1


def test_weights_are_used_in_the_descriptives(run: Path) -> None:
    data = pd.read_parquet(run / "data_clean" / "analysis_data.parquet")
    table1 = read_csv(run, "table1_summary_statistics").set_index("Variable")
    known = data["product"].notna()
    y = data.loc[known, "product"].astype(float)
    w = data.loc[known, "weight"].astype(float)
    # the all-firm mean (the estimation-sample mean beside it uses fewer firms)
    assert table1.loc["product", "All firms: Mean"] == pytest.approx(
        np.average(y, weights=w), abs=5e-4)
    assert abs(np.average(y, weights=w) - y.mean()) > 1e-3  # weighting changes the number
    notes = (run / "output" / "tables" / "table1_summary_statistics.md").read_text()
    assert "weighted by the survey weight" in notes


def test_models_and_tables_use_the_scales_the_survey_has(run: Path) -> None:
    estimates = pd.read_csv(run / "output" / "estimates" / "estimates.csv")
    terms = set(estimates["term"].astype(str))
    assert "breadth_international" in terms
    assert not {"breadth_national", "breadth_local", "trust_general"} & terms
    assert (run / "output" / "tables" / "table2.md").is_file()


def test_no_model_is_estimated_twice_and_tables_say_which_columns_are_omitted(
        run: Path) -> None:
    # The survey has no manager items: "manager" would repeat "base" in every family.
    models = pd.read_csv(run / "output" / "estimates" / "models.csv")
    assert set(models["variant"]) == {"base"}
    assert not models.duplicated(["family", "outcome", "terms"]).any()
    for name in ("table2", "table3", "table4", "table5"):
        table = (run / "output" / "tables" / f"{name}.md").read_text()
        header = table.split("*Note:*")[0]
        assert "Manager controls" not in header, name
        assert ("Manager controls not available in this survey: the 'Manager controls' "
                "columns are omitted") in table, name
    table2 = (run / "output" / "tables" / "table2.md").read_text()
    assert "|  | Base | Base | Base |\n" in table2  # one column per outcome
    # the headline moved to the surviving variant: figures and robustness still made
    for stem in ("figure1_marginal_effects", "figure2_predicted_probability",
                 "specification_curve"):
        assert (run / "output" / "figures" / f"{stem}.png").is_file()
    predictions = pd.read_csv(run / "output" / "estimates" / "predictions.csv")
    assert set(predictions["model"].str.rsplit("__", n=1).str[-1]) == {"base"}


def test_claims_use_the_domestic_and_foreign_stand_ins(run: Path) -> None:
    report = read_csv(run, "claims_report").set_index("claim")
    for claim in (1, 3, 4, 5, 6):
        assert report.loc[claim, "verdict"] != "not testable", claim
        assert "__base" in report.loc[claim, "models"]
    assert "Stand-in: breadth_domestic for breadth_local." in report.loc[1, "evidence"]
    assert "dui_supply_international for dui_supply_extra" in report.loc[5, "evidence"]
    assert "sti_domestic for sti_regional" in report.loc[6, "evidence"]
    assert report.loc[2, "verdict"] == "not testable"
    assert report.loc[2, "evidence"] == ("not testable: 'breadth_national' is not available "
                                         "in this survey and has no stand-in")
    # the survey is weighted: every claim is checked unweighted (the main specification,
    # as the models are) and with the sampling weights
    detail = read_csv(run, "claims_specifications")
    assert detail["specification"].str.endswith(", unweighted").any()
    assert detail["specification"].str.endswith(", sampling-weighted (pweights)").any()
    # one variant (no manager questions) x logit, probit, LPM x unweighted, weighted
    assert report.loc[3, "sensitivity"].split(" (")[0].endswith(" of 6 specifications")


# -------------------------------------------------- layouts the example does not cover


def tiny_config(tmp_path: Path, collaboration: str) -> Path:
    """A CSV survey of 4 firms with the given [collaboration] text."""
    (tmp_path / "s.csv").write_text(
        "fid,prod,proc,c_sup_dom,c_sup_eu,c_sup_us,c_uni_dom,c_uni_eu,c_uni_us\n"
        "1,1,0,1,1,5,1,1,1\n2,0,9,1,1,1,3,1,1\n3,1,1,9,1,1,1,9,9\n4,0,0,1,9,1,1,1,1\n")
    text = f'''
[study]
name = "tiny"
data_file = "{tmp_path / 's.csv'}"
[columns]
firm_id = "fid"
interview_id = "fid"
[outcomes.product]
column = "prod"
yes = [1]
no = [0]
[outcomes.process]
column = "proc"
yes = [1]
no = [0]
{collaboration}
[kinds.id]
range = [1, 10]
[kinds.yn]
codes = [0, 1]
dont_know = [9]
[kinds.freq]
codes = [1, 2, 3, 4, 5]
dont_know = [9]
[validate]
collaboration = "freq"
fid = "id"
prod = "yn"
proc = "yn"
'''
    path = tmp_path / "tiny.toml"
    path.write_text(text)
    return path


def clean_tiny(path: Path) -> pd.DataFrame:
    cfg = load_study_config(path)
    raw, meta = clean.read_raw(cfg.data_file, cfg.format)
    return clean.clean_survey(raw, meta, cfg).data


def test_several_columns_make_one_scale(tmp_path: Path) -> None:
    data = clean_tiny(tiny_config(tmp_path, '''
[collaboration]
never = [1]
column_template = "c_{partner}_{scale}"
[collaboration.partners]
suppliers = "sup"
universities = "uni"
[collaboration.scales]
domestic = "dom"
international = ["eu", "us"]
'''))
    # the most frequent answer over EU and US; unknown only if no column says more
    assert data["collab__suppliers__international"].tolist() == [5, 1, 1, pd.NA]
    assert data["collab__suppliers__international__missing"].astype(object).tolist()[3] == \
        "dont_know"
    assert data["collab__universities__international"].isna().tolist() == [False, False, True,
                                                                          False]


def test_explicit_items_equal_the_template(tmp_path: Path) -> None:
    template = clean_tiny(tiny_config(tmp_path, '''
[collaboration]
never = [1]
column_template = "c_{partner}_{scale}"
[collaboration.partners]
suppliers = "sup"
universities = "uni"
[collaboration.scales]
domestic = "dom"
international = ["eu", "us"]
'''))
    explicit = clean_tiny(tiny_config(tmp_path, '''
[collaboration]
never = [1]
[collaboration.items.suppliers]
domestic = "c_sup_dom"
international = ["c_sup_eu", "c_sup_us"]
[collaboration.items.universities]
domestic = "c_uni_dom"
international = ["c_uni_eu", "c_uni_us"]
'''))
    pd.testing.assert_frame_equal(template, explicit)


def test_disclosure_defaults_and_settings() -> None:
    cfg = load_study_config(STUDY)
    assert (cfg.disclosure.min_cell_count, cfg.disclosure.suppress) == (5, False)
    assert load_study_config(config.DEFAULT_STUDY_CONFIG).disclosure.min_cell_count == 5
    import tomllib
    data = tomllib.loads(STUDY.read_text())
    data["disclosure"] = {"min_cell_count": 10, "suppress": True}
    cfg = parse_study_config(data, STUDY, config.ROOT)
    assert (cfg.disclosure.min_cell_count, cfg.disclosure.suppress) == (10, True)


# ------------------------------------------------------- text in the file: a CSV variant


YES_NO_LABELS = {1.0: "Yes", 0.0: "No", -9.0: "Don't know"}
TEXT_ITEMS = ("inpdgd", "inpdsv", "inpspd", "gp")


def text_variant(folder: Path) -> Path:
    """The example as a CSV with text firm ids ("F000123"), text region codes (" XX3") and
    yes/no answers stored as labels, and its config: [recode] tables, [regions] keyed by the
    text codes, no kind for the id or the region."""
    frame, _ = pyreadstat.read_dta(str(DATA), user_missing=True)
    frame["id"] = [f"F{int(v):06d}" for v in frame["id"]]
    frame["nuts2"] = [f" XX{int(v)}" for v in frame["nuts2"]]
    for column in TEXT_ITEMS:
        frame[column] = frame[column].map(lambda v: YES_NO_LABELS.get(v, ""))
    data = folder / "survey text.csv"
    frame.to_csv(data, index=False)
    text = STUDY.read_text(encoding="utf-8")
    for old, new in (('"examples/cis_like/cis_like_2012.dta"', f"'{data}'"),
                     ('format = "dta"', 'format = "csv"'),
                     ('\nid = "id"\n', "\n"), ('\nnuts2 = "region"\n', "\n"),
                     *((f'\n{c} = "', f'\nXX{c} = "') for c in range(1, 7))):
        assert old in text, old
        text = text.replace(old, new, 1)
    table = 'Yes = 1\nNo = 0\n"Don\'t know" = -9\n'
    text += "".join(f"\n[recode.{column}]\n{table}" for column in TEXT_ITEMS)
    path = folder / "study.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_text_ids_regions_and_answers_give_the_same_results(run: Path, tmp_path: Path) -> None:
    study = text_variant(tmp_path)
    raw_before = hashlib.sha256((tmp_path / "survey text.csv").read_bytes()).hexdigest()
    out = tmp_path / "out"
    code = pipeline.main(["--config", str(study), "--output-root", str(out),
                          "--option", "bootstrap_reps=19"])
    assert code == 0, f"see {out / 'output' / 'logs' / 'run_log.md'}"
    assert hashlib.sha256((tmp_path / "survey text.csv").read_bytes()).hexdigest() == raw_before
    clean_data = pd.read_parquet(out / "data_clean" / "survey_clean.parquet")
    assert clean_data["firm_id"].iloc[0].startswith("F0")
    assert pd.api.types.is_string_dtype(clean_data["firm_id"].dtype)
    # the same firms, answers and region names: every estimate, table and figure agrees
    for folder in ("output/estimates", "output/tables", "output/figures", "data_clean/disclosure"):
        made = tree_digest(out / folder)
        shipped = tree_digest(run / folder)
        assert shipped, folder
        rename = {str(run / folder / Path(k).relative_to(out / folder)): v
                  for k, v in made.items()}
        differ = sorted(Path(k).name for k, v in shipped.items() if rename.get(k) != v)
        # only the sample-flow note names the raw file (survey text.csv)
        assert all(name.startswith("sample_flow") for name in differ), differ
        assert set(rename) == set(shipped)
    appendix = pd.read_csv(out / "output" / "data_appendix" / "clean_variables.csv")
    row = appendix.set_index("variable").loc["firm_id"]
    assert row["valid values"] == "text (1,462 distinct values, not listed)"
    assert "F000" not in appendix.to_csv()  # no firm id is listed


def test_no_exhibit_mentions_norway_or_city_regions(run: Path) -> None:
    """A non-Norwegian study's exhibits use its own words ([study] country, region_unit)."""
    words = re.compile(r"norw|city-region|city region", re.IGNORECASE)
    hits = [str(p.relative_to(run)) for p in (run / "output").rglob("*")
            if p.is_file() and p.suffix in (".csv", ".md", ".tex", ".html", ".json", ".svg")
            and words.search(p.read_text(encoding="utf-8", errors="replace"))]
    assert not hits, hits
    table2 = (run / "output" / "tables" / "table2.md").read_text()
    assert "Region dummies" in table2 and "[stand-in:" not in table2
