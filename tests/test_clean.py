"""Tests of the cleaning step: reading, validation, missing values, sample rules, C3 frame."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis.config import DEFAULT_STUDY_CONFIG, PARTNER_TYPES, ROOT, SCALES
from analysis.context import Context, Paths
from analysis.data import clean
from analysis.data.appendix import VariableDoc, describe_variables
from analysis.data.study_config import StudyConfig, load_study_config, parse_study_config
from analysis.errors import ConfigError, DataError, RawValidationError
from analysis.tasks import clean as clean_step

CFG = load_study_config(DEFAULT_STUDY_CONFIG)
SOURCE = "raw.sav"


def record(intnr: int, orgnr: int, **changes: float) -> dict[str, float]:
    """A complete, valid interview; ``changes`` overrides single answers."""
    rec: dict[str, float] = dict.fromkeys(CFG.used_columns(), np.nan)
    rec.update(intnr=intnr, orgnr=orgnr, region=1, nace=25, q1_emp=30, q2_founded=1990,
               q3_foreign=0, q4_group=1, q5_highed=20, q6_prod=1, q7_prod_new=2, q8_proc=2,
               q11_ceo_edu=3, q12a=4, q12b=4, q12c=2, q12d=4, q13a=7, q13b=4)
    for _, _, column in CFG.collaboration_items():
        rec[column] = 1
    rec.update(changes)
    return rec


def only_frame(intnr: int, orgnr: int, **changes: float) -> dict[str, float]:
    """A record with only the sample-frame variables and ``changes`` (screen-out, break-off)."""
    rec: dict[str, float] = dict.fromkeys(CFG.used_columns(), np.nan)
    rec.update(intnr=intnr, orgnr=orgnr, region=2, nace=47)
    rec.update(changes)
    return rec


def raw_frame() -> pd.DataFrame:
    """Seven interviews: 4 good, 1 screen-out, 1 break-off, 1 repeat interview of firm 101."""
    rows = [
        record(1, 900000101),
        record(2, 900000102, q6_prod=2, q7_prod_new=np.nan, q4_group=2, q10_grp_reg=np.nan,
               q10_grp_nat=np.nan, q10_grp_int=np.nan, q12c=5, region=3, nace=62),
        record(3, 900000103, q3_foreign=998, q5_highed=999, q10_sup_reg=8, q10_cus_int=9,
               q10_con_nat=4, q12a=np.nan, q8_proc=1, q9_proc_new=1, region=5, nace=42),
        only_frame(4, 900000104, q1_emp=5),
        only_frame(5, 900000105, q1_emp=40, q2_founded=2001, q3_foreign=0, q4_group=2,
                   q5_highed=10),
        record(6, 900000101, q6_prod=2, q7_prod_new=np.nan),
        record(7, 900000107, q1_emp=99998, q6_prod=8, q7_prod_new=np.nan, q8_proc=1,
               q9_proc_new=np.nan),
    ]
    return pd.DataFrame(rows, columns=CFG.used_columns())


def meta_for(path: str = SOURCE) -> clean.RawMeta:
    return clean.RawMeta(Path(path), "sav", 7, {"q1_emp": "Q1. Employees"},
                         {"q11_ceo_edu": {1.0: "Compulsory", 2.0: "Upper secondary"}}, {})


def problems_of(frame: pd.DataFrame) -> str:
    with pytest.raises(RawValidationError) as info:
        clean.validate_raw(frame, CFG, SOURCE)
    return str(info.value)


# ------------------------------------------------------------------------------ validation


def test_valid_frame_passes_validation() -> None:
    clean.validate_raw(raw_frame(), CFG, SOURCE)


def test_missing_column_is_named() -> None:
    message = problems_of(raw_frame().drop(columns=["q10_uni_nat"]))
    assert SOURCE in message and "'q10_uni_nat'" in message and "not in the file" in message


def test_invalid_code_names_file_column_row_value_and_count() -> None:
    frame = raw_frame()
    frame.loc[[1, 2], "q11_ceo_edu"] = 7
    message = problems_of(frame)
    assert SOURCE in message and "'q11_ceo_edu'" in message
    assert "value 7 " in message and "record 2 (intnr=2)" in message
    assert "2 rows affected" in message


def test_out_of_range_value_and_undeclared_missing_code() -> None:
    frame = raw_frame()
    frame.loc[0, "q2_founded"] = 2015
    frame.loc[2, "q3_foreign"] = 997
    message = problems_of(frame)
    assert "'q2_founded': value 2015 at record 1 (intnr=1)" in message
    assert "'q3_foreign': value 997 at record 3 (intnr=3)" in message


def test_text_in_numeric_column_is_reported() -> None:
    frame = raw_frame()
    frame["q13a"] = frame["q13a"].astype(object)
    frame.loc[4, "q13a"] = "seven"
    frame.loc[0, "q13a"] = "7"
    message = problems_of(frame)
    assert "'q13a'" in message and "'seven'" in message and "intnr=5" in message


def test_duplicate_interview_id_is_reported() -> None:
    frame = raw_frame()
    frame.loc[6, "intnr"] = 3
    message = problems_of(frame)
    assert "duplicate id 3" in message and "'intnr'" in message and "2 rows affected" in message


def test_empty_firm_id_is_reported() -> None:
    frame = raw_frame()
    frame.loc[1, "orgnr"] = np.nan
    assert "'orgnr' (firm_id): empty at record 2 (intnr=2)" in problems_of(frame)


def test_nace_outside_sector_ranges_is_reported() -> None:
    frame = raw_frame()
    frame.loc[2, "nace"] = 99
    message = problems_of(frame)
    assert "'nace'" in message and "value 99" in message and "intnr=3" in message
    assert "no [sectors] range" in message


def test_answer_to_routed_out_item_is_reported() -> None:
    frame = raw_frame()
    frame.loc[1, "q10_grp_nat"] = 3
    message = problems_of(frame)
    assert "'q10_grp_nat'" in message and "value 3" in message and "intnr=2" in message
    assert "routed out" in message


def test_all_problems_are_listed_at_once() -> None:
    frame = raw_frame()
    frame.loc[0, "region"] = 6
    frame.loc[0, "q13b"] = 0
    with pytest.raises(RawValidationError) as info:
        clean.validate_raw(frame, CFG, SOURCE)
    assert len(info.value.problems) == 2


# -------------------------------------------------------------------------- missing values


def test_missing_kinds_and_routing() -> None:
    values, reasons = clean.recode_missing(raw_frame(), CFG)
    assert reasons.loc[2, "q3_foreign"] == "dont_know" and pd.isna(values.loc[2, "q3_foreign"])
    assert reasons.loc[2, "q5_highed"] == "refused"
    assert reasons.loc[2, "q10_sup_reg"] == "dont_know"
    assert reasons.loc[2, "q10_cus_int"] == "refused"
    assert reasons.loc[2, "q12a"] == "no_answer"  # system-missing, not routed
    assert reasons.loc[1, "q7_prod_new"] == "not_applicable"  # not a product innovator
    assert reasons.loc[1, "q10_grp_reg"] == "not_applicable"  # not in a business group
    assert reasons.loc[0, "q9_proc_new"] == "not_applicable"  # q8_proc = 2
    assert reasons.loc[6, "q7_prod_new"] == "not_applicable"  # q6_prod = don't know: skipped
    assert reasons.loc[6, "q9_proc_new"] == "no_answer"  # process innovator, no answer
    assert reasons.loc[4, "q7_prod_new"] == "no_answer"  # broke off before q6
    assert reasons.loc[4, "q10_grp_reg"] == "not_applicable"  # q4_group = 2 before break-off
    assert pd.isna(reasons.loc[0, "q6_prod"]) and values.loc[0, "q6_prod"] == 1
    assert str(reasons.dtypes["q6_prod"]) == "category"


# ------------------------------------------------------------------------------- canonical


def canonical() -> pd.DataFrame:
    values, reasons = clean.recode_missing(raw_frame(), CFG)
    return clean.canonical_frame(values, reasons, CFG)


def test_canonical_columns_follow_c3() -> None:
    frame = canonical()
    collab = [f"collab__{p}__{s}" for p in PARTNER_TYPES for s in SCALES]
    expected = ["firm_id", "interview_id", "region", "nace", "sector", "employees", "founded",
                "foreign_share", "group", "higher_ed_share", "product", "product_novelty",
                "process", "process_novelty", *collab, "manager_education",
                "open_1", "open_2", "open_3", "open_4", "trust_general", "trust_regional",
                "weight"]
    assert list(frame.columns[: len(expected)]) == expected
    companions = list(frame.columns[len(expected):])
    assert all(c.endswith("__missing") for c in companions)
    assert "firm_id__missing" not in companions and "weight__missing" not in companions
    assert "collab__group__local__missing" in companions and "open_3__missing" in companions


def test_recodes_binary_novelty_region_sector() -> None:
    frame = canonical()
    assert frame["product"].tolist()[:3] == [1, 0, 1] and str(frame["product"].dtype) == "Int64"
    assert pd.isna(frame.loc[6, "product"]) and frame.loc[6, "process"] == 1
    assert frame["group"].tolist()[:2] == [1, 0]
    assert frame.loc[0, "product_novelty"] == "market" and frame.loc[2, "process_novelty"] == "firm"
    assert pd.isna(frame.loc[1, "product_novelty"])
    assert frame["region"].tolist()[:4] == ["Oslo", "Stavanger", "Kristiansand", "Bergen"]
    assert list(frame["region"].cat.categories) == list(CFG.regions.values())
    assert frame["sector"].tolist()[:4] == ["manufacturing", "business_services", "construction",
                                            "trade"]
    assert list(frame["sector"].cat.categories) == list(CFG.sectors)


def test_reverse_coding_and_collaboration_codes() -> None:
    frame = canonical()
    # q12c is the third item and reversed: 1 + 5 - x
    assert frame.loc[0, "open_3"] == 4 and frame.loc[1, "open_3"] == 1
    assert frame.loc[0, "open_1"] == 4  # not reversed
    assert frame.loc[2, "collab__consultants__national"] == 4
    assert pd.isna(frame.loc[2, "collab__suppliers__local"])
    assert frame.loc[2, "collab__suppliers__local__missing"] == "dont_know"
    assert str(frame["collab__suppliers__local"].dtype) == "Int64"


def test_weight_is_one_without_weight_column() -> None:
    frame = canonical()
    assert (frame["weight"] == 1.0).all() and frame["weight"].dtype == np.float64


def test_missing_codes_of_size_become_na() -> None:
    frame = canonical()
    assert pd.isna(frame.loc[6, "employees"]) and frame.loc[6, "employees__missing"] == "dont_know"
    assert frame.loc[2, "foreign_share__missing"] == "dont_know"


# ---------------------------------------------------------------------------- sample rules


def test_sample_rules_in_order_and_flow_adds_up() -> None:
    result = clean.apply_sample_rules(canonical(), CFG)
    removed = {e.rule: e.removed["interview_id"].tolist() for e in result.exclusions}
    assert removed == {"screen_out": [4], "break_off": [5], "duplicate": [6]}
    assert result.kept["interview_id"].tolist() == [1, 2, 3, 7]  # unknown size (7) stays
    flow = clean.sample_flow(result)
    assert flow["records"].tolist() == [7, 1, 1, 1, 4]
    assert flow["remaining"].tolist() == [7, 6, 5, 4, 4]
    assert flow["adds_up"].all()
    assert flow.loc[0, "records"] == flow["records"].iloc[1:-1].sum() + flow["records"].iloc[-1]


def test_duplicates_keep_lowest_interview_id_even_if_later_in_file() -> None:
    frame = canonical().iloc[::-1]  # the repeat interview (6) now comes first
    result = clean.apply_sample_rules(frame, CFG)
    assert result.exclusions[2].removed["interview_id"].tolist() == [6]


def test_flow_check_flags_lost_records() -> None:
    result = clean.apply_sample_rules(canonical(), CFG)
    broken = clean.SampleResult(result.n_raw + 1, result.kept, result.exclusions)
    assert not clean.sample_flow(broken)["adds_up"].iloc[-1]


def test_clean_survey_end_to_end() -> None:
    result = clean.clean_survey(raw_frame(), meta_for(), CFG)
    assert result.data["interview_id"].tolist() == [1, 2, 3, 7]
    assert result.data["firm_id"].is_unique
    assert result.docs["employees"].label == "Q1. Employees"
    assert "1 = Compulsory" in result.docs["manager_education"].values
    assert "reverse" in result.docs["open_3"].source


def test_clean_survey_validates_first() -> None:
    frame = raw_frame()
    frame.loc[3, "q1_emp"] = -1
    with pytest.raises(RawValidationError, match="q1_emp"):
        clean.clean_survey(frame, meta_for("my_file.sav"), CFG)


# ---------------------------------------------------------------------------- the appendix


def test_describe_variables_counts_missing_kinds_and_shares() -> None:
    result = clean.clean_survey(raw_frame(), meta_for(), CFG)
    table = describe_variables(result.data, result.docs).set_index("variable")
    assert "employees__missing" not in table.index
    row = table.loc["collab__suppliers__local"]
    assert (row["N valid"], row["N dont_know"], row["N refused"]) == (3, 1, 0)
    group_row = table.loc["collab__group__local"]
    assert group_row["N not_applicable"] == 1
    assert table.loc["region", "shares"] == (
        "Oslo 0.50; Bergen 0.00; Stavanger 0.25; Trondheim 0.00; Kristiansand 0.25")
    assert table.loc["employees", "mean"] == pytest.approx(30.0)
    assert table.loc["product", "type"] == "binary (0/1)"
    assert table.loc["collab__group__local", "type"] == "integer"  # all 1 here, still a code
    assert pd.isna(table.loc["firm_id", "mean"])


def test_describe_variables_without_companions() -> None:
    frame = pd.DataFrame({"x": pd.array([1, 2, None], dtype="Int64"),
                          "c": pd.Categorical(["a", "b", "b"])})
    table = describe_variables(frame, {"x": VariableDoc("An x", "q1 + q2")})
    assert table["variable"].tolist() == ["x", "c"]
    assert table.loc[0, "N missing"] == 1 and pd.isna(table.loc[0, "N dont_know"])
    assert table.loc[0, "valid values"] == "1 to 2 (observed)"
    assert table.loc[1, "shares"] == "a 0.33; b 0.67" and table.loc[1, "label"] == ""


# --------------------------------------------------------------------------------- reading


def write_sav(path: Path, frame: pd.DataFrame) -> None:
    columns = list(frame.columns)
    pyreadstat.write_sav(
        frame, str(path),
        column_labels={c: f"Label of {c}" for c in columns},
        variable_value_labels={"q11_ceo_edu": {1: "Compulsory", 8: "Don't know"},
                               "q12c": {1: "Strongly disagree", 5: "Strongly agree"}},
        missing_ranges={c: [8, 9] for c in columns if c.startswith(("q10_", "q11"))}
        | {"q3_foreign": [998, 999], "q5_highed": [998, 999]},
    )


def test_sav_round_trip_keeps_user_missing_codes_and_labels(tmp_path: Path) -> None:
    path = tmp_path / "tiny.sav"
    write_sav(path, raw_frame())
    frame, meta = clean.read_raw(path, "sav")
    assert frame.loc[2, "q10_sup_reg"] == 8 and frame.loc[2, "q5_highed"] == 999
    assert pd.isna(frame.loc[1, "q7_prod_new"])
    assert meta.column_labels["q1_emp"] == "Label of q1_emp"
    assert meta.value_labels["q11_ceo_edu"][1.0] == "Compulsory"
    assert (8.0, 8.0) in meta.missing_ranges["q10_sup_reg"]
    result = clean.clean_survey(frame, meta, CFG)
    assert result.data["interview_id"].tolist() == [1, 2, 3, 7]
    assert result.docs["foreign_share"].label == "Label of q3_foreign"
    # q12c is reversed: canonical 1 is the file's 5
    assert result.docs["open_3"].values.startswith("1 = Strongly agree; 2; 3; 4; 5 = Strongly")


def other_survey_config() -> StudyConfig:
    """A survey with weights, 0/1 yes-no codes, no national scale and no group partner."""
    data = tomllib.loads(DEFAULT_STUDY_CONFIG.read_text(encoding="utf-8"))
    data["columns"]["weight"] = "wgt"
    data["kinds"]["weight"] = {"range": [0.01, 1000.0]}
    data["validate"]["wgt"] = "weight"
    data["kinds"]["yes_no"]["codes"] = [0, 1]
    data["binary_codes"] = {"yes": [1], "no": [0]}
    for name in ("product", "process"):
        data["outcomes"][name].update(yes=[1], no=[0])
    del data["collaboration"]["scales"]["national"]
    del data["collaboration"]["partners"]["group"]
    data["collaboration"]["routed_by_group"] = []
    return parse_study_config(data, Path("other.toml"), ROOT)


def other_survey_frame() -> pd.DataFrame:
    frame = raw_frame()
    for column in ("q4_group", "q6_prod", "q8_proc"):
        frame[column] = frame[column].replace({2.0: 0.0})
    frame = frame.drop(columns=[c for c in frame.columns if c.endswith("_nat")
                                or c.startswith("q10_grp")])
    frame["wgt"] = [0.5, 1.5, 2.0, 1.0, 1.0, 3.0, 4.0]
    # some firm must collaborate, or the configured collaboration codes match no row
    frame.loc[0, "q10_sup_int"] = 3.0
    return frame


def test_other_survey_with_weights_and_zero_one_codes(tmp_path: Path) -> None:
    cfg = other_survey_config()
    path = tmp_path / "other.parquet"
    other_survey_frame().astype({"intnr": "Int64", "q6_prod": "Int64"}).to_parquet(path)
    raw, meta = clean.read_raw(path, "parquet")
    result = clean.clean_survey(raw, meta, cfg)
    data = result.data
    assert data["weight"].tolist() == [0.5, 1.5, 2.0, 4.0]
    assert data["product"].tolist()[:3] == [1, 0, 1] and data["group"].tolist()[:2] == [1, 0]
    collab = [c for c in data.columns if c.startswith("collab__") and "__missing" not in c]
    assert len(collab) == 6 * 2 and "collab__suppliers__international" in collab
    assert "collab__suppliers__national" not in collab


def test_non_positive_weight_is_reported() -> None:
    frame = other_survey_frame()
    frame.loc[2, "wgt"] = 0.0
    with pytest.raises(RawValidationError) as info:
        clean.validate_raw(frame, other_survey_config(), SOURCE)
    assert "'wgt'" in str(info.value) and "value 0 at record 3 (intnr=3)" in str(info.value)


def test_declared_missing_code_that_config_counts_as_valid(tmp_path: Path) -> None:
    meta = clean.RawMeta(Path("x.sav"), "sav", 7, {}, {}, {"q10_sup_reg": ((5.0, 9.0),),
                                                           "q1_emp": ((99998.0, 99999.0),)})
    with pytest.raises(RawValidationError) as info:
        clean.clean_survey(raw_frame(), meta, CFG)
    assert len(info.value.problems) == 1
    assert "'q10_sup_reg'" in str(info.value) and "declares 5 to 9" in str(info.value)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_csv_and_parquet_are_read(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"tiny.{fmt}"
    frame = raw_frame()
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)
    read, meta = clean.read_raw(path, fmt)
    assert len(read) == 7 and meta.format == fmt
    assert clean.clean_survey(read, meta, CFG).data["interview_id"].tolist() == [1, 2, 3, 7]


def test_stata_file_is_read_with_labels(tmp_path: Path) -> None:
    path = tmp_path / "tiny.dta"
    pyreadstat.write_dta(raw_frame(), str(path), column_labels={"q1_emp": "Employees"})
    frame, meta = clean.read_raw(path, "dta")
    assert meta.column_labels["q1_emp"] == "Employees" and meta.format == "dta"
    assert clean.clean_survey(frame, meta, CFG).data["interview_id"].tolist() == [1, 2, 3, 7]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nope.sav not found"):
        clean.read_raw(tmp_path / "nope.sav", "sav")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.sav"
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.sav is empty"):
        clean.read_raw(path, "sav")


def test_wrong_format_for_extension(tmp_path: Path) -> None:
    path = tmp_path / "really_csv.sav"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"really_csv\.sav is not an SPSS"):
        clean.read_raw(path, "sav")


def test_corrupt_sav(tmp_path: Path) -> None:
    good = tmp_path / "good.sav"
    write_sav(good, raw_frame())
    bad = tmp_path / "corrupt.sav"
    bad.write_bytes(good.read_bytes()[:300])
    with pytest.raises(DataError, match=r"corrupt\.sav could not be read"):
        clean.read_raw(bad, "sav")


def test_csv_without_records(tmp_path: Path) -> None:
    path = tmp_path / "header_only.csv"
    path.write_text("intnr,orgnr\n")
    with pytest.raises(DataError, match="header_only.csv has no records"):
        clean.read_raw(path, "csv")


# ------------------------------------------------------------------------------- the step


def context_for(tmp_path: Path, raw_path: Path) -> Context:
    text = DEFAULT_STUDY_CONFIG.read_text(encoding="utf-8").replace(
        'data_file = "data_raw/norway_firm_survey_2010_synthetic.sav"',
        f'data_file = "{raw_path.as_posix()}"')
    config_path = tmp_path / "study.toml"
    config_path.write_text(text, encoding="utf-8")
    return Context(paths=Paths.under(tmp_path / "run"), study_config_path=config_path,
                   model_spec_path=ROOT / "config" / "models.toml")


def test_step_writes_outputs_and_is_deterministic(tmp_path: Path) -> None:
    raw_path = tmp_path / "raw.sav"
    write_sav(raw_path, raw_frame())
    ctx = context_for(tmp_path, raw_path)
    assert clean_step.inputs(ctx) == [ctx.study_config_path, raw_path]
    clean_step.run(ctx)
    outputs = clean_step.outputs(ctx)
    assert all(p.is_file() for p in outputs)
    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in outputs]
    clean_step.run(ctx)
    assert digests == [hashlib.sha256(p.read_bytes()).hexdigest() for p in outputs]
    flow = pd.read_csv(ctx.paths.data_clean / "clean_flow.csv")  # the samples step's input
    assert flow["records"].tolist() == [7, 1, 1, 1, 4]
    assert flow["adds_up"].all()
    data = pd.read_parquet(ctx.paths.data_clean / "survey_clean.parquet")
    assert data["region"].dtype == "category" and str(data["product"].dtype) == "Int64"


def test_step_writes_nothing_on_invalid_data(tmp_path: Path) -> None:
    frame = raw_frame()
    frame.loc[0, "q13a"] = 11
    raw_path = tmp_path / "raw.sav"
    write_sav(raw_path, frame)
    ctx = context_for(tmp_path, raw_path)
    with pytest.raises(RawValidationError, match="q13a"):
        clean_step.run(ctx)
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------------- the shipped file

REAL_RAW = CFG.data_file


@pytest.mark.skipif(not REAL_RAW.is_file(), reason="synthetic raw file not generated yet")
def test_real_raw_file_gives_1604_firms() -> None:
    raw, meta = clean.read_raw(REAL_RAW, CFG.format)
    result = clean.clean_survey(raw, meta, CFG)
    assert len(result.data) == 1604 and result.data["firm_id"].is_unique
    assert result.flow["records"].iloc[0] == len(raw)
    assert len(raw) == sum(len(e.removed) for e in result.sample.exclusions) + 1604
    assert result.flow["adds_up"].all()
    # the file's declared user-missing codes are exactly the config's missing codes
    kinds = CFG.column_kinds()
    for column, ranges in meta.missing_ranges.items():
        declared = {v for pair in ranges for v in pair}
        assert declared == set(kinds[column].missing_codes), column


@pytest.mark.skipif(not REAL_RAW.is_file(), reason="synthetic raw file not generated yet")
def test_real_raw_file_cleans_byte_identically(tmp_path: Path) -> None:
    ctx = context_for(tmp_path, REAL_RAW)
    clean_step.run(ctx)
    path = ctx.paths.data_clean / "survey_clean.parquet"
    first = path.read_bytes()
    clean_step.run(ctx)
    assert path.read_bytes() == first


# ------------------------------------------------------ configured codes that no row holds


def test_outcome_yes_code_no_row_holds_is_a_config_error() -> None:

    frame = raw_frame()
    frame["q8_proc"] = frame["q8_proc"].replace(1.0, 2.0)  # nobody has a new process
    frame["q9_proc_new"] = np.nan  # (the follow-up is then never asked)
    with pytest.raises(ConfigError) as info:
        clean.clean_survey(frame, meta_for(), CFG)
    message = str(info.value)
    assert "[outcomes.process.yes] code 1 occurs in no row of column 'q8_proc'" in message
    assert str(CFG.source) in message and "2 (5 rows)" in message


def test_a_battery_nobody_collaborates_in_is_a_config_error_one_item_is_not() -> None:

    frame = other_survey_frame()
    clean.clean_survey(frame, meta_for(), other_survey_config())  # one yes is enough
    frame["q10_sup_int"] = frame["q10_sup_int"].replace(3.0, 1.0)
    with pytest.raises(ConfigError, match=r"\[collaboration\.never\] collaboration codes "
                                          r"2, 3, 4, 5 .* no row of any of the 12"):
        clean.clean_survey(frame, meta_for(), other_survey_config())
