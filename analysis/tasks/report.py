"""Report step: one self-contained HTML page with every exhibit of the run.

Reads the README's exhibit map and every file it lists (the outputs of all the other
steps, the disclosure report included: they are this step's inputs, so it runs last) and
writes ``<output>/replication_report.html`` (analysis.exhibits.report): the sample flow,
every table and figure, the claims report and whatever else the map lists, then the
verification state (commit, versions, seed, configuration checksums, the checksum of every
exhibit file).
"""

from __future__ import annotations

from pathlib import Path

from analysis.context import Context

DESCRIPTION = ("Replication report: one self-contained HTML page with every exhibit of the "
               "README's map and the verification state")
#: The page names the commit (and uncommitted changes) of the code that made it: a new
#: commit reruns this step, so the page never names an older one (and --verify agrees).
PROVENANCE = True

def own_name(ctx: Context) -> str:
    """The report's path below the output folder."""
    return ctx.paths.report.relative_to(ctx.paths.output).as_posix()


def inputs(ctx: Context) -> list[Path]:
    from analysis.exhibits.exhibit_map import exhibit_files, read_map

    files = exhibit_files(read_map(ctx.paths.readme), own_name(ctx))
    return [ctx.paths.readme, ctx.study_config_path, ctx.model_spec_path,
            *(ctx.paths.output / f for f in files)]


def outputs(ctx: Context) -> list[Path]:
    return [ctx.paths.report]


def run(ctx: Context) -> None:
    from analysis import io
    from analysis.data.study_config import load_study_config
    from analysis.errors import DisclosureError
    from analysis.exhibits.disclosure import id_columns
    from analysis.exhibits.disclosure_text import identifier_values, visible_text
    from analysis.exhibits.exhibit_map import exhibit_files, read_map
    from analysis.exhibits.report import build_report, read_exhibits, run_facts

    entries = read_map(ctx.paths.readme)
    files, checksums = read_exhibits(ctx.paths.output, exhibit_files(entries, own_name(ctx)))
    cfg = load_study_config(ctx.study_config_path, root=ctx.paths.root)
    facts = run_facts(cfg.title, cfg.data_note if cfg.synthetic else "", ctx.paths.root,
                      [ctx.study_config_path, ctx.model_spec_path], ctx.seed, ctx.options)
    page = build_report(entries, files, facts, checksums, own=own_name(ctx))
    named = identifier_values(visible_text(page), id_columns(cfg))  # written after the check
    if named:
        raise DisclosureError(f"{ctx.paths.report}: the page would name {named} identifier "
                              "value(s) of firms; not written")
    io.write_text(ctx.paths.report, page)
