"""Disclosure step: check every file in the output tree, on every run, and report.

Steps that compute exhibits check their cells with :mod:`analysis.exhibits.disclosure` and
write the flagged cells to ``<data_clean>/disclosure/<step>.csv`` (``Paths.flags_file``:
private, they name small counts). This step is selected on every run (EVERY_RUN), whatever
was selected, skipped or failed, runs after the other steps (RUN_LAST) and checks every file
then in ``<output>/`` (:mod:`analysis.exhibits.disclosure_scan`); it reruns whenever any
file it checks (``unread`` lists what it does not), its flags, the study configuration or
its code changed, so a rerun that changed nothing keeps a check of identical bytes. A file
that lists firms (an identifier column or value, one row per firm, a firm key), or that
still shows a small count when ``[disclosure] suppress = true``, is removed with every file
of its exhibit and the run stops. Otherwise it writes ``<output>/tables/disclosure_report.*``
(every flagged cell: the steps' flags and the small counts found in the files) and
``<output>/tables/disclosure_checks.*`` (every file checked, and the messages). The
replication report, written after it from these files, checks its own page.
"""

from __future__ import annotations

from pathlib import Path

from analysis.config import TABLE_FORMATS
from analysis.context import Context

DESCRIPTION = ("Disclosure control: check every output file (no firm listings, small cells "
               "flagged or suppressed) and write the disclosure report")

REPORT_STEM = "disclosure_report"
CHECKS_STEM = "disclosure_checks"
#: Runs after every other selected step (it checks the files they write); selected on every
#: run, and run after a failure once a step wrote.
RUN_LAST = True
EVERY_RUN = True


def inputs(ctx: Context) -> list[Path]:
    """The flags folder and the output folders it checks, as they are when it runs
    (RUN_LAST), and the study configuration."""
    return [ctx.paths.disclosure_flags, ctx.paths.output, ctx.study_config_path]


def unread(ctx: Context) -> list[Path]:
    """What the check leaves out of the output folder: the runner's records (run log,
    manifest, the folder's README), other studies' folders, the report (the report step
    screens it as it writes) and this step's own exhibits. The rest is its input: any
    change to a checked file reruns the check."""
    return [ctx.paths.logs, ctx.paths.other_studies, ctx.paths.manifest,
            ctx.paths.output / "README.md", ctx.paths.report, *outputs(ctx)]


def outputs(ctx: Context) -> list[Path]:
    return [ctx.paths.tables / f"{stem}.{ext}" for stem in (REPORT_STEM, CHECKS_STEM)
            for ext in TABLE_FORMATS]


def run(ctx: Context) -> None:
    from analysis.data.study_config import load_study_config
    from analysis.errors import DisclosureError
    from analysis.exhibits import disclosure, disclosure_scan
    from analysis.exhibits.frames import write_frame_exhibit
    from analysis.tasks import STEPS

    cfg = load_study_config(ctx.study_config_path, root=ctx.paths.root)
    settings = disclosure.settings_from_config(cfg)
    skip = unread(ctx)
    n_firms = disclosure.number_of_rows([ctx.paths.analysis_data, ctx.paths.clean_data])
    tree = disclosure_scan.check_tree(ctx.paths.output, skip, n_firms,
                                      disclosure.id_columns(cfg), settings.min_cell_count,
                                      settings.suppress)
    if tree.withheld:
        removed = disclosure_scan.withhold(tree.withheld)
        reasons = list(dict.fromkeys(tree.withheld.values()))
        raise DisclosureError(
            f"{len(removed)} file(s) withheld from {ctx.paths.output} (removed): "
            + "; ".join(reasons[:3]) + (f" (and {len(reasons) - 3} more)" if len(reasons) > 3
                                        else ""))
    flags, sources = disclosure.collected_flags(ctx.paths.disclosure_flags,
                                                [name for name, _ in STEPS])
    report = disclosure.published_counts(
        disclosure.merge_report(flags, disclosure.scan_flags(tree, settings)), settings)
    shown, title, notes = disclosure.report_exhibit(report, settings, len(tree.files), sources)
    write_frame_exhibit(report, ctx.paths.tables, REPORT_STEM, title, notes, decimals=0,
                        shown=shown)
    checks, title, notes = disclosure.checks_exhibit(tree, ctx.paths.output, settings)
    write_frame_exhibit(checks, ctx.paths.tables, CHECKS_STEM, title, notes)
