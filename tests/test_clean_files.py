"""Tests of the cleaning step on files: reading each format, the step's outputs and the
shipped synthetic file (validation and the frame: tests/test_clean.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from raw_records import CFG, SOURCE, other_survey_config, other_survey_frame, raw_frame, write_sav

from analysis.config import DEFAULT_STUDY_CONFIG, ROOT
from analysis.context import Context, Paths
from analysis.data import clean
from analysis.errors import DataError, RawValidationError
from analysis.tasks import clean as clean_step

# --------------------------------------------------------------------------------- reading


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
