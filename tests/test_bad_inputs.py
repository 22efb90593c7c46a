"""A catalogue of bad inputs, each run through the real entry point (analysis.runner.pipeline.main).

Every case must end in one clear message on stderr (naming the file, and the column,
row or value where they apply, plus what to do), a non-zero exit code, no partial outputs
(the files of an earlier good run untouched, no temporary files left) and the raw data
file unchanged. Data cases run on a small copy of the synthetic twin (80 records) written
with pyreadstat (value labels and missing ranges kept); the estimation cases, on the
estimate step with a tiny hand-made analysis frame, are in
tests/test_bad_estimation_inputs.py.

Decisions this catalogue fixes:
- An outcome missing for everyone does not stop cleaning (the other outcome keeps the
  firms); the model of that outcome fails with EmptyCellError naming the model (tested on
  the estimate step with a tiny analysis frame). A sample left empty by the sample rules
  stops cleaning.
- A CSV that is not UTF-8 (e.g. latin-1) is refused with a clear error (file, byte
  position); the package does not guess encodings.
- Duplicate interview ids are an error; duplicate firm ids are resolved by the sample
  rule (lowest interview id kept) and counted in the sample flow.
- A configured yes code that matches no row is a configuration error: an outcome's yes
  code must occur in each of its columns (nobody innovating cannot be analysed), and the
  codes meaning collaboration must occur somewhere in the battery (one item nobody ticks
  is a finding, and passes). Codes of the category maps ([regions], [sectors]) need not
  occur: a region without a sampled firm is fine.
- Text answers are recoded by ``[recode.<column>]`` (exact, case-sensitive match after
  trimming whitespace); a text value missing from the table is a raw-data error naming the
  column, first record, value and count, and a table for a column the file lacks is a
  configuration error with close matches.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from bad_input_checks import assert_one_message, temp_files, tree_state

from analysis import config
from analysis.io import file_sha256
from analysis.runner import pipeline

N_RECORDS = 80
GOOD_STEPS = ("clean", "build", "describe", "disclosure")


# ----------------------------------------------------------------------------- helpers


def toml_string(path: Path) -> str:
    """A TOML literal string of a path (no escapes needed)."""
    assert "'" not in str(path)
    return f"'{path}'"


def write_study_config(folder: Path, data_file: Path, extra: str = "",
                       replace: dict[str, str] | None = None) -> Path:
    """The twin's study configuration pointing at ``data_file`` (with optional changes)."""
    text = config.DEFAULT_STUDY_CONFIG.read_text(encoding="utf-8")
    lines = [f"data_file = {toml_string(data_file)}" if line.startswith("data_file =")
             else line for line in text.splitlines()]
    text = "\n".join(lines) + "\n" + extra
    for old, new in (replace or {}).items():
        assert old in text
        text = text.replace(old, new)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "study.toml"
    path.write_text(text, encoding="utf-8")
    return path


def write_sav(path: Path, frame: pd.DataFrame, meta) -> Path:
    """Write ``frame`` as .sav with the labels and missing ranges of ``meta`` (as present)."""
    cols = set(frame.columns)
    pyreadstat.write_sav(
        frame, str(path),
        column_labels={k: v for k, v in meta.column_names_to_labels.items() if k in cols},
        variable_value_labels={k: v for k, v in meta.variable_value_labels.items()
                               if k in cols and pd.api.types.is_numeric_dtype(frame[k])},
        missing_ranges={k: v for k, v in meta.missing_ranges.items()
                        if k in cols and pd.api.types.is_numeric_dtype(frame[k])})
    return path


def run_main(capsys, *args: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = pipeline.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def twin() -> tuple[pd.DataFrame, object]:
    """The first records of the synthetic twin, user-missing codes kept, and its metadata."""
    source = config.DATA_RAW / "norway_firm_survey_2010_synthetic.sav"
    frame, meta = pyreadstat.read_sav(str(source), user_missing=True, row_limit=N_RECORDS)
    return frame, meta


@pytest.fixture(scope="module")
def good_run(tmp_path_factory, twin) -> dict[str, Path]:
    """A successful run on a path with spaces and non-ASCII letters (the 'must work' case)."""
    base = tmp_path_factory.mktemp("good") / "study ø æ"
    base.mkdir()
    raw = write_sav(base / "twin data ø.sav", *twin)
    study = write_study_config(base / "config dir", raw)
    root = base / "out dir ø"
    code = pipeline.main(["--config", str(study), "--output-root", str(root),
                          *(a for s in GOOD_STEPS for a in ("--only", s))])
    assert code == 0
    return {"base": base, "raw": raw, "study": study, "root": root}


@pytest.fixture
def case(tmp_path, good_run, twin, capsys):
    """Run one bad data file through the pipeline over a copy of the good run's outputs."""

    def run(make: Callable[[Path], Path], *, extra: str = "",
            replace: dict[str, str] | None = None) -> str:
        root = tmp_path / "out"
        shutil.copytree(good_run["root"], root)
        before = tree_state(root)
        raw = make(tmp_path)
        raw_sha = file_sha256(raw) if raw.is_file() else None
        study = write_study_config(tmp_path / "cfg", raw, extra, replace)
        code, _, err = run_main(capsys, "--config", study, "--output-root", root)
        assert code != 0, err
        assert tree_state(root) == before, "outputs of the earlier run were changed"
        assert temp_files(root) == []
        if raw_sha is not None:
            assert file_sha256(raw) == raw_sha, "the raw data file was modified"
        assert "What to do:" in err, err
        return err

    return run


def modified_sav(twin, change: Callable[[pd.DataFrame], pd.DataFrame], name: str = "bad.sav"
                 ) -> Callable[[Path], Path]:
    frame, meta = twin

    def make(folder: Path) -> Path:
        return write_sav(folder / name, change(frame.copy()), meta)

    return make


# ----------------------------------------------------------------------- the good case


def test_paths_with_spaces_and_non_ascii_work(good_run):
    root = good_run["root"]
    assert (root / "data_clean" / "survey_clean.parquet").is_file()
    assert (root / "output" / "tables" / "table1_summary_statistics.csv").is_file()
    assert (root / "output" / "tables" / "disclosure_report.md").is_file()
    assert temp_files(root) == []


# ------------------------------------------------------------------ file-level problems


def test_missing_file(case):
    err = case(lambda folder: folder / "no such file.sav")
    assert_one_message(err, "no such file.sav", "not found")


def test_empty_file(case):
    def make(folder: Path) -> Path:
        path = folder / "empty.sav"
        path.write_bytes(b"")
        return path

    assert_one_message(case(make), "empty.sav", "empty (0 bytes)")


def test_truncated_sav(case, good_run):
    def make(folder: Path) -> Path:
        data = good_run["raw"].read_bytes()
        path = folder / "truncated.sav"
        path.write_bytes(data[: len(data) // 3])
        return path

    assert_one_message(case(make), "truncated.sav", "could not be read as sav")


def test_corrupt_dta(case, twin):
    def make(folder: Path) -> Path:
        path = folder / "corrupt.dta"
        pyreadstat.write_dta(twin[0].iloc[:5], str(path))
        data = path.read_bytes()
        path.write_bytes(data[:200] + b"\xff" * 64)  # valid header, garbage body
        return path

    assert_one_message(case(make), "corrupt.dta", "could not be read as dta")


def test_wrong_format_for_extension(case):
    def make(folder: Path) -> Path:
        path = folder / "really_a_csv.sav"
        path.write_text("intnr,orgnr\n1,2\n", encoding="utf-8")
        return path

    assert_one_message(case(make), "really_a_csv.sav", "is not an SPSS .sav file")


def test_csv_not_utf8_is_refused_clearly(case):
    def make(folder: Path) -> Path:
        path = folder / "latin1.csv"
        path.write_bytes("intnr,orgnr,n\u00e6ring\n1,2,3\n".encode("latin-1"))
        return path

    assert_one_message(case(make), "latin1.csv", "is not UTF-8 text",
                       "byte 0xe6 at byte position 1", "save the file as UTF-8")


# --------------------------------------------------------------- column-level problems


def test_required_column_missing(case, twin):
    err = case(modified_sav(twin, lambda f: f.drop(columns=["q8_proc"])))
    assert_one_message(err, "bad.sav", "'q8_proc'", "is not in the data file")


def test_text_in_numeric_column(case, twin):
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        emp = frame["q1_emp"].map(lambda v: f"{v:.0f}").astype(object)
        emp.iloc[6] = "many"
        return frame.assign(q1_emp=emp)

    err = case(modified_sav(twin, change))
    intnr = f"intnr={twin[0]['intnr'].iloc[6]:.0f}"  # the firm's id is withheld on screen
    assert_one_message(err, "bad.sav", "'q1_emp'", "'many'", "record 7 (intnr=<withheld>)")
    assert intnr not in err


def test_code_outside_valid_set(case, twin):
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[3, "region"] = 6
        return frame

    err = case(modified_sav(twin, change))
    assert_one_message(err, "bad.sav", "'region'", "value 6", "record 4")


def test_undeclared_missing_code(case, twin):
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[10, "q6_prod"] = 7
        return frame

    err = case(modified_sav(twin, change))
    assert_one_message(err, "'q6_prod'", "value 7", "record 11",
                       "nor a declared missing code (8 = dont_know; 9 = refused)")


def test_duplicate_interview_ids(case, twin):
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[5, "intnr"] = frame.loc[4, "intnr"]
        return frame

    duplicate = f"duplicate id {twin[0]['intnr'].iloc[4]:.0f}"
    assert_one_message(case(modified_sav(twin, change)), "'intnr'", duplicate, "record 5")


def test_outcome_yes_code_that_no_row_holds(case, twin):
    # Nobody answers yes (1) to the product question: the follow-up is then routed out.
    err = case(modified_sav(twin, lambda f: f.assign(
        q6_prod=f["q6_prod"].replace(1.0, 2.0), q7_prod_new=np.nan)))
    assert_one_message(err, "study.toml", "[outcomes.product.yes]", "code 1",
                       "no row of column 'q6_prod'", "bad.sav", "cannot be analysed")


def test_collaboration_codes_that_no_row_holds(case, twin):
    def never(frame: pd.DataFrame) -> pd.DataFrame:
        items = [c for c in frame.columns if c.startswith("q10_")]
        answered = frame[items].isin([2.0, 3.0, 4.0, 5.0])
        frame[items] = frame[items].mask(answered, 1.0)  # everybody: never
        return frame

    err = case(modified_sav(twin, never))
    assert_one_message(err, "study.toml", "[collaboration.never]", "codes 2, 3, 4, 5",
                       "21 collaboration column(s)", "'q10_grp_reg'", "bad.sav")


def test_a_region_or_sector_code_without_firms_is_fine(tmp_path, twin, capsys):
    # Region 5 and the accommodation sector have no firm in this file: not an error.
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame["region"] = frame["region"].replace(5.0, 4.0)
        frame["nace"] = frame["nace"].where(~frame["nace"].isin([55.0, 56.0]), 10.0)
        return frame

    raw = modified_sav(twin, change)(tmp_path)
    study = write_study_config(tmp_path / "cfg", raw)
    code, _, err = run_main(capsys, "--config", study, "--output-root", tmp_path / "out",
                            "--only", "clean")
    assert code == 0, err
    clean = pd.read_parquet(tmp_path / "out" / "data_clean" / "survey_clean.parquet")
    assert len(clean) > 0 and "Kristiansand" not in set(clean["region"].dropna())


TWIN_YES_NO = "Yes = 1\nNo = 2\n\"Don't know\" = 8\nRefused = 9\n"


def yes_no_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The twin's product question stored as labels, as a CSV export would have it."""
    labels = {1.0: "Yes", 2.0: "No", 8.0: "Don't know", 9.0: "Refused"}
    text = frame["q6_prod"].map(lambda v: labels.get(v, "")).astype(object)
    return frame.assign(q6_prod=text)


def test_text_answers_recoded_by_the_config_run(tmp_path, twin, capsys):
    # one firm answers " Don't know " (whitespace around it): recoded to 8 = dont_know
    row = int(np.flatnonzero((twin[0]["q1_emp"] >= 10) & (twin[0]["q6_prod"] == 2.0))[0])

    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame = yes_no_as_text(frame)
        frame.loc[row, "q6_prod"] = " Don't know "
        return frame

    raw = modified_sav(twin, change)(tmp_path)
    study = write_study_config(tmp_path / "cfg", raw, extra=f"\n[recode.q6_prod]\n{TWIN_YES_NO}")
    code, _, err = run_main(capsys, "--config", study, "--output-root", tmp_path / "out",
                            "--only", "clean")
    assert code == 0, err
    clean = pd.read_parquet(tmp_path / "out" / "data_clean" / "survey_clean.parquet")
    numeric = twin[0]["q6_prod"].copy()
    numeric.iloc[row] = 8.0
    expected = numeric.set_axis(twin[0]["intnr"]).reindex(
        clean["interview_id"].astype(float)).map({1.0: 1, 2.0: 0})
    np.testing.assert_array_equal(clean["product"].astype("float64").to_numpy(),
                                  expected.astype("float64").to_numpy())
    reason = clean.set_index("interview_id")["product__missing"].astype(object)
    assert reason[int(twin[0]["intnr"].iloc[row])] == "dont_know"


def test_text_answer_not_in_the_recode_table(case, twin):
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame = yes_no_as_text(frame)
        frame.loc[[6, 9], "q6_prod"] = "Maybe"
        return frame

    err = case(modified_sav(twin, change), extra=f"\n[recode.q6_prod]\n{TWIN_YES_NO}")
    intnr = f"intnr={twin[0]['intnr'].iloc[6]:.0f}"  # withheld, and 2 is a small count
    assert_one_message(err, "bad.sav", "'q6_prod'", "'Maybe'", "record 7 (intnr=<withheld>)",
                       "fewer than 5 rows affected", "[recode.q6_prod]")
    assert intnr not in err and "2 rows" not in err


def test_recode_of_a_column_not_in_the_file(case, twin):
    err = case(modified_sav(twin, yes_no_as_text),
               extra=f"\n[recode.q6_prd]\n{TWIN_YES_NO}")
    assert_one_message(err, "study.toml", "[recode.q6_prd]", "'q6_prd'",
                       "is not in the data file", "close matches: q6_prod")


def test_bad_disclosure_setting(case, twin):
    err = case(modified_sav(twin, lambda f: f), extra="\n[disclosure]\nmin_cell_count = 0\n")
    assert_one_message(err, "study.toml", "disclosure.min_cell_count")


def test_output_folder_cannot_be_written(tmp_path, good_run, capsys):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    raw_sha = file_sha256(good_run["raw"])
    code, _, err = run_main(capsys, "--config", good_run["study"], "--output-root",
                            blocker / "out")
    assert code != 0
    assert_one_message(err, str(blocker / "out" / "data_clean"), "cannot write",
                       "--output-root")
    assert blocker.read_text() == "not a folder"
    assert file_sha256(good_run["raw"]) == raw_sha


def test_everyone_screened_out(case, twin):
    err = case(modified_sav(twin, lambda f: f.assign(q1_emp=3.0)))
    assert_one_message(err, "bad.sav", "no record is left", f"screen_out: {N_RECORDS}")
