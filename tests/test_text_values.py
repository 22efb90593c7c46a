"""Text in the survey file: ``[recode]`` tables, text ids and text region codes.

Unit tests on tiny hand-made frames and configurations (a 5-firm CSV survey).
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis.config import DEFAULT_STUDY_CONFIG
from analysis.data import clean
from analysis.data.study_config import (
    check_columns,
    load_study_config,
    parse_study_config,
    region_code,
)
from analysis.errors import ConfigError, RawValidationError, RecodeError

YES_NO = {"Yes": 1, "No": 0, "Don't know": -9}

#: A 5-firm survey: text firm ids, NUTS-like region codes, yes/no answers as labels.
SURVEY = (
    "fid,nuts,prod,proc,emp\n"
    "F003, DE2 ,Yes,No,12\n"
    "F001,DE1,No ,Don't know,40\n"
    "F002,DE1,,Yes,25\n"
    "F010,AT3,Yes,Yes,\n"
    "F004,DE2,No,No,99\n"
)

CONFIG = '''
[study]
name = "tiny_text"
data_file = "{data}"
[columns]
firm_id = "fid"
interview_id = "fid"
region = "nuts"
employees = "emp"
[outcomes.product]
column = "prod"
yes = [1]
no = [0]
[outcomes.process]
column = "proc"
yes = [1]
no = [0]
[kinds.yn]
codes = [0, 1]
dont_know = [-9]
[kinds.count]
range = [0, 100000]
[validate]
prod = "yn"
proc = "yn"
emp = "count"
[recode.prod]
Yes = 1
No = 0
"Don't know" = -9
[recode.proc]
Yes = 1
No = 0
"Don't know" = -9
{extra}
'''


def tiny(tmp_path: Path, extra: str = "", survey: str = SURVEY) -> Path:
    data = tmp_path / "s.csv"
    data.write_text(survey, encoding="utf-8")
    path = tmp_path / "tiny.toml"
    path.write_text(CONFIG.format(data=data, extra=extra), encoding="utf-8")
    return path


def clean_tiny(path: Path) -> pd.DataFrame:
    cfg = load_study_config(path)
    raw, meta = clean.read_raw(cfg.data_file, cfg.format)
    return clean.clean_survey(raw, meta, cfg).data


# ------------------------------------------------------------------------------- recode


def test_recode_text_maps_trims_and_keeps_numbers() -> None:
    frame = pd.DataFrame({"q": [" Yes", "No ", "Don't know", "", None, "3", "yes", "Maybe"]},
                         dtype=object)
    codes, unmapped = clean.recode_text(frame, "q", YES_NO)
    expected = [1.0, 0.0, -9.0, np.nan, np.nan, 3.0, np.nan, np.nan]
    np.testing.assert_array_equal(codes.to_numpy(), np.array(expected))
    # matching is case-sensitive: "yes" is not "Yes"
    assert unmapped.tolist() == [False] * 6 + [True, True]


def test_recode_leaves_a_numeric_column_alone() -> None:
    frame = pd.DataFrame({"q": [1.0, 0.0, np.nan]})
    codes, unmapped = clean.recode_text(frame, "q", YES_NO)
    pd.testing.assert_series_equal(codes, frame["q"])
    assert not unmapped.any()


def test_prepare_raw_recodes_a_copy() -> None:
    frame = pd.DataFrame({"fid": [" F1 ", "F2"], "prod": ["Yes", "No"], "proc": ["No", "No"],
                          "nuts": ["DE1", "DE2"], "emp": [10, 20]})
    before = frame.copy()
    cfg = _cfg_with(recode={"prod": YES_NO})
    out = clean.prepare_raw(frame, cfg, "s.csv")
    pd.testing.assert_frame_equal(frame, before)  # the raw frame is untouched
    assert out["prod"].tolist() == [1.0, 0.0] and out["proc"].tolist() == ["No", "No"]
    assert out["fid"].tolist() == ["F1", "F2"]  # text ids trimmed


def test_unmapped_text_names_file_column_row_value_and_count() -> None:
    frame = pd.DataFrame({"fid": ["F1", "F2", "F3", "F4"],
                          "prod": ["Yes", "Maybe", "yes", "Maybe"]})
    cfg = _cfg_with(recode={"prod": YES_NO})
    with pytest.raises(RecodeError) as info:
        clean.prepare_raw(frame, cfg, "survey.csv")
    message = str(info.value)
    for needle in ("survey.csv", "column 'prod'", "'Maybe'", "record 2 (fid='F2')",
                   "3 rows affected", "'yes' (the table has 'Yes')", "case-sensitive",
                   "[recode.prod]"):
        assert needle in message, (needle, message)
    assert isinstance(info.value, RawValidationError)


def test_text_without_recode_suggests_one(tmp_path: Path) -> None:
    path = tiny(tmp_path)
    text = path.read_text().replace("[recode.proc]\nYes = 1\nNo = 0\n\"Don't know\" = -9\n", "")
    path.write_text(text)
    with pytest.raises(RawValidationError) as info:
        clean_tiny(path)
    assert "column 'proc'" in str(info.value) and "[recode.proc]" in str(info.value)


def test_config_checks_recode_tables() -> None:
    def error(recode: dict[str, Any]) -> str:
        with pytest.raises(ConfigError) as info:
            _cfg_with(recode=recode)
        return str(info.value)

    assert "must be a number" in error({"prod": {"Yes": "1"}})
    assert "must be a number" in error({"prod": {"Yes": True}})
    assert "empty text is system-missing" in error({"prod": {" ": 1}})
    assert "listed twice" in error({"prod": {"Yes": 1, "Yes ": 1}})
    assert "must be a table" in error({"prod": {}})
    message = error({"prod": {"Yes": 1, "Maybe": 7}})
    assert '[recode.prod."Maybe"]' in message and "code 7" in message and "'yn'" in message
    # a missing code of the kind is a valid target
    assert _cfg_with(recode={"prod": YES_NO}).recode["prod"]["Don't know"] == -9


def test_recode_of_an_unknown_column_is_a_config_error() -> None:
    cfg = _cfg_with(recode={"prdo": YES_NO})
    with pytest.raises(ConfigError) as info:
        check_columns(cfg, ["fid", "nuts", "prod", "proc", "emp"])
    assert "[recode.prdo]" in str(info.value) and "close matches: prod" in str(info.value)


# ----------------------------------------------------------------------- text ids, regions


def test_text_ids_and_regions_end_up_in_the_clean_data(tmp_path: Path) -> None:
    data = clean_tiny(tiny(tmp_path))
    # sorted by interview id (as text); ids stay text
    assert data["firm_id"].tolist() == ["F001", "F002", "F003", "F004", "F010"]
    assert pd.api.types.is_string_dtype(data["firm_id"].dtype)
    # no [regions]: the names are the distinct codes, sorted; whitespace trimmed
    assert list(data["region"].cat.categories) == ["AT3", "DE1", "DE2"]
    assert data["region"].astype(str).tolist() == ["DE1", "DE1", "DE2", "DE2", "AT3"]
    assert data["product"].tolist()[:3] == [0, pd.NA, 1]
    assert data["product__missing"].astype(object).tolist()[1] == "no_answer"  # empty text
    assert data["process__missing"].astype(object).tolist()[0] == "dont_know"


def test_text_region_codes_mapped_to_names(tmp_path: Path) -> None:
    extra = '[regions]\nDE1 = "Baden"\nDE2 = "Bavaria"\nAT3 = "Upper Austria"\n'
    data = clean_tiny(tiny(tmp_path, extra))
    assert list(data["region"].cat.categories) == ["Baden", "Bavaria", "Upper Austria"]
    assert data["region"].astype(str).tolist()[-1] == "Upper Austria"


def test_text_region_code_without_a_name_is_an_error(tmp_path: Path) -> None:
    path = tiny(tmp_path, '[regions]\nDE1 = "Baden"\nDE2 = "Bavaria"\n')
    with pytest.raises(RawValidationError) as info:
        clean_tiny(path)
    message = str(info.value)
    assert "'nuts'" in message and "'AT3'" in message and "record 4 (fid='F010')" in message
    assert "no name in [regions]" in message


def test_duplicate_text_ids(tmp_path: Path) -> None:
    survey = SURVEY.replace("F004,", "F001,")
    with pytest.raises(RawValidationError,
                       match=r"duplicate id 'F001' at record 2 \(fid='F001'\); 2 rows"):
        clean_tiny(tiny(tmp_path, survey=survey))


def test_duplicate_firms_with_text_ids_keep_the_lowest_interview(tmp_path: Path) -> None:
    survey = "iid,fid,nuts,prod,proc,emp\n" + "".join(
        f"{iid},{fid},DE1,Yes,No,20\n" for iid, fid in
        (("I2", "F1"), ("I1", "F1"), ("I3", "F2"))).replace("I3,F2,DE1,Yes,No", "I3,F2,DE1,Yes,Yes")
    path = tiny(tmp_path, survey=survey)
    path.write_text(path.read_text().replace('interview_id = "fid"', 'interview_id = "iid"'))
    cfg = load_study_config(path)
    raw, meta = clean.read_raw(cfg.data_file, cfg.format)
    result = clean.clean_survey(raw, meta, cfg)
    assert result.data["interview_id"].tolist() == ["I1", "I3"]
    assert result.flow.set_index("stage").loc["duplicate", "records"] == 1


def test_empty_text_id_is_an_error(tmp_path: Path) -> None:
    survey = SURVEY.replace("F002,", " ,")
    with pytest.raises(RawValidationError, match=r"'fid' \(firm_id\): empty at record 3"):
        clean_tiny(tiny(tmp_path, survey=survey))


def test_id_with_a_numeric_kind_and_text_says_to_drop_the_kind(tmp_path: Path) -> None:
    path = tiny(tmp_path, '[kinds.id]\nrange = [1, 99]\n')
    path.write_text(path.read_text().replace('[validate]\n', '[validate]\nfid = "id"\n'))
    with pytest.raises(RawValidationError) as info:
        clean_tiny(path)
    assert "'F003'" in str(info.value) and "remove 'fid' from [validate]" in str(info.value)


def test_region_keys() -> None:
    assert region_code("1") == 1 and region_code(" -3 ") == -3
    assert region_code("DE1") == "DE1" and region_code("01") == "01"
    # the twin: integer keys, unchanged
    base = tomllib.loads(DEFAULT_STUDY_CONFIG.read_text(encoding="utf-8"))
    cfg = parse_study_config(base, Path("x.toml"), Path("/repo"))
    assert list(cfg.regions) == [1, 2, 3, 4, 5] and cfg.text_columns() == ()


def test_text_region_keys_need_a_region_without_kind() -> None:
    base = tomllib.loads(DEFAULT_STUDY_CONFIG.read_text(encoding="utf-8"))
    data = copy.deepcopy(base)
    data["regions"]["NO01"] = "Elsewhere"
    with pytest.raises(ConfigError, match=r"\[regions.NO01\] text region code 'NO01'"):
        parse_study_config(data, Path("x.toml"), Path("/repo"))


def test_appendix_counts_text_ids_and_shows_recodes(tmp_path: Path) -> None:
    cfg = load_study_config(tiny(tmp_path))
    raw, meta = clean.read_raw(cfg.data_file, cfg.format)
    result = clean.clean_survey(raw, meta, cfg)
    from analysis.data.appendix import describe_variables

    table = describe_variables(result.data, result.docs).set_index("variable")
    assert table.loc["firm_id", "valid values"] == "text (5 distinct values, not listed)"
    assert "F001" not in table.to_csv()  # firm ids are never listed
    assert "[text recoded: Yes = 1; No = 0; Don't know = -9]" in table.loc["product", "source"]


# ----------------------------------------------------------------------------- helpers


def _cfg_with(recode: dict[str, Any]):
    data = tomllib.loads(CONFIG.format(data="/nowhere/s.csv", extra=""))
    data["recode"] = recode
    return parse_study_config(data, Path("tiny.toml"), Path("/repo"))
