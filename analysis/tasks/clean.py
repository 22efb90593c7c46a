"""Step `clean`: raw survey file -> canonical clean data, its sample flow and data appendix.

The flow (records removed by each sample rule) goes to data_clean/clean_flow.csv; the
samples step continues it to every model's N in the sample-flow exhibit.
"""

from __future__ import annotations

from pathlib import Path

from analysis.context import Context
from analysis.data.study_config import load_study_config

DESCRIPTION = ("Read the raw survey file, validate it against the study configuration, "
               "recode missing values, apply the sample rules and write the clean data, the "
               "sample flow and the data appendix.")
#: Checks the survey: among the steps ready to run it starts first, so a bad file stops
#: the run before any step that reads no data (the coverage study) has written anything.
RUN_FIRST = True

APPENDIX_STEM = "clean_variables"
APPENDIX_TITLE = "Data appendix: variables of the clean survey data"


def inputs(ctx: Context) -> list[Path]:
    """The study configuration and the raw data file it names."""
    cfg = load_study_config(ctx.study_config_path, root=ctx.paths.root)
    return [Path(ctx.study_config_path), cfg.data_file]


def outputs(ctx: Context) -> list[Path]:
    return [
        ctx.paths.clean_data,
        ctx.paths.clean_flow,
        ctx.paths.data_appendix / f"{APPENDIX_STEM}.csv",
        ctx.paths.data_appendix / f"{APPENDIX_STEM}.md",
        ctx.paths.flags_file("clean"),
    ]


def run(ctx: Context) -> None:
    from analysis import io
    from analysis.data import appendix, clean
    from analysis.data.study_config import check_columns, check_data_file
    from analysis.data.study_settings import check_weight
    from analysis.errors import DataError
    from analysis.exhibits import disclosure
    from analysis.exhibits.frames import to_markdown

    cfg = load_study_config(ctx.study_config_path, root=ctx.paths.root)
    check_data_file(cfg)
    try:
        raw, meta = clean.read_raw(cfg.data_file, cfg.format)
    except DataError as err:  # say which setting points at the unreadable file
        raise DataError(f"study config {cfg.source}: [study.data_file] / "
                        f"[study.format] {err}") from err
    check_columns(cfg, list(raw.columns))  # configuration errors before any value check
    check_weight(cfg, raw)
    result = clean.clean_survey(raw, meta, cfg)  # validates before anything is written
    table = appendix.describe_variables(result.data, result.docs)
    checked = disclosure.check_exhibit(
        APPENDIX_STEM, table, disclosure.appendix_cells(result.data, table), "variable",
        disclosure.settings_from_config(cfg))

    io.write_parquet(ctx.paths.clean_data, result.data)
    io.write_csv(ctx.paths.clean_flow, result.flow)
    io.write_csv(ctx.paths.data_appendix / f"{APPENDIX_STEM}.csv", checked.frame)
    io.write_text(ctx.paths.data_appendix / f"{APPENDIX_STEM}.md",
                  to_markdown(checked.frame, f"{APPENDIX_TITLE} ({cfg.title})",
                              [*appendix.clean_appendix_notes(cfg), *checked.notes]))
    disclosure.write_flags(ctx.paths.flags_file("clean"), checked.flags)
