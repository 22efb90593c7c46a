"""Word (.docx) tables with python-docx, in the plain style journals ask for.

A :class:`~analysis.exhibits.layout.Table` becomes one Word document on a portrait US
letter page with 1-inch margins: the title as a bold paragraph, a table with booktabs-style
rules only (top, under the header, bottom; no vertical lines), spanners as merged cells,
header rows repeated on every page, numbers aligned on the decimal point by a decimal tab
stop (true minus signs, superscript stars), text left-aligned, and the notes below. Times
New Roman, 10 pt in the table (9 pt for wide tables), 9 pt notes.

Word files are zip archives whose members carry the time they were written;
:func:`normalise_zip` pins those times (and the document's dates) so that a rerun writes
the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt

from analysis.exhibits.layout import Row, Table, parse_number, typeset

FONT = "Times New Roman"
#: Fixed timestamp of every archive member and of the document (the zip format's epoch).
EPOCH = (1980, 1, 1, 0, 0, 0)
TEXT_WIDTH_IN = 6.5
#: Approximate width of a digit and of an average character at 10 pt, in inches.
DIGIT_IN = 0.07
CHAR_IN = 0.065


def normalise_zip(data: bytes) -> bytes:
    """The archive with every member dated :data:`EPOCH` (same content, same order)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=EPOCH)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = info.external_attr
            target.writestr(member, source.read(info.filename))
    return out.getvalue()


def _border(cell, edge: str, size: int) -> None:
    """A single black border of ``size`` eighths of a point on one edge of a cell."""
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    element = OxmlElement(f"w:{edge}")
    for key, value in (("val", "single"), ("sz", str(size)), ("space", "0"),
                       ("color", "000000")):
        element.set(qn(f"w:{key}"), value)
    borders.append(element)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    tr_pr.append(flag)


def _write_number(paragraph, text: str, tab_in: float, size: float) -> bool:
    """A number behind a decimal tab stop, stars superscript; False if ``text`` is no number."""
    cell = parse_number(text)
    if cell is None:
        return False
    paragraph.paragraph_format.tab_stops.add_tab_stop(Inches(tab_in), WD_TAB_ALIGNMENT.DECIMAL)
    digits = cell.whole + (f".{cell.frac}" if cell.frac is not None else "")
    run = paragraph.add_run("\t" + typeset(f"{cell.open}{cell.sign}{digits}{cell.close}"))
    run.font.size = Pt(size)
    if cell.stars:
        star = paragraph.add_run(cell.stars)
        star.font.superscript = True
        star.font.size = Pt(size)
    return True


def _write_text(paragraph, text: str, size: float, italic: bool = False) -> None:
    run = paragraph.add_run(typeset(text))
    run.font.size = Pt(size)
    run.italic = italic


def column_widths(table: Table) -> tuple[list[float], list[float]]:
    """Column widths in inches (adding up to the text width at most) and, for number
    columns, the decimal tab position within the cell."""
    widths, tabs = [], []
    for j, kind in enumerate(table.columns):
        cells = table.column_cells(j)
        if kind == "number":
            parts = [(len(c.split(".")[0]), len(c) - len(c.split(".")[0])) for c in cells
                     if parse_number(c) is not None] or [(1, 0)]
            left = max(p[0] for p in parts) * DIGIT_IN
            right = max(p[1] for p in parts) * DIGIT_IN
            text = max([len(c) * CHAR_IN for c in cells if parse_number(c) is None] + [0.0])
            width = max(left + right, text, 0.45) + 0.16
            widths.append(width)
            tabs.append((width - left - right) / 2 + left - 0.04)
        else:
            widths.append(max([len(c) * CHAR_IN for c in cells] + [0.8]) + 0.16)
            tabs.append(0.0)
    fixed = sum(w for w, k in zip(widths, table.columns, strict=True) if k == "number")
    flexible = [j for j, k in enumerate(table.columns) if k != "number"]
    room = max(TEXT_WIDTH_IN - fixed, 1.0 * len(flexible))
    natural = sum(widths[j] for j in flexible)
    if flexible and natural > room:
        for j in flexible:
            widths[j] = widths[j] * room / natural
    return widths, tabs


def _fill_row(cells, row: Row, table: Table, tabs: list[float], size: float) -> None:
    if row.kind == "panel":
        merged = cells[0].merge(cells[-1])
        _write_text(merged.paragraphs[0], row.cells[0], size, italic=True)
        return
    for j, (text, kind) in enumerate(zip(row.cells, table.columns, strict=True)):
        paragraph = cells[j].paragraphs[0]
        if (kind == "number" and text and not row.center
                and _write_number(paragraph, text, tabs[j], size)):
            continue
        if kind == "number":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if text:
            _write_text(paragraph, text, size)


def _header_rows(grid, table: Table, size: float) -> None:
    for i, spans in enumerate(table.header):
        row = grid.rows[i]
        _repeat_header(row)
        start = 0
        for span in spans:
            cell = row.cells[start]
            if span.width > 1:
                cell = cell.merge(row.cells[start + span.width - 1])
            paragraph = cell.paragraphs[0]
            if table.columns[start] == "number" or span.width > 1:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _write_text(paragraph, span.text, size)
            if i == 0:
                _border(cell, "top", 12)
            if i == len(table.header) - 1 or span.ruled:
                _border(cell, "bottom", 6)
            start += span.width


def build_document(table: Table) -> docx.Document:
    """The Word document of one table."""
    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Inches(8.5), Inches(11)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Inches(1))
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    normal.font.size = Pt(10)
    normal.paragraph_format.space_after = Pt(0)
    size = 10.0 if table.width <= 7 else 9.0
    title = document.add_paragraph()
    title.paragraph_format.space_after = Pt(6)
    title.add_run(typeset(table.title)).bold = True
    n_header = len(table.header)
    grid = document.add_table(rows=n_header + len(table.rows), cols=table.width)
    grid.autofit = False
    widths, tabs = column_widths(table)
    for row in grid.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Inches(width)
    _header_rows(grid, table, size)
    for i, row in enumerate(table.rows):
        cells = grid.rows[n_header + i].cells
        _fill_row(cells, row, table, tabs, size)
        if row.rule:
            for cell in cells:
                _border(cell, "top", 6)
        if i == len(table.rows) - 1:
            for cell in grid.rows[n_header + i].cells:
                _border(cell, "bottom", 12)
    for i, note in enumerate(table.notes):
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.space_before = Pt(3 if i == 0 else 0)
        _write_text(paragraph, ("Note: " if i == 0 else "") + note, 9.0)
    core = document.core_properties
    core.title, core.author, core.comments = table.title, "", ""
    core.created = core.modified = dt.datetime(*EPOCH, tzinfo=dt.UTC)
    core.revision = 1
    return document


def to_docx(table: Table) -> bytes:
    """The table as the bytes of a .docx file (the same bytes on every run)."""
    buffer = io.BytesIO()
    build_document(table).save(buffer)
    return normalise_zip(buffer.getvalue())


def read_cells(data: bytes) -> list[list[str]]:
    """The text of every cell of the first table of a .docx, row by row (merged cells
    repeat their text, as python-docx reports them); tabs removed."""
    document = docx.Document(io.BytesIO(data))
    return [[cell.text.replace("\t", "") for cell in row.cells]
            for row in document.tables[0].rows]
