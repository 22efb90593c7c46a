"""The claims report around the verdicts of :mod:`analysis.exhibits.claims`: where the
claims look on this survey (:func:`claim_context`) and the notes under the report (rules,
verdict words, evidence, weighting and survey design)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from analysis.data.wording import Wording
from analysis.exhibits.claims import VERDICTS, WEIGHT_WORDS, ClaimContext
from analysis.models.specification import ModelSpec

#: The narrow columns of the printed report (the CSV has every column).
PRINTED = {"claim": "Claim", "verdict": "Verdict", "sensitivity": "Across specifications"}
TITLE = "Claims report: do this run's estimates support the papers' claims?"
DETAIL_TITLE = "Claims: the verdict in every specification"


def claim_context(spec: ModelSpec, meta: Mapping[str, Any], wording: Wording | None = None
                  ) -> ClaimContext:
    """Where the claims look on this survey.

    The headline family, variant and terms of ``[headline]`` of the survey's specification
    (stand-ins already swapped in, the variant moved to the surviving one if it repeated
    another); the modes variant likewise; the stand-ins and unavailable variables of the
    analysis meta (C4), so the 2013 terms of claims 5-6 resolve to their stand-ins and a
    claim without its numbers says why; the study's word for its regional unit.
    """
    unavailable = tuple(str(v) for v in meta.get("unavailable", []))
    stand_ins = {str(old): str(new) for old, new in (meta.get("substitutes") or {}).items()
                 if old in unavailable and new}
    headline = spec.headline
    defaults = ClaimContext()
    return ClaimContext(
        headline_family=headline.get("family", defaults.headline_family),
        headline_variant=headline.get("variant", defaults.headline_variant),
        modes_variant=spec.resolve_variant(defaults.modes_family, defaults.modes_variant),
        local=headline.get("local", defaults.local),
        international=headline.get("international", defaults.international),
        stand_ins=stand_ins,
        unavailable=unavailable,
        omitted_families={o.family: o.note for o in spec.omitted_families},
        variant_labels=dict(spec.variant_labels),
        region_unit=(wording or Wording()).region_unit,
    )


def design_text(spec: ModelSpec) -> str:
    """The survey design behind the standard errors, in words ("" without a [design])."""
    if spec.survey is None:
        return ""
    return (f" (design-based: {spec.survey_source or spec.survey.describe()}, with t and F "
            "tests on the design degrees of freedom)")


def weighting_text(rows: pd.DataFrame, survey_weighted: bool) -> str:
    """How the specifications are weighted, in words (the weighting used is stated)."""
    main = rows.loc[rows["main"].astype(bool), "weights"]
    word = WEIGHT_WORDS.get(str(main.iloc[0]), str(main.iloc[0])) if len(main) else "unweighted"
    if not survey_weighted:
        return f"; all {word} (the survey has no sampling weights)"
    return (f"; the main specification is {word}, and each is also fitted "
            f"{'unweighted' if word != 'unweighted' else 'with the sampling weights'}")


def report_notes(report: pd.DataFrame, context: ClaimContext, weighting: str, data_note: str,
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


def printed_report(report: pd.DataFrame) -> pd.DataFrame:
    """The narrow report the .md, .tex, .html and .docx show."""
    return report[list(PRINTED)].rename(columns=PRINTED)
