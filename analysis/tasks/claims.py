"""Step: the claims report, each headline claim tested in every specification of the run.

Reads the analysis data, the analysis meta, the model specification and the study
configuration; estimates the claims' specifications (analysis.models.sensitivity: each
variant of the headline and modes families with each ``[claims] estimators`` entry, and
both weightings on a weighted survey); writes the rows behind every verdict to
``output/estimates/claims_estimates.csv``, the report to ``tables/claims_report.*`` (one
row per claim: the main specification's verdict and evidence, and how many
specifications support it) and every claim's verdict in every specification to
``tables/claims_specifications.*`` (each .csv, .md, .tex, .html, .docx).
"""

from __future__ import annotations

from pathlib import Path

from analysis import io
from analysis.context import Context
from analysis.data.study_config import load_study_config
from analysis.exhibits.claims import VERDICTS, WEIGHT_WORDS, ClaimContext, evaluate_claims
from analysis.exhibits.frames import TABLE_FORMATS, write_frame_exhibit
from analysis.models.sensitivity import specification_estimates
from analysis.models.specification import ModelSpec
from analysis.tasks import build, estimate

DESCRIPTION = "Claims report: each headline claim of the papers tested in every specification"
STEM = "claims_report"
DETAIL_STEM = "claims_specifications"
ESTIMATES_FILE = "claims_estimates.csv"
FORMATS = TABLE_FORMATS
#: The narrow columns of the printed report (the CSV has every column).
PRINTED = {"claim": "Claim", "verdict": "Verdict", "sensitivity": "Across specifications"}


def inputs(ctx: Context) -> list[Path]:
    return [ctx.paths.data_clean / build.ANALYSIS_FILE, estimate.meta_path(ctx),
            ctx.model_spec_path, ctx.study_config_path]


def outputs(ctx: Context) -> list[Path]:
    return ([ctx.paths.tables / f"{STEM}.{ext}" for ext in FORMATS]
            + [ctx.paths.tables / f"{DETAIL_STEM}.{ext}" for ext in FORMATS]
            + [ctx.paths.estimates / ESTIMATES_FILE])


def claim_context(ctx: Context) -> ClaimContext:
    """Where the claims look on this survey.

    The headline family, variant and terms of ``[headline]`` (stand-ins already swapped in,
    the variant moved to the surviving one if it repeated another); the modes variant
    likewise; the stand-ins and unavailable variables of the analysis meta (C4), so the
    2013 terms of claims 5-6 resolve to their stand-ins and a claim without its numbers
    says why.
    """
    spec = estimate.model_spec(ctx)
    meta = estimate.read_meta(estimate.meta_path(ctx))
    unavailable = tuple(str(v) for v in meta.get("unavailable", []))
    stand_ins = {str(old): str(new) for old, new in (meta.get("substitutes") or {}).items()
                 if old in unavailable and new}
    headline = spec.headline
    defaults = ClaimContext()
    family = headline.get("family", defaults.headline_family)
    return ClaimContext(
        headline_family=family,
        headline_variant=headline.get("variant", defaults.headline_variant),
        modes_variant=spec.resolve_variant(defaults.modes_family, defaults.modes_variant),
        local=headline.get("local", defaults.local),
        international=headline.get("international", defaults.international),
        stand_ins=stand_ins,
        unavailable=unavailable,
        omitted_families={o.family: o.note for o in spec.omitted_families},
        variant_labels=dict(spec.variant_labels),
        region_unit=estimate.study_wording(ctx).region_unit,
    )


def design_text(spec: ModelSpec) -> str:
    """The survey design behind the standard errors, in words ("" without a [design])."""
    if spec.survey is None:
        return ""
    return (f" (design-based: {spec.survey_source or spec.survey.describe()}, with t and F "
            "tests on the design degrees of freedom)")


def report_notes(report, context: ClaimContext, weighting: str, data_note: str,
                 design: str = "") -> list[str]:
    """Rules, verdict words, evidence, the weighting and the survey design, as notes under
    the narrow table."""
    notes = [f"Rule {r.claim}: {r.rule}" for r in report.itertuples()]
    notes += [f"Verdict '{word}': {meaning}." for word, meaning in VERDICTS.items()]
    notes += [f"Evidence for claim {r.claim} ({r.specification}): {r.evidence}"
              for r in report.itertuples()]
    notes += [
        f"Significance at the {context.alpha:g} level with the models' standard errors"
        + design + ". "
        "'Across specifications': the claim's verdict in each variant of the family, fitted "
        "by each estimator of [claims] in config/models.toml" + weighting + "; every "
        "specification's verdict and evidence are in claims_specifications.csv, the numbers "
        "in output/estimates/claims_estimates.csv.",
        "Claims as summarised in docs/study.md section 5 (Fitjar and Rodriguez-Pose 2011, "
        "2013)."]
    if data_note:
        notes.append(data_note + " A verdict here describes the synthetic draw, not the "
                     "paper.")
    return notes


def weighting_text(rows, survey_weighted: bool) -> str:
    """How the specifications are weighted, in words (the weighting used is stated)."""
    main = rows.loc[rows["main"].astype(bool), "weights"]
    word = WEIGHT_WORDS.get(str(main.iloc[0]), str(main.iloc[0])) if len(main) else "unweighted"
    if not survey_weighted:
        return f"; all {word} (the survey has no sampling weights)"
    return (f"; the main specification is {word}, and each is also fitted "
            f"{'unweighted' if word != 'unweighted' else 'with the sampling weights'}")


def run(ctx: Context) -> None:
    frame = io.read_parquet(ctx.paths.data_clean / build.ANALYSIS_FILE)
    spec = estimate.model_spec(ctx)
    meta = estimate.read_meta(estimate.meta_path(ctx))
    unavailable = [str(v) for v in meta.get("unavailable", [])]
    survey_weighted = bool(meta.get("weighted", False))
    rows = specification_estimates(frame, spec, unavailable, survey_weighted=survey_weighted)
    io.write_text(ctx.paths.estimates / ESTIMATES_FILE, estimate.csv_text(rows))
    context = claim_context(ctx)
    report, detail = evaluate_claims(rows, context)
    cfg = load_study_config(ctx.study_config_path)
    data_note = cfg.data_note if cfg.synthetic and cfg.data_note else ""
    notes = report_notes(report, context, weighting_text(rows, survey_weighted), data_note,
                         design_text(spec))
    title = "Claims report: do this run's estimates support the papers' claims?"
    printed = report[list(PRINTED)].rename(columns=PRINTED)
    folder = ctx.paths.tables
    write_frame_exhibit(report, folder, STEM, title, notes, shown=printed)
    write_frame_exhibit(detail, folder, DETAIL_STEM, "Claims: the verdict in every specification",
                        notes[-2:])
