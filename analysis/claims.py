"""The paper's headline claims as rules on the estimates file (STUDY.md section 5).

Each claim is evaluated only on numbers in ``output/estimates/estimates.csv`` (coefficient
rows and the test rows of ``[[tests]]`` in ``config/models.toml``), so a referee can check
every verdict by reading that file. A claim whose numbers are absent (for example, a
survey without a local scale) is "not testable", never an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

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


class NotTestable(Exception):
    """The estimates lack the rows a claim needs."""


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
        found = rows(est, c.headline_family, c.headline_variant, "coef", getattr(c, term))
        flags = [p >= c.alpha for p in found["p_value"]]
        return describe(found), overall(flags), found["model"]
    return evaluate


def international_positive(est: pd.DataFrame, c: ClaimContext) -> tuple:
    found = rows(est, c.headline_family, c.headline_variant, "coef", c.international)
    flags = [(b > 0) and (p < c.alpha) for b, p in zip(found["estimate"], found["p_value"],
                                                        strict=True)]
    return describe(found), overall(flags), found["model"]


def ratio_about_target(est: pd.DataFrame, c: ClaimContext) -> tuple:
    """Supported in an outcome when the ratio's 95% CI lies above 1 and contains the target.

    The Wald test of international = local is reported beside it (not part of the rule:
    the ratio's interval already says whether the two effects differ).
    """
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
    return evidence, overall(flags), merged["model"]


def supply_not_competitors(est: pd.DataFrame, c: ClaimContext) -> tuple:
    parts, flags, models = [], [], []
    supply = pd.concat([rows(est, c.modes_family, c.modes_variant, "coef", t)
                        for t in ("dui_supply_regional", "dui_supply_extra")])
    rivals = pd.concat([rows(est, c.modes_family, c.modes_variant, "coef", t)
                        for t in ("dui_competitors_regional", "dui_competitors_extra")])
    for outcome, group in supply.groupby("outcome", sort=False):
        rival = rivals[rivals["outcome"] == outcome]
        supply_ok = ((group["estimate"] > 0) & (group["p_value"] < c.alpha)).any()
        rival_ok = not ((rival["estimate"] > 0) & (rival["p_value"] < c.alpha)).any()
        flags.append(bool(supply_ok and rival_ok))
        parts.append(f"{outcome}: supply chain significant positive = {bool(supply_ok)}, "
                     f"competitors significant positive = {not rival_ok}")
        models += list(group["model"].unique())
    return "; ".join(parts), overall(flags), pd.Series(models)


def sti_dui_extra_regional(est: pd.DataFrame, c: ClaimContext) -> tuple:
    def significant(terms: tuple[str, ...]) -> bool:
        found = pd.concat([rows(est, c.modes_family, c.modes_variant, "coef", t) for t in terms])
        return bool(((found["estimate"] > 0) & (found["p_value"] < c.alpha)).any())

    sti = significant(("sti_regional", "sti_extra"))
    dui = significant(("dui_supply_regional", "dui_supply_extra"))
    wald = rows(est, c.modes_family, c.modes_variant, "test", "dui_extra_equals_regional")
    extra = [(b > 0) and (p < c.alpha) for b, p in zip(wald["estimate"], wald["p_value"],
                                                        strict=True)]
    evidence = (f"STI significant positive in some outcome = {sti}; DUI supply chain = {dui}; "
                f"DUI extra-regional minus regional: {describe(wald, 'difference')}")
    parts = [sti, dui, any(extra)]
    return evidence, overall(parts), wald["model"]


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
