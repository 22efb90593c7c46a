"""The model specification as one survey can estimate it, and what it names.

:func:`survey_model_spec` is the one resolution every step uses: the stand-ins of the
analysis meta (C4) swapped in, ``--option weights`` and the survey's weights applied, and
variants that would repeat an earlier variant's model or families without any available
main variable left out (each with a note).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.data.meta import unavailable
from analysis.errors import ModelError
from analysis.models.estimate import DEFAULT_PREDICTION_VALUES, EstimationRun, estimate_all
from analysis.models.headline import Headline, headline_setup
from analysis.models.specification import (
    ModelSpec,
    check_against_data,
    expand_models,
    for_survey_weights,
    load_model_spec,
    omit_unavailable,
    with_substitutes,
    with_weights,
)


def survey_model_spec(path: Path, meta: Mapping[str, Any],
                      options: Mapping[str, Any] | None = None) -> ModelSpec:
    """The model specification at ``path`` as this survey (``meta``) can estimate it."""
    missing = unavailable(meta)
    spec = with_substitutes(load_model_spec(path), meta.get("substitutes", {}) or {}, missing)
    if options and "weights" in options:
        spec = with_weights(spec, bool(options["weights"]))
    spec = for_survey_weights(spec, bool(meta.get("weighted", False)))
    return omit_unavailable(spec, missing)


def prediction_values(meta: Mapping[str, Any]) -> tuple[float, ...]:
    """0..number of partner types (the range of a breadth count)."""
    partners = meta.get("partners")
    if isinstance(partners, list) and partners:
        return tuple(float(v) for v in range(len(partners) + 1))
    return DEFAULT_PREDICTION_VALUES


def estimate_survey(frame: pd.DataFrame, spec: ModelSpec, meta: Mapping[str, Any]
                    ) -> EstimationRun:
    """Every model of the survey's specification on the analysis data ``frame``; stops
    (ModelError) when no model can be estimated or a model names a missing variable."""
    missing = unavailable(meta)
    if not spec.families:
        raise ModelError(f"{spec.path}: no model can be estimated on this survey: " + " ".join(
            spec.omission_notes(o.family for o in spec.omitted_families)))
    check_against_data(spec, expand_models(spec), frame.columns, missing)
    return estimate_all(frame, spec, missing, prediction_values=prediction_values(meta))


def survey_headline(spec: ModelSpec, missing: list[str]) -> Headline:
    """The headline family's setup on this survey (ModelError when none of its main
    variables is available). The spec's ``[headline]`` variant is already the surviving one
    when the configured variant repeats another here (e.g. "manager" without manager
    questions)."""
    family_omitted = spec.headline and spec.headline.get("family") not in spec.families
    headline = None if family_omitted else headline_setup(spec, missing)
    if headline is None or not headline.main:
        raise ModelError(f"{spec.path}: the headline family has no variable available in "
                         "the analysis data")
    return headline


def model_variables(spec: ModelSpec) -> list[str]:
    """Outcomes and block variables of the specification, in order, without repeats."""
    names = list(spec.outcome_labels)
    for block in spec.blocks.values():
        names += list(block.variables)
    return list(dict.fromkeys(names))


def spec_variables(spec: ModelSpec) -> list[str]:
    """Every variable the specification names: outcomes, block variables, the cluster."""
    cluster = spec.defaults.get("cluster")
    return list(dict.fromkeys([*model_variables(spec), *([str(cluster)] if cluster else [])]))


def variable_labels(spec: ModelSpec) -> dict[str, str]:
    """Labels of the outcomes and of the terms (``[labels]``)."""
    return {k: str(x) for k, x in {**spec.outcome_labels, **spec.labels}.items()}
