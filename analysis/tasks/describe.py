"""Describe step: descriptive exhibits of the analysis data set (CSV, Markdown, LaTeX, HTML).

Writes Table 1 (summary statistics of every model variable), collaboration prevalence by
partner type and scale, the correlations of the breadth measures, and innovation rates by
glocal type and by city-region into ``<output>/tables``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd

from analysis import io
from analysis.context import Context
from analysis.data import variables
from analysis.data.study_config import load_study_config
from analysis.errors import ExhibitError
from analysis.exhibits import descriptives, disclosure
from analysis.exhibits.frames import write_frame_exhibit
from analysis.tasks import build
from analysis.tasks import disclosure as disclosure_step

DESCRIPTION = ("Descriptive exhibits: summary statistics, collaboration prevalence, breadth "
               "correlations, innovation by glocal type and by city-region")

STEMS = ("table1_summary_statistics", "collaboration_prevalence", "breadth_correlations",
         "innovation_by_glocal_type", "innovation_by_region")


def model_variables(spec_path: Path) -> tuple[list[str] | None, dict[str, str]]:
    """Outcomes and block variables of the model specification, and its labels.

    ``(None, {})`` when there is no specification file (the exhibit then uses the default
    list of :func:`analysis.exhibits.descriptives.default_model_variables`).
    """
    if not Path(spec_path).is_file():
        return None, {}
    try:
        spec = tomllib.loads(io.read_toml_text(spec_path))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ExhibitError(f"model specification {spec_path}: not valid TOML: {err}") from err
    names = list(spec.get("outcomes", {}))
    for block in spec.get("blocks", {}).values():
        names += list(block.get("variables", []))
    labels = {**spec.get("outcomes", {}), **spec.get("labels", {})}
    return list(dict.fromkeys(names)), {k: str(x) for k, x in labels.items()}


def inputs(ctx: Context) -> list[Path]:
    files = [ctx.paths.data_clean / build.ANALYSIS_FILE,
             ctx.paths.data_clean / build.META_FILE, ctx.study_config_path]
    return files + ([ctx.model_spec_path] if Path(ctx.model_spec_path).is_file() else [])


def outputs(ctx: Context) -> list[Path]:
    return [*(ctx.paths.tables / f"{stem}.{ext}" for stem in STEMS
              for ext in ("csv", "md", "tex", "html")),
            disclosure_step.flags_path(ctx, "describe")]


def run(ctx: Context) -> None:
    path = ctx.paths.data_clean / build.ANALYSIS_FILE
    if not path.is_file():
        raise ExhibitError(f"{path}: analysis data not found (run the build step first)")
    analysis = io.read_parquet(path)
    settings = build.read_settings(ctx.study_config_path)
    partners = tuple(p for p in variables.PARTNER_TYPES
                     if any(c.startswith(f"collab_{p}_") for c in analysis.columns))
    scales = tuple(c.removeprefix("breadth_") for c in analysis.columns
                   if c.startswith("breadth_"))
    wording = load_study_config(ctx.study_config_path, root=ctx.paths.root).wording
    names, spec_labels = model_variables(ctx.model_spec_path)
    spec_labels = {k: wording.fill(v) for k, v in spec_labels.items()}
    meta = build.read_meta(ctx.paths.data_clean)  # C4: what this survey cannot provide
    if names is not None:
        names = build.resolve_variables(names, meta)
    categories = {c: list(analysis[c].cat.categories) for c in ("sector", "region")
                  if c in analysis.columns and isinstance(analysis[c].dtype, pd.CategoricalDtype)}
    labels = {name: doc.label for name, doc in variables.variable_registry(
        partners, scales, survey_year=settings.survey_year, categories=categories,
        wording=wording).items()}
    labels.update(spec_labels)
    try:
        exhibits = descriptives.descriptive_exhibits(
            analysis, partners, scales, labels=labels, model_variables=names,
            data_note=" ".join([*meta.get("notes", []), settings.data_note]).strip() or None,
            wording=wording)
    except ExhibitError as err:
        raise ExhibitError(f"{path}: {err}") from err
    # Disclosure control before anything is written: flag (or suppress) small cells.
    settings = disclosure_step.settings(ctx)
    checked = [disclosure.check_exhibit(e.stem, e.frame, e.cells, e.key_column, settings)
               for e in exhibits]
    for exhibit, result in zip(exhibits, checked, strict=True):
        write_frame_exhibit(result.frame, ctx.paths.tables, exhibit.stem, exhibit.title,
                            (*exhibit.notes, *result.notes))
    disclosure_step.write_flags(ctx, "describe",
                                disclosure.merge_flags([r.flags for r in checked]))
