"""Step `clean`: raw survey file -> canonical clean data, its sample flow and data appendix.

The flow (records removed by each sample rule) goes to data_clean/clean_flow.csv; the
samples step continues it to every model's N in the sample-flow exhibit.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import io
from analysis.context import Context
from analysis.data import clean
from analysis.data.appendix import describe_variables
from analysis.data.study_config import (
    StudyConfig,
    check_columns,
    check_data_file,
    load_study_config,
)
from analysis.errors import ConfigError, DataError
from analysis.exhibits.frames import to_markdown

DESCRIPTION = ("Read the raw survey file, validate it against the study configuration, "
               "recode missing values, apply the sample rules and write the clean data, the "
               "sample flow and the data appendix.")

CLEAN_FILE = "survey_clean.parquet"
FLOW_FILE = "clean_flow.csv"
APPENDIX_DIR = "data_appendix"
APPENDIX_STEM = "clean_variables"
APPENDIX_TITLE = "Data appendix: variables of the clean survey data"


def study_config(ctx: Context) -> StudyConfig:
    """The study configuration of this run (data file resolved against the repo root)."""
    return load_study_config(ctx.study_config_path, root=ctx.paths.root)


def inputs(ctx: Context) -> list[Path]:
    """The study configuration and the raw data file it names."""
    return [Path(ctx.study_config_path), study_config(ctx).data_file]


def outputs(ctx: Context) -> list[Path]:
    appendix = ctx.paths.output / APPENDIX_DIR
    return [
        ctx.paths.data_clean / CLEAN_FILE,
        ctx.paths.data_clean / FLOW_FILE,
        appendix / f"{APPENDIX_STEM}.csv",
        appendix / f"{APPENDIX_STEM}.md",
    ]


def appendix_notes(cfg: StudyConfig) -> list[str]:
    notes = [
        "N missing by kind: dont_know and refused are the survey's user-missing codes; "
        "not_applicable = not asked because of the questionnaire's routing; no_answer = "
        "system-missing (item skipped or interview broken off).",
    ]
    if cfg.collaboration is not None and cfg.collaboration.type == "binary":
        notes.append("Collaboration items are yes/no in the survey; the clean data hold them "
                     "as 1 = no collaboration, 2 = collaboration.")
    elif cfg.collaboration is not None:
        notes.append("Collaboration items keep the frequency code of the file (lowest code "
                     "= never).")
    if cfg.synthetic and cfg.data_note:
        notes.append(cfg.data_note)
    return notes


def check_weight(cfg: StudyConfig, raw: pd.DataFrame) -> None:
    """The sampling weight column must hold numbers, none negative (ConfigError otherwise)."""
    column = cfg.weight_column
    if column is None or column not in raw.columns:
        return
    where = f"study config {cfg.source}: [columns.weight] column {column!r}"
    values = pd.to_numeric(raw[column], errors="coerce")
    text = raw[column].notna() & values.isna()
    if text.any():
        raise ConfigError(f"{where} is not numeric (value {raw[column][text].iloc[0]!r} in "
                          f"{int(text.sum())} record(s)); a sampling weight must be a number")
    negative = values < 0
    if negative.any():
        raise ConfigError(f"{where} has negative weights (e.g. {values[negative].iloc[0]:g} in "
                          f"{int(negative.sum())} record(s)); sampling weights must be positive")


def run(ctx: Context) -> None:
    cfg = study_config(ctx)
    check_data_file(cfg)
    try:
        raw, meta = clean.read_raw(cfg.data_file, cfg.format)
    except DataError as err:  # say which setting points at the unreadable file
        raise DataError(f"study config {cfg.source}: [study.data_file] / "
                                 f"[study.format] {err}") from err
    check_columns(cfg, list(raw.columns))  # configuration errors before any value check
    check_weight(cfg, raw)
    result = clean.clean_survey(raw, meta, cfg)  # validates before anything is written
    appendix = describe_variables(result.data, result.docs)

    io.write_parquet(ctx.paths.data_clean / CLEAN_FILE, result.data)
    io.write_csv(ctx.paths.data_clean / FLOW_FILE, result.flow)
    folder = ctx.paths.output / APPENDIX_DIR
    io.write_csv(folder / f"{APPENDIX_STEM}.csv", appendix)
    io.write_text(folder / f"{APPENDIX_STEM}.md",
                  to_markdown(appendix, f"{APPENDIX_TITLE} ({cfg.title})", appendix_notes(cfg)))
