"""Tests of the cleaning step: validation, missing values, sample rules, the C3 frame, the
appendix and configured codes no row holds (reading files and the step itself:
tests/test_clean_files.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from raw_records import CFG, SOURCE, meta_for, other_survey_config, other_survey_frame, raw_frame

from analysis.config import PARTNER_TYPES, SCALES
from analysis.data import clean
from analysis.data.appendix import VariableDoc, describe_variables
from analysis.errors import ConfigError, RawValidationError


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
