"""Tests of analysis.exhibits.tables and .regression on small hand-made tidy (C1) frames."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from latex import compile_latex

from analysis.errors import ExhibitError
from analysis.exhibits import regression, tables
from analysis.exhibits.docx import read_cells
from analysis.exhibits.tables import STAR_LEGEND, TableSpec

C1_COLUMNS = ["model", "outcome", "estimator", "se_type", "quantity", "term", "estimate",
              "std_error", "statistic", "p_value", "ci_lower", "ci_upper", "nobs"]


def tidy_row(model: str, quantity: str, term: str, estimate: float, std_error: float = math.nan,
             p_value: float = math.nan, nobs: int = 1604, outcome: str = "product") -> dict:
    return {"model": model, "outcome": outcome, "estimator": "logit", "se_type": "robust",
            "quantity": quantity, "term": term, "estimate": estimate, "std_error": std_error,
            "statistic": estimate / std_error, "p_value": p_value,
            "ci_lower": estimate - 1.96 * std_error, "ci_upper": estimate + 1.96 * std_error,
            "nobs": nobs}


def fit_rows(model: str, nobs: int, pseudo_r2: float, llf: float, outcome: str) -> list[dict]:
    return [tidy_row(model, "fit", "nobs", nobs, nobs=nobs, outcome=outcome),
            tidy_row(model, "fit", "pseudo_r2", pseudo_r2, nobs=nobs, outcome=outcome),
            tidy_row(model, "fit", "llf", llf, nobs=nobs, outcome=outcome)]


@pytest.fixture
def estimates() -> pd.DataFrame:
    """Two models; the second lacks ``size_log`` and has AME rows that differ from its coefs."""
    rows = [
        # Frame order (const, local, international, size) differs from the display order.
        tidy_row("m_prod", "coef", "const", -1.23456, 0.40001, 0.002),
        tidy_row("m_prod", "coef", "breadth_local", 0.0123, 0.0456, 0.11),
        tidy_row("m_prod", "coef", "breadth_international", 0.31249, 0.1, 0.009),
        tidy_row("m_prod", "coef", "size_log", 0.2, 0.0987, 0.049),
        tidy_row("m_prod", "ame", "breadth_local", 0.0031, 0.0011, 0.099),
        *fit_rows("m_prod", 1604, 0.0812, -1012.3456, "product"),
        # p exactly 0.01 gets two stars (p<0.01 is strict), in stargazer's cells as in ours.
        tidy_row("m_proc", "coef", "const", -0.5, 0.3, 0.01, nobs=1598, outcome="process"),
        tidy_row("m_proc", "coef", "breadth_local", -0.0444, 0.05, 0.099, 1598, "process"),
        tidy_row("m_proc", "coef", "breadth_international", 0.25, 0.12, 0.049, 1598, "process"),
        tidy_row("m_proc", "ame", "breadth_local", -0.0101, 0.004, 0.011, 1598, "process"),
        *fit_rows("m_proc", 1598, 0.0555, -998.1, "process"),
    ]
    frame = pd.DataFrame(rows, columns=C1_COLUMNS)
    assert list(frame.columns) == C1_COLUMNS
    return frame


TERMS = {"breadth_international": "International breadth",
         "breadth_local": "Local breadth",
         "size_log": "Firm size (log)",
         "const": "Constant"}


def make_spec(**changes) -> TableSpec:
    arguments = dict(
        models=["m_prod", "m_proc"], terms=TERMS, title="Table 2: Logit models",
        dependent_variable=["Product", "Process"], column_labels=["Base", "Managers"],
        control_rows={"Firm controls": {"m_prod": True, "m_proc": True},
                      "Manager controls": {"m_prod": False, "m_proc": True}},
        notes=["Robust standard errors in parentheses.", STAR_LEGEND,
               "Data: synthetic twin of the survey."],
        label="tab:t2")
    arguments.update(changes)
    return TableSpec(**arguments)


def cell(cells: pd.DataFrame, section: str, key: str, model: str) -> str:
    found = cells[(cells["section"] == section) & (cells["key"] == key)]
    assert len(found) == 1, (section, key)
    return found.iloc[0][model]


# --------------------------------------------------------------------------- the grid


def test_cells_show_the_frame_numbers_in_their_row_and_column(estimates):
    cells = tables.table_cells(estimates, make_spec())
    assert cell(cells, "estimate", "const", "m_prod") == "-1.235***"
    assert cell(cells, "std_error", "const", "m_prod") == "(0.400)"
    assert cell(cells, "estimate", "const", "m_proc") == "-0.500**"
    assert cell(cells, "estimate", "breadth_international", "m_prod") == "0.312***"
    assert cell(cells, "estimate", "breadth_international", "m_proc") == "0.250**"
    assert cell(cells, "std_error", "breadth_international", "m_proc") == "(0.120)"
    assert cell(cells, "estimate", "breadth_local", "m_proc") == "-0.044*"
    assert cell(cells, "fit", "pseudo_r2", "m_proc") == "0.056"
    assert cell(cells, "fit", "llf", "m_prod") == "-1,012.35"  # thousands separator, as N
    # Every displayed coefficient is the frame's number rounded to 3 decimals.
    for _, row in estimates[estimates["quantity"] == "coef"].iterrows():
        shown = cell(cells, "estimate", row["term"], row["model"]).rstrip("*")
        assert float(shown) == round(row["estimate"], 3)


def test_observations_are_integers_with_thousands_separator(estimates):
    cells = tables.table_cells(estimates, make_spec())
    assert cell(cells, "fit", "nobs", "m_prod") == "1,604"
    assert cell(cells, "fit", "nobs", "m_proc") == "1,598"
    labels = cells.loc[cells["section"] == "fit", "label"].tolist()
    assert labels == ["Observations", "Pseudo R² (McFadden)", "Log-likelihood"]


def test_terms_follow_the_set_order_and_a_missing_term_is_blank(estimates):
    cells = tables.table_cells(estimates, make_spec())
    shown = cells.loc[cells["section"] == "estimate", "key"].tolist()
    assert shown == list(TERMS)
    assert cell(cells, "estimate", "size_log", "m_proc") == ""
    assert cell(cells, "std_error", "size_log", "m_proc") == ""
    assert cell(cells, "estimate", "size_log", "m_prod") == "0.200**"


@pytest.mark.parametrize(("p_value", "stars"), [(0.009, "***"), (0.049, "**"), (0.099, "*"),
                                                 (0.11, ""), (0.01, "**"), (math.nan, "")])
def test_significance_stars_at_the_thresholds(p_value, stars):
    assert tables.significance_stars(p_value) == stars


def test_stars_in_the_table_come_from_p_value(estimates):
    cells = tables.table_cells(estimates, make_spec())
    assert cell(cells, "estimate", "breadth_international", "m_prod").endswith("***")  # 0.009
    assert cell(cells, "estimate", "size_log", "m_prod") == "0.200**"  # 0.049
    assert cell(cells, "estimate", "breadth_local", "m_proc") == "-0.044*"  # 0.099
    assert cell(cells, "estimate", "breadth_local", "m_prod") == "0.012"  # 0.11


def test_quantity_selects_the_rows_shown(estimates):
    spec = make_spec(terms={"breadth_local": "Local breadth"}, quantity="ame")
    cells = tables.table_cells(estimates, spec)
    # SEs 0.0011 and 0.004: four decimals, so the smaller shows two significant digits
    assert cell(cells, "estimate", "breadth_local", "m_prod") == "0.0031*"
    assert cell(cells, "std_error", "breadth_local", "m_prod") == "(0.0011)"
    assert cell(cells, "estimate", "breadth_local", "m_proc") == "-0.0101**"
    assert cell(cells, "std_error", "breadth_local", "m_proc") == "(0.0040)"


def test_control_rows_show_yes_and_no(estimates):
    cells = tables.table_cells(estimates, make_spec())
    assert cell(cells, "control", "Manager controls", "m_prod") == "No"
    assert cell(cells, "control", "Manager controls", "m_proc") == "Yes"
    assert cell(cells, "control", "Firm controls", "m_prod") == "Yes"


def test_fit_statistic_no_model_has_is_left_out_and_a_partial_one_is_blank(estimates):
    frame = estimates[~((estimates["model"] == "m_proc") & (estimates["term"] == "llf"))]
    spec = make_spec(fit_rows=["nobs", "llf", "aic"])
    cells = tables.table_cells(frame, spec)
    assert cells.loc[cells["section"] == "fit", "key"].tolist() == ["nobs", "llf"]
    assert cell(cells, "fit", "llf", "m_proc") == ""


def test_threshold_rows_of_an_ordered_logit_can_be_listed(estimates):
    cut = tidy_row("m_prod", "cut", "cut1|2", 0.75, 0.2)
    frame = pd.concat([estimates, pd.DataFrame([cut])], ignore_index=True)
    spec = make_spec(terms={"breadth_local": "Local breadth", "cut1|2": "Cut 1|2"})
    rendered = regression.render_regression_table(frame, spec)
    assert cell(rendered.cells, "estimate", "cut1|2", "m_prod") == "0.750"  # no p: no stars
    assert "| Cut 1\\|2 | 0.750 |  |" in rendered.markdown


# --------------------------------------------------------------------------- the formats


def latex_plain(cell: str) -> str:
    """A LaTeX cell back to the plain text of the grid (no markup, ASCII minus)."""
    smashed = re.match(r"\\smash\{\\parbox\[t\]\{[\d.]+pt\}\{\\raggedright\\hangindent=1em"
                       r"\\hangafter=1 (.*)\}\}$", cell)
    if smashed:
        cell = smashed.group(1)
    centred = re.match(r"\\multicolumn\{1\}\{c\}\{(.*)\}$", cell)
    if centred:
        cell = centred.group(1)
    cell = re.sub(r"\^\{(\**)\}", r"\1", cell).replace("{,}", ",").replace("\\allowbreak{}", "")
    cell = cell.replace("$-$", "-").replace("$", "")
    for escaped, char in (("\\textless{}", "<"), ("\\textgreater{}", ">"), ("\\&", "&"),
                          ("\\%", "%"), ("\\_", "_"), ("\\textbar{}", "|"),
                          ("\\textasciitilde{}", "~"), ("\\#", "#"),
                          ("\\textsuperscript{2}", "\u00b2")):
        cell = cell.replace(escaped, char)
    return cell


def latex_rows(latex: str) -> list[list[str]]:
    """The body rows of a LaTeX table (between the header's \\midrule and \\bottomrule)
    as lists of plain cells."""
    body = latex.split("\\midrule\n", 1)[1].split("\\bottomrule", 1)[0]
    rows = []
    for line in body.splitlines():
        line = line.strip()
        if line.endswith("\\\\"):
            cells = [c.strip() for c in re.split(r"(?<!\\)&", line[:-2])]
            rows.append([latex_plain(c) for c in cells])
    return rows


def expected_rows(cells: pd.DataFrame, models: list[str]) -> list[list[str]]:
    body = cells[cells["section"] != "header"]
    return [[label, *row] for label, row in
            zip(body["label"], body[models].itertuples(index=False, name=None), strict=True)]


def test_latex_rows_are_the_cell_grid(estimates):
    spec = make_spec()
    rendered = regression.render_regression_table(estimates, spec)
    models = list(spec.models)
    assert latex_rows(rendered.latex) == expected_rows(rendered.cells, models)


def test_latex_uses_booktabs_dcolumn_and_no_vertical_or_hline_rules(estimates):
    latex = regression.render_regression_table(estimates, make_spec()).latex
    for rule in ("\\toprule", "\\midrule", "\\bottomrule", "\\cmidrule(lr){2-2}"):
        assert rule in latex
    assert "\\hline" not in latex and "\\cline" not in latex
    spec = re.search(r"\\begin\{tabular\}\{(.*)\}\n", latex).group(1)
    assert "|" not in spec and spec.count("D{.}{.}") == 2  # numbers on the decimal point
    assert latex.index("\\toprule") < latex.index("Product") < latex.index("(1)")
    assert latex.index("Base") < latex.index("(1)") < latex.index("\\midrule")
    assert "-1.235^{***}" in latex  # a math minus in the dcolumn cell, stars superscript
    assert "\\begin{threeparttable}" in latex and "\\begin{tablenotes}" in latex


def test_a_numbered_title_numbers_the_float_once(estimates):
    latex = regression.render_regression_table(
        estimates, make_spec(title="Table 2. Logit models")).latex
    assert "\\renewcommand{\\thetable}{2}" in latex
    assert "\\caption{Logit models}" in latex  # "Table 2: Logit models", not twice


def test_latex_escapes_special_characters_in_labels_title_and_notes(estimates):
    spec = make_spec(terms={"breadth_local": "Local_breadth & 10% more"},
                     title="Table_2 & more", notes=["Share_of 50% & so on"],
                     dependent_variable=["R&D_x", "R&D_x"], column_labels=["a_b", "c%d"])
    latex = regression.render_regression_table(estimates, spec).latex.replace(
        "\\allowbreak{}", "")
    assert "Local\\_breadth \\& 10\\% more" in latex
    assert "\\caption{Table\\_2 \\& more}" in latex
    assert "Share\\_of 50\\% \\& so on" in latex
    assert "\\multicolumn{2}{c}{R\\&D\\_x}" in latex and "\\cmidrule(lr){2-3}" in latex
    assert "a\\_b" in latex and "c\\%d" in latex
    unescaped = re.findall(r"(?<!\\)[_%]", latex)
    assert unescaped == []


def test_notes_present_in_every_format(estimates):
    spec = make_spec()
    rendered = regression.render_regression_table(estimates, spec)
    assert "Robust standard errors in parentheses." in rendered.latex
    assert "* p\\textless{}0.10, ** p\\textless{}0.05, *** p\\textless{}0.01" in rendered.latex
    assert rendered.latex.index("\\end{tabular}") < rendered.latex.index("synthetic twin")
    assert "* p&lt;0.10, ** p&lt;0.05, *** p&lt;0.01" in rendered.html
    assert STAR_LEGEND in rendered.markdown
    for note in spec.notes:
        assert note.replace("<", "&lt;") in rendered.html
        assert note in rendered.markdown


class _RowCollector(HTMLParser):
    """Table rows of an HTML fragment as lists of cell texts (header and data cells, true
    minus signs read as "-"); checks tags are balanced."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.stack: list[str] = []
        self.caption = ""
        self.header_cells = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("table", "thead", "tbody", "tr", "td", "th", "sup", "caption", "p"):
            self.stack.append(tag)
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self.rows[-1].append("")
            self.header_cells += tag == "th" and "thead" in self.stack

    def handle_endtag(self, tag):
        if tag not in ("table", "thead", "tbody", "tr", "td", "th", "sup", "caption", "p"):
            return
        assert self.stack and self.stack[-1] == tag, (tag, self.stack)
        self.stack.pop()

    def handle_data(self, data):
        if "td" in self.stack or "th" in self.stack:
            self.rows[-1][-1] += data.replace("\u2212", "-")
        elif "caption" in self.stack:
            self.caption += data


def test_html_is_balanced_and_its_rows_are_the_cell_grid(estimates):
    spec = make_spec(terms={**TERMS, "breadth_local": "Local <breadth> & co"})
    rendered = regression.render_regression_table(estimates, spec)
    parser = _RowCollector()
    parser.feed(rendered.html)
    parser.close()
    assert parser.stack == []
    assert parser.caption == spec.title
    assert parser.header_cells >= len(spec.models)  # real header cells
    assert '<meta charset="utf-8">' in rendered.html
    assert rendered.html.index("</table>") < rendered.html.index("Robust standard errors")
    assert "Local &lt;breadth&gt; &amp; co" in rendered.html
    models = list(spec.models)
    html_rows = [r for r in parser.rows if len(r) == len(models) + 1]
    for expected in expected_rows(rendered.cells, models):
        assert expected in html_rows
    grid_order = [r[0] for r in expected_rows(rendered.cells, models) if r[0]]
    html_order = [r[0] for r in html_rows if r[0] in grid_order]
    assert html_order == grid_order


def test_minimal_table_without_headers_is_well_formed(estimates):
    spec = TableSpec(models=["m_proc"], terms={"breadth_local": "Local"}, title="T",
                     dependent_variable="Process")
    rendered = regression.render_regression_table(estimates, spec)
    parser = _RowCollector()
    parser.feed(rendered.html)
    assert parser.stack == []
    assert ["Local", "-0.044*"] in parser.rows
    assert "\\multicolumn{1}{c}{Process}" in rendered.latex
    assert rendered.markdown.splitlines()[2:4] == ["|  | Process |", "|:---|---:|"]
    assert "*Note:*" not in rendered.markdown and "tablenotes" not in rendered.latex


def test_markdown_prints_the_cell_grid(estimates):
    spec = make_spec()
    rendered = regression.render_regression_table(estimates, spec)
    lines = rendered.markdown.replace("\u2212", "-").splitlines()  # true minus signs
    assert "\u2212" in rendered.markdown
    assert lines[0] == f"**{spec.title}**"
    assert lines[2] == "|  | Product | Process |"
    assert lines[3] == "|:---|---:|---:|"
    assert lines[4] == "|  | Base | Managers |"
    assert lines[5] == "|  | (1) | (2) |"
    for expected in expected_rows(rendered.cells, list(spec.models)):
        assert "| " + " | ".join(expected) + " |" in lines


def test_write_regression_table_writes_five_files_identically(estimates, tmp_path):
    rendered = regression.render_regression_table(estimates, make_spec())
    paths = regression.write_regression_table(rendered, tmp_path, "table2")
    assert [p.name for p in paths] == ["table2.csv", "table2.md", "table2.tex", "table2.html",
                                       "table2.docx"]
    first = [p.read_bytes() for p in paths]
    again = regression.render_regression_table(estimates, make_spec())
    regression.write_regression_table(again, tmp_path, "table2")
    assert [p.read_bytes() for p in paths] == first  # the .docx too: no timestamps
    assert paths[2].read_text(encoding="utf-8") == rendered.latex
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
    data = pd.read_csv(paths[0])  # the CSV: the C1 rows behind the table
    assert set(data["model"]) == {"m_prod", "m_proc"}
    assert set(data["quantity"]) == {"coef", "fit"}


def test_word_table_holds_the_cell_grid(estimates, tmp_path):
    spec = make_spec()
    rendered = regression.render_regression_table(estimates, spec)
    paths = regression.write_regression_table(rendered, tmp_path, "t")
    rows = [[c.replace("\u2212", "-") for c in row] for row in read_cells(paths[-1].read_bytes())]
    assert rows[0] == ["", "Product", "Process"]
    assert rows[2] == ["", "(1)", "(2)"]
    assert rows[3:] == expected_rows(rendered.cells, list(spec.models))


def test_latex_compiles_with_pdflatex(estimates, tmp_path):
    spec = make_spec(terms={**TERMS, "breadth_local": "Local_breadth & 10% ~ <x>"},
                     notes=[*make_spec().notes, "Fitjar & Rodríguez-Pose (2011), 100% _x_ #1"])
    latex = regression.render_regression_table(estimates, spec).latex
    compile_latex([latex], tmp_path)


# --------------------------------------------------------------------------- errors


def test_unknown_model_is_named(estimates):
    with pytest.raises(ExhibitError, match="'m_missing'"):
        tables.table_cells(estimates, make_spec(models=["m_prod", "m_missing"],
                                                dependent_variable=None, column_labels=None,
                                                control_rows={}))


def test_term_in_no_model_is_named(estimates):
    with pytest.raises(ExhibitError, match="breadth_nowhere"):
        tables.table_cells(estimates, make_spec(terms={**TERMS, "breadth_nowhere": "x"}))


def test_missing_standard_error_is_an_error_not_a_nan_cell(estimates):
    frame = estimates.copy()
    frame.loc[(frame["model"] == "m_proc") & (frame["term"] == "const"), "std_error"] = math.nan
    with pytest.raises(ExhibitError, match=r"'m_proc'.*std_error.*\['const'\]"):
        tables.table_cells(frame, make_spec())


def test_duplicated_term_is_an_error(estimates):
    frame = pd.concat([estimates, estimates.iloc[[0]]], ignore_index=True)
    with pytest.raises(ExhibitError, match="const"):
        tables.table_cells(frame, make_spec())


def test_model_without_the_quantity_is_an_error(estimates):
    frame = estimates[~((estimates["model"] == "m_proc") & (estimates["quantity"] == "ame"))]
    with pytest.raises(ExhibitError, match="'m_proc' has no 'ame' rows"):
        tables.table_cells(frame, make_spec(quantity="ame", terms={"breadth_local": "x"}))


def test_disagreeing_nobs_is_an_error(estimates):
    frame = estimates.copy()
    frame.loc[(frame["model"] == "m_proc") & (frame["term"] == "nobs"), "estimate"] = 1600
    with pytest.raises(ExhibitError, match="nobs"):
        tables.table_cells(frame, make_spec())


@pytest.mark.parametrize("changes", [
    {"column_labels": ["only one"]},
    {"dependent_variable": ["A", "B", "C"]},
    {"control_rows": {"Firm controls": {"m_prod": True}}},
    {"quantity": "cut"},
    {"fit_rows": ["nobs", "adjusted_r2"]},
    {"models": ["m_prod", "m_prod"], "column_labels": None, "dependent_variable": None,
     "control_rows": {}},
])
def test_inconsistent_specification_is_rejected(changes):
    with pytest.raises(ExhibitError):
        make_spec(**changes)


def test_missing_column_is_named(estimates):
    with pytest.raises(ExhibitError, match="p_value"):
        tables.table_cells(estimates.drop(columns="p_value"), make_spec())


def test_written_paths_are_inside_the_folder(estimates, tmp_path):
    rendered = regression.render_regression_table(estimates, make_spec())
    paths = regression.write_regression_table(rendered, tmp_path / "deep" / "er", "t")
    assert all(Path(p).parent == tmp_path / "deep" / "er" for p in paths)


# ------------------------------------------------------------------- negative zero


@pytest.mark.parametrize(("value", "shown"), [(-0.0001, "0.000"), (-0.0004999, "0.000"),
                                               (-0.0, "0.000"), (0.0002, "0.000"),
                                               (-0.0005001, "-0.001"), (-0.012, "-0.012")])
def test_a_number_that_rounds_to_zero_prints_without_sign(value, shown):
    assert tables.format_number(value) == shown


def test_negative_zero_cell_is_unsigned_in_every_format(estimates):
    frame = estimates.copy()
    at = (frame["model"] == "m_proc") & (frame["term"] == "breadth_local") & (
        frame["quantity"] == "coef")
    frame.loc[at, "estimate"] = -0.00012  # rounds to zero: its sign is noise
    spec = make_spec()
    rendered = regression.render_regression_table(frame, spec)
    assert cell(rendered.cells, "estimate", "breadth_local", "m_proc") == "0.000*"
    for text in (rendered.latex, rendered.html, rendered.markdown):
        assert "-0.000" not in text
    # the LaTeX and HTML cells stay equal to the grid tests compare with estimates.csv
    assert latex_rows(rendered.latex) == expected_rows(rendered.cells, list(spec.models))
    # a genuinely negative number keeps its sign
    assert cell(rendered.cells, "estimate", "const", "m_proc") == "-0.500**"
