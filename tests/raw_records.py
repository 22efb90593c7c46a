"""Raw survey records for the cleaning tests (tests/test_clean.py and
tests/test_clean_files.py): complete valid interviews, screen-outs and break-offs, and an
SPSS file written from them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from analysis.config import DEFAULT_STUDY_CONFIG, ROOT
from analysis.data import clean
from analysis.data.study_config import StudyConfig, load_study_config, parse_study_config

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
