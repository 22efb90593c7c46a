"""HTML tables that paste into a word processor as tables.

A :class:`~analysis.exhibits.layout.Table` becomes a ``<table>`` with a ``<caption>``, a
``<thead>`` of ``<th scope="col">`` cells (spanners with ``colspan``), a ``<tbody>`` whose
row labels are ``<th scope="row">``, the booktabs rules as cell borders (inline styles, which
word processors keep), superscript stars, true minus signs, and the notes in paragraphs
below the table. :func:`html_document` wraps it in a complete page with a charset;
:func:`exhibit_fragment` takes the table part back out of such a page (the replication
report embeds it).
"""

from __future__ import annotations

import html
import re

from analysis.errors import ExhibitError
from analysis.exhibits.layout import Row, Table, parse_number, typeset

START, END = "<!-- exhibit:start -->", "<!-- exhibit:end -->"
TOP_RULE = "border-top:1.5px solid #000"
MID_RULE = "border-top:0.75px solid #000"
BOTTOM_RULE = "border-bottom:1.5px solid #000"
STYLE = """body{font-family:"Times New Roman",Times,serif;font-size:11pt;margin:2em;}
table.exhibit{border-collapse:collapse;margin:0 0 0.5em 0;}
table.exhibit caption{caption-side:top;text-align:left;font-weight:bold;padding-bottom:0.4em;}
table.exhibit th,table.exhibit td{padding:0.15em 0.6em;vertical-align:bottom;}
table.exhibit td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums;}
table.exhibit td.center{text-align:center;white-space:nowrap;}
table.exhibit th[scope=row],table.exhibit td.text{text-align:left;}
table.exhibit th[scope=col],table.exhibit th[scope=colgroup]{text-align:center;font-weight:normal;}
table.exhibit th.panel{text-align:left;font-style:italic;font-weight:normal;}
p.note{font-size:9pt;margin:0.2em 0;max-width:50em;}"""


def escape(text: str) -> str:
    """HTML-escaped text with true minus signs."""
    return html.escape(typeset(text), quote=True)


def number_html(text: str) -> str | None:
    """A number cell with its stars as superscript, or None when ``text`` is no number."""
    cell = parse_number(text)
    if cell is None:
        return None
    digits = cell.whole + (f".{cell.frac}" if cell.frac is not None else "")
    core = escape(f"{cell.open}{cell.sign}{digits}{cell.close}")
    return core + (f"<sup>{cell.stars}</sup>" if cell.stars else "")


def _style(rules: list[str]) -> str:
    return f' style="{";".join(rules)}"' if rules else ""


def _header(table: Table) -> list[str]:
    lines = ["<thead>"]
    last = len(table.header) - 1
    for i, spans in enumerate(table.header):
        rules = ([TOP_RULE] if i == 0 else []) + (["border-bottom:0.75px solid #000"]
                                                   if i == last else [])
        cells = []
        for j, span in enumerate(spans):
            scope = "colgroup" if span.width > 1 else "col"
            span_rule = list(rules)
            if span.ruled and i != last:
                span_rule.append("border-bottom:0.75px solid #000")
            colspan = f' colspan="{span.width}"' if span.width > 1 else ""
            if j == 0 and not span.text and span.width == 1:
                cells.append(f"<td{_style(span_rule)}></td>")
                continue
            cells.append(f'<th scope="{scope}"{colspan}{_style(span_rule)}>'
                         f"{escape(span.text)}</th>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines.append("</thead>")
    return lines


def _row(row: Row, table: Table, first: bool, last: bool) -> str:
    rules = ([MID_RULE] if row.rule and not first else []) + ([BOTTOM_RULE] if last else [])
    if not table.header and first:
        rules.append(TOP_RULE)
    if row.kind == "panel":
        return (f'<tr><th class="panel" scope="rowgroup" colspan="{table.width}"'
                f"{_style(rules)}>{escape(row.cells[0])}</th></tr>")
    cells = []
    for j, (text, kind) in enumerate(zip(row.cells, table.columns, strict=True)):
        if kind == "label" and j == 0:
            cells.append(f'<th scope="row"{_style(rules)}>{escape(text)}</th>')
            continue
        number = number_html(text) if kind == "number" else None
        css = ("center" if row.center or number is None else "num") if kind == "number" \
            else "text"
        cells.append(f'<td class="{css}"{_style(rules)}>'
                     f"{number if number is not None else escape(text)}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def table_html(table: Table) -> str:
    """The table and its notes (no page around them)."""
    lines = ['<table class="exhibit">', f"<caption>{escape(table.title)}</caption>"]
    if table.header:
        lines += _header(table)
    lines.append("<tbody>")
    n = len(table.rows)
    lines += [_row(row, table, i == 0, i == n - 1) for i, row in enumerate(table.rows)]
    lines += ["</tbody>", "</table>"]
    lines += [f'<p class="note">{"Note: " if i == 0 else ""}{escape(note)}</p>'
              for i, note in enumerate(table.notes)]
    return "\n".join(lines)


def html_document(title: str, body: str) -> str:
    """A complete page (charset, title, the exhibit styles) around ``body``."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(title)}</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n"
            f"{START}\n{body}\n{END}\n</body>\n</html>\n")


def to_html(table: Table) -> str:
    """The table as a complete HTML page."""
    return html_document(table.title, table_html(table))


def exhibit_fragment(page: str) -> str:
    """The exhibit part of a page written by :func:`html_document`."""
    match = re.search(re.escape(START) + r"\n(.*)\n" + re.escape(END), page, flags=re.S)
    if match is None:
        raise ExhibitError("not an exhibit page: its start/end markers are missing")
    return match.group(1)
