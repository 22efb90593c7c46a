"""A table as every output format draws it: title, header rows with spanners, body, notes.

Every exhibit table (regression tables and plain frames alike) is turned into one
:class:`Table`; the LaTeX (:mod:`analysis.exhibits.latex`), HTML
(:mod:`analysis.exhibits.html`), Word (:mod:`analysis.exhibits.docx`) and Markdown
renderers draw that one object, so the formats cannot disagree. Cells are display strings
in plain text: numbers as ASCII (``-0.122***``, ``(0.044)``, ``1,420``), which each renderer
turns into its own minus sign, superscript stars and decimal alignment (:func:`parse_number`);
anything else is text (Unicode symbols such as ``≥``, ``∞`` or ``∪`` allowed).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from analysis.errors import ExhibitError

#: Column kinds: the row-label column, a text column (wraps), a number column (aligned on
#: the decimal point).
COLUMN_KINDS = ("label", "text", "number")
#: Row kinds: an ordinary row, or a panel heading (its first cell spans the table).
ROW_KINDS = ("body", "panel")

NUMBER = re.compile(
    r"^(?P<open>[(\[]?)(?P<sign>-?)(?P<whole>\d{1,3}(?:,\d{3})+|\d+)"
    r"(?:\.(?P<frac>\d+))?(?P<close>[)\]]?)(?P<stars>\*{0,3})$")
#: A hyphen that is a minus sign: before a digit (or infinity), at the start or after a
#: space or bracket.
MINUS = re.compile(r"(?:(?<=^)|(?<=[\s(\[=,;:]))-(?=\.?\d|\u221e)")
TRUE_MINUS = "\u2212"


@dataclass(frozen=True)
class NumberCell:
    """A number cell split into the parts the renderers place: ``(`` ``-`` ``1,420`` ``.``
    ``5`` ``)`` ``***``."""

    open: str
    sign: str
    whole: str
    frac: str | None
    close: str
    stars: str


def parse_number(text: str) -> NumberCell | None:
    """The parts of a displayed number (optionally in brackets, with stars), else None."""
    match = NUMBER.match(text)
    if match is None:
        return None
    return NumberCell(match["open"], match["sign"], match["whole"], match["frac"],
                      match["close"], match["stars"])


def true_minus(text: str) -> str:
    """Hyphens used as minus signs (``-0.5``, ``b = -1``) as the minus sign U+2212."""
    return MINUS.sub(TRUE_MINUS, text)


#: ASCII stand-ins for mathematical symbols in the text of an exhibit, and the symbols.
SYMBOLS = ((">=", "\u2265"), ("<=", "\u2264"), ("+-", "\u00b1"))


def typeset(text: str) -> str:
    """Text as printed: true minus signs and the symbols for ">=", "<=" and "+-"."""
    text = true_minus(text)
    for ascii_text, symbol in SYMBOLS:
        text = text.replace(ascii_text, symbol)
    return text


@dataclass(frozen=True)
class Span:
    """One header cell spanning ``width`` columns; ``rule``: a rule under it (default: when
    it spans several columns)."""

    text: str
    width: int = 1
    rule: bool | None = None

    @property
    def ruled(self) -> bool:
        return bool(self.text) and (self.width > 1 if self.rule is None else self.rule)


@dataclass(frozen=True)
class Row:
    """A body row: one display string per column; ``rule``: a rule above the row;
    ``center``: its numbers are centred rather than aligned on the decimal point (counts
    and fit statistics, whose many digits left of the point would widen every column);
    ``spill``: a label too long for one line continues beside the next row, whose own
    label is empty (a coefficient's label beside its standard error)."""

    cells: tuple[str, ...]
    kind: str = "body"
    rule: bool = False
    center: bool = False
    spill: bool = False  # a long row label may run on into the next row (its label empty)


@dataclass(frozen=True)
class Table:
    """Everything a renderer needs to draw one exhibit table.

    columns: the kind of each column ("label", "text" or "number").
    header: header rows, each a tuple of :class:`Span` whose widths add up to the columns.
    rows: body rows. notes: plain-text notes below the table. label: the LaTeX label.
    long: may run over several pages (LaTeX longtable; the other formats do not care).
    """

    title: str
    columns: tuple[str, ...]
    header: tuple[tuple[Span, ...], ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()
    label: str = ""
    long: bool = False

    def __post_init__(self) -> None:
        width = len(self.columns)
        bad = [k for k in self.columns if k not in COLUMN_KINDS]
        if bad or not width:
            raise ExhibitError(f"table {self.title!r}: column kinds {bad or '[]'} are not "
                               f"among {COLUMN_KINDS}")
        for line in self.header:
            if sum(s.width for s in line) != width:
                raise ExhibitError(f"table {self.title!r}: a header row spans "
                                   f"{sum(s.width for s in line)} of {width} columns")
        for row in self.rows:
            if row.kind not in ROW_KINDS:
                raise ExhibitError(f"table {self.title!r}: row kind {row.kind!r} is not "
                                   f"among {ROW_KINDS}")
            if row.kind == "body" and len(row.cells) != width:
                raise ExhibitError(f"table {self.title!r}: a row has {len(row.cells)} cells "
                                   f"for {width} columns: {row.cells}")

    @property
    def width(self) -> int:
        return len(self.columns)

    def column_cells(self, j: int) -> list[str]:
        """The body cells of column ``j`` (panel rows left out)."""
        return [r.cells[j] for r in self.rows if r.kind == "body"]

    def aligned_cells(self, j: int) -> tuple[list[str], list[str]]:
        """The cells of column ``j`` aligned on the decimal point, and the centred ones."""
        body = [r for r in self.rows if r.kind == "body"]
        return ([r.cells[j] for r in body if not r.center],
                [r.cells[j] for r in body if r.center])


# --------------------------------------------------------------------------- frames


#: Significance thresholds, largest first (stargazer's order).
SIG_LEVELS: tuple[float, float, float] = (0.10, 0.05, 0.01)


def significance_stars(p_value: float | None) -> str:
    """Stars for a two-sided p-value: *** below 0.01, ** below 0.05, * below 0.10."""
    if p_value is None or pd.isna(p_value):
        return ""
    return "*" * sum(p_value < level for level in SIG_LEVELS)


def display_value(value: float, decimals: int) -> float:
    """``value``, or +0.0 when it rounds to zero at ``decimals``: the sign of a number too
    small to show is noise, so no exhibit prints "-0.000"."""
    if value is None or not math.isfinite(value):
        return value
    return 0.0 if float(f"{value:.{decimals}f}") == 0.0 else float(value)


def format_cell(value: object, decimals: int) -> str:
    """One cell: numbers with ``decimals`` places (whole numbers of integer columns without),
    thousands separated; missing as blank; booleans as Yes/No."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{display_value(value, decimals):,.{decimals}f}"
    return str(value)


def is_number_column(series: pd.Series) -> bool:
    """Numbers (not booleans, which print as Yes/No)."""
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def column_kind(series: pd.Series, cells: pd.Series) -> str:
    """"number" for numbers, also for text columns whose every filled cell is a displayed
    number (a frame formatted row by row); "text" otherwise."""
    if is_number_column(series):
        return "number"
    filled = [c for c in cells if c]
    return "number" if filled and all(parse_number(c) for c in filled) else "text"


def column_decimals(frame: pd.DataFrame, decimals: int | Mapping[str, int]) -> dict[str, int]:
    """Decimals per column: one number for all, or a mapping (absent columns: 3)."""
    if isinstance(decimals, int):
        return {str(c): decimals for c in frame.columns}
    return {str(c): int(decimals.get(str(c), 3)) for c in frame.columns}


def is_whole(series: pd.Series) -> bool:
    """A numeric column whose values are all whole numbers (counts, possibly missing)."""
    if not is_number_column(series) or pd.api.types.is_integer_dtype(series):
        return is_number_column(series)
    values = pd.to_numeric(series, errors="coerce").dropna().to_numpy(float)
    return bool(len(values)) and bool((values == values.round()).all())


def formatted(frame: pd.DataFrame, decimals: int | Mapping[str, int] = 3) -> pd.DataFrame:
    """A frame of display strings (:func:`format_cell`); a column of whole numbers prints
    them without decimals (N, counts, minimum and maximum of a count)."""
    places = column_decimals(frame, decimals)
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        series = frame[column]
        whole = is_whole(series)
        out[str(column)] = [
            format_cell(int(v) if whole and pd.notna(v) else (v.item() if hasattr(v, "item")
                                                              else v), places[str(column)])
            for v in series]
    return out


def spanned_header(names: Sequence[str], separator: str = ": ") -> tuple[tuple[Span, ...], ...]:
    """Header rows for column names; neighbours named ``group: part`` share a spanner.

    ``["Outcome", "Local: AME", "Local: SE"]`` gives a spanner "Local" over "AME" and "SE".
    Without such groups: one header row of the names.
    """
    groups: list[tuple[str, list[str]]] = []
    for name in names:
        head, sep, tail = name.partition(separator)
        key = head if sep else None
        if key is not None and groups and groups[-1][0] == key:
            groups[-1][1].append(tail)
        else:
            groups.append((key, [tail if sep else name]) if key is not None else ("", [name]))
    if all(len(parts) == 1 and not key for key, parts in groups):
        return (tuple(Span(n) for n in names),)
    top, bottom = [], []
    for key, parts in groups:
        if len(parts) == 1 and key:  # a lone "group: part" keeps its full name
            top.append(Span(""))
            bottom.append(Span(f"{key}{separator}{parts[0]}"))
            continue
        top.append(Span(key, len(parts)))
        bottom += [Span(p) for p in parts]
    return (tuple(top), tuple(bottom))


#: Tables with more body rows than this may break across pages (LaTeX longtable).
LONG_ROWS = 40


@dataclass(frozen=True)
class FrameLayout:
    """How a frame becomes a :class:`Table`: decimals, panels and the long-table switch."""

    decimals: int | Mapping[str, int] = 3
    panel_column: str | None = None  # a column whose changes start a new panel heading
    long: bool | None = None  # None: long when more than LONG_ROWS rows
    rules_before: Sequence[int] = field(default_factory=tuple)  # row positions with a rule


def frame_table(frame: pd.DataFrame, title: str, notes: Sequence[str] = (),
                layout: FrameLayout | None = None, label: str = "") -> Table:
    """The :class:`Table` of a plain frame: its columns (first text column = row labels)."""
    layout = layout or FrameLayout()
    shown = frame.drop(columns=[layout.panel_column]) if layout.panel_column else frame
    cells = formatted(shown, layout.decimals)
    kinds = [column_kind(shown[c], cells[str(c)]) for c in shown.columns]
    if kinds and kinds[0] == "text":
        kinds[0] = "label"
    rows: list[Row] = []
    panel = None
    rules = set(layout.rules_before)
    for position, values in enumerate(cells.itertuples(index=False, name=None)):
        if layout.panel_column:
            current = str(frame[layout.panel_column].iloc[position])
            if current != panel:
                rows.append(Row((current,), kind="panel", rule=bool(rows)))
                panel = current
        rows.append(Row(tuple(values), rule=position in rules))
    long = layout.long if layout.long is not None else len(frame) > LONG_ROWS
    return Table(title=title, columns=tuple(kinds),
                 header=spanned_header([str(c) for c in shown.columns]), rows=tuple(rows),
                 notes=tuple(notes), label=label, long=long)


# --------------------------------------------------------------------------- markdown


def _md(text: str) -> str:
    return typeset(text).replace("|", "\\|")


def to_markdown(table: Table) -> str:
    """GitHub-flavoured Markdown: the first header row is the table head, further header
    rows follow as body rows; a spanner repeats over its columns; notes below (one
    paragraph each, the first introduced by "Note:", as in the other formats)."""
    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(_md(v) for v in values) + " |"

    header = [[s.text for s in spans for _ in range(s.width)] for spans in table.header]
    if not header:
        header = [[""] * table.width]
    align = "|" + "|".join("---:" if k == "number" else ":---" for k in table.columns) + "|"
    body = [line(h) for h in header[1:]]
    for row in table.rows:
        cells = row.cells if row.kind == "body" else (f"*{row.cells[0]}*",
                                                      *[""] * (table.width - 1))
        body.append(line(cells))
    notes = []
    for i, note in enumerate(table.notes):  # one paragraph each, "Note:" before the first
        notes += ["", ("*Note:* " if i == 0 else "") + _md(note)]
    return "\n".join([f"**{table.title}**", "", line(header[0]), align, *body, *notes]) + "\n"
