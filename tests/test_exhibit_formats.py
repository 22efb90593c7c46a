"""Unit tests of the table formats on tiny hand-made frames: the Table model (layout), its
LaTeX (page planning, dcolumn numbers, wrapping, longtable), HTML, Word and Markdown, the
test rows of regression tables, the printed versions of wide frames and the sample flow."""

from __future__ import annotations

import io
import math
import re
import zipfile

import docx as python_docx
import numpy as np
import pandas as pd
import pytest
from latex import measure_exhibits

from analysis.errors import ExhibitError
from analysis.exhibits import display, hypothesis_rows, latex, layout
from analysis.exhibits.docx import read_cells, to_docx
from analysis.exhibits.html import exhibit_fragment, to_html
from analysis.exhibits.layout import FrameLayout, Row, Span, Table, frame_table, parse_number
from analysis.exhibits.regression import render_regression_table
from analysis.exhibits.samples import sample_flow
from analysis.exhibits.tables import TableSpec
from analysis.models.specification import expand_models, parse_model_spec

LONG_TEXT = ("a sentence of many words that would run far beyond the right margin of a "
             "portrait page if it were set on one line; ") * 3


def small_frame() -> pd.DataFrame:
    return pd.DataFrame({"Group": ["A", "A", "B"], "Name": ["x_1", "x_2", "y"],
                         "Estimate": [-0.5, 0.25, 1234.5], "N": [1604, 12, 7],
                         "Text": ["short", LONG_TEXT, "b"]})


# --------------------------------------------------------------------------- layout


@pytest.mark.parametrize(("text", "parts"), [
    ("-0.122***", ("", "-", "0", "122", "", "***")), ("(0.044)", ("(", "", "0", "044", ")", "")),
    ("1,420", ("", "", "1,420", None, "", "")), ("[0.014]", ("[", "", "0", "014", "]", "")),
])
def test_displayed_numbers_are_split_for_alignment(text, parts):
    cell = parse_number(text)
    assert (cell.open, cell.sign, cell.whole, cell.frac, cell.close, cell.stars) == parts


@pytest.mark.parametrize("text", ["Yes", "", "[-2.02, 10.62]", "1.2.3", "0.1a", "n = 5"])
def test_text_is_not_a_number(text):
    assert parse_number(text) is None


def test_hyphens_used_as_minus_signs_become_true_minus_signs():
    assert layout.true_minus("b = -0.07, [-1.5, 2]; x-ray 2-3 (-\u221e, 1]") == \
        "b = \u22120.07, [\u22121.5, 2]; x-ray 2-3 (\u2212\u221e, 1]"


def test_a_frame_becomes_a_table_with_panels_spanners_and_kinds():
    frame = small_frame().rename(columns={"Estimate": "Local: AME", "N": "Local: N"})
    table = frame_table(frame, "T", ["n"], FrameLayout(panel_column="Group"))
    assert table.columns == ("label", "number", "number", "text")
    assert table.header == ((Span(""), Span("Local", 2), Span("")),
                            (Span("Name"), Span("AME"), Span("N"), Span("Text")))
    assert [r.kind for r in table.rows] == ["panel", "body", "body", "panel", "body"]
    assert table.rows[1].cells[:3] == ("x_1", "-0.500", "1,604")
    assert table.rows[4].cells[1] == "1,234.500"
    # a column of displayed numbers (formatted row by row) is a number column
    shown = pd.DataFrame({"Variable": ["a", "b"], "Mean": ["0.5", "12.25"]})
    assert frame_table(shown, "T").columns == ("label", "number")


def test_inconsistent_tables_are_rejected():
    with pytest.raises(ExhibitError, match="spans 3 of 2"):
        Table("T", ("label", "number"), ((Span("a", 3),),), ())
    with pytest.raises(ExhibitError, match="2 cells for 3"):
        Table("T", ("label", "number", "text"), (), (Row(("a", "b")),))


def test_markdown_prints_the_cells_with_true_minus_signs():
    text = layout.to_markdown(frame_table(small_frame(), "T", ["A note"]))
    assert "| x_1 | A | \u22120.500 |" not in text  # Group is printed as a column here
    assert "\u22120.500" in text and "*Note:* A note" in text


# --------------------------------------------------------------------------- LaTeX


def test_numbers_are_aligned_on_the_decimal_point_with_true_minus_signs():
    tex = latex.to_latex(frame_table(small_frame(), "T"))
    spec = re.search(r"\\begin\{tabular\}\{(.*)\}\n", tex).group(1)
    assert spec.count("D{.}{.}") == 2 and spec.startswith("@{}") and "|" not in spec
    assert " & -0.500 & " in tex  # math mode in a dcolumn cell: a true minus
    assert "1{,}234.500" in tex and "1{,}604" in tex


def test_long_text_wraps_within_the_page():
    table = frame_table(small_frame(), "T")
    plan = latex.plan_columns(table)
    width = sum(c.width for c in plan.columns) + 2 * latex.TABCOLSEP_PT * (table.width - 1)
    assert width <= latex.TEXT_WIDTH_PT
    text = plan.columns[-1]
    assert text.wrap is not None and text.spec.startswith(">{\\raggedright")


def test_unicode_symbols_and_specials_are_latex():
    assert latex.escape_latex("share \u2265 50% & \u03c7\u00b2 | x_y") == \
        "share $\\geq$ 50\\% \\& $\\chi$\\textsuperscript{2} \\textbar{} x\\_y"
    assert latex.escape_latex("-0.5 a_b", breakable=True) == "$-$0.5 a\\_\\allowbreak{}b"


def test_the_caption_numbers_a_numbered_title_once():
    assert latex.caption_parts("Table 2. Logit models") == ("2", "Logit models")
    assert latex.caption_parts("Sample flow: raw") == (None, "Sample flow: raw")
    tex = latex.to_latex(frame_table(small_frame(), "Table 7. X", label="tab:x"))
    assert "\\renewcommand{\\thetable}{7}" in tex and "\\caption{X}\\label{tab:x}" in tex
    wide = latex.to_latex(frame_table(small_frame(), "Table 7. " + "word " * 30))
    assert "\\caption[{" in wide and "]{\\raggedright{}word" in wide  # ragged when it wraps


def test_a_table_taller_than_the_page_becomes_a_longtable():
    frame = pd.DataFrame({"Item": [f"row {i}" for i in range(120)], "Value": range(120)})
    table = frame_table(frame, "T", ["note"], FrameLayout(long=False))
    tex = latex.to_latex(table)
    assert "\\begin{longtable}" in tex and "\\endhead" in tex and "(continued)" in tex


def test_the_planned_layouts_fit_the_page_when_compiled(tmp_path):
    """The planner's estimates hold when TeX sets the tables: no overfull box."""
    wide = pd.DataFrame({f"Column {i}": np.linspace(-1.5, 1500.25, 6) for i in range(9)})
    wide.insert(0, "Label", [f"Partner types, elsewhere in the country {i}" for i in range(6)])
    files = {}
    for name, frame in (("wide", wide), ("text", small_frame()),
                        ("long", pd.DataFrame({"A": [LONG_TEXT] * 30, "B": range(30)}))):
        path = tmp_path / f"{name}.tex"
        path.write_text(latex.to_latex(frame_table(frame, f"Table 1. {name}", [LONG_TEXT])),
                        encoding="utf-8")
        files[name] = path
    work = tmp_path / "work"
    work.mkdir()
    assert [f.problem() for f in measure_exhibits(files, work) if not f.fits] == []


# --------------------------------------------------------------------------- HTML, Word


def test_html_has_header_cells_a_charset_and_notes_below_the_table():
    page = to_html(frame_table(small_frame(), "T", ["First note.", "Second."],
                               FrameLayout(panel_column="Group")))
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert re.search(r'<th scope="col"[^>]*>Name</th>', page) and "<thead>" in page
    assert '<th class="panel" scope="rowgroup" colspan="4"' in page
    assert '<th scope="row">x_1</th>' in page and "\u22120.500" in page
    assert page.index("</table>") < page.index("Note: First note.") < page.index("Second.")
    assert exhibit_fragment(page).startswith('<table class="exhibit">')


def test_word_file_is_deterministic_portrait_and_holds_the_cells():
    table = frame_table(small_frame(), "Table 1. T", ["A note."])
    data = to_docx(table)
    assert data == to_docx(table)  # no timestamps in the archive
    assert {i.date_time for i in zipfile.ZipFile(io.BytesIO(data)).infolist()} == {
        (1980, 1, 1, 0, 0, 0)}
    rows = read_cells(data)
    assert rows[0] == ["Group", "Name", "Estimate", "N", "Text"]
    assert rows[1] == ["A", "x_1", "\u22120.500", "1,604", "short"]
    document = python_docx.Document(io.BytesIO(data))
    section = document.sections[0]
    assert (section.page_width.inches, section.page_height.inches) == (8.5, 11)
    assert section.left_margin.inches == section.right_margin.inches == 1
    assert document.paragraphs[0].text == "Table 1. T"
    assert document.paragraphs[-1].text == "Note: A note."
    grid = document.tables[0]
    assert grid.rows[0]._tr.trPr.xml.count("tblHeader") == 1  # repeated on every page
    number = grid.rows[1].cells[2].paragraphs[0]
    assert number.alignment == 2 and number.paragraph_format.right_indent is not None
    assert grid.rows[1].cells[0].vertical_alignment == 0  # top-aligned cells (WD_..._TOP)


# --------------------------------------------------------------------------- test rows


def ratio_rows(interval: str | None) -> list:
    rows = pd.DataFrame({"model": ["m", "m"], "quantity": ["test", "test"],
                         "term": ["eq", "ratio"], "estimate": [0.2, 4.3],
                         "statistic": [6.07, 1.3], "p_value": [0.0137, 0.18],
                         "ci_lower": [0.04, -2.02], "ci_upper": [0.41, 10.62]})
    if interval is not None:
        rows["interval"] = ["", interval]
    tests = [hypothesis_rows.TestRow("eq", "wald", "Wald test: a = b"),
             hypothesis_rows.TestRow("ratio", "ratio", "Ratio a / b")]
    return hypothesis_rows.test_cells(rows, tests, ["m", "other"])


@pytest.mark.parametrize(("interval", "lines"), [
    (None, [["[-2.02, 10.62]", ""]]),
    ("bounded", [["[-2.02, 10.62]", ""]]),
    ("two rays", [["(-\u221e, -2.02]", ""], ["\u222a [10.62, \u221e)", ""]]),
    ("whole line", [["(-\u221e, \u221e)", ""]]),
])
def test_ratio_sets_are_shown_as_the_inference_reports_them(interval, lines):
    rows = ratio_rows(interval)
    assert rows[0] == ("eq:statistic", "Wald test: a = b, \u03c7\u00b2(1)", ["6.07**", ""])
    assert rows[1] == ("eq:p_value", "", ["[0.014]", ""])
    assert rows[2] == ("ratio:estimate", "Ratio a / b", ["4.30", ""])
    assert [r[2] for r in rows[3:]] == lines and all(r[1] == "" for r in rows[3:])


def test_an_unknown_interval_kind_is_named():
    with pytest.raises(ExhibitError, match="'half line'"):
        ratio_rows("half line")


# --------------------------------------------------------------------------- panels


def c1(model: str, outcome: str, value: float) -> list[dict]:
    base = {"model": model, "outcome": outcome, "estimator": "logit", "se_type": "robust",
            "statistic": 1.0, "ci_lower": 0.0, "ci_upper": 1.0, "nobs": 100}
    return [{**base, "quantity": "ame", "term": "x", "estimate": value, "std_error": 0.01,
             "p_value": 0.2},
            {**base, "quantity": "fit", "term": "nobs", "estimate": 100.0,
             "std_error": math.nan, "p_value": math.nan}]


def test_a_panelled_comparison_stacks_one_panel_per_outcome():
    frame = pd.DataFrame([r for m, o, v in (("a1", "A", 0.1), ("a2", "A", 0.2),
                                            ("b1", "B", 0.3), ("b2", "B", 0.4))
                          for r in c1(m, o, v)])
    spec = TableSpec(models=["a1", "a2", "b1", "b2"], terms={"x": "X"}, title="T",
                     quantity="ame", dependent_variable=["A", "A", "B", "B"],
                     column_labels=["Logit", "LPM", "Logit", "LPM"], fit_rows=("nobs",),
                     panels=True)
    rendered = render_regression_table(frame, spec)
    table = rendered.table
    assert table.columns == ("label", "number", "number")
    assert [r.cells[0] for r in table.rows] == ["Panel A. A", "X", "", "Observations",
                                                "Panel B. B", "X", "", "Observations"]
    assert table.rows[5].cells[1:] == ("0.300", "0.400")
    assert rendered.latex.count("\\textit{Panel") == 2
    with pytest.raises(ExhibitError, match="panel 'B' has columns"):
        TableSpec(models=["a1", "a2", "b1", "b2"], terms={"x": "X"}, title="T",
                  dependent_variable=["A", "A", "B", "B"],
                  column_labels=["Logit", "LPM", "LPM", "Logit"], panels=True)


# --------------------------------------------------------------------------- printed frames


def test_wide_frames_are_printed_narrower():
    frame = pd.DataFrame({"Outcome": ["P", "P"], "Term": ["a", "b"], "AME": [0.1, -0.2],
                          "Percentile lower": [-0.01234, -0.3], "Percentile upper": [0.2, 0.1],
                          "Normal lower": [0.0, -0.3], "Normal upper": [0.2, 0.1],
                          "Replications": [999, 999], "Failed": [0, 1]})
    shown, notes, frame_layout = display.bootstrap_display(frame, 0.95)
    assert list(shown.columns) == ["Outcome", "Term", "AME", "95% percentile interval",
                                   "95% normal interval", "Failed"]
    assert shown["95% percentile interval"].tolist() == ["[-0.0123, 0.2000]",
                                                         "[-0.3000, 0.1000]"]
    assert notes == ["Replications: 999 in every row."]
    assert frame_layout.panel_column == "Outcome"


# --------------------------------------------------------------------------- sample flow


RAW_SPEC = {
    "blocks": {"main": {"variables": ["x1"]}, "firm": {"variables": ["z"]}},
    "families": {"fam": {"outcomes": ["y"], "main": ["main"],
                         "variants": {"base": [], "full": ["firm"]}}},
    "tables": {"t": {"title": "Table 2. T", "families": ["fam"], "quantity": "coef"}},
}


def test_the_flow_runs_from_raw_records_to_each_models_n(tmp_path):
    spec = parse_model_spec(RAW_SPEC, tmp_path / "m.toml")
    data = pd.DataFrame({"y": [1, 0, np.nan, 1, 0, 1], "x1": [1.0, 2, 3, np.nan, 1, 2],
                         "z": [0.5, np.nan, 1, 1, 1, 1]})
    clean_flow = pd.DataFrame({"stage": ["raw", "screen_out", "final"],
                               "description": ["Raw records", "Screen-outs", "Clean firms"],
                               "records": [8, 2, 6], "remaining": [8, 6, 6],
                               "adds_up": [True, True, True]})
    models = pd.DataFrame({"model": ["fam__y__base", "fam__y__full"], "nobs": [4, 3]})
    flow = sample_flow(clean_flow, data, spec, expand_models(spec), models)
    assert flow["Stage"].tolist() == ["Raw records", "Screen-outs", "Clean firms",
                                      "y, base (Table 2, col. 1)", "y, full (Table 2, col. 2)"]
    assert flow["Removed"].iloc[1] == 2 and flow["Removed"].drop(index=1).isna().all()
    assert flow["Outcome missing"].iloc[3:].tolist() == [1, 1]
    assert flow["A regressor missing"].iloc[3:].tolist() == [1, 2]
    assert flow["N"].tolist() == [8, 6, 6, 4, 3]
    assert "Dropped in estimation" not in flow.columns
    # the estimator dropped a firm itself (e.g. perfect prediction): its own column
    fewer = sample_flow(clean_flow, data, spec, expand_models(spec),
                        models.assign(nobs=[4, 2]))
    assert fewer["Dropped in estimation"].iloc[3:].tolist() == [0, 1]
    with pytest.raises(ExhibitError, match="more than the 3 firms"):
        sample_flow(clean_flow, data, spec, expand_models(spec), models.assign(nobs=[4, 5]))


def test_table1_is_printed_with_labels_and_per_row_precision():
    from analysis.exhibits.summary import summary_display, summary_statistics

    frame = pd.DataFrame({"d": [0, 1, 1, np.nan], "x": [1.25, 210.0, 3.5, 4.0],
                          "sector_accommodation_food": [0, 0, 1, 1]})
    table = summary_statistics(frame, ["d", "x", "sector_accommodation_food"],
                               {"d": "A dummy", "x": "Firm age (years)",
                                "sector_accommodation_food": "Sector: accommodation_food"},
                               sample=pd.Series([True, True, True, False]))
    shown = summary_display(table, frame, {"d": "Outcomes"})
    assert shown["Variable"].tolist() == ["A dummy", "Firm age (years)",
                                          "Sector: accommodation food"]
    assert shown["group"].tolist() == ["Outcomes", "Other variables", "Other variables"]
    d, x = shown.iloc[0], shown.iloc[1]
    assert (d["Estimation sample: Mean"], d["Estimation sample: Min"]) == ("0.667", "0")
    assert d["Estimation sample: Max"] == "1"  # minimum and maximum whole: printed so
    assert x["Estimation sample: Min"] == "1.2"  # one decimal: the SD is in the hundreds
    assert x["Estimation sample: Max"] == "210.0"  # as its minimum, not "1.2 ... 210"
    assert x["All firms: N"] == "4" and d["All firms: N"] == "3"


def test_category_columns_are_pseudo_models_of_the_ordered_model():
    from analysis.exhibits.table_specs import category_estimates

    rows = pd.DataFrame([
        {"model": "o", "quantity": "ame_category", "term": "x@none", "estimate": -0.1},
        {"model": "o", "quantity": "ame_category", "term": "x@top", "estimate": 0.1},
        {"model": "o", "quantity": "fit", "term": "nobs", "estimate": 50.0},
        {"model": "l", "quantity": "ame", "term": "x", "estimate": 0.3}])
    pseudo = category_estimates(rows)
    ames = pseudo[pseudo["quantity"] == "ame"].set_index("model")
    assert ames.loc["o@none", "estimate"] == -0.1 and ames.loc["o@top", "term"] == "x"
    assert set(pseudo.loc[pseudo["quantity"] == "fit", "model"]) == {"o@none", "o@top"}
    assert category_estimates(rows[rows["model"] == "l"]).empty
