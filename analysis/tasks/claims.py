"""Step: the claims report, each headline claim tested on the estimates file."""

from __future__ import annotations

from pathlib import Path

from analysis.context import Context
from analysis.data.study_config import load_study_config
from analysis.exhibits.claims import ClaimContext, evaluate_claims
from analysis.exhibits.frames import write_frame_exhibit
from analysis.tasks import estimate

DESCRIPTION = "Claims report: each headline claim of the papers tested on the estimates"
STEM = "claims_report"
FORMATS = ("csv", "md", "tex", "html")


def inputs(ctx: Context) -> list[Path]:
    return [ctx.paths.estimates / estimate.ESTIMATES_FILE, estimate.meta_path(ctx),
            ctx.model_spec_path, ctx.study_config_path]


def outputs(ctx: Context) -> list[Path]:
    return [ctx.paths.tables / f"{STEM}.{ext}" for ext in FORMATS]


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
        region_unit=estimate.study_wording(ctx).region_unit,
    )


def run(ctx: Context) -> None:
    import pandas as pd

    estimates = pd.read_csv(ctx.paths.estimates / estimate.ESTIMATES_FILE)
    report = evaluate_claims(estimates, claim_context(ctx))
    spec = estimate.model_spec(ctx)
    cfg = load_study_config(ctx.study_config_path)
    notes = [
        "Each verdict follows from the rows of output/estimates/estimates.csv named in the "
        "models column (coefficients and [[tests]] of config/models.toml); significance at "
        "the 5% level with the standard errors of the models.",
        "Claims as summarised in docs/study.md section 5 (Fitjar and Rodriguez-Pose 2011, 2013).",
    ]
    if any(f.weighted for f in spec.families.values()):
        notes.append("The models are weighted by the survey's sampling weights.")
    if spec.survey is not None:
        notes.append(f"Standard errors are design-based ({spec.survey_source}), with t tests "
                     "on the design degrees of freedom.")
    notes += spec.notes
    if cfg.synthetic and cfg.data_note:
        notes.append(cfg.data_note + " A verdict here describes the synthetic draw, not the "
                     "paper.")
    write_frame_exhibit(report, ctx.paths.tables, STEM,
                        "Claims report: do this run's estimates support the papers' claims?",
                        notes)
