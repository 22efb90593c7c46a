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

from pathlib import Path

from analysis.config import TABLE_FORMATS
from analysis.context import Context
from analysis.exhibits.crosscheck import (
    COMPARISON,
    DO_FILE,
    LIBRARY,
    R_RESULTS,
    R_SCRIPT,
    STATA_RESULTS,
    SUMMARY,
)

DESCRIPTION = ("Cross-check scripts in R and Stata refitting every model, and the comparison "
               "of their numbers with ours")


def inputs(ctx: Context) -> list[Path]:
    return [ctx.paths.analysis_data, ctx.paths.analysis_meta, ctx.paths.models_file,
            ctx.paths.estimates_file, ctx.model_spec_path, ctx.study_config_path, LIBRARY,
            *(ctx.paths.crosscheck / name for name in (R_RESULTS, STATA_RESULTS))]


def outputs(ctx: Context) -> list[Path]:
    tables = [ctx.paths.tables / f"{stem}.{ext}" for stem in (COMPARISON, SUMMARY)
              for ext in TABLE_FORMATS]
    return [ctx.paths.crosscheck / R_SCRIPT, ctx.paths.crosscheck / DO_FILE,
            ctx.paths.crosscheck_data, *tables]


def run(ctx: Context) -> None:
    import os

    from analysis import io
    from analysis.exhibits.crosscheck import files, models
    from analysis.models.results import read_results
    from analysis.models.survey import survey_run

    estimates = read_results(ctx.paths.estimates_file)
    model_table = read_results(ctx.paths.models_file)
    frame = io.read_parquet(ctx.paths.analysis_data)
    survey = survey_run(ctx)
    checks = models.check_models(survey.spec, model_table, estimates, frame)
    relative = Path(os.path.relpath(ctx.paths.crosscheck_data, ctx.paths.crosscheck))
    written = files.scripts(frame, checks, relative.as_posix())
    io.write_text(ctx.paths.crosscheck_data, written.data)
    io.write_text(ctx.paths.crosscheck / R_SCRIPT, written.r)
    io.write_text(ctx.paths.crosscheck / DO_FILE, written.do)
    results = files.script_results(ctx.paths.crosscheck, written)
    files.write_comparison(estimates, model_table, results, survey.data_note, ctx.paths.tables)
