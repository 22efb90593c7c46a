"""Build step: clean survey -> analysis data set, its data appendix and the missing-data table.

Reads ``<data_clean>/survey_clean.parquet`` (contract C3) and a few values of the study
configuration; every variable is made by :mod:`analysis.variables`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import io, variables
from analysis.context import Context
from analysis.frame_exhibits import to_markdown, write_frame_exhibit

DESCRIPTION = ("Build the analysis data set (outcomes, collaboration by partner type and "
               "scale, controls), its data appendix and the missing-data policy table")

CLEAN_FILE = "survey_clean.parquet"
ANALYSIS_FILE = "analysis_data.parquet"
APPENDIX_STEM = "analysis_variables"
POLICY_STEM = "missing_data_policy"


class BuildError(RuntimeError):
    """The build step cannot run; the message names the file and the problem."""


@dataclass(frozen=True)
class BuildSettings:
    """The values of the study configuration the build needs."""

    survey_year: int
    never: tuple[int, ...]
    intensity: dict[int, float]
    scale_order: tuple[str, ...]
    data_note: str


def _survey_year(data: Mapping[str, Any], source: Path) -> int:
    """``[study].survey_year``; else the latest valid founding year (the survey year).

    The fallback reads the range of the kind that validates the founding-year column: a
    firm cannot be founded after the survey, so its upper bound is the survey year.
    """
    year = data.get("study", {}).get("survey_year")
    if year is None:
        founded = data.get("columns", {}).get("founded")
        kind = data.get("validate", {}).get(founded) if founded else None
        valid = data.get("kinds", {}).get(kind, {}).get("range") if kind else None
        year = valid[1] if valid else None
    if not isinstance(year, int) or isinstance(year, bool):
        raise BuildError(f"study config {source}: no survey year (set [study].survey_year; "
                         f"firm age = survey year - founding year)")
    return year


def read_settings(path: Path) -> BuildSettings:
    """The survey year, never codes, intensity weights, scale order and data note."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise BuildError(f"study config {path}: cannot read: {err}") from err
    study = data.get("study", {})
    collaboration = data.get("collaboration", {})
    intensity = collaboration.get("intensity") or variables.DEFAULT_INTENSITY
    return BuildSettings(
        survey_year=_survey_year(data, Path(path)),
        never=tuple(collaboration.get("never", variables.DEFAULT_NEVER)),
        intensity={int(k): float(v) for k, v in intensity.items()},
        scale_order=tuple(collaboration.get("scales", {})),
        data_note=study.get("data_note", "") if study.get("synthetic", False) else "",
    )


def layout(clean: pd.DataFrame, scale_order: tuple[str, ...]
           ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Partner types and scales of the clean data; scales in the study config's order."""
    partners, scales = variables.collaboration_layout(clean)
    if scale_order and set(scales) <= set(scale_order):
        scales = tuple(s for s in scale_order if s in scales)
    return partners, scales


def registry(analysis: pd.DataFrame, clean: pd.DataFrame, partners: tuple[str, ...],
             scales: tuple[str, ...], settings: BuildSettings) -> dict[str, variables.VariableDoc]:
    """Variable documentation for this layout, including the dummies of this data set."""
    categories = {c: list(analysis[c].cat.categories) for c in ("sector", "region")
                  if c in analysis.columns and isinstance(analysis[c].dtype, pd.CategoricalDtype)}
    return variables.variable_registry(
        partners, scales, survey_year=settings.survey_year,
        items=variables.open_items(clean) or ("open_1",), intensity_weights=settings.intensity,
        categories=categories)


def appendix_frame(analysis: pd.DataFrame, docs: Mapping[str, variables.VariableDoc]
                   ) -> pd.DataFrame:
    """The data appendix: :func:`analysis.appendix.describe_variables` plus a definition column.

    Every variable must be documented (an undocumented one raises :class:`BuildError`).
    """
    from analysis.appendix import VariableDoc, describe_variables

    undocumented = [c for c in analysis.columns if c not in docs]
    if undocumented:
        raise BuildError(f"analysis data: undocumented variable(s) {', '.join(undocumented)}")
    identifiers = {"firm_id", "interview_id"}
    table = describe_variables(analysis, {
        name: VariableDoc(label=doc.label, source=doc.source, summarize=name not in identifiers)
        for name, doc in docs.items()})
    table.insert(2, "definition", [docs[c].definition for c in table["variable"]])
    return table


def alpha_text(clean: pd.DataFrame) -> str:
    """Cronbach's alpha of the open-mindedness items, as a sentence for the appendix."""
    items = variables.open_items(clean)
    if len(items) < 2:
        return ""
    try:
        alpha = variables.cronbach_alpha(clean[items])
    except variables.VariableError as err:
        return f"Cronbach's alpha not computed: {err}."
    complete = int(clean[items].notna().all(axis=1).sum())
    return (f"Cronbach's alpha of the {len(items)} items = {alpha:.3f} ({complete} firms "
            f"answering all items).")


def policy_markdown() -> str:
    """The missing-data policy as Markdown, for the data appendix."""
    lines = ["## Missing-data policy", ""]
    lines += [f"- **{construct}.** {rule}" for construct, rule in
              variables.MISSING_DATA_POLICY.items()]
    return "\n".join(lines) + "\n"


def inputs(ctx: Context) -> list[Path]:
    return [ctx.paths.data_clean / CLEAN_FILE, ctx.study_config_path]


def outputs(ctx: Context) -> list[Path]:
    appendix = ctx.paths.output / "data_appendix"
    return [
        ctx.paths.data_clean / ANALYSIS_FILE,
        appendix / f"{APPENDIX_STEM}.csv",
        appendix / f"{APPENDIX_STEM}.md",
        *(ctx.paths.tables / f"{POLICY_STEM}.{ext}" for ext in ("csv", "md", "tex", "html")),
    ]


def run(ctx: Context) -> None:
    clean_path = ctx.paths.data_clean / CLEAN_FILE
    if not clean_path.is_file():
        raise BuildError(f"{clean_path}: clean survey not found (run the clean step first)")
    clean = io.read_parquet(clean_path)
    settings = read_settings(ctx.study_config_path)
    partners, scales = layout(clean, settings.scale_order)
    try:
        analysis = variables.build_analysis_data(
            clean, survey_year=settings.survey_year, partners=partners, scales=scales,
            never=settings.never, intensity_weights=settings.intensity)
        counts = variables.policy_counts(clean, partners, scales)
    except variables.VariableError as err:
        raise BuildError(f"{clean_path}: {err}") from err
    io.write_parquet(ctx.paths.data_clean / ANALYSIS_FILE, analysis)

    docs = registry(analysis, clean, partners, scales, settings)
    appendix = appendix_frame(analysis, docs)
    alpha = alpha_text(clean)
    if alpha and "open_mindedness" in analysis.columns:
        row = appendix["variable"] == "open_mindedness"
        appendix.loc[row, "definition"] = appendix.loc[row, "definition"] + ". " + alpha
    notes = [f"{len(analysis)} firms. Definitions and source items of every variable of "
             f"{ANALYSIS_FILE}."] + ([f"Open-mindedness index: {alpha}"] if alpha else [])
    notes += [settings.data_note] if settings.data_note else []
    folder = ctx.paths.output / "data_appendix"
    io.write_csv(folder / f"{APPENDIX_STEM}.csv", appendix)
    io.write_text(folder / f"{APPENDIX_STEM}.md",
                  to_markdown(appendix, "Variables of the analysis data set", notes)
                  + "\n" + policy_markdown())

    policy_notes = [f"{len(clean)} firms in the clean survey. Rules by construct:"]
    policy_notes += [f"{c}: {r}" for c, r in variables.MISSING_DATA_POLICY.items()]
    policy_notes += [settings.data_note] if settings.data_note else []
    write_frame_exhibit(counts.rename(columns={"construct": "Construct", "case": "Case",
                                               "firms": "Firms affected"}),
                        ctx.paths.tables, POLICY_STEM,
                        "Missing-data policy: firms affected by each rule", policy_notes)
