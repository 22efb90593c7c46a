"""Word (.docx) tables with python-docx, in the plain style journals ask for.

A :class:`~analysis.exhibits.layout.Table` becomes one Word document on a portrait US
letter page with 1-inch margins: the title as a bold paragraph, a table with booktabs-style
rules only (top, under the header, bottom; no vertical lines), spanners as merged cells,
header rows repeated on every page, numbers aligned on the decimal point (true minus signs,
superscript stars), text left-aligned, every cell top-aligned, and the notes below. Times
New Roman at the size :func:`~analysis.exhibits.docx_layout.plan_docx` chooses (10, 9 or
8 pt; notes a point smaller), with the column widths it plans written into the table grid
and into every cell, autofit off (Word and LibreOffice lay a table out from those widths,
not from its content). A coefficient's label is one cell merged down beside its standard
error, and the two rows are kept on one page; no row breaks across pages.

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
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt, Twips
from docx.table import _Cell

from analysis.exhibits.docx_layout import (
    CELL_MARGIN_PT,
    NOTES_BEFORE_PT,
    TITLE_AFTER_PT,
    Column,
    DocxPlan,
    plan_docx,
    round_widths,
    spill_groups,
)
from analysis.exhibits.layout import Row, Table, parse_number, typeset

FONT = "Times New Roman"
#: Fixed timestamp of every archive member and of the document (the zip format's epoch).
EPOCH = (1980, 1, 1, 0, 0, 0)
#: Left and right inner margin of every cell, in twips.
MARGIN_TWIPS = round(CELL_MARGIN_PT * 20)


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


#: The elements that follow a table's and a cell's properties in the schema's order (Word
#: rejects a file whose properties are out of order).
TBL_PR_ORDER = ("w:tblStyle", "w:tblpPr", "w:tblOverlap", "w:bidiVisual",
                "w:tblStyleRowBandSize", "w:tblStyleColBandSize", "w:tblW", "w:jc",
                "w:tblCellSpacing", "w:tblInd", "w:tblBorders", "w:shd", "w:tblLayout",
                "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription")
TC_PR_ORDER = ("w:cnfStyle", "w:tcW", "w:gridSpan", "w:hMerge", "w:vMerge", "w:tcBorders",
               "w:shd", "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign",
               "w:hideMark")
MARGIN_ORDER = ("w:top", "w:left", "w:start", "w:bottom", "w:right", "w:end")


def _child(parent, tag: str, order: tuple[str, ...]):
    """The ``tag`` child of a properties element, created in its place in ``order`` when
    missing."""
    element = parent.find(qn(tag))
    if element is None:
        element = OxmlElement(tag)
        later = {qn(t) for t in order[order.index(tag) + 1:]}
        successor = next((child for child in parent if child.tag in later), None)
        if successor is None:
            parent.append(element)
        else:
            successor.addprevious(element)
    return element


def _border(cell, edge: str, size: int) -> None:
    """A single black border of ``size`` eighths of a point on one edge of a cell."""
    borders = _child(cell._tc.get_or_add_tcPr(), "w:tcBorders", TC_PR_ORDER)
    element = OxmlElement(f"w:{edge}")
    for key, value in (("val", "single"), ("sz", str(size)), ("space", "0"),
                       ("color", "000000")):
        element.set(qn(f"w:{key}"), value)
    borders.append(element)


def _row_flag(row, tag: str) -> None:
    """A row property without a value: ``w:tblHeader`` (repeated at the top of every
    page), ``w:cantSplit`` (never broken across pages)."""
    flag = OxmlElement(tag)
    flag.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(flag)


def _set_width(cell, twips: int) -> None:
    """A cell's width in twips (python-docx writes it as ``w:tcW``, type dxa)."""
    cell.width = Twips(twips)


def _table_geometry(grid, widths: list[int]) -> None:
    """Fixed layout (no autofit), the total width, the grid columns and the cell margins
    written out, as Word and LibreOffice read them (the grid wins over the cells in
    LibreOffice, the cells in Word)."""
    grid.autofit = False
    tbl_pr = grid._tbl.tblPr
    width = _child(tbl_pr, "w:tblW", TBL_PR_ORDER)
    width.set(qn("w:type"), "dxa")
    width.set(qn("w:w"), str(sum(widths)))
    indent = _child(tbl_pr, "w:tblInd", TBL_PR_ORDER)
    indent.set(qn("w:type"), "dxa")
    indent.set(qn("w:w"), "0")
    margins = _child(tbl_pr, "w:tblCellMar", TBL_PR_ORDER)
    for edge, value in (("top", 0), ("left", MARGIN_TWIPS), ("bottom", 0),
                        ("right", MARGIN_TWIPS)):
        element = _child(margins, f"w:{edge}", MARGIN_ORDER)
        element.set(qn("w:w"), str(value))
        element.set(qn("w:type"), "dxa")
    for column, twips in zip(grid._tbl.tblGrid.findall(qn("w:gridCol")), widths,
                             strict=True):
        column.set(qn("w:w"), str(twips))


def _top_aligned(cell) -> None:
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP


def _write_number(paragraph, text: str, column: Column, size: float) -> bool:
    """A number aligned on its decimal point, stars superscript; False if ``text`` is no
    number. The cell is right-aligned with a right indent that puts every decimal point of
    the column at one place (a decimal tab stop would do the same in Word, but LibreOffice
    wraps text after a decimal tab in narrow cells)."""
    cell = parse_number(text)
    if cell is None:
        return False
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    paragraph.paragraph_format.right_indent = Pt(round(column.indent(text, size), 1))
    digits = cell.whole + (f".{cell.frac}" if cell.frac is not None else "")
    run = paragraph.add_run(typeset(f"{cell.open}{cell.sign}{digits}{cell.close}"))
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


def _fill_row(cells, row: Row, table: Table, plan: DocxPlan) -> None:
    if row.kind == "panel":
        merged = cells[0].merge(cells[-1])
        _write_text(merged.paragraphs[0], row.cells[0], plan.size_pt, italic=True)
        return
    for j, (text, kind) in enumerate(zip(row.cells, table.columns, strict=True)):
        paragraph = cells[j].paragraphs[0]
        if (kind == "number" and text and not row.center
                and _write_number(paragraph, text, plan.columns[j], plan.size_pt)):
            continue
        if kind == "number":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if text:
            _write_text(paragraph, text, plan.size_pt)


def _header_rows(grid, table: Table, size: float) -> None:
    for i, spans in enumerate(table.header):
        row = grid.rows[i]
        _row_flag(row, "w:tblHeader")
        _row_flag(row, "w:cantSplit")
        start = 0
        for span in spans:
            cell = row.cells[start]
            if span.width > 1:
                cell = cell.merge(row.cells[start + span.width - 1])
            _top_aligned(cell)
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.keep_with_next = True
            if table.columns[start] == "number" or span.width > 1:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _write_text(paragraph, span.text, size)
            if i == 0:
                _border(cell, "top", 12)
            if i == len(table.header) - 1 or span.ruled:
                _border(cell, "bottom", 6)
            start += span.width


def _keep_together(grid, table: Table, n_header: int) -> None:
    """A coefficient's label as one cell beside its standard error (the label cell merged
    down over the rows below it with an empty label), and those rows kept on one page
    (keep with next on every row of the group but the last)."""
    for first, last in spill_groups(table.rows):
        rows = [grid.rows[n_header + i] for i in range(first, last + 1)]
        if table.rows[first].kind == "panel":  # a panel heading stays with its first row
            last_rows = []
        elif last > first:
            rows[0].cells[0].merge(rows[-1].cells[0])
            last_rows = rows[-1:]
        else:
            continue
        for row in rows[:len(rows) - len(last_rows)]:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True


def _layout_rows(grid, table: Table, plan: DocxPlan, n_header: int) -> None:
    """Every cell's width and top alignment; rows never split across pages."""
    widths = round_widths([c.width for c in plan.columns])
    _table_geometry(grid, widths)
    for row in grid.rows:
        if row._index >= n_header:
            _row_flag(row, "w:cantSplit")
        for cell, twips in zip(row.cells, widths, strict=True):
            _set_width(cell, twips)
            _top_aligned(cell)


def build_document(table: Table) -> docx.Document:
    """The Word document of one table."""
    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Inches(8.5), Inches(11)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Inches(1))
    plan = plan_docx(table)
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    normal.font.size = Pt(plan.size_pt)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    title = document.add_paragraph()
    title.paragraph_format.space_after = Pt(TITLE_AFTER_PT)
    title.paragraph_format.keep_with_next = True
    run = title.add_run(typeset(table.title))
    run.bold = True
    run.font.size = Pt(10)
    n_header = len(table.header)
    grid = document.add_table(rows=n_header + len(table.rows), cols=table.width)
    _layout_rows(grid, table, plan, n_header)
    _header_rows(grid, table, plan.size_pt)
    for i, row in enumerate(table.rows):
        cells = grid.rows[n_header + i].cells
        _fill_row(cells, row, table, plan)
        if row.rule:
            for cell in cells:
                _border(cell, "top", 6)
        if i == len(table.rows) - 1:
            for cell in grid.rows[n_header + i].cells:
                _border(cell, "bottom", 12)
    _keep_together(grid, table, n_header)
    for i, note in enumerate(table.notes):
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.space_before = Pt(NOTES_BEFORE_PT if i == 0 else 0)
        _write_text(paragraph, ("Note: " if i == 0 else "") + note, plan.note_pt)
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
    """The text of every cell of the first table of a .docx, row by row, tabs removed: a
    cell spanning columns repeats its text in each (a spanner over its columns); a label
    cell merged down over the rows below it (a coefficient's label beside its standard
    error) counts in its first row only, the rows below have an empty label."""
    grid = docx.Document(io.BytesIO(data)).tables[0]
    rows = []
    for tr in grid._tbl.tr_lst:
        cells = []
        for tc in tr.tc_lst:
            text = "" if tc.vMerge == "continue" else _Cell(tc, grid).text.replace("\t", "")
            cells += [text] * tc.grid_span
        rows.append(cells)
    return rows
