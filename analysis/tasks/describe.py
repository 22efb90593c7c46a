"""Describe step: descriptive exhibits of the analysis data set (CSV, Markdown, LaTeX, HTML,
Word).

Writes Table 1 (summary statistics of every model variable in the estimation sample of the
headline models, beside the N and mean of all firms), collaboration prevalence by partner
type and scale, the correlations of the breadth measures, and innovation rates by glocal
type and by city-region into ``<output>/tables``, each checked for small cells first (flags
in ``<data_clean>/disclosure/describe.csv``).
"""

from __future__ import annotations

from pathlib import Path

from analysis.config import TABLE_FORMATS
from analysis.context import Context

DESCRIPTION = ("Descriptive exhibits: summary statistics, collaboration prevalence, breadth "
               "correlations, innovation by glocal type and by city-region")

STEMS = ("table1_summary_statistics", "collaboration_prevalence", "breadth_correlations",
         "innovation_by_glocal_type", "innovation_by_region")


def inputs(ctx: Context) -> list[Path]:
    files = [ctx.paths.analysis_data, ctx.paths.analysis_meta, ctx.study_config_path]
    return files + ([ctx.model_spec_path] if Path(ctx.model_spec_path).is_file() else [])


def outputs(ctx: Context) -> list[Path]:
    return [*(ctx.paths.tables / f"{stem}.{ext}" for stem in STEMS for ext in TABLE_FORMATS),
            ctx.paths.flags_file("describe")]


def run(ctx: Context) -> None:
    from analysis import io
    from analysis.data.meta import read_meta, resolve_variables
    from analysis.data.study_config import load_study_config
    from analysis.data.study_settings import settings_from_config
    from analysis.errors import ExhibitError
    from analysis.exhibits import descriptives, disclosure
    from analysis.exhibits.samples import headline_sample
    from analysis.models.specification import load_model_spec
    from analysis.models.survey import model_variables, survey_run, variable_labels

    analysis = io.read_parquet(ctx.paths.analysis_data)
    cfg = load_study_config(ctx.study_config_path, root=ctx.paths.root)
    settings = settings_from_config(cfg)
    meta = read_meta(ctx.paths.analysis_meta)  # C4: what this survey cannot provide
    spec = load_model_spec(ctx.model_spec_path) if ctx.model_spec_path.is_file() else None
    survey = survey_run(ctx) if spec else None  # the headline models' sample
    names = resolve_variables(model_variables(spec), meta) if spec else None
    sample, sample_note = (headline_sample(analysis, survey.spec, survey.unavailable) if survey
                           else (None, ""))
    partners, scales = descriptives.analysis_layout(analysis)
    labels = descriptives.variable_labels(
        analysis, partners, scales, settings.survey_year,
        variable_labels(spec, cfg.wording) if spec else {}, cfg.wording)
    try:
        exhibits = descriptives.descriptive_exhibits(
            analysis, partners, scales, labels=labels, model_variables=names,
            data_note=" ".join([*meta.get("notes", []), settings.data_note]).strip() or None,
            sample=sample, sample_note=sample_note,
            groups=descriptives.variable_groups(survey.spec if survey else None),
            wording=cfg.wording)
    except ExhibitError as err:
        raise ExhibitError(f"{ctx.paths.analysis_data}: {err}") from err
    flags = descriptives.write_checked_exhibits(
        exhibits, disclosure.settings_from_config(cfg), ctx.paths.tables)
    disclosure.write_flags(ctx.paths.flags_file("describe"), flags)
