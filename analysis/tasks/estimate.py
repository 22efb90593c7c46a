"""Estimate step: every model of the specification -> output/estimates/ (contract C5).

Writes estimates.csv (C1 rows: coef, ame, odds_ratio, cut, fit and test rows),
predictions.csv (Figure 2) and models.csv (one row per model). An estimation problem in
any model stops the step with the error's message, which names the model.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd

from analysis import io
from analysis.context import Context
from analysis.data.study_config import StudyConfig, load_study_config
from analysis.data.wording import Wording
from analysis.errors import ExhibitError, ModelError
from analysis.models.estimate import DEFAULT_PREDICTION_VALUES, EstimationRun, estimate_all
from analysis.models.specification import (
    WEIGHTS,
    ModelSpec,
    expand_models,
    load_model_spec,
    with_weights,
)
from analysis.models.survey_spec import (
    check_against_data,
    check_variables,
    for_survey_design,
    for_survey_weights,
    omit_unavailable,
    with_substitutes,
    with_wording,
)
from analysis.tasks import build

DESCRIPTION = ("Estimate every model of the specification (logit, ordered logit, ...): "
               "coefficients, marginal effects, odds ratios, tests and predictions")

ESTIMATES_FILE = "estimates.csv"
PREDICTIONS_FILE = "predictions.csv"
MODELS_FILE = "models.csv"
META_FILE = "analysis_meta.json"
#: 12 significant digits: far beyond any displayed precision, and rounding noise in the
#: last bits of a float cannot change the bytes of a rerun.
FLOAT_FORMAT = "%.12g"


def meta_path(ctx: Context) -> Path:
    return ctx.paths.data_clean / META_FILE


def read_meta(path: Path) -> dict:
    """The analysis meta of the build step (contract C4); {} when the file is absent."""
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ModelError(f"{path}: cannot read the analysis meta: {err}") from err
    if not isinstance(meta, dict) or not isinstance(meta.get("unavailable", []), list):
        raise ModelError(f"{path}: 'unavailable' must be a list of variable names")
    return meta


def prediction_values(meta: dict) -> tuple[float, ...]:
    """0..number of partner types (the range of a breadth count)."""
    partners = meta.get("partners")
    if isinstance(partners, list) and partners:
        return tuple(float(v) for v in range(len(partners) + 1))
    return DEFAULT_PREDICTION_VALUES


def csv_text(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n", float_format=FLOAT_FORMAT)


def read_outputs(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """estimates.csv and models.csv as the consumer steps read them (model ids and terms as
    text, an empty cell missing)."""
    frames = []
    for name in (ESTIMATES_FILE, MODELS_FILE):
        path = ctx.paths.estimates / name
        if not path.is_file():
            raise ExhibitError(f"{path}: not found (run the estimate step first)")
        frames.append(pd.read_csv(path, dtype={"model": str, "term": str, "terms": str,
                                               "cluster": str, "unavailable": str,
                                               "interval": str, "weight_type": str,
                                               "dropped_notes": str},
                                  keep_default_na=False, na_values=[""]))
    return frames[0], frames[1]


def inputs(ctx: Context) -> list[Path]:
    return [ctx.paths.data_clean / build.ANALYSIS_FILE, meta_path(ctx), ctx.model_spec_path]


def outputs(ctx: Context) -> list[Path]:
    folder = ctx.paths.estimates
    return [folder / ESTIMATES_FILE, folder / PREDICTIONS_FILE, folder / MODELS_FILE]


def analysis_columns(ctx: Context) -> list[str] | None:
    """The analysis data's column names (its schema only), or None before the build step."""
    path = ctx.paths.data_clean / build.ANALYSIS_FILE
    if not path.is_file():
        return None
    import pyarrow.parquet as pq  # the schema alone: no data are read

    try:
        return list(pq.read_schema(path).names)
    except (OSError, ValueError) as err:
        raise ModelError(f"{path}: cannot read the analysis data: {err}") from err


def model_spec(ctx: Context) -> ModelSpec:
    """The model specification as this survey can estimate it: every variable it names
    checked against the analysis data (a misspelt name stops here, before any model is
    estimated, with the nearest valid names), stand-ins (C4) swapped in, variants that
    would repeat an earlier variant's model and families without any available main
    variable left out (each consumer step reads the spec through here)."""
    meta = read_meta(meta_path(ctx))
    unavailable = [str(v) for v in meta.get("unavailable", [])]
    substitutes = meta.get("substitutes", {}) or {}
    spec = load_model_spec(ctx.model_spec_path)
    columns = analysis_columns(ctx)
    if columns is not None:
        check_variables(spec, columns, substitutes)
    spec = with_substitutes(spec, substitutes, unavailable)
    if "weights" in ctx.options:
        spec = with_weights(spec, weights_option(ctx.options["weights"]))
    weighted = bool(meta.get("weighted", False))
    spec = for_survey_design(spec, meta.get("design"), weighted)
    spec = for_survey_weights(spec, weighted)
    spec = with_wording(spec, study_wording(ctx).fill)
    if log_plus_one(ctx):  # say what the control is: log(1 + employees)
        spec = replace(spec, labels={**spec.labels, "log_employees": "Log (1 + employees)"})
    return omit_unavailable(spec, unavailable)


def _study(ctx: Context) -> StudyConfig | None:
    """The study configuration (None when the step runs without one, as in unit tests)."""
    if not Path(ctx.study_config_path).is_file():
        return None
    return load_study_config(ctx.study_config_path, root=ctx.paths.root)


def study_wording(ctx: Context) -> Wording:
    """The study's words for its country, regional unit and sector code (the neutral
    defaults without a study configuration)."""
    cfg = _study(ctx)
    return Wording() if cfg is None else cfg.wording


def log_plus_one(ctx: Context) -> bool:
    """Whether log employees is log(1 + employees) (``sample.zero_employees``)."""
    cfg = _study(ctx)
    return cfg is not None and cfg.sample.zero_employees == "log_plus_one"


def weights_option(value: object) -> bool | str:
    """``--option weights=...``: weight every model by the survey's weight column, as
    probability weights (true or pweight) or frequency weights (fweight), or not at all
    (false or none)."""
    if isinstance(value, bool) or value in WEIGHTS:
        return value
    raise ModelError(f"--option weights={value!r}: expected true, false, "
                     + ", ".join(WEIGHTS))


def estimate(ctx: Context) -> EstimationRun:
    """Read the analysis data, the specification and the meta; estimate every model."""
    path = ctx.paths.data_clean / build.ANALYSIS_FILE
    if not path.is_file():
        raise ModelError(f"{path}: analysis data not found (run the build step first)")
    frame = io.read_parquet(path)
    spec = model_spec(ctx)
    meta = read_meta(meta_path(ctx))
    unavailable = [str(v) for v in meta.get("unavailable", [])]
    if not spec.families:
        raise ModelError(f"{ctx.model_spec_path}: no model can be estimated on this "
                            "survey: " + " ".join(spec.omission_notes(
                                o.family for o in spec.omitted_families)))
    check_against_data(spec, expand_models(spec), frame.columns, unavailable)
    return estimate_all(frame, spec, unavailable, prediction_values=prediction_values(meta))


def run(ctx: Context) -> None:
    result = estimate(ctx)
    folder = ctx.paths.estimates
    io.write_text(folder / ESTIMATES_FILE, csv_text(result.estimates))
    io.write_text(folder / PREDICTIONS_FILE, csv_text(result.predictions))
    io.write_text(folder / MODELS_FILE, csv_text(result.model_table))
