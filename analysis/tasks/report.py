"""Report step: one self-contained HTML page with every exhibit of the run.

Reads the README's exhibit map and every file it lists (the outputs of all the other
steps: they are this step's inputs, so it runs last) and writes
``<output>/replication_report.html`` (analysis.exhibits.report): the sample flow, every
table and figure, the claims report and whatever else the map lists, then the
verification state (commit, versions, seed, configuration checksums, the checksum of every
exhibit file).
"""

from __future__ import annotations

import hashlib
import platform
from pathlib import Path

from analysis import io
from analysis.context import Context
from analysis.data.study_config import load_study_config
from analysis.exhibits.exhibit_map import MapEntry, read_map
from analysis.exhibits.report import MANIFEST, RunFacts, build_report
from analysis.provenance import git_state, package_versions

DESCRIPTION = ("Replication report: one self-contained HTML page with every exhibit of the "
               "README's map and the verification state")

REPORT = "replication_report.html"


def readme(ctx: Context) -> Path:
    return ctx.paths.root / "README.md"


def exhibit_files(entries: list[MapEntry]) -> list[str]:
    """Every file of the map the report reads (not itself, not the runner's manifest)."""
    return list(dict.fromkeys(f for e in entries for f in e.files if f not in (REPORT,
                                                                               MANIFEST)))


def inputs(ctx: Context) -> list[Path]:
    files = exhibit_files(read_map(readme(ctx)))
    return [readme(ctx), ctx.study_config_path, ctx.model_spec_path,
            *(ctx.paths.output / f for f in files)]


def outputs(ctx: Context) -> list[Path]:
    return [ctx.paths.output / REPORT]


def shown_path(path: Path, root: Path) -> str:
    """A configuration file's path relative to the project (else its name)."""
    path = Path(path).resolve()
    return path.relative_to(root.resolve()).as_posix() if path.is_relative_to(
        root.resolve()) else path.name


def run_facts(ctx: Context) -> RunFacts:
    cfg = load_study_config(ctx.study_config_path, root=ctx.paths.root)
    configs = {shown_path(p, ctx.paths.root): hashlib.sha256(Path(p).read_bytes()).hexdigest()
               for p in (ctx.study_config_path, ctx.model_spec_path) if Path(p).is_file()}
    return RunFacts(title=cfg.title, data_note=cfg.data_note if cfg.synthetic else "",
                    git=git_state(ctx.paths.root), python=platform.python_version(),
                    platform=platform.platform(), packages=package_versions(),
                    seed=ctx.seed, files=configs, options=dict(ctx.options))


def run(ctx: Context) -> None:
    entries = read_map(readme(ctx))
    files: dict[str, bytes | None] = {}
    for name in exhibit_files(entries):
        path = ctx.paths.output / name
        files[name] = path.read_bytes() if path.is_file() else None
    checksums = [(name, len(data), hashlib.sha256(data).hexdigest())
                 for name, data in files.items() if data is not None]
    page = build_report(entries, files, run_facts(ctx), checksums, own=REPORT)
    io.write_text(ctx.paths.output / REPORT, page)
