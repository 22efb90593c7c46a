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

python-docx sets up the blank document once per font size (page, styles, core properties);
the table's body is written here as XML text and parsed once, which checks it (built cell
by cell through python-docx's API, a run's Word files took about 13 times as long). Word
files are zip archives whose members carry the time they were written; :func:`archive`
dates them all :data:`EPOCH` (as the document's dates) so that a rerun writes the same
bytes.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
import zipfile
from xml.sax.saxutils import escape

import docx
from docx.enum.section import WD_ORIENT
from docx.opc.oxml import serialize_part_xml
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from docx.shared import Inches, Pt
from docx.table import _Cell

from analysis.errors import ExhibitError
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
from analysis.exhibits.layout import Table, parse_number, typeset

FONT = "Times New Roman"
#: Fixed timestamp of every archive member and of the document (the zip format's epoch).
EPOCH = (1980, 1, 1, 0, 0, 0)
#: Left and right inner margin of every cell, in twips.
MARGIN_TWIPS = round(CELL_MARGIN_PT * 20)


#: An archive member: its name, its attributes and its content.
Member = tuple[str, int, bytes]


def archive(members: list[Member]) -> bytes:
    """A zip archive of ``members``, in their order, every one dated :data:`EPOCH`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name, attributes, data in members:
            member = zipfile.ZipInfo(name, date_time=EPOCH)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = attributes
            target.writestr(member, data)
    return out.getvalue()


#: Word's table look flags (python-docx's default table), kept so the file is as before.
TABLE_LOOK = ('<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" '
              'w:noHBand="0" w:noVBand="1" w:val="04A0"/>')


def _twips(points: float) -> int:
    """Points as whole twips, converted as python-docx converts ``Pt`` (EMUs truncated)."""
    return Pt(points).twips


#: Characters XML 1.0 does not allow, so that no Word file can hold them.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _run(text: str, size: float, italic: bool | None = None, bold: bool = False,
         superscript: bool = False) -> str:
    """One ``w:r``: its properties, then its text (a tab as ``w:tab``, a line break as
    ``w:br``, spaces kept at either end), as python-docx's ``add_run`` writes it;
    ExhibitError for a character no XML file may hold."""
    bad = NOT_XML.search(text)
    if bad is not None:
        raise ExhibitError(f"the text {text!r} holds the control character "
                           f"U+{ord(bad.group()):04X}, which a Word file cannot hold")
    props = "<w:b/>" if bold else ""
    props += {None: "", True: "<w:i/>", False: '<w:i w:val="0"/>'}[italic]
    props += f'<w:sz w:val="{int(Pt(size).pt * 2)}"/>'
    props += '<w:vertAlign w:val="superscript"/>' if superscript else ""
    content = []
    for piece in re.split(r"(\t|\r|\n)", text):
        if piece == "\t":
            content.append("<w:tab/>")
        elif piece in ("\r", "\n"):
            content.append("<w:br/>")
        elif piece:
            space = ' xml:space="preserve"' if piece.strip() != piece else ""
            content.append(f"<w:t{space}>{escape(piece)}</w:t>")
    return f"<w:r><w:rPr>{props}</w:rPr>{''.join(content)}</w:r>"


def _paragraph(runs: str = "", keep_next: bool = False, spacing: str = "",
               right_indent: int | None = None, align: str = "") -> str:
    """One ``w:p``; its properties in the schema's order (Word rejects them out of order)."""
    props = "<w:keepNext/>" if keep_next else ""
    props += f"<w:spacing {spacing}/>" if spacing else ""
    props += f'<w:ind w:right="{right_indent}"/>' if right_indent is not None else ""
    props += f'<w:jc w:val="{align}"/>' if align else ""
    if not props and not runs:
        return "<w:p/>"
    return f"<w:p>{f'<w:pPr>{props}</w:pPr>' if props else ''}{runs}</w:p>"


def _cell(paragraph: str, twips: int, span: int = 1, merge: str = "",
          borders: tuple[tuple[str, int], ...] = ()) -> str:
    """One top-aligned ``w:tc`` of ``twips`` width over ``span`` grid columns; ``merge``:
    "restart" or "continue" for a cell merged down; ``borders``: (edge, eighths of a
    point) single black rules."""
    props = f'<w:tcW w:type="dxa" w:w="{twips}"/>'
    props += f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
    props += {"": "", "restart": '<w:vMerge w:val="restart"/>', "continue": "<w:vMerge/>"}[merge]
    if borders:
        props += "<w:tcBorders>" + "".join(
            f'<w:{edge} w:val="single" w:sz="{size}" w:space="0" w:color="000000"/>'
            for edge, size in borders) + "</w:tcBorders>"
    return f'<w:tc><w:tcPr>{props}<w:vAlign w:val="top"/></w:tcPr>{paragraph}</w:tc>'


def _row(cells: list[str], header: bool = False) -> str:
    """One ``w:tr``, never broken across pages; a header row repeats on every page."""
    flags = '<w:tblHeader w:val="true"/>' if header else ""
    return f'<w:tr><w:trPr>{flags}<w:cantSplit w:val="true"/></w:trPr>{"".join(cells)}</w:tr>'


def _number_runs(text: str, column: Column, size: float) -> tuple[str, int] | None:
    """The runs of a number aligned on its decimal point (stars superscript) and the right
    indent that puts every decimal point of the column at one place; None if ``text`` is
    no number. (A decimal tab stop would do the same in Word, but LibreOffice wraps text
    after a decimal tab in narrow cells.)"""
    cell = parse_number(text)
    if cell is None:
        return None
    digits = cell.whole + (f".{cell.frac}" if cell.frac is not None else "")
    runs = _run(typeset(f"{cell.open}{cell.sign}{digits}{cell.close}"), size)
    if cell.stars:
        runs += _run(cell.stars, size, superscript=True)
    return runs, _twips(round(column.indent(text, size), 1))


def _header_xml(table: Table, widths: list[int], size: float) -> list[str]:
    """The header rows: spanners as cells over their columns, a heavy rule on top and a
    light one under the last header row and under each ruled spanner."""
    rows = []
    for i, spans in enumerate(table.header):
        cells, start = [], 0
        for span in spans:
            borders = (("top", 12),) if i == 0 else ()
            if i == len(table.header) - 1 or span.ruled:
                borders += (("bottom", 6),)
            centred = table.columns[start] == "number" or span.width > 1
            paragraph = _paragraph(_run(typeset(span.text), size, italic=False),
                                   keep_next=True, align="center" if centred else "")
            cells.append(_cell(paragraph, sum(widths[start:start + span.width]),
                               span.width, borders=borders))
            start += span.width
        rows.append(_row(cells, header=True))
    return rows


def _body_xml(table: Table, plan: DocxPlan, widths: list[int]) -> list[str]:
    """The body rows. A coefficient's label is one cell merged down beside the rows below
    it (their labels empty), and those rows are kept on one page (keep with next on every
    row of the group but the last; a panel heading stays with the row after it)."""
    size, merged, keep = plan.size_pt, {}, set()
    for first, last in spill_groups(table.rows):
        if table.rows[first].kind == "panel":
            keep.add(first)
        elif last > first:
            merged.update({i: "continue" for i in range(first + 1, last + 1)})
            merged[first] = "restart"
            keep.update(range(first, last))
    rows = []
    for i, row in enumerate(table.rows):
        borders = (("top", 6),) if row.rule else ()
        borders += (("bottom", 12),) if i == len(table.rows) - 1 else ()
        if row.kind == "panel":
            paragraph = _paragraph(_run(typeset(row.cells[0]), size, italic=True),
                                   keep_next=i in keep)
            rows.append(_row([_cell(paragraph, sum(widths), len(widths), borders=borders)]))
            continue
        cells = []
        for j, (text, kind) in enumerate(zip(row.cells, table.columns, strict=True)):
            merge = merged.get(i, "") if j == 0 else ""
            keep_next = i in keep and merge != "continue"
            number = (_number_runs(text, plan.columns[j], size)
                      if kind == "number" and text and not row.center else None)
            if number is not None:
                paragraph = _paragraph(number[0], keep_next, right_indent=number[1],
                                       align="right")
            else:
                runs = _run(typeset(text), size, italic=False) if text else ""
                paragraph = _paragraph(runs, keep_next,
                                       align="center" if kind == "number" else "")
            cells.append(_cell(paragraph, widths[j], merge=merge, borders=borders))
        rows.append(_row(cells))
    return rows


def _table_xml(table: Table, plan: DocxPlan) -> str:
    """The ``w:tbl``: fixed layout (no autofit) with the planned widths in the grid and in
    every cell (the grid wins over the cells in LibreOffice, the cells in Word), no indent
    and the cell margins written out."""
    widths = round_widths([c.width for c in plan.columns])
    margins = "".join(f'<w:{edge} w:w="{value}" w:type="dxa"/>' for edge, value in
                      (("top", 0), ("left", MARGIN_TWIPS), ("bottom", 0),
                       ("right", MARGIN_TWIPS)))
    properties = (f'<w:tblPr><w:tblW w:type="dxa" w:w="{sum(widths)}"/>'
                  '<w:tblInd w:type="dxa" w:w="0"/><w:tblLayout w:type="fixed"/>'
                  f"<w:tblCellMar>{margins}</w:tblCellMar>{TABLE_LOOK}</w:tblPr>")
    grid = "".join(f'<w:gridCol w:w="{twips}"/>' for twips in widths)
    rows = _header_xml(table, widths, plan.size_pt) + _body_xml(table, plan, widths)
    return f"<w:tbl>{properties}<w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"


def _body_xml_text(table: Table, plan: DocxPlan) -> str:
    """The title, the table and the notes: the XML of the document's body."""
    title = _paragraph(_run(typeset(table.title), 10.0, bold=True), keep_next=True,
                       spacing=f'w:after="{_twips(TITLE_AFTER_PT)}"')
    notes = [_paragraph(_run(typeset(("Note: " if i == 0 else "") + note), plan.note_pt,
                             italic=False),
                        spacing=f'w:before="{_twips(NOTES_BEFORE_PT if i == 0 else 0)}"')
             for i, note in enumerate(table.notes)]
    return "".join([title, _table_xml(table, plan), *notes])


def blank_document(size_pt: float) -> docx.Document:
    """A document with no content yet: the page, the Normal style (Times New Roman at
    ``size_pt``, single spaced, no space around paragraphs) and fixed core properties."""
    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Inches(8.5), Inches(11)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Inches(1))
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    normal.font.size = Pt(size_pt)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    core = document.core_properties
    core.title, core.author, core.comments = "", "", ""
    core.created = core.modified = dt.datetime(*EPOCH, tzinfo=dt.UTC)
    core.revision = 1
    return document


@functools.lru_cache(maxsize=8)
def blank_members(size_pt: float) -> tuple[Member, ...]:
    """The members of :func:`blank_document` saved (cached: python-docx takes longer to
    open its template and save a package than this module takes to write a table)."""
    buffer = io.BytesIO()
    blank_document(size_pt).save(buffer)
    source = zipfile.ZipFile(buffer)
    return tuple((info.filename, info.external_attr, source.read(info.filename))
                 for info in source.infolist())


def to_docx(table: Table) -> bytes:
    """The table as the bytes of a .docx file (the same bytes on every run): the blank
    document at the planned font size with the title, the table and the notes in its body
    and the title among its core properties."""
    plan = plan_docx(table)
    try:
        body = _body_xml_text(table, plan).encode("utf-8")
    except ExhibitError as err:
        raise ExhibitError(f"Word table '{table.title}': {err}") from None
    members = []
    for name, attributes, data in blank_members(plan.size_pt):
        if name == "word/document.xml":
            # the body's XML before the blank body's section properties, parsed once as a
            # whole (which checks it) and written as python-docx writes a part
            head, section = data.split(b"<w:sectPr", 1)
            data = serialize_part_xml(parse_xml(head + body + b"<w:sectPr" + section))
        elif name == "docProps/core.xml":
            core = parse_xml(data)
            core.title_text, core.author_text, core.comments_text = table.title, "", ""
            data = serialize_part_xml(core)
        members.append((name, attributes, data))
    return archive(members)


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
