"""Crosscheck step: R and Stata scripts that refit every model, and the comparison.

Writes, from what the estimate step estimated (models.csv), the model specification and the
analysis data:

- ``output/crosscheck/crosscheck.R`` and ``crosscheck.do`` (analysis.exhibits.crosscheck);
- ``data_clean/crosscheck_data.csv``, the data both scripts read (numeric, typed by the
  schema written into the scripts);
- ``output/tables/crosscheck_comparison.*`` (every number side by side with R's, and
  Stata's when present) and ``crosscheck_summary.*`` (largest relative difference per model).

Neither script is run here: R or Stata may be missing. A referee runs them (``Rscript
output/crosscheck/crosscheck.R``; in Stata ``do crosscheck.do`` from that folder); their
results, ``crosscheck_r.csv`` and ``crosscheck_stata.csv`` next to the scripts, are inputs
of this step, so the next ``uv run run_all.py`` compares them. Until then the exhibits say
that the results are absent and how to produce them; results from an older script or data
(another fingerprint) are reported as stale, never compared.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from analysis import io
from analysis.context import Context
from analysis.data.study_config import load_study_config
from analysis.exhibits.crosscheck import compare, models, r_script, stata_script
from analysis.exhibits.frames import TABLE_FORMATS, write_frame_exhibit
from analysis.exhibits.layout import FrameLayout
from analysis.tasks import build, estimate

DESCRIPTION = ("Cross-check scripts in R and Stata refitting every model, and the comparison "
               "of their numbers with ours")

FOLDER = "crosscheck"
R_SCRIPT = "crosscheck.R"
DO_FILE = "crosscheck.do"
DATA_FILE = "crosscheck_data.csv"
COMPARISON = "crosscheck_comparison"
SUMMARY = "crosscheck_summary"
FORMATS = TABLE_FORMATS


def folder(ctx: Context) -> Path:
    return ctx.paths.output / FOLDER


def data_path(ctx: Context) -> Path:
    return ctx.paths.data_clean / DATA_FILE


def results_paths(ctx: Context) -> dict[str, Path]:
    return {"R": folder(ctx) / r_script.RESULTS_FILE,
            "Stata": folder(ctx) / stata_script.RESULTS_FILE}


def inputs(ctx: Context) -> list[Path]:
    est = ctx.paths.estimates
    return [ctx.paths.data_clean / build.ANALYSIS_FILE, estimate.meta_path(ctx),
            est / estimate.MODELS_FILE, est / estimate.ESTIMATES_FILE, ctx.model_spec_path,
            ctx.study_config_path, r_script.LIBRARY, *results_paths(ctx).values()]


def outputs(ctx: Context) -> list[Path]:
    tables = [ctx.paths.tables / f"{stem}.{ext}" for stem in (COMPARISON, SUMMARY)
              for ext in FORMATS]
    return [folder(ctx) / R_SCRIPT, folder(ctx) / DO_FILE, data_path(ctx), *tables]


def run(ctx: Context) -> None:
    estimates, model_table = estimate.read_outputs(ctx)
    frame = io.read_parquet(ctx.paths.data_clean / build.ANALYSIS_FILE)
    checks = models.check_models(estimate.model_spec(ctx), model_table, estimates, frame)
    data, schema = models.export_data(frame, checks)
    data_text = models.data_csv(data)
    relative = Path(os.path.relpath(data_path(ctx), folder(ctx))).as_posix()
    note = compare.TOLERANCE_NOTE
    r_text = r_script.r_script(checks, schema, relative, note)
    do_text = stata_script.stata_script(checks, schema, relative, note)
    r_print = models.fingerprint(r_text, data_text)
    do_print = models.fingerprint(do_text, data_text)
    io.write_text(data_path(ctx), data_text)
    io.write_text(folder(ctx) / R_SCRIPT, r_text.replace(r_script.FINGERPRINT_SLOT, r_print))
    io.write_text(folder(ctx) / DO_FILE,
                  do_text.replace(stata_script.FINGERPRINT_SLOT, do_print))

    paths = results_paths(ctx)
    results = [compare.read_results(paths["R"], "R", r_print)]
    stata = compare.read_results(paths["Stata"], "Stata", do_print)
    if stata.status != "absent":
        results.append(stata)
    numbers, table = compare.comparison(estimates, model_table, results)
    notes = exhibit_notes(ctx, results)
    software = [r.software for r in results]
    write_exhibit(numbers, compare.display_numbers(numbers, software), ctx.paths.tables,
                  COMPARISON, "Cross-check: every number of the models in R (and Stata) and "
                  "ours", notes, panel_column="model")
    write_exhibit(table, compare.display_summary(table, software), ctx.paths.tables, SUMMARY,
                  "Cross-check: largest relative difference per model", notes)


def exhibit_notes(ctx: Context, results: list[compare.Results]) -> list[str]:
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
    cfg = load_study_config(ctx.study_config_path, root=ctx.paths.root)
    if cfg.synthetic and cfg.data_note:
        notes.append(cfg.data_note)
    return notes


def write_exhibit(frame: pd.DataFrame, shown: pd.DataFrame, directory: Path, stem: str,
                  title: str, notes: list[str], panel_column: str | None = None) -> None:
    """The CSV at full precision; Markdown, LaTeX, HTML and Word from the formatted
    ``shown`` (one panel per value of ``panel_column``, e.g. per model)."""
    write_frame_exhibit(frame, directory, stem, title, notes, shown=shown,
                        layout=FrameLayout(panel_column=panel_column))
