"""Step: the coverage study, a Monte Carlo of the package's intervals with known truth.

Runs :func:`analysis.models.coverage.coverage_study` on the synthetic twin's generator
(1,000 replications, seeded by the run's seed; about 6 s) and writes
``tables/coverage_study.{csv,md,tex,html,docx}``: the empirical 95% coverage of coefficients,
AMEs and the international / local ratio (delta method and Fieller set), with Monte Carlo
SEs. It reads no data: the study is about the estimators, whatever survey the run analyses.
"""

from __future__ import annotations

from pathlib import Path

from analysis.config import TABLE_FORMATS
from analysis.context import Context

DESCRIPTION = ("Coverage study: Monte Carlo coverage of the 95% intervals (coefficients, "
               "AMEs, ratio by delta method and Fieller set) on the twin's generator")
STEM = "coverage_study"
#: Replications of the default run: Monte Carlo SE of a 95% coverage 0.7 points.
REPLICATIONS = 1000
TITLE = "Coverage study: how often do the 95% intervals contain the truth?"


def inputs(ctx: Context) -> list[Path]:
    return []  # no data: the twin's generator and the run's seed (the code is tracked)


def outputs(ctx: Context) -> list[Path]:
    return [ctx.paths.tables / f"{STEM}.{ext}" for ext in TABLE_FORMATS]


def run(ctx: Context) -> None:
    from analysis.exhibits.frames import write_frame_exhibit
    from analysis.models.coverage import coverage_notes, coverage_study

    result = coverage_study(replications=REPLICATIONS, seed=ctx.seed)
    notes = [*coverage_notes(result),
             "Synthetic data by construction: the study checks the estimators, not the survey "
             "this run analyses."]
    write_frame_exhibit(result.frame, ctx.paths.tables, STEM, TITLE, notes)
