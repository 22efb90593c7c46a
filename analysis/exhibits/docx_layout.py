"""The geometry of a Word table: font size, column widths, decimal tabs, estimated pages.

Word and LibreOffice lay a table out from the widths written into the file (the table grid
and every cell), not from its content, so the writer (:mod:`analysis.exhibits.docx`) must
size the columns itself. :func:`plan_docx` does it from the cell strings and the advance
widths of Times New Roman (Adobe's Times-Roman metrics, which Times New Roman and its
metric-compatible stand-ins, such as Liberation Serif, share):

- number columns as narrow as their widest number (digits left and right of the decimal
  point measured separately, as a decimal tab stop aligns them), their centred cells and
  the longest word of their own header cell;
- the row-label column as wide as its longest label, up to :data:`LABEL_CAP_PT`; longer
  labels wrap (a coefficient's label beside its standard error, see ``Row.spill``);
- text columns share the width left, never narrower than their longest word or
  :data:`MIN_WRAP_EM` ems;
- the font size: the largest of :data:`SIZES` at which the columns fit the 6.5-inch text
  width and the table takes the fewest pages (estimated, rows never split across pages).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from analysis.exhibits.latex import fit_widths
from analysis.exhibits.layout import Row, Table, parse_number, typeset

#: Text width and height of a portrait US-letter page with 1-inch margins, in points.
TEXT_WIDTH_PT = 6.5 * 72
TEXT_HEIGHT_PT = 9.0 * 72
#: Plan the page a little shorter than it is: the height estimates are approximate.
HEIGHT_BUDGET = 0.93
#: Table font sizes tried, largest first (the notes are set a point smaller, not below 8).
SIZES = (10.0, 9.0, 8.0)
#: Left and right inner margin of every cell, in points (0.06 in).
CELL_MARGIN_PT = 4.3
#: Room added to every cell's measured text, in ems: word processors round widths and
#: break a line that fits exactly (inside a number, when it is the only word).
SLACK_EM = 0.15
#: The row-label column is never made wider than this (2.25 in); longer labels wrap.
LABEL_CAP_PT = 2.25 * 72
#: A wrapped text column is never narrower than this many ems.
MIN_WRAP_EM = 7.0
#: Single line spacing of Times New Roman, in ems.
LINE_EM = 1.15
#: Superscript stars are set at this fraction of the font size.
SUPERSCRIPT = 0.65
#: Space after the title and before the notes, in points.
TITLE_AFTER_PT, NOTES_BEFORE_PT = 6.0, 3.0

#: Advance widths of Times-Roman in 1/1000 em (Adobe's AFM); other characters count 500.
TIMES_WIDTHS = {
    200: "|", 250: " ,.", 278: "/:;\\ijlt", 333: "!'()-I[]`fr", 389: "Js", 408: '"',
    444: "?acez\u03c7", 469: "^", 480: "{}", 500: "#$*0123456789_bdghknopquvxy", 541: "~",
    556: "FPS", 564: "+<=>\u2212\u00b1\u00d7", 611: "ELTZ", 667: "BCR",
    722: "ADGHKNOQUVXYw", 778: "&m", 833: "%", 889: "M", 921: "@", 944: "W",
    # symbols the exhibits print: >=, <=, infinity, cup, superscript two, dashes (chi above)
    549: "\u2265\u2264", 713: "\u221e", 365: "\u222a", 300: "\u00b2",
    1000: "\u2014\u2026",
}
_WIDTH = {char: width / 1000 for width, chars in TIMES_WIDTHS.items() for char in chars}


def text_width(text: str, size_pt: float) -> float:
    """Printed width of ``text`` (as typeset: true minus signs, symbols) in points."""
    return size_pt * _ems(text)


@functools.lru_cache(maxsize=1 << 16)
def _ems(text: str) -> float:
    """Width of ``text`` in ems (cached: a table's plan measures each cell many times)."""
    return sum(_WIDTH.get(char, 0.5) for char in typeset(text))


def longest_word(text: str, size_pt: float) -> float:
    """Width of the widest word of ``text`` (a line breaks only at spaces)."""
    return max((text_width(w, size_pt) for w in text.split()), default=0.0)


def wrapped_lines(text: str, width_pt: float, size_pt: float) -> int:
    """Lines ``text`` takes in a column ``width_pt`` wide (greedy breaks at spaces, as Word
    breaks them; a word wider than the column takes a line of its own)."""
    lines, current = 1, 0.0
    space = text_width(" ", size_pt)
    for word in typeset(text).split():
        width = text_width(word, size_pt)
        if current and current + space + width > width_pt:
            lines, current = lines + 1, width
        else:
            current += (space if current else 0.0) + width
    return lines


def line_height(size_pt: float) -> float:
    return LINE_EM * size_pt


# --------------------------------------------------------------------------- columns


@functools.lru_cache(maxsize=1 << 16)
def number_parts(text: str, size_pt: float) -> tuple[float, float] | None:
    """Widths left and right of the decimal point of a displayed number (stars set as
    superscripts), or None when ``text`` is no number."""
    cell = parse_number(text)
    if cell is None:
        return None
    left = text_width(typeset(f"{cell.open}{cell.sign}{cell.whole}"), size_pt)
    right = (text_width(f".{cell.frac}" if cell.frac is not None else "", size_pt)
             + text_width(cell.close, size_pt)
             + SUPERSCRIPT * text_width(cell.stars, size_pt))
    return left, right


def header_cells(table: Table, j: int) -> list[str]:
    """The texts of the header cells that sit over column ``j`` alone."""
    out = []
    for line in table.header:
        start = 0
        for span in line:
            if start == j and span.width == 1:
                out.append(span.text)
            start += span.width
    return out


@dataclass(frozen=True)
class Column:
    """A column's width in points (cell margins included) and, for number columns, where
    the decimal point sits: its distance from the right edge of the cell's text."""

    kind: str
    width: float
    point: float = 0.0

    def indent(self, text: str, size_pt: float) -> float:
        """The right indent that puts the decimal point of the number ``text`` (right
        aligned) at :attr:`point`."""
        parts = number_parts(text, size_pt)
        return max(self.point - parts[1], 0.0) if parts is not None else 0.0


def number_column(table: Table, j: int, size_pt: float, whole_header: bool = False) -> Column:
    """The narrowest number column that holds its numbers aligned on the decimal point (the
    block of them centred), its centred cells and the longest word of its header (its
    whole header on one line: ``whole_header``)."""
    aligned, centred = table.aligned_cells(j)
    parts = [p for p in (number_parts(c, size_pt) for c in aligned) if p is not None]
    left = max([p[0] for p in parts] + [0.0])
    right = max([p[1] for p in parts] + [0.0])
    other = [c for c in aligned if number_parts(c, size_pt) is None] + centred
    content = max([left + right]
                  + [text_width(c, size_pt) for c in other]
                  + [(text_width if whole_header else longest_word)(h, size_pt)
                     for h in header_cells(table, j)]
                  + [2 * text_width("0", size_pt)])
    content += SLACK_EM * size_pt
    return Column("number", content + 2 * CELL_MARGIN_PT, (content - left - right) / 2 + right)


def natural_width(table: Table, j: int, size_pt: float) -> float:
    """The width of column ``j`` with no cell wrapped (margins included)."""
    texts = table.column_cells(j) + header_cells(table, j)
    return (max([text_width(t, size_pt) for t in texts] + [0.0])
            + SLACK_EM * size_pt + 2 * CELL_MARGIN_PT)


def minimum_width(table: Table, j: int, size_pt: float) -> float:
    """The narrowest a text column may wrap to: its longest word, at least
    :data:`MIN_WRAP_EM` ems (never more than its natural width)."""
    texts = table.column_cells(j) + header_cells(table, j)
    words = max([longest_word(t, size_pt) for t in texts] + [MIN_WRAP_EM * size_pt])
    return min(words + SLACK_EM * size_pt + 2 * CELL_MARGIN_PT,
               natural_width(table, j, size_pt))


def label_minimum(table: Table, size_pt: float) -> float:
    """The narrowest the row-label column may be: its longest label up to
    :data:`LABEL_CAP_PT`, never narrower than its longest word."""
    texts = table.column_cells(0) + header_cells(table, 0)
    words = (max([longest_word(t, size_pt) for t in texts] + [0.0])
             + SLACK_EM * size_pt + 2 * CELL_MARGIN_PT)
    return max(min(natural_width(table, 0, size_pt), LABEL_CAP_PT), words)


def columns_at(table: Table, size_pt: float) -> list[Column]:
    """Every column's width at ``size_pt``: number columns as they need (wide enough for
    their headers on one line when no other column must wrap for it); the row labels and
    text columns share what is left of the text width (each at least its minimum, at most
    its natural width, in proportion to the natural widths)."""
    whole = sum(number_column(table, j, size_pt, whole_header=True).width
                for j, kind in enumerate(table.columns) if kind == "number")
    natural = sum(natural_width(table, j, size_pt)
                  for j, kind in enumerate(table.columns) if kind != "number")
    return _columns_at(table, size_pt, whole_header=whole + natural <= TEXT_WIDTH_PT)


def _columns_at(table: Table, size_pt: float, whole_header: bool) -> list[Column]:
    columns: list[Column | None] = [
        number_column(table, j, size_pt, whole_header) if kind == "number" else None
        for j, kind in enumerate(table.columns)]
    wrapping = [j for j, c in enumerate(columns) if c is None]
    minimum = [label_minimum(table, size_pt) if table.columns[j] == "label" and j == 0
               else minimum_width(table, j, size_pt) for j in wrapping]
    room = TEXT_WIDTH_PT - sum(c.width for c in columns if c is not None)
    # each at least its minimum (all at their minimum when even that is too wide)
    widths = (fit_widths([natural_width(table, j, size_pt) for j in wrapping], minimum, room)
              or minimum)
    for j, width in zip(wrapping, widths, strict=True):
        columns[j] = Column(table.columns[j], width)
    return [c for c in columns if c is not None]


# --------------------------------------------------------------------------- pages


def spill_groups(rows: Sequence[Row]) -> list[tuple[int, int]]:
    """(first, last) row positions whose label cell is one merged cell: a row that spills
    (``Row.spill``) and the rows below it with an empty label."""
    groups, i = [], 0
    while i < len(rows):
        last = i
        if rows[i].kind == "body" and rows[i].spill:
            while (last + 1 < len(rows) and rows[last + 1].kind == "body"
                   and not rows[last + 1].cells[0]):
                last += 1
        groups.append((i, last))
        i = last + 1
    return groups


def cell_lines(text: str, column: Column, size_pt: float) -> int:
    if not text:
        return 1
    if column.kind == "number" and parse_number(text) is not None:
        return 1
    return wrapped_lines(text, column.width - 2 * CELL_MARGIN_PT - SLACK_EM * size_pt, size_pt)


def group_height(rows: Sequence[Row], columns: Sequence[Column], size_pt: float,
                 total_width: float) -> float:
    """Height of rows kept together; a spilling label runs down beside the rows below it."""
    line = line_height(size_pt)
    if rows[0].kind == "panel":
        return line * wrapped_lines(rows[0].cells[0], total_width, size_pt)
    heights = [line * max(cell_lines(t, c, size_pt) for t, c in
                          zip(row.cells[1:], columns[1:], strict=True)) if len(columns) > 1
               else line for row in rows]
    label = line * cell_lines(rows[0].cells[0], columns[0], size_pt)
    return max(sum(heights), label)


def header_height(table: Table, columns: Sequence[Column], size_pt: float) -> float:
    line = line_height(size_pt)
    height = 0.0
    for spans in table.header:
        start, lines = 0, 1
        for span in spans:
            width = sum(c.width for c in columns[start:start + span.width])
            lines = max(lines, wrapped_lines(span.text, width - 2 * CELL_MARGIN_PT, size_pt))
            start += span.width
        height += line * lines
    return height


def note_size(size_pt: float) -> float:
    return max(size_pt - 1.0, 8.0)


def estimated_pages(table: Table, columns: Sequence[Column], size_pt: float) -> int:
    """Pages the document takes: title, rows (never split, a spilling group kept
    together, the header repeated on every page), notes below."""
    budget = TEXT_HEIGHT_PT * HEIGHT_BUDGET
    total = sum(c.width for c in columns)
    header = header_height(table, columns, size_pt)
    title = line_height(10.0) * wrapped_lines(table.title, TEXT_WIDTH_PT, 10.0)
    pages, used = 1, title + TITLE_AFTER_PT + header
    for first, last in spill_groups(table.rows):
        height = group_height(table.rows[first:last + 1], columns, size_pt, total)
        if used + height > budget and used > title + TITLE_AFTER_PT + header:
            pages, used = pages + 1, header
        used += height
    small = note_size(size_pt)
    for i, note in enumerate(table.notes):
        height = (line_height(small) * wrapped_lines(note, TEXT_WIDTH_PT, small)
                  + NOTES_BEFORE_PT * (i == 0))
        if used + height > budget:
            pages, used = pages + 1, 0.0
        used += height
    return pages


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class DocxPlan:
    """Font sizes, columns and the estimated number of pages of one Word table."""

    size_pt: float
    note_pt: float
    columns: tuple[Column, ...]
    pages: int

    @property
    def width(self) -> float:
        return sum(c.width for c in self.columns)


def plan_docx(table: Table) -> DocxPlan:
    """The largest font size of :data:`SIZES` at which the table fits the text width and
    takes the fewest pages (when no size fits the width, the smallest)."""
    plans = []
    for size in SIZES:
        columns = columns_at(table, size)
        plans.append(DocxPlan(size, note_size(size), tuple(columns),
                              estimated_pages(table, columns, size)))
    fitting = [p for p in plans if p.width <= TEXT_WIDTH_PT + 1e-6] or plans[-1:]
    fewest = min(p.pages for p in fitting)
    return next(p for p in fitting if p.pages == fewest)


def round_widths(widths: Sequence[float], unit: float = 1.0 / 20) -> list[int]:
    """Widths in points as whole twips (1/20 pt), rounded down so that they never add up to
    more than the widths themselves."""
    return [math.floor(w / unit + 1e-9) for w in widths]
