"""Step: compare this run's estimates with the published numbers a user typed in."""

from __future__ import annotations

from pathlib import Path

from analysis.config import CONFIG_DIR, TABLE_FORMATS
from analysis.context import Context

DESCRIPTION = "Comparison with the papers' published estimates (config/published_estimates.csv)"
PUBLISHED = CONFIG_DIR / "published_estimates.csv"
STEM = "comparison_published"
TITLE = "Comparison with the published estimates"


def inputs(ctx: Context) -> list[Path]:
    return [PUBLISHED, ctx.paths.estimates_file, ctx.study_config_path]


def outputs(ctx: Context) -> list[Path]:
    return [ctx.paths.tables / f"{STEM}.{ext}" for ext in TABLE_FORMATS]


def run(ctx: Context) -> None:
    import pandas as pd

    from analysis.data.study_config import load_study_config
    from analysis.data.study_settings import data_note
    from analysis.exhibits.compare import check_published, comparison_exhibit
    from analysis.exhibits.frames import write_frame_exhibit
    from analysis.models.results import read_results

    published = check_published(pd.read_csv(PUBLISHED, dtype={"note": str}), str(PUBLISHED))
    estimates = None if published.empty else read_results(ctx.paths.estimates_file)
    note = data_note(load_study_config(ctx.study_config_path, root=ctx.paths.root))
    frame, notes = comparison_exhibit(published, estimates, note)
    write_frame_exhibit(frame, ctx.paths.tables, STEM, TITLE, notes)
