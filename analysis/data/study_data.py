"""Checks of a study configuration against its data file (before any value is used)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from analysis.data.study_schema import StudyConfig, num_text
from analysis.errors import ConfigError
from analysis.io import special_file_kind

if TYPE_CHECKING:  # the runner reads study configurations without loading pandas
    import pandas as pd


def check_data_file(cfg: StudyConfig) -> None:
    """Raise ConfigError if ``study.data_file`` is not a regular file (before anything is
    read): a directory, a FIFO or a device is named as such (a pipe could block a read)."""
    special = special_file_kind(cfg.data_file)
    if special is not None:
        raise ConfigError(f"study config {cfg.source}: [study.data_file] {cfg.data_file} is "
                          f"{special}, not a data file; point data_file at the survey file "
                          "itself (a regular .sav, .dta, .csv or .parquet file)")
    if not cfg.data_file.is_file():
        near = ""
        if cfg.data_file.parent.is_dir():
            names = [p.name for p in cfg.data_file.parent.iterdir() if p.is_file()]
            close = difflib.get_close_matches(cfg.data_file.name, names, n=3, cutoff=0.6)
            near = f"; files with close names there: {', '.join(close)}" if close else ""
        raise ConfigError(f"study config {cfg.source}: [study.data_file] data file "
                          f"{cfg.data_file} not found{near}")


def check_columns(cfg: StudyConfig, available: Sequence[str]) -> None:
    """Raise ConfigError naming every configured column absent from the data file.

    Each line gives the configuration key, the column and the file's closest column names
    (column names are compared case-sensitively; a match differing only in case is named).
    """
    present = [str(c) for c in available]
    lower = {c.lower(): c for c in present}
    problems = []
    keys = cfg.column_keys()
    for column in cfg.recode:
        keys.setdefault(column, f"recode.{column}")
    for column, key in keys.items():
        if column in present:
            continue
        close = difflib.get_close_matches(column, present, n=3, cutoff=0.6)
        # also names that contain one another ("emp" for "emp_total"), and case variants
        low = column.lower()
        close += [c for c in present if len(c) > 1 and (c.lower() in low or low in c.lower())
                  and c not in close][:3]
        if low in lower and lower[low] not in close:
            close.insert(0, lower[low])
        hint = f" (close matches: {', '.join(close)})" if close else " (no close match)"
        problems.append(f"[{key}] column {column!r} is not in the data file{hint}")
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"study config {cfg.source}: {len(problems)} configured column(s) "
                          f"not in {cfg.data_file.name}:\n{lines}")


def _values_text(values: pd.Series, limit: int = 8) -> str:
    """ "0 (812 rows), 2 (1,301 rows)": the values a column holds, most frequent first."""
    counts = values.dropna().value_counts(sort=True)
    if counts.empty:
        return "no values (the column is empty)"
    shown = [f"{num_text(float(v))} ({n:,} row{'s' if n != 1 else ''})"
             for v, n in counts.head(limit).items()]
    more = f", and {len(counts) - limit} more" if len(counts) > limit else ""
    return ", ".join(shown) + more


def _codes_text(codes: Sequence[int]) -> str:
    return f"code {num_text(codes[0])}" if len(codes) == 1 else \
        "codes " + ", ".join(num_text(c) for c in codes)


def check_codes_in_data(cfg: StudyConfig, raw: pd.DataFrame) -> None:
    """Raise ConfigError when a configured yes code matches no row of the data.

    - Outcomes: the ``yes`` codes of an outcome must occur in every column of the outcome
      (``[outcomes.<name>] column``). A column where nobody answers yes is almost always a
      wrong code (e.g. ``yes = [1]`` on a file coding yes as 2), and a survey where nobody
      innovates cannot be analysed anyway.
    - Collaboration: the codes meaning collaboration (``[collaboration] yes`` of a yes/no
      battery; every code but ``never`` of a frequency battery) must occur in at least one
      column of the battery. A single item nobody answers yes to (say, universities abroad
      in a small survey) is a finding, not a configuration error: the breadth counts stay
      defined, so it is accepted.
    - Codes of the category maps (``[regions]``, ``[sectors]``) and of the novelty question
      need not occur: a region or sector without a sampled firm is legitimate, and a
      novelty outcome without variation is reported by the estimate step (EmptyCellError).

    Values are compared as numbers; text cannot occur here (the file's columns were checked
    to be numeric before).
    """
    import pandas as pd

    where = cfg.data_file.name
    for outcome in cfg.outcomes.values():
        for column in outcome.columns:
            values = pd.to_numeric(raw[column], errors="coerce")
            if not values.isin([float(c) for c in outcome.yes]).any():
                raise ConfigError(
                    f"study config {cfg.source}: [outcomes.{outcome.name}.yes] "
                    f"{_codes_text(outcome.yes)} occurs in no row of column {column!r} of "
                    f"{where} (the column holds {_values_text(values)}); with nobody "
                    f"answering yes the outcome '{outcome.name}' cannot be analysed: check "
                    "the yes/no codes of the outcome against the file's codebook")
    collab = cfg.collaboration
    if collab is None or not cfg.collaboration_items():
        return
    columns = [column for _, _, column in cfg.collaboration_items()]
    yes = [float(c) for c in collab.yes]
    if any(pd.to_numeric(raw[c], errors="coerce").isin(yes).any() for c in columns):
        return
    key = "collaboration.yes" if collab.type == "binary" else "collaboration.never"
    meaning = (f"{_codes_text(collab.yes)} (yes)" if collab.type == "binary" else
               f"{_codes_text(collab.yes)} (every valid code but never = "
               f"{', '.join(num_text(c) for c in collab.never)})")
    first = columns[0]
    raise ConfigError(
        f"study config {cfg.source}: [{key}] collaboration {meaning} occurs in no row of "
        f"any of the {len(columns)} collaboration column(s) of {where} (e.g. column "
        f"{first!r} holds {_values_text(pd.to_numeric(raw[first], errors='coerce'))}); "
        "with nobody collaborating the breadth of collaboration cannot be analysed: check "
        "the collaboration codes against the file's codebook")

