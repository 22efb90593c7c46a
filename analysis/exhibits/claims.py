"""The paper's headline claims as rules on the estimates file (docs/study.md section 5).

Each claim is evaluated only on numbers in ``output/estimates/estimates.csv`` (coefficient
rows and the test rows of ``[[tests]]`` in ``config/models.toml``), so a referee can check
every verdict by reading that file. A claim whose numbers are absent (for example, a
survey without a national scale) is "not testable" with the reason, never an error.

On a survey without a city-region scale the build step names stand-ins (contract C4
``substitutes``: e.g. ``dui_supply_domestic`` for ``dui_supply_regional``,
``dui_supply_international`` for ``dui_supply_extra``); :class:`ClaimContext` carries them,
the claims look the stand-ins up in place of the standard names, and the evidence text
starts by naming each stand-in it used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from analysis.models.specification import ModelSpec

SUPPORTED, NOT_SUPPORTED, MIXED = "supported", "not supported", "mixed"
CLAIM_COLUMNS = ["claim", "statement", "rule", "evidence", "verdict", "models"]


@dataclass(frozen=True)
class ClaimContext:
    """Where the claims look: the headline and modes model families and the test level."""

    headline_family: str = "breadth"
    headline_variant: str = "manager"
    modes_family: str = "modes"
    modes_variant: str = "manager"
    local: str = "breadth_local"
    national: str = "breadth_national"
    international: str = "breadth_international"
    alpha: float = 0.05
    ratio_target: float = 4.0
    #: stand-ins of the analysis meta (C4 "substitutes"): standard name -> the variable
    #: that replaces it on this survey (e.g. dui_supply_regional -> dui_supply_domestic)
    stand_ins: Mapping[str, str] = field(default_factory=dict)
    #: standard variables this survey cannot provide (C4 "unavailable")
    unavailable: tuple[str, ...] = ()
    #: family -> why its models were omitted on this survey (no main variable available)
    omitted_families: Mapping[str, str] = field(default_factory=dict)

    def term(self, name: str) -> str:
        """The variable that plays the part of ``name`` here (its stand-in, if any)."""
        return self.stand_ins.get(name, name)

    def stand_in_note(self, used: list[str]) -> str:
        """ "Stand-in: x for y; ..." for the stand-ins among the terms ``used`` ("" if none)."""
        originals = {new: old for old, new in self.stand_ins.items()}
        pairs = [f"{name} for {originals[name]}" for name in dict.fromkeys(used)
                 if name in originals]
        return f"Stand-in{'s' if len(pairs) > 1 else ''}: {'; '.join(pairs)}. " if pairs else ""


def claim_context(spec: ModelSpec, meta: Mapping[str, Any]) -> ClaimContext:
    """Where the claims look on this survey.

    The headline family, variant and terms of ``[headline]`` of the survey's specification
    (stand-ins already swapped in, the variant moved to the surviving one if it repeated
    another); the modes variant likewise; the stand-ins and unavailable variables of the
    analysis meta (C4), so the 2013 terms of claims 5-6 resolve to their stand-ins and a
    claim without its numbers says why.
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
    )


def claims_notes(data_note: str = "") -> list[str]:
    """The notes under the claims report."""
    notes = [
        "Each verdict follows from the rows of output/estimates/estimates.csv named in the "
        "models column (coefficients and [[tests]] of config/models.toml); significance at "
        "the 5% level with the standard errors of the models.",
        "Claims as summarised in docs/study.md section 5 (Fitjar and Rodriguez-Pose 2011, 2013).",
    ]
    if data_note:
        notes.append(data_note + " A verdict here describes the synthetic draw, not the "
                     "paper.")
    return notes


class NotTestable(Exception):
    """The estimates lack the rows a claim needs."""


def term_rows(estimates: pd.DataFrame, c: ClaimContext, family: str, variant: str,
              quantity: str, name: str) -> pd.DataFrame:
    """:func:`rows` of the variable playing the part of ``name``, with the reason when absent.

    ``name`` may be a standard name (resolved through the stand-ins) or already the
    variable itself. A family omitted on this survey, or a variable it cannot provide and
    that has no stand-in, makes the claim "not testable" with that reason.
    """
    if family in c.omitted_families:
        raise NotTestable(c.omitted_families[family])
    used = c.term(name)
    if used in c.unavailable:
        raise NotTestable(f"'{used}' is not available in this survey and has no stand-in")
    return rows(estimates, family, variant, quantity, used)


def with_note(c: ClaimContext, evidence: str, used: list[str]) -> str:
    """The evidence text, led by the stand-ins it rests on."""
    return c.stand_in_note(used) + evidence


def rows(estimates: pd.DataFrame, family: str, variant: str, quantity: str,
         term: str) -> pd.DataFrame:
    """Rows of one term in every model of a family variant (one per outcome)."""
    ids = estimates["model"].str.split("__")
    chosen = estimates[(ids.str[0] == family) & (ids.str[-1] == variant)
                       & (estimates["quantity"] == quantity) & (estimates["term"] == term)]
    if chosen.empty:
        raise NotTestable(f"no {quantity} rows for '{term}' in the {family}/{variant} models")
    return chosen


def overall(flags: list[bool]) -> str:
    """All outcomes agree -> supported / not supported; otherwise mixed."""
    if all(flags):
        return SUPPORTED
    return NOT_SUPPORTED if not any(flags) else MIXED


def describe(frame: pd.DataFrame, what: str = "b") -> str:
    return "; ".join(
        f"{r.outcome}: {what} = {r.estimate:.3f}, p = {r.p_value:.3f}" for r in frame.itertuples()
    )


def claim_not_significant(term: str) -> Callable[[pd.DataFrame, ClaimContext], tuple]:
    def evaluate(est: pd.DataFrame, c: ClaimContext) -> tuple:
        name = getattr(c, term)
        found = term_rows(est, c, c.headline_family, c.headline_variant, "coef", name)
        flags = [p >= c.alpha for p in found["p_value"]]
        return with_note(c, describe(found), [c.term(name)]), overall(flags), found["model"]
    return evaluate


def international_positive(est: pd.DataFrame, c: ClaimContext) -> tuple:
    found = term_rows(est, c, c.headline_family, c.headline_variant, "coef", c.international)
    flags = [(b > 0) and (p < c.alpha) for b, p in zip(found["estimate"], found["p_value"],
                                                        strict=True)]
    return (with_note(c, describe(found), [c.term(c.international)]), overall(flags),
            found["model"])


def ratio_about_target(est: pd.DataFrame, c: ClaimContext) -> tuple:
    """Supported in an outcome when the ratio's 95% CI lies above 1 and contains the target.

    The Wald test of international = local is reported beside it (not part of the rule:
    the ratio's interval already says whether the two effects differ).
    """
    for name in (c.international, c.local):  # the test rows need both terms
        term_rows(est, c, c.headline_family, c.headline_variant, "coef", name)
    ratio = rows(est, c.headline_family, c.headline_variant, "test", "international_over_local")
    try:
        wald = rows(est, c.headline_family, c.headline_variant, "test",
                    "international_equals_local")[["model", "p_value", "estimate"]]
    except NotTestable:
        wald = pd.DataFrame(columns=["model", "p_value", "estimate"])
    merged = ratio.merge(wald, on="model", how="left", suffixes=("", "_wald"))
    flags = [bool(r.ci_lower > 1.0 and r.ci_lower <= c.ratio_target <= r.ci_upper)
             for r in merged.itertuples()]

    def wald_text(r) -> str:
        if pd.isna(r.p_value_wald):
            return "Wald test of intl = local not in the estimates"
        rejects = "rejects" if r.p_value_wald < c.alpha else "does not reject"
        return f"Wald p(intl = local) = {r.p_value_wald:.3f} ({rejects} equality)"

    evidence = "; ".join(
        f"{r.outcome}: ratio = {r.estimate:.2f} [{r.ci_lower:.2f}, {r.ci_upper:.2f}], "
        f"{wald_text(r)}" for r in merged.itertuples())
    used = [c.term(c.international), c.term(c.local)]
    return with_note(c, evidence, used), overall(flags), merged["model"]


#: The 2013 terms of claims 5 and 6 (standard names; a survey may provide stand-ins).
SUPPLY_TERMS = ("dui_supply_regional", "dui_supply_extra")
COMPETITOR_TERMS = ("dui_competitors_regional", "dui_competitors_extra")
STI_TERMS = ("sti_regional", "sti_extra")


def modes_rows(est: pd.DataFrame, c: ClaimContext, names: tuple[str, ...]) -> pd.DataFrame:
    """Coefficient rows of the modes models for every term of ``names`` (all needed)."""
    return pd.concat([term_rows(est, c, c.modes_family, c.modes_variant, "coef", n)
                      for n in names])


def supply_not_competitors(est: pd.DataFrame, c: ClaimContext) -> tuple:
    parts, flags, models = [], [], []
    supply = modes_rows(est, c, SUPPLY_TERMS)
    rivals = modes_rows(est, c, COMPETITOR_TERMS)
    for outcome, group in supply.groupby("outcome", sort=False):
        rival = rivals[rivals["outcome"] == outcome]
        if rival.empty:  # never read "no competitor rows" as "competitors do not matter"
            raise NotTestable(f"no competitor coefficients in the {outcome} model of "
                              f"{c.modes_family}/{c.modes_variant}")
        supply_ok = ((group["estimate"] > 0) & (group["p_value"] < c.alpha)).any()
        rival_ok = not ((rival["estimate"] > 0) & (rival["p_value"] < c.alpha)).any()
        flags.append(bool(supply_ok and rival_ok))
        parts.append(f"{outcome}: supply chain significant positive = {bool(supply_ok)}, "
                     f"competitors significant positive = {not rival_ok}")
        models += list(group["model"].unique())
    used = [c.term(t) for t in (*SUPPLY_TERMS, *COMPETITOR_TERMS)]
    return with_note(c, "; ".join(parts), used), overall(flags), pd.Series(models)


def sti_dui_extra_regional(est: pd.DataFrame, c: ClaimContext) -> tuple:
    def significant(terms: tuple[str, ...]) -> bool:
        found = modes_rows(est, c, terms)
        return bool(((found["estimate"] > 0) & (found["p_value"] < c.alpha)).any())

    sti = significant(STI_TERMS)
    dui = significant(SUPPLY_TERMS)
    wald = rows(est, c.modes_family, c.modes_variant, "test", "dui_extra_equals_regional")
    extra = [(b > 0) and (p < c.alpha) for b, p in zip(wald["estimate"], wald["p_value"],
                                                        strict=True)]
    evidence = (f"STI significant positive in some outcome = {sti}; DUI supply chain = {dui}; "
                f"DUI extra-regional minus regional: {describe(wald, 'difference')}")
    parts = [sti, dui, any(extra)]
    used = [c.term(t) for t in (*STI_TERMS, *SUPPLY_TERMS)]
    return with_note(c, evidence, used), overall(parts), wald["model"]


CLAIMS: list[tuple[str, str, str, Callable]] = [
    ("1", "Local (same city-region) collaboration has no significant association with "
     "innovation.",
     "local breadth coefficient p >= alpha in every outcome", claim_not_significant("local")),
    ("2", "National collaboration has no significant association with innovation.",
     "national breadth coefficient p >= alpha in every outcome",
     claim_not_significant("national")),
    ("3", "International collaboration diversity is positively and significantly associated "
     "with product, process and new-to-market innovation.",
     "international breadth coefficient > 0 and p < alpha in every outcome",
     international_positive),
    ("4", "The international effect is about four times the local one.",
     "delta-method 95% CI of the ratio international/local lies above 1 and contains 4, in "
     "every outcome (the Wald test of equality is reported, not part of the rule)",
     ratio_about_target),
    ("5", "Within DUI, supply-chain partners matter; competitors do not (2013).",
     "some supply-chain coefficient > 0 with p < alpha and no competitor coefficient > 0 with "
     "p < alpha, in every outcome of the modes models", supply_not_competitors),
    ("6", "Both STI and DUI modes matter; extra-regional beats regional for DUI (2013).",
     "STI and DUI supply chain each significant positive in some outcome, and the Wald test "
     "of DUI extra-regional = regional rejects with a positive difference in some outcome; "
     "supported if all three hold, mixed if some", sti_dui_extra_regional),
]


def evaluate_claims(estimates: pd.DataFrame, context: ClaimContext | None = None) -> pd.DataFrame:
    """One row per claim: the rule, the numbers it used, and the verdict."""
    context = context or ClaimContext()
    out = []
    for claim_id, statement, rule, evaluate in CLAIMS:
        rule_text = rule.replace("alpha", f"{context.alpha:g}")
        try:
            evidence, verdict, models = evaluate(estimates, context)
            model_list = "; ".join(dict.fromkeys(models))
        except NotTestable as reason:
            evidence, verdict, model_list = "", f"not testable: {reason}", ""
        out.append([claim_id, statement, rule_text, evidence, verdict, model_list])
    return pd.DataFrame(out, columns=CLAIM_COLUMNS)
