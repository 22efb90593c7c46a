"""Word tables fit the page: geometry read from the files, pages counted by LibreOffice.

The geometry test needs no word processor: it reads what Word and LibreOffice lay a table
out from (tests/word.py) in every .docx of the default replication and checks that the
columns add up to the 6.5-inch text width at most, that every cell's width is set and
autofit is off, that the row-label column is as wide as its longest label (up to the cap),
that cells are top-aligned and the header repeats. The CIS-like example's files get the
same check in tests/test_byo_survey.py. When LibreOffice is installed, Tables 2 and 4 are
converted to PDF and take no more pages than their LaTeX versions.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import docx as python_docx
import pytest
from docx.oxml.ns import qn
from latex import measure_exhibits
from word import docx_geometry, pdf_pages

from analysis.errors import ExhibitError
from analysis.exhibits import docx_layout
from analysis.exhibits.docx import read_cells, to_docx
from analysis.exhibits.layout import Row, Span, Table


def word_files(output: Path) -> list[Path]:
    return sorted((output / "tables").glob("*.docx"))


def test_every_word_table_of_the_replication_fits_the_page(full_run):
    files = word_files(full_run / "output")
    assert len(files) >= 25
    problems = {f.name: docx_geometry(f).problems() for f in files}
    assert {name: p for name, p in problems.items() if p} == {}


def test_the_regression_tables_keep_the_label_beside_its_standard_error(full_run):
    path = full_run / "output" / "tables" / "table2.docx"
    geometry = docx_geometry(path)
    labels = [row[0] for row in read_cells(path.read_bytes())]
    first = labels.index("Partner types, same city-region")
    assert labels[first + 1] == ""  # the SE row's label: the merged cell, counted once
    assert geometry.cells[first][0][3] == "restart"
    assert geometry.cells[first + 1][0][3] == "continue"
    # the label column is sized from the labels (the longest is capped), numbers narrow
    assert geometry.grid[0] >= 2 * max(geometry.grid[1:])
    grid = python_docx.Document(path).tables[0]
    coefficient = grid.rows[first]
    assert all(p.paragraph_format.keep_with_next for cell in coefficient.cells
               for p in cell.paragraphs)
    assert coefficient._tr.trPr.find(qn("w:cantSplit")) is not None


@pytest.mark.parametrize("name", ["table2", "table4"])
def test_tables_2_and_4_take_no_more_pages_in_word_than_in_latex(full_run, tmp_path, name):
    tables = full_run / "output" / "tables"
    pages = pdf_pages([tables / f"{name}.docx"], tmp_path)  # skips without LibreOffice
    work = tmp_path / "latex"
    work.mkdir()
    latex = measure_exhibits({name: tables / f"{name}.tex"}, work)[0]
    assert pages[name] <= latex.pages == 1


# --------------------------------------------------------------------------- unit


def regression_like(label: str = "Employees with higher education (%)") -> Table:
    rows = (Row((label, "0.0054**", "-0.122"), spill=True),
            Row(("", "(0.0036)", "(0.044)")),
            Row(("Observations", "1,420", "1,373"), rule=True, center=True))
    return Table("Table 9. T", ("label", "number", "number"),
                 ((Span(""), Span("(1)"), Span("(2)")),), rows, ("A note.",))


def test_the_plan_sizes_the_label_column_from_its_longest_label_up_to_the_cap():
    short = docx_layout.plan_docx(regression_like())
    label = docx_layout.text_width("Employees with higher education (%)", short.size_pt)
    assert short.columns[0].width >= label
    assert short.columns[1].width < short.columns[0].width / 2  # numbers narrow
    long = docx_layout.plan_docx(regression_like(("word " * 60).strip()))
    assert long.columns[0].width >= docx_layout.LABEL_CAP_PT
    assert long.width <= docx_layout.TEXT_WIDTH_PT + 1e-6
    assert long.size_pt == 10.0


def test_the_plan_shares_the_width_between_text_columns_and_shrinks_the_font():
    rows = tuple(Row((f"claim {i}", "word " * 80, "x " * 5, f"{i}.5")) for i in range(3))
    table = Table("T", ("label", "text", "text", "number"), ((Span("a"), Span("b"),
                                                              Span("c"), Span("d")),), rows)
    plan = docx_layout.plan_docx(table)
    assert plan.width <= docx_layout.TEXT_WIDTH_PT + 1e-6
    assert plan.columns[1].width > plan.columns[2].width  # the long text gets more room
    wide = Table("T", ("label", *["number"] * 14), ((Span("a"), *[Span("(1)")] * 14),),
                 (Row(("x", *["-1,234.567***"] * 14)),))
    assert docx_layout.plan_docx(wide).size_pt < 10.0


def test_numbers_are_aligned_on_the_decimal_point():
    plan = docx_layout.plan_docx(regression_like())
    column = plan.columns[1]
    size = plan.size_pt
    # the decimal point of each number at the same distance from the cell's right edge
    ends = [column.indent(t, size) + docx_layout.number_parts(t, size)[1]
            for t in ("0.0054**", "(0.0036)", "12.5")]
    assert max(ends) - min(ends) < 1e-9


def test_the_word_file_sets_every_cell_and_keeps_rows_together(tmp_path):
    path = tmp_path / "t.docx"
    path.write_bytes(to_docx(regression_like(("word " * 60).strip())))
    geometry = docx_geometry(path)
    assert geometry.problems() == []
    assert read_cells(path.read_bytes())[1:3] == [["word " * 59 + "word", "0.0054**",
                                                   "\u22120.122"], ["", "(0.0036)",
                                                                    "(0.044)"]]


def test_the_width_table_is_times_roman():
    """The advance widths are Adobe's Times-Roman metrics (matplotlib ships the AFM)."""
    import matplotlib

    afm = Path(matplotlib.get_data_path()) / "fonts" / "afm" / "ptmr8a.afm"
    widths = {}
    for line in afm.read_text(encoding="latin-1").splitlines():
        match = re.match(r"C (\d+) ; WX (\d+) ;", line)
        if match and 32 <= int(match.group(1)) < 127 and chr(int(match.group(1))) != "'":
            widths[chr(int(match.group(1)))] = int(match.group(2)) / 1000
    assert {c: docx_layout.text_width(c, 1.0) for c in widths} == widths
    characters = "".join(docx_layout.TIMES_WIDTHS.values())
    assert len(characters) == len(set(characters))  # each character in one group


def test_text_with_markup_characters_tabs_and_edge_spaces_is_kept():
    table = Table(title="A & B <test>", columns=("label", "text"),
                  header=((Span(""), Span("x > y")),),
                  rows=(Row(("a & b", " lead\ttab ")),), notes=("1 < 2 & 3 > 2",))
    document = python_docx.Document(io.BytesIO(to_docx(table)))
    assert read_cells(to_docx(table)) == [["", "x > y"], ["a & b", " leadtab "]]
    assert document.paragraphs[0].text == "A & B <test>"
    assert document.paragraphs[-1].text == "Note: 1 < 2 & 3 > 2"
    assert document.core_properties.title == "A & B <test>"


def test_a_control_character_names_the_table_and_the_character():
    table = Table(title="Labels", columns=("label",), header=((Span("Item"),),),
                  rows=(Row(("bad\x0blabel",)),))
    with pytest.raises(ExhibitError, match=r"Word table 'Labels'.*'bad\\x0blabel'.*U\+000B"):
        to_docx(table)
