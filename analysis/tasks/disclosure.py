"""Disclosure step: merge the flags of every step into the disclosure report; no firm rows.

Steps that write exhibits check their cells with :mod:`analysis.exhibits.disclosure` and write
the flagged cells to ``<output>/disclosure/<step>.csv`` (``Paths.flags_file``). This step
merges those files, in the order of the step registry, into
``<output>/tables/disclosure_report.{csv,md,tex,html,docx}`` (written after every run,
saying so when nothing is flagged), and fails if any exhibit CSV under ``<output>`` has a
firm-identifier column or one row per firm. It runs after every other selected step
(RUN_LAST) and again whenever a file in an exhibit folder changed; the report step reads
its report, so it comes after it.
"""

from __future__ import annotations

from pathlib import Path

from analysis.config import TABLE_FORMATS
from analysis.context import Context

DESCRIPTION = ("Disclosure control: merge the small-cell flags of every step into the "
               "disclosure report and check that no exhibit lists firms")

REPORT_STEM = "disclosure_report"
#: Runs after every other selected step: it checks the exhibits they write.
RUN_LAST = True


def inputs(ctx: Context) -> list[Path]:
    """The folders of the flags and of the exhibits it checks (their files as they are when
    it runs: RUN_LAST), the study configuration and the firm-level data."""
    exhibits = [ctx.paths.tables, ctx.paths.estimates, ctx.paths.data_appendix,
                ctx.paths.crosscheck]
    return [ctx.paths.disclosure_flags, *exhibits, ctx.study_config_path,
            ctx.paths.analysis_data, ctx.paths.clean_data]


def outputs(ctx: Context) -> list[Path]:
    return [ctx.paths.tables / f"{REPORT_STEM}.{ext}" for ext in TABLE_FORMATS]


def run(ctx: Context) -> None:
    from analysis.data.study_config import load_study_config
    from analysis.errors import DisclosureError
    from analysis.exhibits import disclosure
    from analysis.exhibits.frames import write_frame_exhibit
    from analysis.tasks import STEPS

    cfg = load_study_config(ctx.study_config_path, root=ctx.paths.root)
    skip = [ctx.paths.logs, ctx.paths.disclosure_flags, ctx.paths.output / "studies",
            *outputs(ctx)]
    files = disclosure.exhibit_csvs(ctx.paths.output, skip)
    n_firms = disclosure.number_of_rows([ctx.paths.analysis_data, ctx.paths.clean_data])
    problems = disclosure.firm_level_problems(files, n_firms, disclosure.id_columns(cfg))
    if problems:
        raise DisclosureError("firm-level rows in exhibits: " + "; ".join(problems))
    report, sources = disclosure.collected_flags(ctx.paths.disclosure_flags,
                                                 [name for name, _ in STEPS])
    settings = disclosure.settings_from_config(cfg)
    shown, title, notes = disclosure.report_exhibit(report, settings, len(files), sources)
    write_frame_exhibit(report, ctx.paths.tables, REPORT_STEM, title, notes, decimals=0,
                        shown=shown)
