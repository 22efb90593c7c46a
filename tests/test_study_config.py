"""Tests of the study-configuration loader: the shipped config, general paths, every error."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from analysis.config import DEFAULT_STUDY_CONFIG, PARTNER_TYPES, SCALES
from analysis.data.study_config import (
    StudyConfig,
    infer_format,
    load_study_config,
    parse_study_config,
)
from analysis.errors import ConfigError

BASE: dict[str, Any] = tomllib.loads(DEFAULT_STUDY_CONFIG.read_text(encoding="utf-8"))
SOURCE = Path("my_study.toml")
ROOT = Path("/repo")


def parse(mutate=None) -> StudyConfig:
    data = copy.deepcopy(BASE)
    if mutate is not None:
        mutate(data)
    return parse_study_config(data, SOURCE, ROOT)


def error_of(mutate) -> str:
    with pytest.raises(ConfigError) as info:
        parse(mutate)
    message = str(info.value)
    assert "my_study.toml" in message  # every message names the config file
    return message


# ---------------------------------------------------------------------- the shipped config


def test_shipped_config_loads() -> None:
    cfg = load_study_config(DEFAULT_STUDY_CONFIG, root=ROOT)
    assert cfg.name == "norway_twin" and cfg.synthetic and "synthetic twin" in cfg.data_note
    assert cfg.data_file == ROOT / "data_raw" / "norway_firm_survey_2010_synthetic.sav"
    assert cfg.format == "sav"
    assert cfg.sample.min_employees == 10 and cfg.sample.duplicates == "first"
    assert cfg.columns["employees"] == "q1_emp" and cfg.weight_column is None
    assert cfg.outcomes["product"].novelty_column == "q7_prod_new"
    assert cfg.outcomes["process"].new_to_market == (2,)
    assert list(cfg.regions.values()) == ["Oslo", "Bergen", "Stavanger", "Trondheim",
                                          "Kristiansand"]
    assert cfg.sectors["manufacturing"] == ((10, 33),)
    assert cfg.open_mindedness is not None and cfg.open_mindedness.reverse == ("q12c",)
    assert cfg.collaboration is not None and cfg.collaboration.intensity[5] == 4.0


def test_collaboration_items_and_kinds() -> None:
    cfg = parse()
    items = cfg.collaboration_items()
    assert len(items) == len(PARTNER_TYPES) * len(SCALES)
    assert items[0] == ("group", "local", "q10_grp_reg")
    assert ("universities", "international", "q10_uni_int") in items
    assert cfg.kind_of("q10_uni_int").name == "frequency"
    assert cfg.kind_of("q1_emp").missing_codes == {99998.0: "dont_know", 99999.0: "refused"}
    assert cfg.kind_of("q3_foreign").range == (0, 100)
    assert "q10_sup_nat" in cfg.used_columns() and "q12d" in cfg.used_columns()


def test_absolute_data_file_and_format_inference(tmp_path: Path) -> None:
    def absolute(d):
        d["study"]["data_file"] = str(tmp_path / "survey.dta")

    cfg = parse(absolute)
    assert cfg.data_file == tmp_path / "survey.dta" and cfg.format == "dta"
    assert infer_format(Path("a.CSV")) == "csv" and infer_format(Path("b.parquet")) == "parquet"


def test_optional_survey_year() -> None:
    assert parse(lambda d: d["study"].pop("survey_year", None)).survey_year is None
    assert parse(lambda d: d["study"].update(survey_year=2010)).survey_year == 2010
    assert "[study.survey_year]" in error_of(lambda d: d["study"].update(survey_year="2010"))


def test_explicit_format_overrides_extension() -> None:
    def explicit(d):
        d["study"]["data_file"] = "data_raw/survey.txt"
        d["study"]["format"] = "csv"

    assert parse(explicit).format == "csv"


# ------------------------------------------------------------------- general configurations


def test_weight_lacking_scale_and_partner_and_zero_one_codes() -> None:
    def other_survey(d):
        d["columns"]["weight"] = "wgt"
        d["kinds"]["weight"] = {"range": [0.01, 100.0]}
        d["validate"]["wgt"] = "weight"
        del d["collaboration"]["scales"]["national"]
        d["collaboration"]["scales"]["international"] = "abr"
        del d["collaboration"]["partners"]["group"]
        d["collaboration"]["routed_by_group"] = []
        d["kinds"]["yes_no"] = {"codes": [0, 1], "dont_know": [8], "refused": [9]}
        d["binary_codes"] = {"yes": [1], "no": [0]}
        for name in ("product", "process"):
            d["outcomes"][name]["yes"] = [1]
            d["outcomes"][name]["no"] = [0]

    cfg = parse(other_survey)
    assert cfg.weight_column == "wgt"
    assert [s for _, s, _ in cfg.collaboration_items()][:2] == ["local", "international"]
    assert len(cfg.collaboration_items()) == 6 * 2
    assert "q10_sup_abr" in cfg.used_columns() and "wgt" in cfg.used_columns()
    assert cfg.outcomes["product"].no == (0,)


def test_domestic_scale_is_allowed() -> None:
    def domestic(d):
        d["collaboration"]["scales"] = {"domestic": "dom", "international": "int"}

    cfg = parse(domestic)
    assert list(cfg.collaboration.scales) == ["domestic", "international"]  # near to far
    assert ("suppliers", "domestic", "q10_sup_dom") in cfg.collaboration_items()


def test_optional_sections_can_be_left_out() -> None:
    def minimal(d):
        for key in ("open_mindedness", "collaboration", "regions", "sectors"):
            del d[key]
        del d["validate"]["collaboration"]

    cfg = parse(minimal)
    assert cfg.collaboration is None and cfg.collaboration_items() == []
    assert cfg.open_mindedness is None and cfg.regions == {} and cfg.sectors == {}


# ------------------------------------------------------------------------------- the errors


def test_missing_required_key() -> None:
    message = error_of(lambda d: d["study"].pop("data_file"))
    assert "[study.data_file]" in message and "missing" in message


def test_missing_required_role() -> None:
    message = error_of(lambda d: d["columns"].pop("firm_id"))
    assert "[columns.firm_id]" in message


def test_unknown_role_and_unknown_section() -> None:
    assert "[columns.employes]" in error_of(lambda d: d["columns"].update(employes="q1"))
    assert "[top level.sampel]" in error_of(lambda d: d.update(sampel={}))


def test_unknown_kind() -> None:
    message = error_of(lambda d: d["validate"].update(q1_emp="headcount"))
    assert "[validate.q1_emp]" in message and "unknown kind 'headcount'" in message


def test_kind_needs_codes_or_range() -> None:
    message = error_of(lambda d: d["kinds"]["agree"].pop("codes"))
    assert "[kinds.agree]" in message and "exactly one" in message


def test_range_must_be_lo_hi() -> None:
    assert "[kinds.percent.range]" in error_of(
        lambda d: d["kinds"]["percent"].update(range=[100, 0]))


def test_missing_code_may_not_be_valid() -> None:
    message = error_of(lambda d: d["kinds"]["percent"].update(dont_know=[50]))
    assert "[kinds.percent]" in message and "50" in message


def test_sector_range_not_lo_hi() -> None:
    message = error_of(lambda d: d["sectors"].update(trade=[[45, 46, 47]]))
    assert "[sectors.trade]" in message and "[45, 46, 47]" in message
    message = error_of(lambda d: d["sectors"].update(trade=[[47, 45]]))
    assert "[sectors.trade]" in message


def test_overlapping_sector_ranges() -> None:
    message = error_of(lambda d: d["sectors"].update(trade=[[30, 47]]))
    assert "[sectors.trade]" in message and "overlaps" in message and "manufacturing" in message


def test_unknown_partner_type() -> None:
    message = error_of(lambda d: d["collaboration"]["partners"].update(banks="ban"))
    assert "[collaboration.partners.banks]" in message and "unknown partner type" in message


def test_unknown_scale() -> None:
    message = error_of(lambda d: d["collaboration"]["scales"].update(global_="glo"))
    assert "[collaboration.scales.global_]" in message and "unknown scale" in message


def test_intensity_code_not_among_kind_codes() -> None:
    message = error_of(lambda d: d["collaboration"]["intensity"].update({"7": 9}))
    assert "[collaboration.intensity.7]" in message and "'frequency'" in message


def test_intensity_must_cover_every_code() -> None:
    message = error_of(lambda d: d["collaboration"]["intensity"].pop("3"))
    assert "[collaboration.intensity]" in message and "[3]" in message


def test_never_code_not_among_kind_codes() -> None:
    assert "[collaboration.never]" in error_of(
        lambda d: d["collaboration"].update(never=[0]))


def test_routed_partner_must_be_listed() -> None:
    def drop_group(d):
        del d["collaboration"]["partners"]["group"]

    assert "[collaboration.routed_by_group]" in error_of(drop_group)


def test_outcome_code_not_among_kind_codes() -> None:
    message = error_of(lambda d: d["outcomes"]["product"].update(no=[0]))
    assert "[outcomes.product]" in message and "code 0" in message and "'q6_prod'" in message


def test_outcome_codes_must_cover_valid_codes() -> None:
    message = error_of(lambda d: d["outcomes"]["process"].update(new_to_market=[]))
    assert "[outcomes.process" in message


def test_column_without_kind() -> None:
    message = error_of(lambda d: d["validate"].pop("q2_founded"))
    assert "[validate.q2_founded]" in message and "no kind" in message


def test_region_code_without_name() -> None:
    message = error_of(lambda d: d["regions"].pop("5"))
    assert "[regions]" in message and "[5]" in message


def test_unknown_duplicates_rule_and_format() -> None:
    assert "[sample.duplicates]" in error_of(lambda d: d["sample"].update(duplicates="random"))
    assert "[study.format]" in error_of(lambda d: d["study"].update(format="xlsx"))
    assert "[study.data_file]" in error_of(lambda d: d["study"].update(data_file="x.xlsx"))


def test_reverse_item_must_be_an_item() -> None:
    assert "[open_mindedness.reverse]" in error_of(
        lambda d: d["open_mindedness"].update(reverse=["q12e"]))


def test_wrong_type() -> None:
    message = error_of(lambda d: d["sample"].update(min_employees="ten"))
    assert "[sample.min_employees]" in message and "'ten'" in message


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_study_config(tmp_path / "none.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[study\nname = 1\n")
    with pytest.raises(ConfigError, match=r"broken\.toml: not valid TOML"):
        load_study_config(broken)


def test_error_names_the_file_on_disk(tmp_path: Path) -> None:
    text = DEFAULT_STUDY_CONFIG.read_text(encoding="utf-8").replace(
        'university = "uni"', "").replace('universities = "uni"', 'university = "uni"')
    path = tmp_path / "other_survey.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_study_config(path)
    assert str(path) in str(info.value) and "[collaboration.partners.university]" in str(
        info.value)
