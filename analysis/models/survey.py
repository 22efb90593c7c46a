"""What one run estimates on its survey: the model specification as the survey can estimate
it, read once per step by :func:`survey_run` (the analysis meta, contract C4, the study's
wording and the analysis data's columns applied by
:func:`analysis.models.survey_spec.survey_model_spec`), every model's estimation, and the
headline family's setup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.context import Context
from analysis.data.meta import read_meta, unavailable
from analysis.data.study_config import StudyConfig, load_study_config
from analysis.data.wording import Wording
from analysis.errors import ModelError
from analysis.models.estimate import DEFAULT_PREDICTION_VALUES, EstimationRun, estimate_all
from analysis.models.headline import Headline, headline_setup
from analysis.models.specification import ModelSpec, expand_models
from analysis.models.survey_spec import check_against_data, survey_model_spec


@dataclass(frozen=True)
class SurveyRun:
    """The specification as this run's survey can estimate it, with what it was made from."""

    spec: ModelSpec
    meta: dict[str, Any]
    #: the study configuration (None when a step runs without one, as in unit tests)
    study: StudyConfig | None

    @property
    def unavailable(self) -> list[str]:
        """The variables this survey cannot provide."""
        return unavailable(self.meta)

    @property
    def wording(self) -> Wording:
        """The study's words (the neutral defaults without a study configuration)."""
        return Wording() if self.study is None else self.study.wording

    @property
    def data_note(self) -> str:
        """The study's data note when its data are synthetic, else ""."""
        study = self.study
        return study.data_note if study is not None and study.synthetic else ""


def analysis_columns(path: Path) -> list[str] | None:
    """The analysis data's column names (its schema only), or None before the build step."""
    if not Path(path).is_file():
        return None
    import pyarrow.parquet as pq  # the schema alone: no data are read

    try:
        return list(pq.read_schema(path).names)
    except (OSError, ValueError) as err:
        raise ModelError(f"{path}: cannot read the analysis data: {err}") from err


def survey_run(ctx: Context) -> SurveyRun:
    """The run's model specification as its survey can estimate it (the one resolution
    every step uses)."""
    meta = read_meta(ctx.paths.analysis_meta)
    study = (load_study_config(ctx.study_config_path, root=ctx.paths.root)
             if Path(ctx.study_config_path).is_file() else None)
    spec = survey_model_spec(
        ctx.model_spec_path, meta, ctx.options,
        columns=analysis_columns(ctx.paths.analysis_data),
        wording=Wording() if study is None else study.wording,
        log_plus_one=study is not None and study.sample.zero_employees == "log_plus_one")
    return SurveyRun(spec, meta, study)


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


def survey_headline(spec: ModelSpec, missing: list[str], wording: Wording | None = None
                    ) -> Headline:
    """The headline family's setup on this survey (ModelError when none of its main
    variables is available), its region subsamples named in the study's words. The spec's
    ``[headline]`` variant is already the surviving one when the configured variant repeats
    another here (e.g. "manager" without manager questions)."""
    family_omitted = spec.headline and spec.headline.get("family") not in spec.families
    headline = None if family_omitted else headline_setup(spec, missing)
    if headline is None or not headline.main:
        raise ModelError(f"{spec.path}: the headline family has no variable available in "
                         "the analysis data")
    unit = (wording or Wording()).placeholders()["Region_unit"]
    return replace(headline, subsample_labels={**headline.subsample_labels, "region": unit})


def model_variables(spec: ModelSpec) -> list[str]:
    """Outcomes and block variables of the specification, in order, without repeats."""
    names = list(spec.outcome_labels)
    for block in spec.blocks.values():
        names += list(block.variables)
    return list(dict.fromkeys(names))


def variable_labels(spec: ModelSpec, wording: Wording | None = None) -> dict[str, str]:
    """Labels of the outcomes and of the terms (``[labels]``) in the study's words."""
    fill = (wording or Wording()).fill
    return {k: fill(str(x)) for k, x in {**spec.outcome_labels, **spec.labels}.items()}
