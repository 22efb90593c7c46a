"""What the crosscheck step writes: the data and the two scripts (their fingerprints filled
in), and the comparison exhibits with their notes, from the results the scripts left beside
them (absent or stale results are said to be so, never compared)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.exhibits.crosscheck import (
    COMPARISON,
    R_RESULTS,
    STATA_RESULTS,
    SUMMARY,
    compare,
    models,
    r_script,
    stata_script,
)
from analysis.exhibits.frames import write_frame_exhibit
from analysis.exhibits.layout import FrameLayout


@dataclass(frozen=True)
class Scripts:
    """The texts of the data file and the two scripts, and the scripts' fingerprints."""

    data: str
    r: str
    do: str
    r_fingerprint: str
    do_fingerprint: str


def scripts(frame: pd.DataFrame, checks: Sequence[models.CheckModel], data_path: str
            ) -> Scripts:
    """The data both scripts read (``data_path``: its path as the scripts name it, relative
    to their folder) and the scripts, each stamped with the fingerprint of its text and the
    data's."""
    data, schema = models.export_data(frame, checks)
    data_text = models.data_csv(data)
    note = compare.TOLERANCE_NOTE
    r_text = r_script.r_script(checks, schema, data_path, note)
    do_text = stata_script.stata_script(checks, schema, data_path, note)
    r_print = models.fingerprint(r_text, data_text)
    do_print = models.fingerprint(do_text, data_text)
    return Scripts(data=data_text, r=r_text.replace(r_script.FINGERPRINT_SLOT, r_print),
                   do=do_text.replace(stata_script.FINGERPRINT_SLOT, do_print),
                   r_fingerprint=r_print, do_fingerprint=do_print)


def results_paths(folder: Path) -> dict[str, Path]:
    """Where the R and Stata scripts write their results (beside the scripts)."""
    return {"R": folder / R_RESULTS, "Stata": folder / STATA_RESULTS}


def script_results(folder: Path, written: Scripts) -> list[compare.Results]:
    """R's results (present, absent or stale) and Stata's when there are any."""
    paths = results_paths(folder)
    results = [compare.read_results(paths["R"], "R", written.r_fingerprint)]
    stata = compare.read_results(paths["Stata"], "Stata", written.do_fingerprint)
    if stata.status != "absent":
        results.append(stata)
    return results


def exhibit_notes(results: Sequence[compare.Results], data_note: str = "") -> list[str]:
    """How the numbers were made, what agreement to expect and, for results absent or
    stale, the command that produces them."""
    notes = [
        "R: output/crosscheck/crosscheck.R refits every model with glm, lm, MASS::polr, "
        "sandwich (and survey); Stata: output/crosscheck/crosscheck.do. Relative difference "
        "= |theirs - ours| / |ours|, the larger of the estimate's and the SE's. Expected: "
        + compare.TOLERANCE_NOTE + ".",
    ]
    for result in results:
        if result.status == "absent":
            notes.append("The R results are absent: run `Rscript output/crosscheck/"
                         "crosscheck.R` (R >= 4.0 with MASS and sandwich), then `uv run "
                         "run_all.py`.")
        elif result.status == "stale":
            notes.append(f"The {result.software} results are stale ({result.message}): "
                         "rerun the script, then `uv run run_all.py`.")
    if not any(r.software == "Stata" for r in results):
        notes.append("Stata: in output/crosscheck, `do crosscheck.do` writes "
                     "crosscheck_stata.csv; `uv run run_all.py` then adds its columns.")
    return notes + ([data_note] if data_note else [])


def write_comparison(estimates: pd.DataFrame, model_table: pd.DataFrame,
                     results: Sequence[compare.Results], data_note: str,
                     directory: Path) -> None:
    """The comparison of every number (one panel per model) and the summary per model: the
    CSVs at full precision, the other formats from the formatted numbers."""
    numbers, table = compare.comparison(estimates, model_table, results)
    notes = exhibit_notes(results, data_note)
    software = [r.software for r in results]
    write_frame_exhibit(numbers, directory, COMPARISON, "Cross-check: every number of the "
                        "models in R (and Stata) and ours", notes,
                        shown=compare.display_numbers(numbers, software),
                        layout=FrameLayout(panel_column="model"))
    write_frame_exhibit(table, directory, SUMMARY, "Cross-check: largest relative difference "
                        "per model", notes, shown=compare.display_summary(table, software))
