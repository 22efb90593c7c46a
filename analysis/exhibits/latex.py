"""LaTeX for a journal page: booktabs, dcolumn, threeparttable, longtable, nothing else.

Every ``.tex`` exhibit is a fragment for a plain ``article`` on a portrait page with 1-inch
margins (6.5 in of text) that loads the packages of :data:`PACKAGES` (README, "LaTeX
exhibits"). :func:`plan_columns` decides the font size and the column types from the cell
strings so that the table fits the text width: numbers in ``dcolumn`` columns aligned on
the decimal point (true minus signs, thousands separators, superscript stars), text that
would not fit in wrapping ``p{}`` columns, headers of number columns broken into lines.
Tables with many rows are ``longtable`` (they may run over pages); the others are floats
with the notes in a ``threeparttable``. A title "Table 2. ..." becomes the caption
"Table 2: ..." (the number is the float's own, not a second one in the text).
The tests compile every exhibit in exactly that page and fail on any overfull box.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from analysis.exhibits.layout import NumberCell, Row, Table, parse_number, typeset

#: The packages every .tex exhibit needs (besides a plain ``article``).
PACKAGES = ("booktabs", "dcolumn", "threeparttable", "longtable", "array")
PAGE = r"\usepackage[letterpaper,margin=1in]{geometry}"
#: The text width of that page in TeX points (6.5 in).
TEXT_WIDTH_PT = 6.5 * 72.27
#: Plan for a little less than the text width: the width estimates are approximate.
BUDGET = 0.95
#: Font sizes tried in order (name, size in pt in a 10pt article) and their line spacing.
SIZES = (("small", 9.0), ("footnotesize", 8.0), ("scriptsize", 7.0))
BASELINE = {"small": 11.0, "footnotesize": 9.5, "scriptsize": 8.0}
#: The text height of that page in TeX points (9 in).
TEXT_HEIGHT_PT = 9.0 * 72.27
TABCOLSEP_PT = 6.0
#: A wrapped text column is never narrower than this many ems.
MIN_WRAP_EM = 7.0


def preamble() -> str:
    """The preamble the exhibits are written for (and compiled with by the tests)."""
    return ("\\documentclass{article}\n" + PAGE + "\n"
            + "\\usepackage{" + ",".join(PACKAGES) + "}\n")


# --------------------------------------------------------------------------- text

LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
    "\u2212": r"$-$", "\u2265": r"$\geq$", "\u2264": r"$\leq$", "\u221e": r"$\infty$",
    "\u222a": r"$\cup$", "\u00d7": r"$\times$", "\u03c7": r"$\chi$",
    "\u00b2": r"\textsuperscript{2}",
    "\u00b1": r"$\pm$", "\u2248": r"$\approx$", "\u2013": "--", "\u2014": "---",
    "\u2026": r"\ldots{}", "\u2192": r"$\rightarrow$", "\u03b2": r"$\beta$",
}


def escape_latex(text: object, breakable: bool = False) -> str:
    """``text`` with LaTeX's special characters escaped, Unicode symbols as LaTeX (minus,
    ≥, ∞, ∪, χ², ...) and hyphens used as minus signs as true minus signs.

    ``breakable``: allow line breaks after ``_``, ``;`` and ``/`` (identifiers in wrapping
    text columns would otherwise stick out of the column).
    """
    out = "".join(LATEX_SPECIALS.get(char, char) for char in typeset(str(text)))
    if breakable:
        out = re.sub(r"(\\_|;|/)", r"\1\\allowbreak{}", out)
    return out


def caption_parts(title: str) -> tuple[str | None, str]:
    """("2", "Logit models ...") for "Table 2. Logit models ..."; (None, title) otherwise."""
    match = re.match(r"^Table\s+([A-Za-z]?\d+[A-Za-z]?)[.:]\s+(.*)$", title, flags=re.S)
    return (match.group(1), match.group(2)) if match else (None, title)


# --------------------------------------------------------------------------- widths

#: Advance widths of Computer Modern Roman at 10 pt (pdflatex's default font), in pt,
#: measured with \\settowidth; other characters count as 5 pt.
CMR10_WIDTHS = {
    2.78: "!',.:;[]`il|", 3.06: "fj", 3.33: "- ", 3.6: "_", 3.61: "I", 3.89: "()t",
    3.92: "r", 3.94: "s", 4.44: "cez", 4.72: "?", 5.0: '"$*/0123456789\\^ago{}~',
    5.14: "J", 5.28: "kqvxy", 5.56: "Sbdhnpu", 6.11: "Z", 6.25: "L", 6.53: "F", 6.81: "EP",
    7.08: "B", 7.22: "CTw", 7.36: "R", 7.5: "AHNUVXY", 7.64: "D", 7.78: "&+<=>@KOQ",
    7.85: "G", 8.33: "#%m", 9.17: "M", 10.28: "W",
    # symbols printed in math mode: minus, infinity, cup, >=, <=, times, chi
    7.79: "\u2212\u2265\u2264\u00d7", 10.0: "\u221e", 6.67: "\u222a", 6.0: "\u03c7",
}
_WIDTH = {char: width for width, chars in CMR10_WIDTHS.items() for char in chars}
#: Width at each font size relative to 10 pt (the 9, 8 and 7 pt designs are wider than
#: the 10 pt one scaled down), measured.
SIZE_FACTOR = {9.0: 0.925, 8.0: 0.85, 7.0: 0.80, 10.0: 1.0}


def text_width(text: str, size_pt: float) -> float:
    """Printed width of ``text`` in pt at font size ``size_pt`` (no kerning: a little more)."""
    factor = SIZE_FACTOR.get(size_pt, size_pt / 10.0)
    return factor * sum(_WIDTH.get(char, 5.0) for char in text)


def longest_word(text: str, size_pt: float) -> float:
    """Width of the longest piece of ``text`` a line cannot break (spaces, and the breaks
    :func:`escape_latex` allows after ``_``, ``;`` and ``/``)."""
    return max((text_width(w, size_pt) for w in re.split(r"[\s;/]+|(?<=_)", text)),
               default=0.0)


def number_units(cell: NumberCell) -> tuple[float, float]:
    """Widths left and right of the decimal point in digit widths (dcolumn's units)."""
    left = (0.78 * len(cell.open) + 1.56 * len(cell.sign) + sum(c.isdigit() for c in cell.whole)
            + 0.56 * cell.whole.count(","))
    right = len(cell.frac or "") + 0.78 * len(cell.close) + 0.75 * len(cell.stars)
    return left, right


@dataclass(frozen=True)
class ColumnPlan:
    """How one column is typeset: its LaTeX column type and (estimated) width in pt."""

    kind: str
    spec: str
    width: float
    wrap: float | None = None  # the width of a p{} column


@dataclass(frozen=True)
class Plan:
    """Font size and columns of one table."""

    size: str
    size_pt: float
    columns: tuple[ColumnPlan, ...]

    @property
    def spec(self) -> str:
        return "@{}" + "".join(c.spec for c in self.columns) + "@{}"


def _number_column(cells: Sequence[str], centred: Sequence[str],
                   size_pt: float) -> tuple[str, float]:
    """dcolumn type and width of a number column (text cells in it are centred, as are the
    cells of rows whose numbers are centred)."""
    lefts, rights = [0.0], [0.0]
    text = [0.0] + [text_width(c, size_pt) for c in centred]
    for cell in cells:
        parsed = parse_number(cell)
        if parsed is None:
            text.append(text_width(cell, size_pt))
            continue
        left, right = number_units(parsed)
        lefts.append(left)
        rights.append(right)
    left, right = math.ceil(max(lefts)), math.ceil(max(rights))
    digit = text_width("0", size_pt)
    width = max((left + right) * digit + text_width(".", size_pt) * (right > 0), max(text))
    return f"D{{.}}{{.}}{{{left}.{right}}}", width


def _header_minimum(table: Table, j: int, size_pt: float, whole: bool = False) -> float:
    """The narrowest a column can be for its own header cells: their longest words, or
    (``whole``) the full text, as an unwrapped text column prints it."""
    widths = [0.0]
    for line in table.header:
        start = 0
        for span in line:
            if start == j and span.width == 1:
                widths.append(text_width(span.text, size_pt) if whole
                              else longest_word(span.text, size_pt))
            start += span.width
    return max(widths)


def fit_widths(natural: list[float], minimum: list[float], room: float) -> list[float] | None:
    """Widths for wrapped columns within ``room``: none wider than its natural width or
    narrower than its minimum; the room left is shared in proportion to the natural widths
    (a long text column gets more than a short one)."""
    if sum(minimum) > room:
        return None
    widths = list(minimum)
    open_ = [i for i in range(len(natural)) if natural[i] > minimum[i]]
    left = room - sum(widths)
    while open_ and left > 1e-6:
        total = sum(natural[i] for i in open_)
        spent = 0.0
        for i in list(open_):
            extra = min(left * natural[i] / total, natural[i] - widths[i])
            widths[i] += extra
            spent += extra
            if natural[i] - widths[i] <= 1e-6:
                open_.remove(i)
        left -= spent
        if spent <= 1e-9:
            break
    return widths


def plan_columns(table: Table, width_pt: float = TEXT_WIDTH_PT,
                 height_pt: float | None = TEXT_HEIGHT_PT) -> Plan:
    """The first layout that fits the page: the largest font size at which the row labels
    need not wrap, else the largest at which wrapping them fits (other text columns wrap
    whenever needed). A float must also fit the text height, unless ``height_pt`` is None
    (a table that may break across pages). When nothing fits, the narrowest layout at the
    smallest size."""
    budget = width_pt * BUDGET
    candidates = [(s, p, False) for s, p in SIZES[:2]] + [(s, p, True) for s, p in SIZES]
    plan = None
    for size, size_pt, wrap_label in candidates:
        plan = _plan_at(table, size, size_pt, budget, wrap_label)
        wide = sum(c.width for c in plan.columns) + 2 * TABCOLSEP_PT * (table.width - 1)
        if wide <= budget and (table.long or height_pt is None
                               or estimated_height(table, plan) <= height_pt * BUDGET):
            return plan
    return plan


def _wrapped_lines(text: str, width: float | None, size_pt: float) -> int:
    if width is None or not text:
        return 1
    return max(1, math.ceil(text_width(text, size_pt) / max(width, 1.0)))


def estimated_height(table: Table, plan: Plan) -> float:
    """Approximate height of the float in pt: caption, header, rows (wrapped lines
    counted), rules and notes."""
    size_pt, skip = plan.size_pt, BASELINE[plan.size]
    width = sum(c.width for c in plan.columns) + 2 * TABCOLSEP_PT * (table.width - 1)
    height = 2 * 12.0 + 3 * 4.0  # caption, top, middle and bottom rules
    for line in table.header:
        height += skip * max([_wrapped_lines(s.text, 0.9 * width / table.width * s.width,
                                             size_pt) for s in line] + [1])
    for row in table.rows:
        lines = [_wrapped_lines(text, column.wrap, size_pt)
                 for text, column in zip(row.cells, plan.columns, strict=False)]
        if row.spill:  # the label's second line sits beside the next row
            lines[0] = 1
        height += skip * max(lines) + 4.0 * row.rule
    for note in table.notes:
        height += BASELINE["footnotesize"] * _wrapped_lines(note, width, 8.0)
    return height


def _spill_minimum(table: Table, j: int, size_pt: float) -> float:
    """A label that spills into the next row must fit in two lines (the second indented)."""
    if j != 0:
        return 0.0
    return max([0.55 * text_width(r.cells[0], size_pt) + size_pt for r in table.rows
                if r.kind == "body" and r.spill] + [0.0])


def _plan_at(table: Table, size: str, size_pt: float, budget: float,
             wrap_label: bool = True) -> Plan:
    columns: list[ColumnPlan] = []
    for j, kind in enumerate(table.columns):
        header = _header_minimum(table, j, size_pt)
        if kind == "number":
            spec, width = _number_column(*table.aligned_cells(j), size_pt)
            columns.append(ColumnPlan(kind, spec, max(width, header)))
        else:
            natural = max([text_width(c, size_pt) for c in table.column_cells(j)]
                          + [_header_minimum(table, j, size_pt, whole=True)])
            columns.append(ColumnPlan(kind, "l", natural))
    separators = 2 * TABCOLSEP_PT * (table.width - 1)
    natural_total = sum(c.width for c in columns) + separators
    if natural_total <= budget:
        return Plan(size, size_pt, tuple(columns))
    wrapped = [j for j, c in enumerate(columns)
               if c.kind == "text" or (c.kind == "label" and wrap_label)]
    fixed = sum(c.width for j, c in enumerate(columns) if j not in wrapped)
    minimum = [max(MIN_WRAP_EM * size_pt, _spill_minimum(table, j, size_pt),
                   _header_minimum(table, j, size_pt),
                   max([longest_word(c, size_pt) for c in table.column_cells(j)] + [0.0]))
               for j in wrapped]
    minimum = [min(m, columns[j].width) for m, j in zip(minimum, wrapped, strict=True)]
    widths = fit_widths([columns[j].width for j in wrapped], minimum,
                         budget - fixed - separators)
    if widths is None:  # too wide even wrapped: the narrowest layout (a smaller size next)
        widths = minimum
    for j, width in zip(wrapped, widths, strict=True):
        columns[j] = ColumnPlan(columns[j].kind,
                                f">{{\\raggedright\\arraybackslash}}p{{{width:.1f}pt}}",
                                width, wrap=width)
    return Plan(size, size_pt, tuple(columns))


# --------------------------------------------------------------------------- cells


def number_latex(cell: NumberCell) -> str:
    """A parsed number for a dcolumn cell (math mode: "-" is a minus sign)."""
    text = cell.open + cell.sign + cell.whole.replace(",", "{,}")
    if cell.frac is not None:
        text += "." + cell.frac
    text += cell.close
    return text + (f"^{{{cell.stars}}}" if cell.stars else "")


def spilled_label(text: str, column: ColumnPlan, size_pt: float) -> str:
    """A row label that continues beside the next row when it needs a second line: a
    top-aligned box of no height (the continuation indented), so the row keeps one line."""
    if column.wrap is None or text_width(text, size_pt) <= column.wrap:
        return escape_latex(text, breakable=column.wrap is not None)
    return (f"\\smash{{\\parbox[t]{{{column.wrap:.1f}pt}}{{\\raggedright\\hangindent=1em"
            f"\\hangafter=1 {escape_latex(text, breakable=True)}}}}}")


def cell_latex(text: str, column: ColumnPlan, center: bool = False) -> str:
    """One body cell for its column (``center``: a number centred, not aligned)."""
    if not text:
        return ""
    if column.kind == "number":
        parsed = parse_number(text)
        if parsed is not None and not center:
            return number_latex(parsed)
        inner = f"${number_latex(parsed)}$" if parsed is not None else escape_latex(text)
        return f"\\multicolumn{{1}}{{c}}{{{inner}}}"
    return escape_latex(text, breakable=column.wrap is not None)


def stacked(text: str, width: float, size_pt: float, align: str = "c") -> str:
    """Escaped ``text``, broken into lines of at most ``width`` pt when it is wider."""
    if text_width(text, size_pt) <= width or " " not in text:
        return escape_latex(text)
    lines, current = [], ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if current and text_width(trial, size_pt) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    lines.append(current)
    body = r"\\".join(escape_latex(line) for line in lines)
    return f"\\begin{{tabular}}[b]{{@{{}}{align}@{{}}}}{body}\\end{{tabular}}"


def header_latex(table: Table, plan: Plan) -> list[str]:
    """The header rows, with \\cmidrule under every spanner."""
    out = []
    for line in table.header:
        cells, rules, start = [], [], 0
        for span in line:
            columns = plan.columns[start:start + span.width]
            width = sum(c.width for c in columns) + 2 * TABCOLSEP_PT * (span.width - 1)
            if span.ruled:
                rules.append(f"\\cmidrule(lr){{{start + 1}-{start + span.width}}}")
            if span.width > 1:
                cells.append(f"\\multicolumn{{{span.width}}}{{c}}"
                             f"{{{stacked(span.text, width, plan.size_pt)}}}")
            elif columns[0].kind == "number":
                cells.append(f"\\multicolumn{{1}}{{c}}"
                             f"{{{stacked(span.text, width, plan.size_pt)}}}")
            elif columns[0].wrap is None:
                cells.append(escape_latex(span.text))
            else:
                cells.append(stacked(span.text, width, plan.size_pt, align="l"))
            start += span.width
        out.append(" & ".join(cells) + r" \\")
        if rules:
            out.append("".join(rules))
    return out


def row_latex(row: Row, plan: Plan) -> list[str]:
    """One body row (with its rule above)."""
    lines = [r"\midrule"] if row.rule else []
    if row.kind == "panel":
        lines.append(f"\\multicolumn{{{len(plan.columns)}}}{{@{{}}l@{{}}}}"
                     f"{{\\textit{{{escape_latex(row.cells[0])}}}}} \\\\")
        return lines
    cells = [cell_latex(text, column, row.center) for text, column in
             zip(row.cells, plan.columns, strict=True)]
    if row.spill:
        cells[0] = spilled_label(row.cells[0], plan.columns[0], plan.size_pt)
    lines.append(" & ".join(cells) + r" \\")
    return lines


# --------------------------------------------------------------------------- documents


def numbering(title: str) -> list[str]:
    """A numbered title ("Table 2. ...") sets the table's number (inside its group)."""
    number, _ = caption_parts(title)
    return [f"\\renewcommand{{\\thetable}}{{{escape_latex(number)}}}"] if number else []


def caption(title: str, label: str, ragged: bool = False) -> str:
    """The caption (without the title's number) and the label. ``ragged``: a caption
    longer than the line is set ragged right (as narrow as a narrow table, justified text
    would stretch its spaces); the list of tables gets the plain text."""
    _, text = caption_parts(title)
    text = escape_latex(text)
    body = f"[{{{text}}}]{{\\raggedright{{}}{text}}}" if ragged else f"{{{text}}}"
    return "\\caption" + body + (f"\\label{{{label}}}" if label else "")


def _caption_wraps(table: Table, plan: Plan) -> bool:
    """Whether "Table n: caption" is (about) wider than the table, so that it wraps."""
    number, text = caption_parts(table.title)
    width = sum(c.width for c in plan.columns) + 2 * TABCOLSEP_PT * (table.width - 1)
    return text_width(f"Table {number or '99'}: {text}", plan.size_pt) > 0.95 * width


def float_head(table: Table, plan: Plan) -> list[str]:
    return [r"\begin{table}[!htbp]", r"\centering", f"\\{plan.size}",
            r"\begin{threeparttable}", *numbering(table.title),
            caption(table.title, table.label, ragged=_caption_wraps(table, plan)),
            f"\\begin{{tabular}}{{{plan.spec}}}", r"\toprule", *header_latex(table, plan),
            r"\midrule"]


def float_tail(notes: Sequence[str]) -> list[str]:
    """The end of a float: bottom rule and the notes, ragged right (notes as narrow as a
    narrow table, justified, would stretch their spaces and hyphenate)."""
    lines = [r"\bottomrule", r"\end{tabular}"]
    if notes:
        lines += [r"\begin{tablenotes}[flushleft]", r"\footnotesize", r"\raggedright",
                  *[f"\\item[] {escape_latex(note, breakable=True)}" for note in notes],
                  r"\end{tablenotes}"]
    return [*lines, r"\end{threeparttable}", r"\end{table}"]


def longtable_lines(table: Table, plan: Plan) -> list[str]:
    """A longtable: caption and header repeated on every page, notes after the table."""
    n = len(plan.columns)
    header = [r"\toprule", *header_latex(table, plan), r"\midrule"]
    number, _ = caption_parts(table.title)
    continued = escape_latex(number) if number else r"\thetable"
    lines = [r"\begingroup", f"\\{plan.size}", r"\setlength{\LTcapwidth}{\linewidth}",
             *numbering(table.title), f"\\begin{{longtable}}{{{plan.spec}}}",
             caption(table.title, table.label) + r" \\",
             *header, r"\endfirsthead",
             f"\\multicolumn{{{n}}}{{@{{}}l@{{}}}}{{\\textit{{Table {continued} "
             r"(continued)}} \\",
             *header, r"\endhead",
             r"\midrule", f"\\multicolumn{{{n}}}{{r@{{}}}}{{\\textit{{(continued)}}}} \\\\",
             r"\endfoot", r"\bottomrule", r"\endlastfoot"]
    for row in table.rows:
        lines += row_latex(row, plan)
    lines.append(r"\end{longtable}")
    if table.notes:
        lines += [r"\par\footnotesize"] + [
            f"\\noindent {escape_latex(note, breakable=True)}\\par" for note in table.notes]
    lines.append(r"\endgroup")
    return lines


def to_latex(table: Table) -> str:
    """The table as a LaTeX fragment (float or longtable) for the page of :func:`preamble`."""
    plan = plan_columns(table, height_pt=None)  # the largest size that fits the width
    if not table.long and estimated_height(table, plan) > TEXT_HEIGHT_PT * BUDGET:
        table = dataclasses.replace(table, long=True)  # too tall for one page: let it break
    if table.long:
        return "\n".join(longtable_lines(table, plan)) + "\n"
    body = [line for row in table.rows for line in row_latex(row, plan)]
    return "\n".join([*float_head(table, plan), *body, *float_tail(table.notes)]) + "\n"
