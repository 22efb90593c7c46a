"""Measure a Word table's geometry from its XML, and render it with LibreOffice (test helper).

:func:`docx_geometry` reads what Word and LibreOffice lay a table out from: the page, the
table's layout type and width, its grid columns and every cell's width, alignment and
merges; :meth:`Geometry.problems` lists what would make the table spill over the text width
or let the word processor resize it. :func:`pdf_pages` converts a .docx to PDF with
LibreOffice (``soffice``) and counts its pages; the caller skips when it is missing.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from analysis.exhibits.docx import read_cells
from analysis.exhibits.docx_layout import (
    CELL_MARGIN_PT,
    LABEL_CAP_PT,
    SLACK_EM,
    TEXT_WIDTH_PT,
    text_width,
)
from analysis.exhibits.layout import parse_number

TEXT_WIDTH_TWIPS = round(TEXT_WIDTH_PT * 20)
#: Families that print Times New Roman's widths (Word's font or a metric-compatible one).
TIMES_METRICS = ("Times New Roman", "Liberation Serif", "Tinos", "TeX Gyre Termes",
                 "Nimbus Roman")


@dataclass(frozen=True)
class Geometry:
    """What one .docx table tells a word processor about its layout."""

    name: str
    page: tuple[float, float, float, float]  # width, height, left and right margin (in)
    layout: str | None  # w:tblLayout (fixed: no autofit)
    table_width: tuple[str | None, int]  # w:tblW type and width
    grid: tuple[int, ...]  # w:gridCol widths (twips)
    cells: tuple[tuple[tuple[int | None, int, str | None, str | None], ...], ...]
    # per row, per cell: width (dxa, None when unset), grid span, vAlign, vMerge
    header_rows: int  # rows repeated on every page (w:tblHeader), from the top
    font_pt: float  # the table's font size (the Normal style's)
    labels: tuple[str, ...]  # the first column's body cells that are text, not panels

    def problems(self) -> list[str]:
        """Everything that breaks the page geometry (an empty list when it holds)."""
        out = []
        if self.page != (8.5, 11.0, 1.0, 1.0):
            out.append(f"page {self.page}, not portrait letter with 1-inch margins")
        if self.layout != "fixed":
            out.append(f"table layout {self.layout!r}: autofit is on")
        if self.table_width != ("dxa", sum(self.grid)):
            out.append(f"table width {self.table_width} is not the grid's {sum(self.grid)}")
        if sum(self.grid) > TEXT_WIDTH_TWIPS:
            out.append(f"columns add up to {sum(self.grid) / 1440:.2f} in > 6.5 in")
        for i, row in enumerate(self.cells):
            start = 0
            for width, span, valign, _ in row:
                wanted = sum(self.grid[start:start + span])
                if width is None or abs(width - wanted) > span:
                    out.append(f"row {i}, column {start}: cell width {width}, grid {wanted}")
                if valign != "top":
                    out.append(f"row {i}, column {start}: vertical alignment {valign}")
                start += span
            if start != len(self.grid):
                out.append(f"row {i} spans {start} of {len(self.grid)} grid columns")
        if self.header_rows < 1:
            out.append("no header row repeated on every page")
        label = self.longest_label_pt()
        if label and self.grid[0] / 20 + 0.05 < min(label, LABEL_CAP_PT):
            out.append(f"label column {self.grid[0] / 20:.1f} pt narrower than its longest "
                       f"label ({label:.1f} pt) and than the cap ({LABEL_CAP_PT:.1f} pt)")
        return out

    def longest_label_pt(self) -> float:
        """Estimated width of the longest row label with the cell's margins, in pt."""
        if not self.labels:
            return 0.0
        return (max(text_width(t, self.font_pt) for t in self.labels)
                + SLACK_EM * self.font_pt + 2 * CELL_MARGIN_PT)


def _attr(element, tag: str, name: str = "w:val") -> str | None:
    child = element.find(qn(tag)) if element is not None else None
    return None if child is None else child.get(qn(name), "continue" if tag == "w:vMerge"
                                                 else None)


def docx_geometry(path: Path) -> Geometry:
    """The layout facts of the first table of the .docx at ``path``."""
    data = path.read_bytes()
    document = docx.Document(io.BytesIO(data))
    section = document.sections[0]
    page = tuple(round(x.inches, 3) for x in (section.page_width, section.page_height,
                                              section.left_margin, section.right_margin))
    tbl = document.tables[0]._tbl
    tbl_pr = tbl.tblPr
    width = tbl_pr.find(qn("w:tblW"))
    grid = tuple(int(c.get(qn("w:w"))) for c in tbl.tblGrid.findall(qn("w:gridCol")))
    rows, header = [], 0
    for i, tr in enumerate(tbl.tr_lst):
        if header == i and tr.trPr is not None and tr.trPr.find(qn("w:tblHeader")) is not None:
            header += 1
        cells = []
        for tc in tr.tc_lst:
            tc_pr = tc.tcPr
            tc_w = tc_pr.find(qn("w:tcW")) if tc_pr is not None else None
            dxa = (int(tc_w.get(qn("w:w"))) if tc_w is not None
                   and tc_w.get(qn("w:type")) == "dxa" else None)
            cells.append((dxa, tc.grid_span, _attr(tc_pr, "w:vAlign"),
                          _attr(tc_pr, "w:vMerge")))
        rows.append(tuple(cells))
    size = document.styles["Normal"].font.size
    labels = tuple(  # panel headings span the table: no row labels
        text[0] for text, cells in zip(read_cells(data)[header:], rows[header:], strict=True)
        if text[0] and parse_number(text[0]) is None and cells[0][1] == 1)
    return Geometry(path.name, page, _attr(tbl_pr, "w:tblLayout", "w:type"),
                    (None if width is None else width.get(qn("w:type")),
                     0 if width is None else int(width.get(qn("w:w")))),
                    grid, tuple(rows), header, size.pt if size else 11.0, labels)


def require_soffice() -> str:
    """The LibreOffice program, or skip (it is large and no part of the package's tools)."""
    program = shutil.which("soffice") or shutil.which("libreoffice")
    if program is None:
        pytest.skip("LibreOffice (soffice) is not on PATH: the Word tables are not rendered")
    match = shutil.which("fc-match") and subprocess.run(
        ["fc-match", "-f", "%{family}", "Times New Roman"], capture_output=True, text=True,
        check=False, timeout=60).stdout
    if match and not any(family in match for family in TIMES_METRICS):
        pytest.skip(f"no font with Times New Roman's widths (fontconfig offers {match!r}): "
                    "install fonts-liberation to render the Word tables as Word does")
    return program


def pdf_pages(files: list[Path], folder: Path) -> dict[str, int]:
    """Pages of each .docx once LibreOffice converts it to PDF (in its own profile, so a
    LibreOffice already running does not take the job)."""
    program = require_soffice()
    profile = (folder / "profile").as_uri()
    subprocess.run([program, f"-env:UserInstallation={profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(folder), *map(str, files)],
                   capture_output=True, text=True, check=True, timeout=600)
    pages = {}
    for path in files:
        pdf = (folder / path.name).with_suffix(".pdf")
        assert pdf.exists(), f"LibreOffice wrote no PDF for {path.name}"
        pages[path.stem] = _page_count(pdf.read_bytes())
    return pages


def _page_count(pdf: bytes) -> int:
    """Pages of a PDF (its /Type /Page objects; pdfinfo is not needed)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
