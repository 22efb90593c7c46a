"""Statistical disclosure control of the exhibits (pure functions, no I/O).

Real survey microdata are confidential: no exhibit may show a cell that describes fewer
than ``min_cell_count`` firms (default 5; ``[disclosure]`` of the study configuration,
contract C6). The functions that compute an exhibit also return the *cells* behind it: one
row per exhibit cell and per count the cell rests on (``row``, ``column``, ``count``,
``basis``), for example a share rests on the firms answering the item (its denominator),
the firms answering yes (its numerator) and those answering no (the complement).

:func:`check_exhibit` flags every cell with ``0 < count < min_cell_count`` (a zero count
describes nobody) and, when ``suppress`` is true, replaces it by a marker: ``<5`` when the
cell is itself a count of firms, ``suppressed`` otherwise. Each step writes its flags to
``<output>/disclosure/<step>.csv``; the ``disclosure`` step merges them into
``output/tables/disclosure_report.{csv,md}`` and checks that no exhibit holds firm-level
rows (:func:`firm_level_problems`).

What this does not do (documented limits): no secondary suppression (a suppressed count
may still be derivable from a total and the other rows), no dominance rule for means of
skewed variables, and weighted shares are judged by their unweighted firm counts.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import io
from analysis.errors import DisclosureError

DEFAULT_MIN_CELL_COUNT = 5
CELL_COLUMNS = ("row", "column", "count", "basis")
FLAG_COLUMNS = ("exhibit", "row", "column", "count", "threshold", "action", "basis")
SUPPRESSED = "suppressed"
#: The basis of a cell that is itself a count of firms (suppressed as "<k").
COUNT_BASIS = "firms in the cell"
#: Canonical identifier columns; an exhibit with one of them is a firm-level listing.
ID_COLUMNS = ("firm_id", "interview_id")


@dataclass(frozen=True)
class DisclosureSettings:
    """Minimum number of firms behind a cell, and whether to suppress (else only flag)."""

    min_cell_count: int = DEFAULT_MIN_CELL_COUNT
    suppress: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.min_cell_count, bool) or not isinstance(self.min_cell_count, int) \
                or self.min_cell_count < 1:
            raise DisclosureError(f"[disclosure] min_cell_count must be an integer >= 1, got "
                                  f"{self.min_cell_count!r}")

    @property
    def marker(self) -> str:
        return f"<{self.min_cell_count}"


@dataclass(frozen=True)
class CheckedExhibit:
    """An exhibit frame after the check, its flags (FLAG_COLUMNS) and a note for it."""

    frame: pd.DataFrame
    flags: pd.DataFrame
    notes: tuple[str, ...]


def settings_from_config(cfg: Any) -> DisclosureSettings:
    """The settings of a :class:`~analysis.data.study_config.StudyConfig` (defaults if absent)."""
    section = getattr(cfg, "disclosure", None)
    if section is None:
        return DisclosureSettings()
    return DisclosureSettings(int(section.min_cell_count), bool(section.suppress))


# ------------------------------------------------------------------------------- cells


def empty_cells() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series(dtype="object"), "column": pd.Series(dtype="object"),
                         "count": pd.Series(dtype="int64"), "basis": pd.Series(dtype="object")})


def cells_frame(records: Iterable[tuple[object, object, int, str]]) -> pd.DataFrame:
    """A cells frame from ``(row, column, count, basis)`` tuples."""
    rows = [(str(r), str(c), int(n), str(b)) for r, c, n, b in records]
    if not rows:
        return empty_cells()
    return pd.DataFrame(rows, columns=list(CELL_COLUMNS)).astype({"count": "int64"})


def share_cells(row: object, column: object, values: pd.Series) -> list[tuple]:
    """Counts behind a share of a 0/1 series: answering, yes and no (missing values left out)."""
    known = values.dropna()
    yes = int((known == 1).sum())
    return [(row, column, len(known), "firms with the item known"),
            (row, column, yes, "firms with value 1"),
            (row, column, len(known) - yes, "firms with value 0")]


def empty_flags() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in FLAG_COLUMNS})
    return frame.astype({"count": "int64", "threshold": "int64"})


# ---------------------------------------------------------------------------- checking


def flag_cells(exhibit: str, cells: pd.DataFrame | None,
               settings: DisclosureSettings) -> pd.DataFrame:
    """One flag per exhibit cell resting on 0 < count < min_cell_count firms.

    A cell with several small counts is flagged once, with its smallest count.
    """
    if cells is None or cells.empty:
        return empty_flags()
    small = cells[(cells["count"] > 0) & (cells["count"] < settings.min_cell_count)]
    if small.empty:
        return empty_flags()
    # keep the first (row, column) position of the exhibit, smallest count first
    order = {key: i for i, key in enumerate(dict.fromkeys(zip(cells["row"], cells["column"],
                                                              strict=True)))}
    small = small.assign(_pos=[order[k] for k in zip(small["row"], small["column"],
                                                     strict=True)])
    small = small.sort_values(["_pos", "count"], kind="stable").drop_duplicates(["row",
                                                                                 "column"])
    flags = pd.DataFrame({
        "exhibit": exhibit,
        "row": small["row"].to_numpy(),
        "column": small["column"].to_numpy(),
        "count": small["count"].to_numpy(dtype="int64"),
        "threshold": settings.min_cell_count,
        "action": "suppressed" if settings.suppress else "flagged",
        "basis": small["basis"].to_numpy(),
    }, columns=list(FLAG_COLUMNS))
    return flags.astype({"count": "int64", "threshold": "int64"}).reset_index(drop=True)


def suppress_cells(frame: pd.DataFrame, key_column: str, flags: pd.DataFrame,
                   cells: pd.DataFrame, settings: DisclosureSettings) -> pd.DataFrame:
    """``frame`` with every flagged cell replaced by a marker (``<k`` for counts)."""
    if flags.empty:
        return frame
    out = frame.copy()
    keys = out[key_column].astype(str)
    count_cells = set(zip(cells.loc[cells["basis"] == COUNT_BASIS, "row"],
                          cells.loc[cells["basis"] == COUNT_BASIS, "column"], strict=True))
    for row, column in zip(flags["row"], flags["column"], strict=True):
        if column not in out.columns:
            raise DisclosureError(f"cell ({row!r}, {column!r}): no such column in the exhibit")
        where = (keys == row).to_numpy()
        if not where.any():
            raise DisclosureError(f"cell ({row!r}, {column!r}): no such row in the exhibit")
        if out[column].dtype != object:
            out[column] = out[column].astype(object)
        marker = settings.marker if (row, column) in count_cells else SUPPRESSED
        out.loc[where, column] = marker
    return out


def disclosure_note(flags: pd.DataFrame, settings: DisclosureSettings) -> tuple[str, ...]:
    """The note an exhibit gets when some of its cells are flagged (none otherwise)."""
    if flags.empty:
        return ()
    n, k = len(flags), settings.min_cell_count
    cells = f"{n} cell{'s' if n != 1 else ''}"
    if settings.suppress:
        return (f"Disclosure control: {cells} based on fewer than {k} firms suppressed "
                f"(shown as {settings.marker} for counts, '{SUPPRESSED}' for statistics); "
                f"see disclosure_report.",)
    return (f"Disclosure control: {cells} based on fewer than {k} firms flagged in "
            f"disclosure_report (not suppressed: [disclosure] suppress = false).",)


def check_exhibit(exhibit: str, frame: pd.DataFrame, cells: pd.DataFrame | None,
                  key_column: str, settings: DisclosureSettings) -> CheckedExhibit:
    """Flag (and, if configured, suppress) the small cells of one exhibit."""
    flags = flag_cells(exhibit, cells, settings)
    if settings.suppress and cells is not None:
        frame = suppress_cells(frame, key_column, flags, cells, settings)
    return CheckedExhibit(frame, flags, disclosure_note(flags, settings))


def merge_flags(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Stack flag frames (each FLAG_COLUMNS) in the given order."""
    frames = [f for f in frames if not f.empty]
    if not frames:
        return empty_flags()
    merged = pd.concat([f[list(FLAG_COLUMNS)] for f in frames], ignore_index=True)
    return merged.astype({"count": "int64", "threshold": "int64"})


# ------------------------------------------------------------------------- firm level


def csv_shape(path: Path) -> tuple[list[str], int]:
    """Header and number of data records of a CSV file (quoted newlines handled)."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        return header, sum(1 for _ in reader)


def firm_level_problems(files: Sequence[Path], n_firms: int | None,
                        id_columns: Iterable[str] = ID_COLUMNS) -> list[str]:
    """Exhibit CSVs that look like firm-level listings, one message per file.

    A file is firm level if a column is a firm identifier (``id_columns``: the canonical
    ids and the survey's own id columns) or if it has exactly one row per firm.
    """
    ids = {c.lower() for c in id_columns}
    problems = []
    for path in files:
        header, n_rows = csv_shape(path)
        named = [c for c in header if c.strip().lower() in ids]
        if named:
            problems.append(f"{path}: column {named[0]!r} identifies firms; exhibits must not "
                            f"list firms (aggregate or drop the column)")
        elif n_firms and n_rows == n_firms:
            problems.append(f"{path}: {n_rows} rows, one per firm of the analysis data; "
                            f"exhibits must not list firms (aggregate the rows)")
    return problems


def exhibit_csvs(output: Path, skip: Iterable[Path]) -> list[Path]:
    """Every CSV below ``output`` except hidden files, ``output``'s own top-level files
    (the manifest) and those below or equal to ``skip`` (logs, flags, other studies, the
    report itself)."""
    skipped = [Path(p) for p in skip]
    return [path for path in sorted(Path(output).rglob("*.csv"))
            if not path.name.startswith(".") and path.parent != Path(output)
            and not any(path == s or path.is_relative_to(s) for s in skipped)]


def number_of_rows(files: Sequence[Path]) -> int | None:
    """Rows of the first existing Parquet file of ``files`` (read from its footer)."""
    import pyarrow.parquet as pq

    for path in files:
        if Path(path).is_file():
            return int(pq.ParquetFile(path).metadata.num_rows)
    return None


def id_columns(cfg: Any) -> list[str]:
    """The canonical id columns and the survey's own names for them (a StudyConfig)."""
    own = [cfg.columns[r] for r in ID_COLUMNS if r in cfg.columns]
    return list(dict.fromkeys([*ID_COLUMNS, *own]))


# ------------------------------------------------------------------------------- flags


def write_flags(path: Path, flags: pd.DataFrame) -> Path:
    """Write a step's flags (header only when nothing is flagged), atomically."""
    frame = merge_flags([flags]) if not flags.empty else empty_flags()
    return io.write_csv(path, frame)


def collected_flags(folder: Path, order: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """The flag files of ``folder``: those named in ``order`` (steps) first, then by name."""
    present = {p.stem: p for p in Path(folder).glob("*.csv") if not p.name.startswith(".")}
    names = [name for name in order if name in present]
    names += sorted(set(present) - set(names))
    frames = []
    for name in names:
        frame = pd.read_csv(present[name], dtype={"row": str, "column": str},
                            keep_default_na=False)
        if not frame.empty:
            frames.append(frame.astype({"count": "int64", "threshold": "int64"}))
    return merge_flags(frames), names


# ------------------------------------------------------------------------------- report


def report_exhibit(report: pd.DataFrame, settings: DisclosureSettings, n_files: int,
                   sources: Sequence[str]) -> tuple[pd.DataFrame, str, list[str]]:
    """The disclosure report as printed: (frame, title, notes); when nothing is flagged the
    frame says so in one row instead of being empty."""
    k = settings.min_cell_count
    mode = ("suppressed (replaced by a marker)" if settings.suppress
            else "flagged only (set [disclosure] suppress = true in the study configuration "
                 "to suppress them)")
    notes = [
        f"Threshold: cells based on fewer than {k} firms ([disclosure] min_cell_count = {k}) "
        f"are {mode}. Counts are unweighted numbers of firms; a zero count describes nobody "
        f"and is not flagged.",
        f"Firm-level check: none of the {n_files} exhibit CSV files has a firm identifier "
        f"column or one row per firm.",
        f"Flags collected from: {', '.join(sources) if sources else 'no step'}.",
        "Not covered: secondary suppression (a suppressed cell may be derivable from totals) "
        "and dominance rules for means of skewed variables.",
    ]
    if report.empty:
        frame = pd.DataFrame({"Result": [f"Nothing flagged: no exhibit cell is based on fewer "
                                         f"than {k} firms."]})
        return frame, "Disclosure report", notes
    exhibits = report["exhibit"].nunique()
    title = (f"Disclosure report: {len(report)} cell(s) in {exhibits} exhibit(s) based on "
             f"fewer than {k} firms")
    return report, title, notes

