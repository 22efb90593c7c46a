"""Describe step: descriptive exhibits of the analysis data set (CSV, Markdown, LaTeX, HTML).

Writes Table 1 (summary statistics of every model variable), collaboration prevalence by
partner type and scale, the correlations of the breadth measures, and innovation rates by
glocal type and by city-region into ``<output>/tables``, each checked for small cells
first (flags in ``<output>/disclosure/describe.csv``).
"""

from __future__ import annotations

from pathlib import Path

from analysis.context import Context

DESCRIPTION = ("Descriptive exhibits: summary statistics, collaboration prevalence, breadth "
               "correlations, innovation by glocal type and by city-region")

STEMS = ("table1_summary_statistics", "collaboration_prevalence", "breadth_correlations",
         "innovation_by_glocal_type", "innovation_by_region")


def inputs(ctx: Context) -> list[Path]:
    files = [ctx.paths.analysis_data, ctx.paths.analysis_meta, ctx.study_config_path]
    return files + ([ctx.model_spec_path] if Path(ctx.model_spec_path).is_file() else [])


def outputs(ctx: Context) -> list[Path]:
    return [*(ctx.paths.tables / f"{stem}.{ext}" for stem in STEMS
              for ext in ("csv", "md", "tex", "html")), ctx.paths.flags_file("describe")]


def run(ctx: Context) -> None:
    from analysis import io
    from analysis.data.meta import read_meta, resolve_variables
    from analysis.data.study_config import load_study_config
    from analysis.data.study_settings import settings_from_config
    from analysis.errors import ExhibitError
    from analysis.exhibits import descriptives, disclosure
    from analysis.models.specification import load_model_spec
    from analysis.models.survey import model_variables, variable_labels

    analysis = io.read_parquet(ctx.paths.analysis_data)
    cfg = load_study_config(ctx.study_config_path, root=ctx.paths.root)
    settings = settings_from_config(cfg)
    meta = read_meta(ctx.paths.analysis_meta)  # C4: what this survey cannot provide
    spec = load_model_spec(ctx.model_spec_path) if ctx.model_spec_path.is_file() else None
    names = resolve_variables(model_variables(spec), meta) if spec else None
    partners, scales = descriptives.analysis_layout(analysis)
    labels = descriptives.variable_labels(analysis, partners, scales, settings.survey_year,
                                          variable_labels(spec) if spec else {})
    try:
        exhibits = descriptives.descriptive_exhibits(
            analysis, partners, scales, labels=labels, model_variables=names,
            data_note=" ".join([*meta.get("notes", []), settings.data_note]).strip() or None)
    except ExhibitError as err:
        raise ExhibitError(f"{ctx.paths.analysis_data}: {err}") from err
    flags = descriptives.write_checked_exhibits(
        exhibits, disclosure.settings_from_config(cfg), ctx.paths.tables)
    disclosure.write_flags(ctx.paths.flags_file("describe"), flags)
