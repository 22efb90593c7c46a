"""Step `clean`: raw survey file -> canonical clean data, sample flow and data appendix."""

from __future__ import annotations

from pathlib import Path

from analysis.context import Context
from analysis.data.study_config import load_study_config

DESCRIPTION = ("Read the raw survey file, validate it against the study configuration, "
               "recode missing values, apply the sample rules and write the clean data, the "
               "sample flow and the data appendix.")

FLOW_STEM = "sample_flow"
FLOW_TITLE = "Sample flow: from raw survey records to the estimation sample"
APPENDIX_STEM = "clean_variables"
APPENDIX_TITLE = "Data appendix: variables of the clean survey data"
EXHIBIT_SUFFIXES = (".csv", ".md", ".tex", ".html")


def inputs(ctx: Context) -> list[Path]:
    """The study configuration and the raw data file it names."""
    cfg = load_study_config(ctx.study_config_path, root=ctx.paths.root)
    return [Path(ctx.study_config_path), cfg.data_file]


def outputs(ctx: Context) -> list[Path]:
    return [
        ctx.paths.clean_data,
        *(ctx.paths.tables / f"{FLOW_STEM}{suffix}" for suffix in EXHIBIT_SUFFIXES),
        ctx.paths.data_appendix / f"{APPENDIX_STEM}.csv",
        ctx.paths.data_appendix / f"{APPENDIX_STEM}.md",
    ]


def run(ctx: Context) -> None:
    from analysis import io
    from analysis.data import appendix, clean
    from analysis.data.study_config import check_columns, check_data_file
    from analysis.data.study_settings import check_weight
    from analysis.errors import DataError
    from analysis.exhibits.frames import to_markdown, write_frame_exhibit

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

    io.write_parquet(ctx.paths.clean_data, result.data)
    write_frame_exhibit(result.flow, ctx.paths.tables, FLOW_STEM, FLOW_TITLE,
                        appendix.flow_notes(cfg), decimals=0)
    io.write_csv(ctx.paths.data_appendix / f"{APPENDIX_STEM}.csv", table)
    io.write_text(ctx.paths.data_appendix / f"{APPENDIX_STEM}.md",
                  to_markdown(table, f"{APPENDIX_TITLE} ({cfg.title})",
                              appendix.clean_appendix_notes(cfg)))
