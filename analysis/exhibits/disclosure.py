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

A magnitude cell (a mean or total of a non-negative variable, such as employment) also
follows an (n, k) dominance rule: it is flagged (suppressed) when its ``dominance_n``
largest firms contribute more than ``dominance_share`` of its total (default n = 2,
k = 85%); the cell records the cumulative shares of its largest contributions
(:func:`magnitude_cell`).

Every file the run leaves in ``output/`` is checked again by the disclosure step
(:mod:`analysis.exhibits.disclosure_scan`); :func:`scan_flags` turns what it finds into
report rows and :func:`checks_exhibit` lists every file checked.

What this does not do (documented limits): no secondary suppression (a suppressed count
may still be derivable from a total and the other rows), and weighted shares are judged by
their unweighted firm counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import io
from analysis.errors import DisclosureError

DEFAULT_MIN_CELL_COUNT = 5
DEFAULT_DOMINANCE_N = 2
DEFAULT_DOMINANCE_SHARE = 0.85
CELL_COLUMNS = ("row", "column", "count", "basis")
#: Largest contributions a magnitude cell records (the n of the rule can be 1 to this).
MAX_DOMINANCE_N = 5
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
    dominance_n: int = DEFAULT_DOMINANCE_N
    dominance_share: float = DEFAULT_DOMINANCE_SHARE

    def __post_init__(self) -> None:
        if isinstance(self.min_cell_count, bool) or not isinstance(self.min_cell_count, int) \
                or self.min_cell_count < 1:
            raise DisclosureError(f"[disclosure] min_cell_count must be an integer >= 1, got "
                                  f"{self.min_cell_count!r}")
        if not 1 <= self.dominance_n <= MAX_DOMINANCE_N or not 0 < self.dominance_share <= 1:
            raise DisclosureError(f"[disclosure] dominance_n must be 1 to {MAX_DOMINANCE_N} "
                                  f"and dominance_share in (0, 1], got {self.dominance_n!r} "
                                  f"and {self.dominance_share!r}")

    @property
    def dominance_rule(self) -> str:
        return (f"the largest {self.dominance_n} firm{'s' if self.dominance_n > 1 else ''} "
                f"contribute more than {self.dominance_share:.0%} of the total")

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
    return DisclosureSettings(
        int(section.min_cell_count), bool(section.suppress),
        int(getattr(section, "dominance_n", DEFAULT_DOMINANCE_N)),
        float(getattr(section, "dominance_share", DEFAULT_DOMINANCE_SHARE)))


# ------------------------------------------------------------------------------- cells


def empty_cells() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series(dtype="object"), "column": pd.Series(dtype="object"),
                         "count": pd.Series(dtype="int64"), "basis": pd.Series(dtype="object")})


def cells_frame(records: Iterable[tuple]) -> pd.DataFrame:
    """A cells frame from ``(row, column, count, basis)`` tuples, or 5-tuples whose last
    item is a magnitude cell's cumulative shares of its largest contributions."""
    rows = [(str(r[0]), str(r[1]), int(r[2]), str(r[3]), r[4] if len(r) > 4 else None)
            for r in records]
    if not rows:
        return empty_cells()
    frame = pd.DataFrame(rows, columns=[*CELL_COLUMNS, "dominance"])
    if frame["dominance"].isna().all():
        frame = frame.drop(columns="dominance")
    return frame.astype({"count": "int64"})


def magnitude_cell(row: object, column: object, values: pd.Series) -> tuple:
    """The cell of a mean or total of ``values``: its firm count and, when the values are
    non-negative with a positive total, the cumulative shares of its largest contributions
    (for the dominance rule)."""
    known = values.dropna().astype("float64")
    total = float(known.sum())
    if known.empty or total <= 0 or float(known.min()) < 0:
        return (row, column, len(known), "firms with the variable known", None)
    largest = known.nlargest(MAX_DOMINANCE_N).cumsum() / total
    return (row, column, len(known), "firms with the variable known",
            tuple(round(float(v), 6) for v in largest))


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
    cells = dominance_rows(cells, settings)
    small = cells[((cells["count"] > 0) & (cells["count"] < settings.min_cell_count))
                  | cells["basis"].str.startswith("dominance")]
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


def dominance_rows(cells: pd.DataFrame, settings: DisclosureSettings) -> pd.DataFrame:
    """``cells`` with a magnitude cell that breaks the dominance rule re-labelled (its
    basis names the rule), the dominance column dropped."""
    if "dominance" not in cells.columns:
        return cells
    n, k = settings.dominance_n, settings.dominance_share
    dominated = [isinstance(d, tuple) and len(d) >= n and d[n - 1] > k
                 and c >= settings.min_cell_count
                 for d, c in zip(cells["dominance"], cells["count"], strict=True)]
    out = cells.drop(columns="dominance")
    out.loc[dominated, "basis"] = f"dominance: {settings.dominance_rule}"
    return out


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
    rule = f"based on fewer than {k} firms"
    if flags["basis"].str.startswith("dominance").any():
        rule += f" or dominated ({settings.dominance_rule})"
    if settings.suppress:
        return (f"Disclosure control: {cells} {rule} suppressed (shown as "
                f"{settings.marker} for counts, '{SUPPRESSED}' for statistics); see "
                f"disclosure_report.",)
    return (f"Disclosure control: {cells} {rule} flagged in disclosure_report (not "
            f"suppressed: [disclosure] suppress = false).",)


def check_exhibit(exhibit: str, frame: pd.DataFrame, cells: pd.DataFrame | None,
                  key_column: str, settings: DisclosureSettings) -> CheckedExhibit:
    """Flag (and, if configured, suppress) the small cells of one exhibit."""
    flags = flag_cells(exhibit, cells, settings)
    if settings.suppress and cells is not None:
        frame = suppress_cells(frame, key_column, flags, cells, settings)
    return CheckedExhibit(frame, flags, disclosure_note(flags, settings))


def count_cells(frame: pd.DataFrame, key_column: str, labels: Sequence[str] = (),
                row_statistics: bool = False) -> pd.DataFrame:
    """The cells of an exhibit's count columns (``N``, ``Removed``, ``N valid``, ...: see
    :data:`analysis.exhibits.disclosure_scan.COUNT_HEADER`), each a count of firms. With
    ``row_statistics`` every other cell of a row (but the key and ``labels``) is a statistic
    of the row's firms: it rests on the row's smallest count (a subsample's estimates)."""
    from analysis.exhibits.disclosure_scan import is_count_column

    counts = [c for c in frame.columns if c != key_column and is_count_column(str(c))]
    others = [c for c in frame.columns if c not in (key_column, *labels, *counts)]
    records: list[tuple] = []
    for key, values in zip(frame[key_column].astype(str), frame[counts].itertuples(
            index=False, name=None), strict=True):
        known = [(c, int(v)) for c, v in zip(counts, values, strict=True) if pd.notna(v)]
        records += [(key, c, v, COUNT_BASIS) for c, v in known]
        if row_statistics and known:
            smallest = min(v for _, v in known)
            records += [(key, c, smallest, "firms behind the row") for c in others]
    return cells_frame(records)


def appendix_cells(data: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The cells of a data appendix (one row per variable of ``data``): its count columns,
    the 1s and 0s behind the mean of a 0/1 variable, the firms of each category behind its
    shares, and the mean of any other variable as a magnitude cell (dominance rule)."""
    records: list[tuple] = []
    for name, mean, shares in zip(table["variable"], table["mean"], table["shares"],
                                  strict=True):
        values = data[name] if name in data.columns else None
        if values is None:
            continue
        if pd.notna(mean):
            known = values.dropna().astype("float64")
            if known.isin([0.0, 1.0]).all():
                records += share_cells(name, "mean", known)[1:]
            else:
                records.append(magnitude_cell(name, "mean", known))
        if isinstance(shares, str) and shares:
            records += [(name, "shares", int(n), "firms in a category")
                        for n in values.dropna().astype(str).value_counts()]
    cells = cells_frame(records)
    counts = count_cells(table, "variable")
    return pd.concat([counts, cells], ignore_index=True) if not cells.empty else counts


def check_counts(stem: str, frame: pd.DataFrame, key_column: str,
                 settings: DisclosureSettings, labels: Sequence[str] = (),
                 row_statistics: bool = False) -> CheckedExhibit:
    """Flag (and, if configured, suppress) the small counts of an exhibit's count columns
    (:func:`count_cells`)."""
    cells = count_cells(frame, key_column, labels, row_statistics)
    return check_exhibit(stem, frame, cells, key_column, settings)


def merge_flags(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Stack flag frames (each FLAG_COLUMNS) in the given order."""
    frames = [f for f in frames if not f.empty]
    if not frames:
        return empty_flags()
    merged = pd.concat([f[list(FLAG_COLUMNS)] for f in frames], ignore_index=True)
    return merged.astype({"count": "int64", "threshold": "int64"})


# ------------------------------------------------------------------------- firm level


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
        f"Dominance rule for magnitudes (means of non-negative variables): a cell is "
        f"{'suppressed' if settings.suppress else 'flagged'} when {settings.dominance_rule} "
        f"([disclosure] dominance_n = {settings.dominance_n}, dominance_share = "
        f"{settings.dominance_share:g}).",
        f"Firm-level check: none of the {n_files} files in the output folder names a firm "
        f"identifier, lists one row per firm or has a column with one value per firm "
        f"(every file checked: disclosure_checks).",
        f"Flags collected from: {', '.join(sources) if sources else 'no step'}, and the "
        f"count columns and notes of every file.",
        "Not covered: secondary suppression (a suppressed cell may be derivable from totals).",
    ]
    if report.empty:
        frame = pd.DataFrame({"Result": [f"Nothing flagged: no exhibit cell is based on fewer "
                                         f"than {k} firms or dominated."]})
        return frame, "Disclosure report", notes
    exhibits = report["exhibit"].nunique()
    title = (f"Disclosure report: {len(report)} cell(s) in {exhibits} exhibit(s) based on "
             f"fewer than {k} firms or dominated")
    return report, title, notes


def published_counts(report: pd.DataFrame, settings: DisclosureSettings) -> pd.DataFrame:
    """The report as published: with suppression on, a flagged cell's count is ``<k``."""
    if not settings.suppress or report.empty:
        return report
    k = settings.min_cell_count
    return report.astype({"count": object}).assign(
        count=[settings.marker if 0 < c < k else c for c in report["count"]])


def scan_flags(tree: Any, settings: DisclosureSettings) -> pd.DataFrame:
    """Report rows for the small counts the file check found (a ``TreeCheck`` of
    :mod:`analysis.exhibits.disclosure_scan`), one per exhibit cell or note."""
    records = [(found.path.stem, row, column, count, "count column" if column != "(text)"
                else "count of firms or observations in a note")
               for found in tree.files if found.path.suffix in (".csv", ".md")
               for row, column, count in found.small]
    if not records:
        return empty_flags()
    frame = pd.DataFrame(records, columns=["exhibit", "row", "column", "count", "basis"])
    frame = frame.assign(threshold=settings.min_cell_count, action="flagged")
    return frame[list(FLAG_COLUMNS)].astype({"count": "int64", "threshold": "int64"})


def merge_report(flags: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """The steps' flags, then the cells the file check found that no step flagged."""
    seen = set(zip(flags["exhibit"], flags["row"], flags["column"], strict=True))
    new = [(e, r, c) not in seen for e, r, c in zip(found["exhibit"], found["row"],
                                                     found["column"], strict=True)]
    return merge_flags([flags, found[new].drop_duplicates(["exhibit", "row", "column"])])


def checks_exhibit(tree: Any, output: Path, settings: DisclosureSettings
                   ) -> tuple[pd.DataFrame, str, list[str]]:
    """Every file the disclosure step checked, what was checked and what it found, and the
    messages: (frame, title, notes)."""
    rows = []
    for found in tree.files:
        small = len(found.small)
        result = (f"{small} small count(s) flagged (disclosure_report)" if small else "ok")
        rows.append((found.path.relative_to(output).as_posix(), found.checks, result))
    rows.append(("replication_report.html", "firm identifiers", "checked by the report "
                 "step when it writes the page (after this check)"))
    rows.append(("messages on screen and logs/run_log.*", "firm identifiers; small counts",
                 "screened by run_all.py on every run: identifier values withheld, counts "
                 f"below {settings.min_cell_count} said as 'fewer than "
                 f"{settings.min_cell_count}' (run log: disclosure_screen)"))
    frame = pd.DataFrame(rows, columns=["File", "Checks", "Result"])
    notes = [f"Every file in the output folder when the disclosure step ran ({len(tree.files)} "
             f"files), and the messages of the run. A file that lists firms, or that shows a "
             f"small count while [disclosure] suppress = true, is removed with its exhibit "
             f"and stops the run. Figures are drawn from the checked estimates."]
    return frame, f"Disclosure checks: {len(tree.files)} files and the run's messages", notes
