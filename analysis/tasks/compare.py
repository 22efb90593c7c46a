"""Step: compare this run's estimates with the published numbers a user typed in."""

from __future__ import annotations

from pathlib import Path

from analysis.config import CONFIG_DIR
from analysis.context import Context
from analysis.data.study_config import load_study_config
from analysis.exhibits.frames import TABLE_FORMATS, write_frame_exhibit
from analysis.tasks import estimate

DESCRIPTION = "Comparison with the papers' published estimates (config/published_estimates.csv)"
PUBLISHED = CONFIG_DIR / "published_estimates.csv"
STEM = "comparison_published"
FORMATS = TABLE_FORMATS
TITLE = "Comparison with the published estimates"


def inputs(ctx: Context) -> list[Path]:
    return [PUBLISHED, ctx.paths.estimates / estimate.ESTIMATES_FILE, ctx.study_config_path]


def outputs(ctx: Context) -> list[Path]:
    return [ctx.paths.tables / f"{STEM}.{ext}" for ext in FORMATS]


def run(ctx: Context) -> None:
    import pandas as pd

    from analysis.exhibits.compare import check_published, compare_published

    published = check_published(pd.read_csv(PUBLISHED, dtype={"note": str}), str(PUBLISHED))
    cfg = load_study_config(ctx.study_config_path)
    notes = ["Published numbers are typed by the user into config/published_estimates.csv "
             "(format: config/published_estimates.md). 'differs': the two numbers would print "
             "differently at the paper's precision (|difference| > half a unit of the last "
             "printed decimal)."]
    if cfg.synthetic and cfg.data_note:
        notes.append(cfg.data_note)
    if published.empty:
        frame = pd.DataFrame({"status": [
            "No published numbers entered: config/published_estimates.csv has only its "
            "header. Type the papers' numbers into it (see config/published_estimates.md) "
            "and rerun."]})
    else:
        estimates = pd.read_csv(ctx.paths.estimates / estimate.ESTIMATES_FILE)
        frame = compare_published(published, estimates)
    write_frame_exhibit(frame, ctx.paths.tables, STEM, TITLE, notes)
