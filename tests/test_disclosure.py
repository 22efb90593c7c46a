"""Disclosure control: small cells flagged (suppressed when configured), report, no firm rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis import config
from analysis.errors import DisclosureError
from analysis.exhibits import descriptives, disclosure, disclosure_scan, disclosure_text, summary
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
    """An identifier column, one row per firm, a key with one value per firm, an identifier
    value in a note; a table of groups passes. Its whole exhibit (every format) goes."""
    write = {"listing": pd.DataFrame({"orgnr": [1, 2], "x": [3, 4]}),
             "per_firm": pd.DataFrame({"x": range(7)}),
             "keyed": pd.DataFrame({"level": [f"k{i % 6}" for i in range(12)], "x": 1.5}),
             "table": pd.DataFrame({"group": ["a", "b", "c"], "N": [10, 3, 0]})}
    for stem, frame in write.items():
        frame.to_csv(tmp_path / f"{stem}.csv", index=False)
    (tmp_path / "listing.md").write_text("| orgnr | x |\n")
    (tmp_path / "note.md").write_text("Dropped: subsample firm_id=17 (product).\n")
    (tmp_path / "page.html").write_text('<div id="t1">id 4</div>')
    tree = disclosure_scan.check_tree(tmp_path, [], n_firms=6, id_names=["firm_id", "orgnr",
                                                                        "id"],
                                      threshold=5, suppress=False)
    withheld = {p.name for p in tree.withheld}
    assert withheld == {"listing.csv", "listing.md", "keyed.csv", "note.md"}
    problems = {found.path.name: found for found in tree.files}
    assert problems["table.csv"].small == [("b", "N", 3)]  # 0 describes nobody
    per_firm = disclosure_scan.check_tree(tmp_path, [], n_firms=7, id_names=["firm_id"],
                                          threshold=5, suppress=False)
    assert any(p.name == "per_firm.csv" for p in per_firm.withheld)
    suppressing = disclosure_scan.check_tree(tmp_path, [], n_firms=None, id_names=["x_id"],
                                             threshold=5, suppress=True)
    assert {p.name for p in suppressing.withheld} == {"table.csv"}  # a small count left
    assert disclosure_scan.withhold(tree.withheld) and not (tmp_path / "listing.md").exists()


def test_messages_are_screened_and_the_originals_kept():
    screen = disclosure_text.MessageScreen(5, ["firm_id", "intnr"])
    text = ("record 12 (intnr=17): value 99; 1 predicts success perfectly (2 obs, all with "
            "outcome 0); 1 row affected; 12 rows affected; N=3; n_jobs=1; duplicates (intnr)")
    safe = screen(text, "clean")
    assert safe == ("record 12 (intnr=<withheld>): value 99; 1 predicts success perfectly "
                    "(fewer than 5 obs, all with outcome 0); fewer than 5 rows affected; 12 "
                    "rows affected; N < 5; n_jobs=1; duplicates (intnr)")
    assert screen("nothing to hide") == "nothing to hide"
    assert screen.summary()["messages_checked"] == 2 and screen.changed == 1
    assert "intnr=17" in screen.diagnostics() and "2 obs" in screen.diagnostics()


def test_dominance_rule_flags_a_mean_two_firms_dominate():
    values = pd.Series([1000.0, 900.0] + [10.0] * 10)  # the largest two: 95% of the total
    cells = disclosure.cells_frame([disclosure.magnitude_cell("employees", "Mean", values)])
    flags = disclosure.flag_cells("t", cells, FLAG)
    assert len(flags) == 1 and flags["basis"][0].startswith("dominance")
    lenient = disclosure.DisclosureSettings(5, False, dominance_n=2, dominance_share=0.99)
    assert disclosure.flag_cells("t", cells, lenient).empty
    negative = disclosure.magnitude_cell("x", "Mean", pd.Series([-1.0, 5.0, 5.0]))
    assert negative[-1] is None  # the rule is for non-negative magnitudes
    with pytest.raises(DisclosureError):
        disclosure.DisclosureSettings(5, False, dominance_n=0)


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
    tables = run_steps(base, text + "\n[disclosure]\nmin_cell_count = 1\ndominance_share = 1.0\n",
                       "nothing")
    assert pd.read_csv(tables / "disclosure_report.csv").empty
    assert "Nothing flagged" in (tables / "disclosure_report.md").read_text()
