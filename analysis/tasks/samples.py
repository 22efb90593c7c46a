"""Samples step: the flow from the raw survey records to every model's estimation sample.

Reads the clean step's flow (data_clean/clean_flow.csv), the analysis data, the model
specification and models.csv; writes output/tables/sample_flow.{csv,md,tex,html,docx}:
panel A the records removed by each sample rule, panel B for every estimated model the
firms without its outcome, those without one of its regressors, and its N (checked against
models.csv).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import io
from analysis.context import Context
from analysis.data.study_config import load_study_config
from analysis.errors import ExhibitError
from analysis.exhibits.frames import TABLE_FORMATS, write_frame_exhibit
from analysis.exhibits.layout import FrameLayout
from analysis.exhibits.samples import sample_flow
from analysis.models.specification import expand_models
from analysis.tasks import build, clean, estimate

DESCRIPTION = "Sample flow: from the raw survey records to every model's estimation sample"

STEM = "sample_flow"
TITLE = "Sample flow: from the raw survey records to each model's estimation sample"


def inputs(ctx: Context) -> list[Path]:
    return [ctx.paths.data_clean / clean.FLOW_FILE, ctx.paths.data_clean / build.ANALYSIS_FILE,
            estimate.meta_path(ctx), ctx.paths.estimates / estimate.MODELS_FILE,
            ctx.model_spec_path, ctx.study_config_path]


def outputs(ctx: Context) -> list[Path]:
    return [ctx.paths.tables / f"{STEM}.{ext}" for ext in TABLE_FORMATS]


def notes(ctx: Context) -> list[str]:
    cfg = load_study_config(ctx.study_config_path, root=ctx.paths.root)
    out = [
        "Panel A: the sample rules of the study configuration, applied in the order shown; "
        "each record is removed by the first rule it meets, so the rows add up.",
        "Panel B: every estimated model, listwise deletion: firms without the outcome, then "
        "firms with the outcome but without one of the model's regressors; N is the model's "
        "number of observations in the tables.",
        f"Study configuration: {cfg.source.name}; raw file: {cfg.data_file.name}.",
    ]
    if cfg.synthetic and cfg.data_note:
        out.append(cfg.data_note)
    return out


def _read_csv(path: Path, **options) -> pd.DataFrame:
    if not path.is_file():
        raise ExhibitError(f"{path}: not found (run the earlier steps first)")
    return pd.read_csv(path, **options)


def run(ctx: Context) -> None:
    flow = _read_csv(ctx.paths.data_clean / clean.FLOW_FILE)
    if not flow["adds_up"].astype(bool).all():
        raise ExhibitError(f"{ctx.paths.data_clean / clean.FLOW_FILE}: the sample flow does "
                           "not add up (rerun the clean step)")
    models = _read_csv(ctx.paths.estimates / estimate.MODELS_FILE, dtype={"model": str})
    data = io.read_parquet(ctx.paths.data_clean / build.ANALYSIS_FILE)
    spec = estimate.model_spec(ctx)
    meta = estimate.read_meta(estimate.meta_path(ctx))
    unavailable = [str(v) for v in meta.get("unavailable", [])]
    frame = sample_flow(flow, data, spec, expand_models(spec), models, unavailable)
    write_frame_exhibit(frame, ctx.paths.tables, STEM, TITLE, notes(ctx),
                        layout=FrameLayout(decimals=0, panel_column="panel", long=False))
