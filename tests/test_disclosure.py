"""Disclosure control: small cells flagged (suppressed when configured), report, no firm rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis import config
from analysis.errors import DisclosureError
from analysis.exhibits import descriptives, disclosure, summary
from analysis.runner import pipeline

FLAG = disclosure.DisclosureSettings(min_cell_count=5, suppress=False)
SUPPRESS = disclosure.DisclosureSettings(min_cell_count=5, suppress=True)


def grouped_frame() -> pd.DataFrame:
    """Group a: 20 firms (8 innovators); group b: 3 firms (1 innovator)."""
    product = [1] * 8 + [0] * 12 + [1, 0, 0]
    return pd.DataFrame({
        "grp": pd.Categorical(["a"] * 20 + ["b"] * 3, categories=["a", "b"]),
        "product": pd.array(product, dtype="Int64"),
    })


OUTCOMES = (("product", "Product innovation"),)


def rates(frame: pd.DataFrame):
    table = descriptives.innovation_rates_by(frame, "grp", outcomes=OUTCOMES, by_label="Group")
    cells = descriptives.rates_cells(frame, "grp", outcomes=OUTCOMES, by_label="Group")
    return table, cells


def test_small_group_is_flagged_not_suppressed_by_default():
    table, cells = rates(grouped_frame())
    checked = disclosure.check_exhibit("rates", table, cells, "Group", FLAG)
    flagged = set(zip(checked.flags["row"], checked.flags["column"], checked.flags["count"],
                      strict=True))
    assert ("b", "N", 3) in flagged
    assert ("b", "Product innovation", 1) in flagged  # one innovator among three
    assert not any(checked.flags["row"] == "a")  # 8 and 12 firms: fine
    assert set(checked.flags["action"]) == {"flagged"}
    assert checked.frame.equals(table)  # flagged only
    assert "flagged" in checked.notes[0]


def test_small_group_is_suppressed_when_configured():
    table, cells = rates(grouped_frame())
    checked = disclosure.check_exhibit("rates", table, cells, "Group", SUPPRESS)
    row_b = checked.frame.set_index("Group").loc["b"]
    assert row_b["N"] == "<5"
    assert row_b["Product innovation"] == disclosure.SUPPRESSED
    row_a = checked.frame.set_index("Group").loc["a"]
    assert row_a["N"] == 20 and row_a["Product innovation"] == pytest.approx(0.4)
    assert set(checked.flags["action"]) == {"suppressed"}


def test_threshold_is_configurable():
    table, cells = rates(grouped_frame())
    strict = disclosure.DisclosureSettings(min_cell_count=10)
    flags = disclosure.check_exhibit("rates", table, cells, "Group", strict).flags
    assert ("a", "Product innovation") in set(zip(flags["row"], flags["column"], strict=True))
    lax = disclosure.DisclosureSettings(min_cell_count=1)
    assert disclosure.check_exhibit("rates", table, cells, "Group", lax).flags.empty


def test_summary_cells_count_binary_shares_and_extremes():
    frame = pd.DataFrame({"d": [1.0] * 2 + [0.0] * 10, "x": np.arange(12.0)})
    cells = summary.summary_cells(frame, ["d", "x"])
    flags = disclosure.flag_cells("t1", cells, FLAG)
    found = set(zip(flags["row"], flags["column"], flags["count"], strict=True))
    assert ("d", "Mean", 2) in found  # only two firms have d = 1
    assert ("x", "Max", 1) in found and ("x", "Min", 1) in found
    assert not any((flags["row"] == "x") & (flags["column"] == "Mean"))


def test_invalid_threshold_is_refused():
    with pytest.raises(DisclosureError, match="min_cell_count"):
        disclosure.DisclosureSettings(min_cell_count=0)


def test_firm_level_exhibits_are_detected(tmp_path):
    listing = tmp_path / "listing.csv"
    pd.DataFrame({"orgnr": [1, 2], "x": [3, 4]}).to_csv(listing, index=False)
    per_firm = tmp_path / "per_firm.csv"
    pd.DataFrame({"x": range(7)}).to_csv(per_firm, index=False)
    table = tmp_path / "table.csv"
    pd.DataFrame({"x": range(3)}).to_csv(table, index=False)
    problems = disclosure.firm_level_problems([listing, per_firm, table], n_firms=7,
                                              id_columns=("firm_id", "orgnr"))
    assert len(problems) == 2
    assert "listing.csv" in problems[0] and "'orgnr'" in problems[0]
    assert "per_firm.csv" in problems[1] and "7 rows" in problems[1]


@pytest.fixture(scope="module")
def small_study(tmp_path_factory) -> tuple[Path, Path, str]:
    base = tmp_path_factory.mktemp("disclosure")
    source = config.DATA_RAW / "norway_firm_survey_2010_synthetic.sav"
    frame, meta = pyreadstat.read_sav(str(source), user_missing=True, row_limit=60)
    raw = base / "small.sav"
    pyreadstat.write_sav(frame, str(raw), column_labels=meta.column_names_to_labels,
                         variable_value_labels=meta.variable_value_labels,
                         missing_ranges=meta.missing_ranges)
    text = config.DEFAULT_STUDY_CONFIG.read_text(encoding="utf-8")
    text = "\n".join(f"data_file = '{raw}'" if line.startswith("data_file =") else line
                     for line in text.splitlines())
    return base, raw, text


def run_steps(base: Path, text: str, name: str) -> Path:
    study = base / f"{name}.toml"
    study.write_text(text, encoding="utf-8")
    root = base / name
    steps = ("clean", "build", "describe", "disclosure")
    code = pipeline.main(["--config", str(study), "--output-root", str(root),
                          *(a for s in steps for a in ("--only", s))])
    assert code == 0
    return root / "output" / "tables"


def test_pipeline_report_flags_and_suppresses(small_study):
    base, _, text = small_study
    tables = run_steps(base, text + "\n[disclosure]\nmin_cell_count = 10\nsuppress = true\n",
                       "suppressed")
    report = pd.read_csv(tables / "disclosure_report.csv")
    assert list(report.columns[:6]) == ["exhibit", "row", "column", "count", "threshold",
                                        "action"]
    by_region = report[report["exhibit"] == "innovation_by_region"]
    # the all-firm counts (the estimation sample's beside them are smaller still)
    small_regions = by_region.loc[by_region["column"] == "All firms: N", "row"].tolist()
    assert small_regions, "60 firms in 5 regions: some region has fewer than 10"
    exhibit = pd.read_csv(tables / "innovation_by_region.csv", dtype=str)
    shown = exhibit.set_index("City-region").loc[small_regions, "All firms: N"]
    assert (shown == "<10").all()
    assert (report["action"] == "suppressed").all() and (report["threshold"] == 10).all()
    assert "Disclosure control" in (tables / "innovation_by_region.md").read_text()
    assert "fewer than 10 firms" in (tables / "disclosure_report.md").read_text()


def test_pipeline_report_exists_when_nothing_is_flagged(small_study):
    base, _, text = small_study
    tables = run_steps(base, text + "\n[disclosure]\nmin_cell_count = 1\n", "nothing")
    assert pd.read_csv(tables / "disclosure_report.csv").empty
    assert "Nothing flagged" in (tables / "disclosure_report.md").read_text()
