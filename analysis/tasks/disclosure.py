"""Disclosure step: merge the flags of every step into the disclosure report; no firm rows.

Steps that write exhibits check their cells with :mod:`analysis.exhibits.disclosure` and write the
flagged cells to ``<output>/disclosure/<step>.csv`` (:func:`write_flags`). This last step
merges those files, in the order of the step registry, into
``<output>/tables/disclosure_report.{csv,md}`` (written after every run, saying so when
nothing is flagged), and fails if any exhibit CSV under ``<output>`` has a firm-identifier
column or one row per firm.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import io
from analysis.context import Context
from analysis.errors import DisclosureError
from analysis.exhibits import disclosure

DESCRIPTION = ("Disclosure control: merge the small-cell flags of every step into the "
               "disclosure report and check that no exhibit lists firms")

NAME = "disclosure"
FLAGS_DIR = "disclosure"
REPORT_STEM = "disclosure_report"
#: Folders of <output> that hold no exhibits (run logs, flags, other studies' outputs).
SKIP_DIRS = ("logs", FLAGS_DIR, "studies")
FIRM_DATA = ("analysis_data.parquet", "survey_clean.parquet")


def settings(ctx: Context) -> disclosure.DisclosureSettings:
    """The ``[disclosure]`` settings of the run's study configuration (C6)."""
    from analysis.data.study_config import load_study_config

    cfg = load_study_config(ctx.study_config_path, root=ctx.paths.root)
    return disclosure.settings_from_config(cfg)


def flags_path(ctx: Context, step: str) -> Path:
    return ctx.paths.output / FLAGS_DIR / f"{step}.csv"


def write_flags(ctx: Context, step: str, flags: pd.DataFrame) -> Path:
    """Write a step's flags (header only when nothing is flagged), atomically."""
    frame = disclosure.merge_flags([flags]) if not flags.empty else disclosure.empty_flags()
    return io.write_csv(flags_path(ctx, step), frame)


def _registry() -> list[tuple[str, str]]:
    from analysis.tasks import STEPS

    return [(name, module) for name, module in STEPS if name != NAME]


def inputs(ctx: Context) -> list[Path]:
    """The output folder (it checks every exhibit there, so it runs after every step that
    writes into it), the study configuration and the firm-level data."""
    data = [ctx.paths.data_clean / name for name in FIRM_DATA]
    return [ctx.paths.output, ctx.study_config_path, *data]


def outputs(ctx: Context) -> list[Path]:
    return [ctx.paths.tables / f"{REPORT_STEM}.csv", ctx.paths.tables / f"{REPORT_STEM}.md"]


def exhibit_csvs(ctx: Context) -> list[Path]:
    """Every CSV under ``<output>`` except logs, flags, other studies, manifest and report."""
    own = set(outputs(ctx))
    skip = [ctx.paths.output / d for d in SKIP_DIRS]
    found = []
    for path in sorted(ctx.paths.output.rglob("*.csv")):
        if path.name.startswith(".") or path in own or path.parent == ctx.paths.output:
            continue  # hidden temp files; the report itself; manifest.csv at the top
        if any(path.is_relative_to(folder) for folder in skip):
            continue
        found.append(path)
    return found


def number_of_firms(ctx: Context) -> int | None:
    """Rows of the analysis data (else the clean data), read from the Parquet footer."""
    import pyarrow.parquet as pq

    for name in FIRM_DATA:
        path = ctx.paths.data_clean / name
        if path.is_file():
            return int(pq.ParquetFile(path).metadata.num_rows)
    return None


def id_columns(ctx: Context) -> list[str]:
    """The canonical id columns and the survey's own names for them."""
    from analysis.data.study_config import load_study_config

    cfg = load_study_config(ctx.study_config_path, root=ctx.paths.root)
    own = [cfg.columns[r] for r in disclosure.ID_COLUMNS if r in cfg.columns]
    return list(dict.fromkeys([*disclosure.ID_COLUMNS, *own]))


def collected_flags(ctx: Context) -> tuple[pd.DataFrame, list[str]]:
    """The flag files of ``<output>/disclosure``, registry order first, then by name."""
    folder = ctx.paths.output / FLAGS_DIR
    present = {p.stem: p for p in folder.glob("*.csv") if not p.name.startswith(".")}
    order = [name for name, _ in _registry() if name in present]
    order += sorted(set(present) - set(order))
    frames = []
    for name in order:
        frame = pd.read_csv(present[name], dtype={"row": str, "column": str},
                            keep_default_na=False)
        if not frame.empty:
            frames.append(frame.astype({"count": "int64", "threshold": "int64"}))
    return disclosure.merge_flags(frames), order


def run(ctx: Context) -> None:
    cfg_settings = settings(ctx)
    files = exhibit_csvs(ctx)
    problems = disclosure.firm_level_problems(files, number_of_firms(ctx), id_columns(ctx))
    if problems:
        raise DisclosureError("firm-level rows in exhibits: " + "; ".join(problems))
    report, sources = collected_flags(ctx)
    io.write_csv(ctx.paths.tables / f"{REPORT_STEM}.csv", report)
    io.write_text(ctx.paths.tables / f"{REPORT_STEM}.md",
                  disclosure.report_markdown(report, cfg_settings, len(files), sources))
