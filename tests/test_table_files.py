"""Every number of Tables 2-7, in each file format, is the estimates file's number.

The session's end-to-end run (tests/conftest.py) wrote each regression table as .md, .html,
.docx, .tex and .csv. The cells are read back from each file and checked against
output/estimates/estimates.csv and models.csv directly: an estimate is the estimates file's
number rounded to the decimals the cell shows (at least three), with the stars of its
p-value (none on cut points); its standard error likewise, never printed as zero and with
at least two significant digits; N, pseudo R² and the log-likelihood; the Wald statistic,
its p-value, the ratio and its confidence set.
"""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from conftest import default_spec

from analysis.context import Paths
from analysis.exhibits.docx import read_cells
from analysis.exhibits.table_specs import category_estimates, table_spec
from analysis.exhibits.tables import table_cells
from analysis.models.regressors import base_levels
from analysis.models.results import read_results

TABLES = ("table2", "table3", "table4", "table5", "table6", "table7")
MINUS = "\u2212"


def read_outputs(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """estimates.csv and models.csv of the run below ``root``, as the steps read them."""
    paths = Paths.under(root)
    return read_results(paths.estimates_file), read_results(paths.models_file)


def markdown_rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if line.startswith("| "):
            cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
            rows.append([c.strip().replace("\\|", "|") for c in cells])
    return rows


class HtmlRows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.cell = False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self.rows[-1].append("")
            self.cell = True

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.cell = False

    def handle_data(self, data):
        if self.cell:
            self.rows[-1][-1] += data


def html_rows(text: str) -> list[list[str]]:
    parser = HtmlRows()
    parser.feed(text)
    return parser.rows


def file_rows(folder: Path, name: str, fmt: str) -> list[list[str]]:
    """The table's rows as read back from one of its files (true minus read as "-")."""
    path = folder / f"{name}.{fmt}"
    if fmt == "md":
        rows = markdown_rows(path.read_text(encoding="utf-8"))
        rows = [rows[0], *rows[1:]]
    elif fmt == "html":
        rows = html_rows(path.read_text(encoding="utf-8"))
    else:
        rows = read_cells(path.read_bytes())
    return [[c.replace(MINUS, "-") for c in row] for row in rows]


def stars(p: float) -> str:
    if p is None or not math.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.10 else ""


def number(cell: str) -> tuple[float, int]:
    """The value and the decimals shown of "(0.0123)", "-1,291.90**", "[0.014]"."""
    digits = re.sub(r"[()\[\]*,]", "", cell)
    return float(digits), len(digits.split(".")[1]) if "." in digits else 0


def check_row(section: str, key: str, cells: list[str], models: list[str],
              estimates: pd.DataFrame, quantity: str) -> int:
    """Check one table row against estimates.csv; the number of cells checked."""
    checked = 0
    for model, cell in zip(models, cells, strict=True):
        rows = estimates[estimates["model"] == model]
        if section in ("estimate", "std_error"):
            row = rows[(rows["term"] == key) & rows["quantity"].isin([quantity, "cut"])]
            if row.empty:
                assert cell == "", (model, key)
                continue
            row = row.iloc[0]
            value, decimals = number(cell)
            assert decimals >= 3, cell
            if section == "estimate":
                assert value == pytest.approx(round(row["estimate"], decimals), abs=1e-12)
                expected = "" if row["quantity"] == "cut" else stars(row["p_value"])
                assert cell.endswith(expected) and not cell.endswith("*" + expected), cell
            else:
                assert cell.startswith("(") and value > 0, cell  # no SE prints as zero
                assert value == pytest.approx(round(row["std_error"], decimals), abs=1e-12)
            checked += 1
        elif section == "fit":
            fit = rows[(rows["quantity"] == "fit") & (rows["term"] == key)]["estimate"]
            if fit.empty:
                assert cell == ""
                continue
            value, decimals = number(cell)
            assert value == pytest.approx(round(fit.iloc[0], decimals), abs=1e-12), (key, cell)
            checked += 1
        elif section == "test" and cell:
            test_id, part = key.rsplit(":", 1)
            row = rows[(rows["quantity"] == "test") & (rows["term"] == test_id)].iloc[0]
            if part == "statistic":
                assert cell == f"{row['statistic']:.2f}{stars(row['p_value'])}"
            elif part == "p_value":
                assert cell == ("[<0.001]" if row["p_value"] < 0.0005
                                else f"[{row['p_value']:.3f}]")
            elif part == "estimate":
                assert cell == f"{row['estimate']:.2f}"
            elif part == "set":  # the confidence set as the interval column names it
                kind = row.get("interval") or "bounded"
                expected = {"bounded": f"[{row['ci_lower']:.2f}, {row['ci_upper']:.2f}]",
                            "two rays": f"(-\u221e, {row['ci_lower']:.2f}]",
                            "whole line": "(-\u221e, \u221e)"}[kind]
                assert cell == expected, (model, key)
            elif part == "set_upper":
                assert cell == f"\u222a [{row['ci_upper']:.2f}, \u221e)"
            checked += 1
    return checked


@pytest.mark.parametrize("fmt", ["md", "html", "docx"])
@pytest.mark.parametrize("name", TABLES)
def test_every_number_in_every_format_is_the_estimates_file_number(full_run, name, fmt):
    estimates, models = read_outputs(full_run)
    # Table 7's columns: each category of an ordered model (its "ame_category" rows)
    estimates = pd.concat([estimates, category_estimates(estimates)], ignore_index=True)
    spec = default_spec()
    data = pd.read_parquet(full_run / "data_clean" / "analysis_data.parquet")
    layout = table_spec(spec, spec.tables[name], models, estimates,
                        bases=base_levels(data, ["sector", "region"]))
    grid = table_cells(estimates, layout)
    ids = list(layout.models)
    rows = file_rows(full_run / "output" / "tables", name, fmt)
    body = grid[grid["section"] != "header"]
    shown = rows[len(rows) - len(body):]
    assert rows[len(rows) - len(body) - 1][1:] == [f"({i})" for i in range(1, len(ids) + 1)]
    checked = 0
    for (section, key, label, *cells), row in zip(
            body[["section", "key", "label", *ids]].itertuples(index=False, name=None), shown,
            strict=True):
        assert row == [label, *cells], (name, fmt, key)
        checked += check_row(section, key, row[1:], ids, estimates, layout.quantity)
    assert checked >= len(ids) * 8  # estimates, SEs and fit statistics of every column


def test_the_headline_tests_are_rows_of_tables_2_and_4(full_run):
    for name in ("table2", "table4"):
        rows = file_rows(full_run / "output" / "tables", name, "md")
        labels = [r[0] for r in rows]
        assert any(label.startswith("Wald test: international = local") for label in labels)
        ratio = labels.index("Ratio international / local")
        assert rows[ratio + 1][0] == ""  # its confidence set below the estimate
        assert sum(c.startswith(("[", "(")) for c in rows[ratio + 1][1:]) == 3


def test_csv_of_a_table_holds_its_estimates_rows(full_run):
    estimates, _ = read_outputs(full_run)
    data = pd.read_csv(full_run / "output" / "tables" / "table6.csv", dtype={"model": str})
    assert set(data["quantity"]) >= {"odds_ratio", "fit"}
    merged = data.merge(estimates, on=["model", "quantity", "term"], suffixes=("", "_e"))
    assert len(merged) == len(data)
    assert (merged["estimate"] - merged["estimate_e"]).abs().max() < 1e-12


def test_ordered_models_have_their_ames_on_every_category(full_run):
    """Table 7's numbers: per category, AMEs that sum to zero over the categories, the top
    category's equal to the model's "ame" rows (Tables 4-5 show the top category)."""
    estimates, _ = read_outputs(full_run)
    rows = estimates[estimates["quantity"] == "ame_category"]
    assert set(rows["model"]) == {"novelty__novelty_ordered__base",
                                  "novelty__novelty_ordered__manager"}
    split = rows["term"].str.rsplit("@", n=1, expand=True)
    rows = rows.assign(term=split[0], category=split[1])
    assert list(dict.fromkeys(rows["category"])) == ["none", "new to firm", "new to market"]
    sums = rows.groupby(["model", "term"])["estimate"].sum()
    assert sums.abs().max() < 1e-10
    top = rows[rows["category"] == "new to market"].set_index(["model", "term"])["estimate"]
    ames = estimates[estimates["quantity"] == "ame"].set_index(["model", "term"])["estimate"]
    assert (top - ames.reindex(top.index)).abs().max() < 1e-10
