"""Estimation samples: which firms each model uses, and the flow from raw records to its N.

A model uses the firms with its outcome and every one of its regressors known (listwise
deletion), with a known weight when it is weighted and a known cluster when its standard
errors are clustered. :func:`estimation_mask` marks them; :func:`sample_flow` continues the
clean step's flow (raw records, screen-outs, break-offs, duplicates, clean firms) to every
model's N, and checks that N against models.csv: a difference (firms the estimator dropped
itself, e.g. for perfect prediction) gets its own column instead of being hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.errors import ExhibitError
from analysis.exhibits.table_specs import table_models
from analysis.models.estimate import model_variables, outcome_values
from analysis.models.specification import ModelDef, ModelSpec, expand_models

#: Columns of the flow.
STAGE, REMOVED, OUTCOME_MISSING, REGRESSOR_MISSING, DROPPED, N = (
    "Stage", "Removed", "Outcome missing", "A regressor missing", "Dropped in estimation", "N")
PANEL_CLEAN = "A. From the raw survey file to the clean data"
PANEL_MODELS = "B. From the clean data to each model's estimation sample"


def estimation_mask(frame: pd.DataFrame, spec: ModelSpec, model: ModelDef,
                    unavailable: Iterable[str] = ()) -> tuple[pd.Series, pd.Series]:
    """(outcome known, outcome and every regressor known) for each firm of ``frame``."""
    if model.outcome not in frame.columns:
        raise ExhibitError(f"model {model.id!r}: outcome {model.outcome!r} is not in the "
                           "analysis data")
    kept, _ = model_variables(spec, model, unavailable)
    missing = [v for v in kept if v not in frame.columns]
    if missing:
        raise ExhibitError(f"model {model.id!r}: variables {missing} are not in the analysis "
                           "data")
    outcome = outcome_values(frame[model.outcome]).notna()
    needed = list(kept)
    if model.weighted and config.WEIGHT_COLUMN in frame.columns:
        needed.append(config.WEIGHT_COLUMN)
    if model.se == "cluster" and model.cluster in frame.columns:
        needed.append(model.cluster)
    complete = outcome & frame[needed].notna().all(axis=1)
    return outcome, complete


def union_mask(frame: pd.DataFrame, spec: ModelSpec, models: Sequence[ModelDef],
               unavailable: Iterable[str] = ()) -> pd.Series:
    """Firms in the estimation sample of at least one of ``models``."""
    unavailable = tuple(unavailable)
    mask = pd.Series(False, index=frame.index)
    for model in models:
        mask |= estimation_mask(frame, spec, model, unavailable)[1]
    return mask


def model_label(spec: ModelSpec, model: ModelDef, columns: Mapping[str, str]) -> str:
    """"Product innovation, manager controls (Table 2, col. 2)"."""
    outcome = spec.outcome_labels.get(model.outcome, model.outcome)
    variant = spec.variant_label(model.variant)
    where = f" ({columns[model.id]})" if model.id in columns else ""
    return f"{outcome}, {variant[:1].lower() + variant[1:]}{where}"


def table_columns(spec: ModelSpec, models: pd.DataFrame,
                  quantity: str | None = None) -> dict[str, str]:
    """Model id -> "Table 2, col. 2": where each model first appears in the tables (first
    in the tables showing ``quantity``, when given)."""
    out: dict[str, str] = {}
    tables = sorted(spec.tables.values(), key=lambda t: t.quantity != quantity)
    for table in tables:
        if not table.families:
            continue
        number = table.title.split(".")[0] if table.title.startswith("Table ") else table.name
        try:
            chosen = table_models(spec, table, models)
        except ExhibitError:
            continue
        for i, model in enumerate(chosen, start=1):
            out.setdefault(model.id, f"{number}, col. {i}")
    return out


def sample_flow(clean_flow: pd.DataFrame, frame: pd.DataFrame, spec: ModelSpec,
                models: Sequence[ModelDef], model_table: pd.DataFrame,
                unavailable: Iterable[str] = ()) -> pd.DataFrame:
    """The flow from the raw records to each model's N.

    ``clean_flow``: the clean step's flow (stage, description, records, remaining), its
    last row the clean firms; ``frame``: the analysis data (one row per clean firm);
    ``model_table``: models.csv (model, nobs). Columns: panel, Stage, Removed, Outcome
    missing, A regressor missing, [Dropped in estimation,] N.
    """
    unavailable = tuple(unavailable)
    clean_n = int(clean_flow["remaining"].iloc[-1])
    if clean_n != len(frame):
        raise ExhibitError(f"the clean data hold {clean_n} firms but the analysis data "
                           f"{len(frame)}: rerun the build step")
    rows = []
    last = len(clean_flow) - 1
    for i, (description, records, remaining) in enumerate(zip(
            clean_flow["description"], clean_flow["records"], clean_flow["remaining"],
            strict=True)):
        removed = int(records) if 0 < i < last else None
        rows.append({"panel": PANEL_CLEAN, STAGE: str(description), REMOVED: removed,
                     N: int(remaining)})
    nobs = dict(zip(model_table["model"].astype(str), model_table["nobs"], strict=True))
    columns = table_columns(spec, model_table)
    for model in models:
        if model.id not in nobs:
            continue
        outcome, complete = estimation_mask(frame, spec, model, unavailable)
        n_complete = int(complete.sum())
        estimated = int(nobs[model.id])
        if estimated > n_complete:
            raise ExhibitError(f"model {model.id!r}: models.csv says N = {estimated}, more "
                               f"than the {n_complete} firms with every variable known")
        rows.append({"panel": PANEL_MODELS, STAGE: model_label(spec, model, columns),
                     OUTCOME_MISSING: int((~outcome).sum()),
                     REGRESSOR_MISSING: int((outcome & ~complete).sum()),
                     DROPPED: n_complete - estimated, N: estimated})
    flow = pd.DataFrame(rows, columns=["panel", STAGE, REMOVED, OUTCOME_MISSING,
                                       REGRESSOR_MISSING, DROPPED, N])
    if not flow[DROPPED].fillna(0).astype(int).any():
        flow = flow.drop(columns=[DROPPED])
    for column in (REMOVED, OUTCOME_MISSING, REGRESSOR_MISSING, DROPPED, N):
        if column in flow.columns:
            flow[column] = flow[column].astype("Int64")
    return flow


def headline_sample(frame: pd.DataFrame, spec: ModelSpec, unavailable: Iterable[str] = ()
                    ) -> tuple[pd.Series | None, str]:
    """The firms of the estimation sample of at least one headline model (the headline
    family and variant of the specification) and a note saying so; (None, "") without a
    headline model."""
    head = spec.headline or {}
    chosen = [m for m in expand_models(spec, [head["family"]])
              if m.variant == head.get("variant")] if head.get("family") in spec.families else []
    if not chosen:
        return None, ""
    mask = union_mask(frame, spec, chosen, unavailable)
    variant = spec.variant_label(chosen[0].variant).lower()
    outcomes = ", ".join(spec.outcome_labels.get(m.outcome, m.outcome).lower() for m in chosen)
    note = (f"Estimation sample: the {int(mask.sum()):,} firms in at least one of the headline "
            f"models ({chosen[0].estimator}, {variant}; outcomes {outcomes}), each with the "
            "outcome and every regressor known; all firms: the clean survey.")
    return mask, note


def read_flow(path: Path) -> pd.DataFrame:
    """The clean step's flow (data_clean/clean_flow.csv); ExhibitError when it is absent or
    does not add up."""
    if not Path(path).is_file():
        raise ExhibitError(f"{path}: not found (run the clean step first)")
    flow = pd.read_csv(path)
    if not flow["adds_up"].astype(bool).all():
        raise ExhibitError(f"{path}: the sample flow does not add up (rerun the clean step)")
    return flow


def flow_notes(config_name: str, data_file: str, data_note: str = "") -> list[str]:
    """The notes of the sample-flow exhibit."""
    notes = [
        "Panel A: the sample rules of the study configuration, applied in the order shown; "
        "each record is removed by the first rule it meets, so the rows add up.",
        "Panel B: every estimated model, listwise deletion: firms without the outcome, then "
        "firms with the outcome but without one of the model's regressors; N is the model's "
        "number of observations in the tables.",
        f"Study configuration: {config_name}; raw file: {data_file}.",
    ]
    return notes + ([data_note] if data_note else [])
