"""Build step: clean survey -> analysis data set, its data appendix and the missing-data table.

Reads ``<data_clean>/survey_clean.parquet`` (contract C3) and a few values of the study
configuration; every variable is made by :mod:`analysis.data.variables`. Writes
``<data_clean>/analysis_meta.json`` (contract C4, :mod:`analysis.data.meta`): the partner
types and scales of the survey, the standard variables it cannot provide, whether it is
weighted, its survey design, and for a survey without a city-region scale the variables
that stand in for the regional ones.
"""

from __future__ import annotations

from pathlib import Path

from analysis.config import TABLE_FORMATS
from analysis.context import Context

DESCRIPTION = ("Build the analysis data set (outcomes, collaboration by partner type and "
               "scale, controls), its data appendix and the missing-data policy table")
#: Checks the survey: among the steps ready to run it starts first, so a bad file stops
#: the run before any step that reads no data (the coverage study) has written anything.
RUN_FIRST = True

APPENDIX_STEM = "analysis_variables"
POLICY_STEM = "missing_data_policy"


def inputs(ctx: Context) -> list[Path]:
    files = [ctx.paths.clean_data, ctx.study_config_path]
    return files + ([ctx.model_spec_path] if Path(ctx.model_spec_path).is_file() else [])


def outputs(ctx: Context) -> list[Path]:
    appendix = ctx.paths.data_appendix
    return [
        ctx.paths.analysis_data,
        ctx.paths.analysis_meta,
        appendix / f"{APPENDIX_STEM}.csv",
        appendix / f"{APPENDIX_STEM}.md",
        *(ctx.paths.tables / f"{POLICY_STEM}.{ext}" for ext in TABLE_FORMATS),
        ctx.paths.flags_file("build"),
    ]


def run(ctx: Context) -> None:
    from analysis import io
    from analysis.data import analysis_appendix, meta, variables
    from analysis.data.study_config import load_study_config
    from analysis.data.study_settings import layout, pool_sparse_categories, study_settings
    from analysis.errors import DataError
    from analysis.exhibits import disclosure
    from analysis.exhibits.frames import to_markdown, write_frame_exhibit

    clean = io.read_parquet(ctx.paths.clean_data)
    settings = study_settings(ctx.study_config_path, root=ctx.paths.root)
    partners, scales = layout(clean, settings.scale_order)
    clean, pooled = pool_sparse_categories(clean, settings)
    try:
        analysis = variables.build_analysis_data(
            clean, survey_year=settings.survey_year, partners=partners, scales=scales,
            never=settings.never, intensity_weights=settings.intensity,
            size_bands=settings.size_bands, log_plus_one=settings.log_plus_one)
        counts = variables.policy_counts(clean, partners, scales)
    except DataError as err:
        raise DataError(f"{ctx.paths.clean_data}: {err}") from err
    io.write_parquet(ctx.paths.analysis_data, analysis)
    named = meta.named_variables(ctx.model_spec_path)
    facts = meta.analysis_meta(analysis, settings, partners, scales, named)
    facts["notes"] += pooled
    io.write_text(ctx.paths.analysis_meta, meta.meta_json(facts))

    docs = analysis_appendix.variable_docs(analysis, clean, partners, scales, settings)
    table = analysis_appendix.analysis_appendix(analysis, clean, docs)
    rules = disclosure.settings_from_config(load_study_config(ctx.study_config_path,
                                                              root=ctx.paths.root))
    checked = disclosure.check_exhibit(APPENDIX_STEM, table, disclosure.appendix_cells(
        analysis, table), "variable", rules)
    alpha = analysis_appendix.alpha_text(clean)
    notes = [f"{len(analysis)} firms. Definitions and source items of every variable of "
             f"{ctx.paths.analysis_data.name}."] + ([f"Open-mindedness index: {alpha}"]
                                                    if alpha else [])
    notes += [settings.data_note] if settings.data_note else []
    folder = ctx.paths.data_appendix
    io.write_csv(folder / f"{APPENDIX_STEM}.csv", checked.frame)
    io.write_text(folder / f"{APPENDIX_STEM}.md",
                  to_markdown(checked.frame, "Variables of the analysis data set",
                              [*notes, *checked.notes]) + "\n"
                  + analysis_appendix.policy_markdown())

    policy_notes = [f"{len(clean)} firms in the clean survey. Rules by construct:"]
    policy_notes += [f"{c}: {r}" for c, r in variables.MISSING_DATA_POLICY.items()]
    policy_notes += [settings.data_note] if settings.data_note else []
    policy = disclosure.check_counts(POLICY_STEM, counts.rename(columns={
        "construct": "Construct", "case": "Case", "firms": "Firms affected"}), "Case", rules)
    write_frame_exhibit(policy.frame, ctx.paths.tables, POLICY_STEM,
                        "Missing-data policy: firms affected by each rule",
                        [*policy_notes, *policy.notes])
    disclosure.write_flags(ctx.paths.flags_file("build"),
                           disclosure.merge_flags([checked.flags, policy.flags]))
