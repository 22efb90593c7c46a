"""Disclosure control of every file a run leaves in ``output/`` (pure checks, plus removal).

The steps check the cells they compute (:mod:`analysis.exhibits.disclosure`); this module
checks what actually lies in the output tree, whatever step wrote it and whenever, so that
nothing leaves the package unchecked:

* **Firm-level content stops the run**: an exhibit CSV with a column named after a firm
  identifier (the canonical ``firm_id`` / ``interview_id`` and the survey's own names), one
  row per firm of the analysis data, or a key (text or integer column) with exactly as many
  distinct values as there are firms; and any text file (Markdown, LaTeX, HTML, Word, R or
  Stata script) that names an identifier value (``orgnr=912345678``, ``firm_id[17]``).
  Such a file and every file of its exhibit (the same name in the same folder, any
  format) are withheld: removed from ``output/``.
* **Small counts**: every value below the threshold in a column that counts firms
  (:data:`COUNT_HEADER`: ``N``, ``nobs``, ``N valid``, ``Firms affected``, ``Removed``,
  ...) and every small count of firms or observations in a note ("3 obs") is flagged in
  the disclosure report. With ``[disclosure] suppress = true`` the steps replace such
  cells by a marker; a small count still in a file is then withheld, like a firm listing.

Figures (PDF, PNG) are drawn from the checked estimates and are listed without a content
check.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analysis.exhibits import disclosure_text

#: A column that counts firms (case-insensitive): its small values are small cells.
COUNT_HEADER = re.compile(
    r"^(n|nobs|count|firms|firms affected|removed|outcome missing|a regressor missing|"
    r"n_incomplete|dropped_nobs|dropped_rows|n [a-z_ ]+|.*: n)$", re.IGNORECASE)
TEXT_SUFFIXES = (".md", ".tex", ".html", ".htm", ".txt", ".r", ".do", ".json")
NOT_CHECKED = (".pdf", ".png", ".svg", ".parquet")


@dataclass
class FileCheck:
    """What the check found in one file (counts and column names only, never values)."""

    path: Path
    checks: str
    firm_level: list[str] = field(default_factory=list)
    small: list[tuple[str, str, int]] = field(default_factory=list)  # (row, column, count)


@dataclass
class TreeCheck:
    """Every file checked, and which must be withheld and why."""

    files: list[FileCheck]
    withheld: dict[Path, str]  # file -> the reason (names a column or a rule, no value)


def is_count_column(header: str) -> bool:
    return bool(COUNT_HEADER.match(header.strip()))


def as_count(text: str) -> int | None:
    """A cell's value as a count (``"3"``, ``"3.0"``), else None (markers, blanks, text)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else None


def key_columns(header: Sequence[str], rows: list[list[str]]) -> list[tuple[str, int]]:
    """(column, distinct values) of the columns holding text or integers (not floats)."""
    out = []
    for j, name in enumerate(header):
        values = {row[j] for row in rows if j < len(row) and row[j] != ""}
        if values and not any("." in v and as_count(v) is None and _is_float(v)
                              for v in values):
            out.append((name, len(values)))
    return out


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_csv(path: Path, n_firms: int | None, id_names: Sequence[str], threshold: int
              ) -> FileCheck:
    """Firm identifiers, one row per firm, a firm key, and small counts in count columns."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        rows = list(reader)
    found = FileCheck(Path(path), "firm identifiers; small counts")
    ids = {n.lower() for n in id_names}
    named = [c for c in header if c.strip().lower() in ids]
    if named:
        found.firm_level.append(f"column {named[0]!r} identifies firms")
    elif n_firms and len(rows) == n_firms:
        found.firm_level.append(f"{len(rows)} rows, one per firm of the analysis data")
    elif n_firms and n_firms >= threshold:
        keys = [name for name, count in key_columns(header, rows) if count == n_firms]
        if keys:
            found.firm_level.append(f"column {keys[0]!r} has one value per firm")
    for j, name in enumerate(header):
        if not is_count_column(name):
            continue
        for row in rows:
            count = as_count(row[j]) if j < len(row) else None
            if count is not None and 0 < count < threshold:
                found.small.append((row[0] if row else "", name, count))
    found.firm_level += text_problems(" ".join(header) + "\n" + "\n".join(
        ",".join(row) for row in rows), id_names)
    return found


def text_problems(text: str, id_names: Sequence[str]) -> list[str]:
    n = disclosure_text.identifier_values(text, id_names)
    return [f"names {n} identifier value(s) of firms"] if n else []


def file_text(path: Path) -> str:
    """The text a reader sees in a file: a text file's, an HTML page's or a Word file's
    (document and notes) without the markup."""
    suffix = path.suffix.lower()
    if suffix == ".docx":
        with zipfile.ZipFile(path) as archive:
            parts = [n for n in archive.namelist() if n.startswith("word/") and
                     n.endswith(".xml")]
            xml = " ".join(archive.read(n).decode("utf-8", "replace") for n in parts)
        return disclosure_text.visible_text(xml)
    text = path.read_text(encoding="utf-8", errors="replace")
    return disclosure_text.visible_text(text) if suffix in (".html", ".htm") else text


def check_text(path: Path, id_names: Sequence[str], threshold: int) -> FileCheck:
    """Identifier values and small counts of firms or observations in a text file."""
    text = file_text(path)
    found = FileCheck(Path(path), "firm identifiers; small counts in notes")
    found.firm_level += text_problems(text, id_names)
    found.small += [("note", "(text)", n) for n in disclosure_text.small_counts(
        text, threshold)]
    return found


def check_file(path: Path, n_firms: int | None, id_names: Sequence[str], threshold: int
               ) -> FileCheck:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return check_csv(path, n_firms, id_names, threshold)
    if suffix in TEXT_SUFFIXES or suffix == ".docx":
        return check_text(path, id_names, threshold)
    return FileCheck(path, "listed (drawn from the checked estimates)")


def output_files(output: Path, skip: Iterable[Path]) -> list[Path]:
    """Every file below ``output`` except hidden ones and those at or below ``skip``."""
    skipped = [Path(p) for p in skip]
    return [path for path in sorted(Path(output).rglob("*")) if path.is_file()
            and not any(part.startswith(".") for part in path.relative_to(output).parts)
            and not any(path == s or path.is_relative_to(s) for s in skipped)]


def exhibit_family(path: Path) -> list[Path]:
    """The files of one exhibit: the same name in the same folder, in every format."""
    return sorted(p for p in path.parent.glob(f"{path.stem}.*") if p.stem == path.stem)


def check_tree(output: Path, skip: Iterable[Path], n_firms: int | None,
               id_names: Sequence[str], threshold: int, suppress: bool) -> TreeCheck:
    """Check every file below ``output``; the files to withhold, with the reason."""
    files = [check_file(p, n_firms, id_names, threshold) for p in output_files(output, skip)]
    withheld: dict[Path, str] = {}
    for found in files:
        reason = "; ".join(found.firm_level)
        if not reason and suppress and found.small:
            reason = (f"{len(found.small)} cell(s) or note(s) based on fewer than "
                      f"{threshold} firms not suppressed ([disclosure] suppress = true)")
        if reason:
            for member in exhibit_family(found.path):
                withheld.setdefault(member, f"{found.path.name}: {reason}")
    return TreeCheck(files, withheld)


def withhold(files: Iterable[Path]) -> list[Path]:
    """Remove the withheld files; the ones removed."""
    removed = []
    for path in files:
        if Path(path).is_file():
            Path(path).unlink()
            removed.append(Path(path))
    return removed
