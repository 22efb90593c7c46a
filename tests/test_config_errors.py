"""Configuration errors are caught before any work starts, with the file, key and problem.

Each case edits the CIS-like example configuration (examples/cis_like/study.toml), runs the
pipeline's first step and checks the one-line message and that nothing was written.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import config
from analysis.runner import pipeline

STUDY = config.ROOT / "examples" / "cis_like" / "study.toml"
TEXT = STUDY.read_text(encoding="utf-8")


def edited(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    """A copy of the example config with each ``old`` text replaced by ``new``."""
    text = TEXT
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "my_survey.toml"
    path.write_text(text, encoding="utf-8")
    return path


def failure(tmp_path: Path, path: Path, capsys: pytest.CaptureFixture[str],
            config_named: bool = True) -> str:
    """Run the clean step; return its error message; check that nothing was written."""
    out = tmp_path / "out"
    code = pipeline.main(["--config", str(path), "--output-root", str(out), "--only", "clean"])
    message = capsys.readouterr().err
    assert code != 0, message
    assert not (out / "data_clean" / "survey_clean.parquet").exists()
    if config_named:  # every configuration error names the configuration file
        assert "my_survey.toml" in message
    return message


def test_unknown_column_names_key_column_and_close_matches(tmp_path, capsys) -> None:
    path = edited(tmp_path, ('employees = "emp"', 'employees = "emp_total"'),
                  ('emp = "employees"', 'emp_total = "employees"'))
    message = failure(tmp_path, path, capsys)
    assert "[columns.employees]" in message and "'emp_total'" in message
    assert "close matches: emp" in message


def test_misspelt_collaboration_code_names_the_template(tmp_path, capsys) -> None:
    message = failure(tmp_path, edited(tmp_path, ('international = "for"',
                                                  'international = "foreign"')), capsys)
    assert "collaboration.column_template" in message and "'co_sup_foreign'" in message
    assert "co_sup_for" in message  # a close match


def test_missing_required_role(tmp_path, capsys) -> None:
    message = failure(tmp_path, edited(tmp_path, ('firm_id = "id"\n', '')), capsys)
    assert "[columns.firm_id]" in message and "missing required key" in message


def test_unknown_partner_and_scale(tmp_path, capsys) -> None:
    message = failure(tmp_path, edited(tmp_path, ('suppliers = "sup"', 'vendors = "sup"')),
                      capsys)
    assert "[collaboration.partners.vendors]" in message and "unknown partner type" in message
    message = failure(tmp_path, edited(tmp_path, ('domestic = "nat"', 'home = "nat"')), capsys)
    assert "[collaboration.scales.home]" in message and "unknown scale" in message


def test_bad_format_and_uninferable_extension(tmp_path, capsys) -> None:
    message = failure(tmp_path, edited(tmp_path, ('format = "dta"', 'format = "xlsx"')), capsys)
    assert "[study.format]" in message and "unknown format 'xlsx'" in message
    message = failure(tmp_path, edited(
        tmp_path, ('format = "dta"\n', ''), ("cis_like_2012.dta", "cis_like_2012.xlsx")), capsys)
    assert "[study.data_file]" in message and "cannot infer the format" in message


def test_data_file_not_found(tmp_path, capsys) -> None:
    message = failure(tmp_path, edited(tmp_path, ("cis_like_2012.dta", "cis_like_2021.dta")),
                      capsys)
    assert "[study.data_file]" in message and "not found" in message
    assert "cis_like_2012.dta" in message  # the file with a close name


def test_file_of_another_format(tmp_path, capsys) -> None:
    fake = tmp_path / "survey.dta"
    fake.write_text("xid,weight\n1,2\n")  # a CSV named .dta
    message = failure(tmp_path, edited(tmp_path, ('"examples/cis_like/cis_like_2012.dta"',
                                                  f'"{fake}"')), capsys)
    assert "is not a Stata .dta file" in message


def csv_survey(tmp_path: Path, weight: list[object]) -> Path:
    """The example data as CSV with the given weights, and a config pointing at it."""
    import pyreadstat

    frame, _ = pyreadstat.read_dta(str(STUDY.parent / "cis_like_2012.dta"))
    frame = frame.head(len(weight)).copy()
    frame["weight"] = weight
    data = tmp_path / "survey.csv"
    frame.to_csv(data, index=False)
    return edited(tmp_path, ('"examples/cis_like/cis_like_2012.dta"', f'"{data}"'),
                  ('format = "dta"', 'format = "csv"'))


def test_weight_not_numeric(tmp_path, capsys) -> None:
    message = failure(tmp_path, csv_survey(tmp_path, [1.0, "high", 2.0]), capsys)
    assert "[columns.weight]" in message and "not numeric" in message and "'high'" in message


def test_weight_negative(tmp_path, capsys) -> None:
    message = failure(tmp_path, csv_survey(tmp_path, [1.0, -2.0, 2.0]), capsys)
    assert "[columns.weight]" in message and "negative" in message
    message = failure(tmp_path, edited(tmp_path, ("range = [0.001, 100000]",
                                                  "range = [-1, 100000]")), capsys)
    assert "[kinds.weight.range]" in message and "negative" in message


def test_code_not_in_the_configured_codes(tmp_path, capsys) -> None:
    # the data hold region 6, which the configured code list leaves out: a data validation
    # error naming the data file, the column, the value and the kind of the configuration
    message = failure(tmp_path, edited(tmp_path, ("codes = [1, 2, 3, 4, 5, 6]",
                                                  "codes = [1, 2, 3, 4, 5]"),
                                       ('6 = "Islands"\n', '')), capsys, config_named=False)
    assert "cis_like_2012.dta" in message and "'nuts2'" in message
    assert "value 6" in message and "kind 'region'" in message


def test_yes_no_codes_must_cover_the_valid_codes(tmp_path, capsys) -> None:
    message = failure(tmp_path, edited(tmp_path, ("type = \"binary\"                 # yes/no "
                                                  "items: intensity = number of partner types\n"
                                                  "yes = [1]\nno = [0]",
                                                  'type = "binary"\nyes = [1]\nno = [2]')),
                      capsys)
    assert "[collaboration]" in message and "code 2 is not among the codes" in message


def test_unknown_key_and_unknown_outcome(tmp_path, capsys) -> None:
    message = failure(tmp_path, edited(tmp_path, ("min_employees = 10",
                                                  "min_employee = 10")), capsys)
    assert "[sample.min_employee]" in message and "unknown key" in message
    message = failure(tmp_path, edited(tmp_path, ("[outcomes.process]", "[outcomes.proces]")),
                      capsys)
    assert "[outcomes" in message and "proces" in message


def test_the_example_itself_is_valid(tmp_path, capsys) -> None:
    out = tmp_path / "out"
    code = pipeline.main(["--config", str(STUDY), "--output-root", str(out), "--only", "clean"])
    assert code == 0, capsys.readouterr().err
    assert len(pd.read_parquet(out / "data_clean" / "survey_clean.parquet")) > 1000


# A second yes/no kind whose codes include 2, so that "yes = [2]" passes the configuration
# checks and only the data can tell that no row holds it (the file codes yes as 1).
THREE_CODES = "[kinds.yes_no]\n"
THREE_CODES_NEW = "[kinds.yes_no_12]\ncodes = [0, 1, 2]\ndont_know = [-9]\n\n[kinds.yes_no]\n"


def test_outcome_yes_code_that_no_row_holds(tmp_path, capsys) -> None:
    path = edited(tmp_path, (THREE_CODES, THREE_CODES_NEW),
                  ('inpspd = "yes_no"', 'inpspd = "yes_no_12"'),
                  ('column = "inpspd"\nyes = [1]\nno = [0]',
                   'column = "inpspd"\nyes = [2]\nno = [0, 1]'))
    message = failure(tmp_path, path, capsys)
    assert "[outcomes.process.yes] code 2 occurs in no row of column 'inpspd'" in message
    assert "cis_like_2012.dta" in message and "rows)" in message  # the values it holds
    assert "What to do:" in message


def test_collaboration_yes_code_that_no_row_holds(tmp_path, capsys) -> None:
    path = edited(tmp_path, (THREE_CODES, THREE_CODES_NEW),
                  ('collaboration = "yes_no"', 'collaboration = "yes_no_12"'),
                  ("yes = [1]\nno = [0]\ncolumn_template", "yes = [2]\nno = [0, 1]\n"
                                                         "column_template"))
    message = failure(tmp_path, path, capsys)
    assert "[collaboration.yes] collaboration code 2 (yes) occurs in no row" in message
    assert "12 collaboration column(s)" in message and "'co_sup_nat'" in message
    assert "What to do:" in message
