"""The claims report around the verdicts of :mod:`analysis.exhibits.claims`: where the
claims look on this survey (:func:`claim_context`), the report's rows (:func:`report_frame`:
each claim's short statement beside its verdict and the specifications in which it holds)
and the notes under it (the specification the verdict is for, rules, verdict words,
evidence, weighting and survey design)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from analysis.data.wording import Wording
from analysis.exhibits.claims import (
    NOT_TESTABLE,
    SUPPORTED,
    VERDICTS,
    WEIGHT_WORDS,
    ClaimContext,
)
from analysis.models.specification import ModelSpec

#: Each claim in a few words, for the report's table (the full statement, the rule and the
#: evidence are in the CSV and the notes); docs/study.md section 5.
SHORT_STATEMENTS = {
    "1": "Local (same {region_unit}) collaboration: no association",
    "2": "National collaboration: no association",
    "3": "International collaboration: positive association",
    "4": "International effect about four times the local one",
    "5": "DUI: supply-chain partners matter, competitors do not",
    "6": "STI and DUI both matter; DUI extra-regional more than regional",
}
#: The columns of the report's CSV, in order.
REPORT_COLUMNS = ["claim", "short_statement", "statement", "rule", "verdict", "holds_in", "of",
                  "sensitivity", "specification", "evidence", "models"]
#: The columns of the printed report (.md, .tex, .html, .docx) and their headers.
PRINTED = {"claim": "Claim", "short_statement": "Statement", "verdict": "Verdict",
           "holds": "Holds in", "others": "Other verdicts"}
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


def report_frame(report: pd.DataFrame, detail: pd.DataFrame,
                 context: ClaimContext | None = None) -> pd.DataFrame:
    """The report's CSV: per claim its short and full statement, the rule, the verdict in
    the main specification, in how many of the specifications (``of``; not-testable ones
    left out) it holds (``holds_in``), and the sensitivity line, evidence and models of
    :func:`~analysis.exhibits.claims.evaluate_claims`."""
    region = (context or ClaimContext()).region_unit
    frame = report.copy()
    frame["short_statement"] = [SHORT_STATEMENTS.get(str(c), "").replace("{region_unit}",
                                                                         region)
                                for c in frame["claim"]]
    verdicts = {str(c): group["verdict"].tolist() for c, group in detail.groupby("claim")}
    frame["holds_in"] = [verdicts.get(str(c), []).count(SUPPORTED) for c in frame["claim"]]
    frame["of"] = [sum(v != NOT_TESTABLE for v in verdicts.get(str(c), []))
                   for c in frame["claim"]]
    return frame[REPORT_COLUMNS]


def other_verdicts(verdicts: list[str]) -> str:
    """"mixed in 3, not supported in 3": the verdicts other than supported, counted."""
    testable = [v for v in verdicts if v not in (SUPPORTED, NOT_TESTABLE)]
    return ", ".join(f"{v} in {testable.count(v)}" for v in dict.fromkeys(testable))


def printed_report(frame: pd.DataFrame, detail: pd.DataFrame) -> pd.DataFrame:
    """The report the .md, .tex, .html and .docx show: claim, short statement, verdict,
    "holds in k of n" specifications and the other verdicts."""
    verdicts = {str(c): group["verdict"].tolist() for c, group in detail.groupby("claim")}
    shown = frame[["claim", "short_statement", "verdict"]].copy()
    shown["holds"] = [f"{r.holds_in} of {r.of}" if r.of else "" for r in frame.itertuples()]
    shown["others"] = [other_verdicts(verdicts.get(str(c), [])) for c in frame["claim"]]
    return shown.rename(columns=PRINTED)


def specification_note(report: pd.DataFrame) -> str:
    """Which specification the verdict column is for, claim by claim, and what the other
    columns count."""
    testable = report[report["specification"].astype(str) != ""]
    groups: dict[str, list[str]] = {}
    for r in testable.itertuples():
        groups.setdefault(str(r.specification), []).append(str(r.claim))
    where = "; ".join(f"claim{'s' if len(ids) > 1 else ''} {_id_range(ids)}: {spec}"
                      for spec, ids in groups.items())
    return ("Verdict: in the specification of the tables (" + (where or "none") + "). "
            "Holds in: the specifications (variants x estimators"
            " x weighting) in which the verdict is 'supported', of those that can test the "
            "claim; other verdicts: how many specifications give each other verdict.")


def _id_range(ids: list[str]) -> str:
    """"1-4" for consecutive claim numbers, "1, 3" otherwise."""
    numbers = [int(i) for i in ids if i.isdigit()]
    if len(numbers) == len(ids) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}-{numbers[-1]}"
    return " and ".join([", ".join(ids[:-1]), ids[-1]]) if len(ids) > 1 else ids[0]


def report_notes(report: pd.DataFrame, context: ClaimContext, weighting: str, data_note: str,
                 design: str = "") -> list[str]:
    """The specification of the verdicts, the claims' rules, verdict words, evidence, the
    weighting and the survey design, as notes under the table (the claims in full are in
    the CSV)."""
    notes = [specification_note(report)]
    notes += [f"Rule {r.claim}: {r.rule}" for r in report.itertuples()]
    notes.append("Verdicts: " + "; ".join(f"'{word}': {meaning}"
                                          for word, meaning in VERDICTS.items()) + ".")
    notes += [f"Evidence for claim {r.claim} ({r.specification}): {r.evidence}"
              if r.specification else f"Evidence for claim {r.claim}: {r.evidence}"
              for r in report.itertuples()]
    notes += [
        f"Significance at the {context.alpha:g} level with the models' standard errors"
        + design + ". "
        "Specifications: each variant of the claim's family, fitted by each estimator of "
        "[claims] in config/models.toml" + weighting + "; every specification's verdict and "
        "evidence are in claims_specifications.csv, the numbers in "
        "output/estimates/claims_estimates.csv.",
        "Claims as summarised in docs/study.md section 5 (Fitjar and Rodriguez-Pose 2011, "
        "2013)."]
    if data_note:
        notes.append(data_note + " A verdict here describes the synthetic draw, not the "
                     "paper.")
    return notes
