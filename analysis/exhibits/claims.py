"""The papers' headline claims as written rules on the estimates (docs/study.md section 5).

Each claim has a rule that is checked in each outcome model of a *specification* (a
variant of the family, an estimator, a weighting: :mod:`analysis.models.sensitivity`);
the outcome results give the specification's verdict, in one of the words of
:data:`VERDICTS`. The report states the verdict of the main specification (the tables'
variant, estimator and weighting), with the evidence in plain words and numbers, and a
sensitivity line: in how many of the specifications the run has the claim holds.

Claim 4 ("about four times") reads the Fieller confidence set of the ratio
international/local (a set with the right coverage whatever the precision of the local
effect): it holds in an outcome when the set is bounded, contains 4 and excludes 1; an
unbounded set (two rays or the whole line) means the data cannot bound the ratio: "not
identifiable" there.

A claim whose numbers are absent (for example, a survey without a national scale) is "not
testable" with the reason, never an error. On a survey without a city-region scale the
stand-ins of contract C4 (``substitutes``) take the place of the standard names, and the
evidence starts by naming each stand-in it used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd

SUPPORTED, NOT_SUPPORTED, MIXED = "supported", "not supported", "mixed"
NOT_IDENTIFIABLE, NOT_TESTABLE = "not identifiable", "not testable"
#: Every verdict word, defined (printed under the report).
VERDICTS = {
    SUPPORTED: "the claim's rule holds in every outcome model of the specification",
    NOT_SUPPORTED: "the rule fails in every outcome model in which it can be decided (for "
                   "claim 4, an outcome whose Fieller set is unbounded cannot decide it)",
    MIXED: "the rule holds in some outcome models and not in others",
    NOT_IDENTIFIABLE: "claim 4 only: in every outcome model the 95% Fieller set of the "
                      "ratio is unbounded (the local effect is not distinguishable from "
                      "zero), so the data cannot say how many times larger the "
                      "international effect is",
    NOT_TESTABLE: "the numbers the rule needs are not in this run (for example a variable "
                  "the survey lacks); the reason is given",
}
#: Per-outcome results of a rule.
HOLDS, FAILS, UNIDENTIFIED = "holds", "fails", "unidentified"
CLAIM_COLUMNS = ["claim", "statement", "verdict", "sensitivity", "evidence", "specification",
                 "rule", "models"]
SPECIFICATION_COLUMNS = ["claim", "specification", "verdict", "evidence"]
ESTIMATOR_WORDS = {"logit": "logit", "probit": "probit", "lpm": "LPM",
                   "ologit": "ordered logit", "oprobit": "ordered probit"}
WEIGHT_WORDS = {"none": "unweighted", "pweight": "sampling-weighted (pweights)",
                "fweight": "frequency-weighted"}


@dataclass(frozen=True)
class ClaimContext:
    """Where the claims look: families, variants, terms, test ids and the test level."""

    headline_family: str = "breadth"
    headline_variant: str = "manager"
    modes_family: str = "modes"
    modes_variant: str = "manager"
    local: str = "breadth_local"
    national: str = "breadth_national"
    international: str = "breadth_international"
    alpha: float = 0.05
    ratio_target: float = 4.0
    ratio_test: str = "international_over_local"
    equal_test: str = "international_equals_local"
    target_test: str = "international_four_times_local"
    dui_test: str = "dui_supply_extra_equals_regional"
    #: stand-ins of the analysis meta (C4 "substitutes"): standard name -> the variable
    #: that replaces it on this survey (e.g. dui_supply_regional -> dui_supply_domestic)
    stand_ins: Mapping[str, str] = field(default_factory=dict)
    #: standard variables this survey cannot provide (C4 "unavailable")
    unavailable: tuple[str, ...] = ()
    #: family -> why its models were omitted on this survey (no main variable available)
    omitted_families: Mapping[str, str] = field(default_factory=dict)
    variant_labels: Mapping[str, str] = field(default_factory=dict)
    #: what the study calls its regional unit (the claims' "local" scale)
    region_unit: str = "city-region"

    def term(self, name: str) -> str:
        """The variable that plays the part of ``name`` here (its stand-in, if any)."""
        return self.stand_ins.get(name, name)

    def stand_in_note(self, used: list[str]) -> str:
        """ "Stand-in: x for y; ..." for the stand-ins among the terms ``used`` ("" if none)."""
        originals = {new: old for old, new in self.stand_ins.items()}
        pairs = [f"{name} for {originals[name]}" for name in dict.fromkeys(used)
                 if name in originals]
        return f"Stand-in{'s' if len(pairs) > 1 else ''}: {'; '.join(pairs)}. " if pairs else ""


class NotTestable(Exception):
    """The estimates lack the rows a claim needs."""


@dataclass(frozen=True)
class Spec:
    """One specification: a variant of a family, an estimator and a weighting."""

    family: str
    variant: str
    estimator: str
    weights: str

    def label(self, c: ClaimContext) -> str:
        variant = c.variant_labels.get(self.variant, self.variant.replace("_", " ").capitalize())
        return (f"{variant}, {ESTIMATOR_WORDS.get(self.estimator, self.estimator)}, "
                f"{WEIGHT_WORDS.get(self.weights, self.weights)}")


def term_rows(rows: pd.DataFrame, c: ClaimContext, family: str, quantity: str,
              name: str) -> pd.DataFrame:
    """The rows (one per outcome) of the variable playing the part of ``name``, or
    NotTestable with the reason (family omitted, variable unavailable without stand-in)."""
    if family in c.omitted_families:
        raise NotTestable(c.omitted_families[family])
    used = c.term(name)
    if used in c.unavailable:
        raise NotTestable(f"'{used}' is not available in this survey and has no stand-in")
    return quantity_rows(rows, quantity, used)


def quantity_rows(rows: pd.DataFrame, quantity: str, term: str) -> pd.DataFrame:
    chosen = rows[(rows["quantity"] == quantity) & (rows["term"] == term)]
    if chosen.empty:
        raise NotTestable(f"no {quantity} rows for '{term}'")
    return chosen.set_index("outcome")


def number(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 100 else f"{value:.3g}"


def coefficient_text(name: str, r, alpha: float) -> str:
    word = "significant" if r.p_value < alpha else "not significant"
    return f"{name} b = {number(r.estimate)} (p = {r.p_value:.3f}, {word})"


Result = tuple[str, str, str]  # (outcome, HOLDS / FAILS / UNIDENTIFIED, evidence)


def not_significant(name_attr: str) -> Callable[[pd.DataFrame, ClaimContext], list[Result]]:
    def check(rows: pd.DataFrame, c: ClaimContext) -> list[Result]:
        name = c.term(getattr(c, name_attr))
        found = term_rows(rows, c, c.headline_family, "coef", getattr(c, name_attr))
        return [(o, HOLDS if r.p_value >= c.alpha else FAILS,
                 coefficient_text(name, r, c.alpha))
                for o, r in found.iterrows()]
    return check


def international_positive(rows: pd.DataFrame, c: ClaimContext) -> list[Result]:
    name = c.term(c.international)
    found = term_rows(rows, c, c.headline_family, "coef", c.international)
    return [(o, HOLDS if (r.estimate > 0 and r.p_value < c.alpha) else FAILS,
             coefficient_text(name, r, c.alpha)) for o, r in found.iterrows()]


def fieller_text(r) -> str:
    if r.interval == "bounded":
        return f"[{number(r.ci_lower)}, {number(r.ci_upper)}]"
    if r.interval == "two rays":
        return f"(-inf, {number(r.ci_lower)}] and [{number(r.ci_upper)}, inf), unbounded"
    return "the whole line, unbounded"


def ratio_about_target(rows: pd.DataFrame, c: ClaimContext) -> list[Result]:
    """Per outcome: the Fieller set is bounded, contains the target and excludes 1."""
    for name in (c.international, c.local):  # the ratio needs both terms
        term_rows(rows, c, c.headline_family, "coef", name)
    ratios = quantity_rows(rows, "test", c.ratio_test)
    results = []
    for outcome, r in ratios.iterrows():
        target = c.ratio_target
        if r.interval != "bounded":
            state, verdict = UNIDENTIFIED, "not identifiable"
        else:
            holds = r.ci_lower <= target <= r.ci_upper and not r.ci_lower <= 1.0 <= r.ci_upper
            state = HOLDS if holds else FAILS
            verdict = (f"{'contains' if r.ci_lower <= target <= r.ci_upper else 'excludes'} "
                       f"{target:g}, {'contains' if r.ci_lower <= 1 <= r.ci_upper else 'excludes'}"
                       " 1")
        text = (f"ratio {number(r.estimate)}, 95% Fieller set {fieller_text(r)}: {verdict}"
                + _wald_text(rows, c.target_test, outcome, f"intl = {target:g} x local")
                + _wald_text(rows, c.equal_test, outcome, "intl = local"))
        results.append((outcome, state, text))
    return results


def _wald_text(rows: pd.DataFrame, test_id: str, outcome: str, what: str) -> str:
    found = rows[(rows["quantity"] == "test") & (rows["term"] == test_id)
                 & (rows["outcome"] == outcome)]
    return "" if found.empty else f"; test {what}: p = {found['p_value'].iloc[0]:.3f}"


#: The 2013 terms of claims 5 and 6 (standard names; a survey may provide stand-ins).
SUPPLY_TERMS = ("dui_supply_regional", "dui_supply_extra")
COMPETITOR_TERMS = ("dui_competitors_regional", "dui_competitors_extra")
STI_TERMS = ("sti_regional", "sti_extra")


def _positive(rows: pd.DataFrame, c: ClaimContext, names: tuple[str, ...]) -> pd.DataFrame:
    """Per outcome: whether some coefficient of ``names`` is > 0 with p < alpha, and which."""
    found = pd.concat([term_rows(rows, c, c.modes_family, "coef", n).assign(term=c.term(n))
                       for n in names])
    found = found.assign(hit=(found["estimate"] > 0) & (found["p_value"] < c.alpha))
    return found


def _hits_text(found: pd.DataFrame, outcome: str, what: str) -> tuple[bool, str]:
    group = found.loc[[outcome]] if outcome in found.index else found.iloc[0:0]
    if group.empty:
        raise NotTestable(f"no {what} coefficients in the {outcome} model")
    hits = group[group["hit"]]
    if hits.empty:
        return False, f"no {what} coefficient significantly positive"
    return True, f"{what} significantly positive: " + ", ".join(
        f"{t} b = {number(b)} (p = {p:.3f})"
        for t, b, p in zip(hits["term"], hits["estimate"], hits["p_value"], strict=True))


def supply_not_competitors(rows: pd.DataFrame, c: ClaimContext) -> list[Result]:
    supply = _positive(rows, c, SUPPLY_TERMS)
    rivals = _positive(rows, c, COMPETITOR_TERMS)
    results = []
    for outcome in dict.fromkeys(supply.index):
        supply_ok, supply_text = _hits_text(supply, outcome, "supply-chain")
        rival_hit, rival_text = _hits_text(rivals, outcome, "competitor")
        results.append((outcome, HOLDS if supply_ok and not rival_hit else FAILS,
                        f"{supply_text}; {rival_text}"))
    return results


def sti_dui_extra_regional(rows: pd.DataFrame, c: ClaimContext) -> list[Result]:
    sti = _positive(rows, c, STI_TERMS)
    dui = _positive(rows, c, SUPPLY_TERMS)
    tests = quantity_rows(rows, "test", c.dui_test)
    results = []
    for outcome in dict.fromkeys(sti.index):
        sti_ok, sti_text = _hits_text(sti, outcome, "STI")
        dui_ok, dui_text = _hits_text(dui, outcome, "DUI supply-chain")
        if outcome not in tests.index:
            raise NotTestable(f"no test '{c.dui_test}' in the {outcome} model")
        t = tests.loc[outcome]
        extra_ok = t.estimate > 0 and t.p_value < c.alpha
        diff = (f"supply chain extra-regional minus regional = {number(t.estimate)} "
                f"(Wald p = {t.p_value:.3f}, "
                f"{'significantly positive' if extra_ok else 'not significantly positive'})")
        results.append((outcome, HOLDS if sti_ok and dui_ok and extra_ok else FAILS,
                        f"{sti_text}; {dui_text}; {diff}"))
    return results


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    rule: str
    family: str  # "headline" or "modes"
    check: Callable[[pd.DataFrame, ClaimContext], list[Result]]
    terms: tuple[str, ...] = ()  # standard names whose stand-ins the evidence names


CLAIMS: tuple[Claim, ...] = (
    Claim("1", "Local (same {region_unit}) collaboration has no significant association with "
          "innovation.", "In each outcome model the local breadth coefficient has p >= alpha "
          "(two-sided).", "headline", not_significant("local"), ("breadth_local",)),
    Claim("2", "National collaboration has no significant association with innovation.",
          "In each outcome model the national breadth coefficient has p >= alpha.",
          "headline", not_significant("national"), ("breadth_national",)),
    Claim("3", "International collaboration diversity is positively and significantly "
          "associated with product, process and new-to-market innovation.",
          "In each outcome model the international breadth coefficient is > 0 with p < "
          "alpha.", "headline", international_positive, ("breadth_international",)),
    Claim("4", "The international effect is about four times the local one.",
          "In each outcome model the 95% Fieller confidence set of the ratio of the "
          "international to the local breadth coefficient is bounded, contains 4 and "
          "excludes 1; an unbounded set makes that outcome not identifiable. The Wald tests "
          "of international = 4 x local and of international = local are reported beside it "
          "(4 is in the set exactly when the first does not reject).", "headline",
          ratio_about_target, ("breadth_international", "breadth_local")),
    Claim("5", "Within DUI, supply-chain partners matter; competitors do not (2013).",
          "In each outcome model of the modes family some supply-chain coefficient is > 0 "
          "with p < alpha, and no competitor coefficient is.", "modes",
          supply_not_competitors, (*SUPPLY_TERMS, *COMPETITOR_TERMS)),
    Claim("6", "Both STI and DUI modes matter; extra-regional beats regional for DUI (2013).",
          "In each outcome model of the modes family some STI coefficient and some DUI "
          "supply-chain coefficient are > 0 with p < alpha, and the supply-chain "
          "extra-regional coefficient exceeds the regional one (Wald test of their "
          "equality: p < alpha, difference > 0).", "modes", sti_dui_extra_regional,
          (*STI_TERMS, *SUPPLY_TERMS)),
)


def combine(states: list[str]) -> str:
    """A specification's verdict from its outcomes' results (see VERDICTS)."""
    if all(s == HOLDS for s in states):
        return SUPPORTED
    if all(s == UNIDENTIFIED for s in states):
        return NOT_IDENTIFIABLE
    if HOLDS not in states:
        return NOT_SUPPORTED
    return MIXED


def specifications(estimates: pd.DataFrame, family: str) -> list[Spec]:
    """The specifications of ``family`` in the estimates, in order of appearance."""
    rows = estimates[estimates["family"] == family]
    keys = rows[["variant", "estimator", "weights"]].drop_duplicates()
    return [Spec(family, v, e, w) for v, e, w in keys.itertuples(index=False, name=None)]


def main_spec(estimates: pd.DataFrame, family: str, variant: str) -> Spec | None:
    rows = estimates[(estimates["family"] == family) & estimates["main"].astype(bool)]
    if rows.empty:
        return None
    return Spec(family, variant, str(rows["estimator"].iloc[0]), str(rows["weights"].iloc[0]))


def evaluate_one(claim: Claim, estimates: pd.DataFrame, spec: Spec,
                 c: ClaimContext) -> tuple[str, str, list[str]]:
    """(verdict, evidence, model ids) of one claim in one specification."""
    rows = estimates[(estimates["family"] == spec.family)
                     & (estimates["variant"] == spec.variant)
                     & (estimates["estimator"] == spec.estimator)
                     & (estimates["weights"] == spec.weights)]
    try:
        if rows.empty:
            raise NotTestable(f"no estimates for {spec.label(c)}")
        results = claim.check(rows, c)
    except NotTestable as reason:
        return NOT_TESTABLE, f"not testable: {reason}", []
    evidence = "; ".join(f"{o}: {text}" for o, _, text in results)
    used = [c.term(t) for t in claim.terms]
    return (combine([s for _, s, _ in results]), c.stand_in_note(used) + evidence,
            list(dict.fromkeys(rows["model"])))


def sensitivity_line(verdicts: list[str]) -> str:
    """ "holds in 2 of 6 specifications (mixed in 3, not supported in 1)"."""
    testable = [v for v in verdicts if v != NOT_TESTABLE]
    if not testable:
        return "not testable in any specification"
    others = {v: testable.count(v) for v in dict.fromkeys(testable) if v != SUPPORTED}
    detail = ", ".join(f"{v} in {n}" for v, n in others.items())
    return (f"holds in {testable.count(SUPPORTED)} of {len(testable)} specifications"
            + (f" ({detail})" if detail else ""))


def evaluate_claims(estimates: pd.DataFrame, context: ClaimContext | None = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The report (one row per claim, ``CLAIM_COLUMNS``) and the verdict of every claim in
    every specification (``SPECIFICATION_COLUMNS``), from the specification estimates of
    :func:`analysis.models.sensitivity.specification_estimates`."""
    c = context or ClaimContext()
    report, detail = [], []
    for claim in CLAIMS:
        family = c.headline_family if claim.family == "headline" else c.modes_family
        variant = c.headline_variant if claim.family == "headline" else c.modes_variant
        rule = claim.rule.replace("alpha", f"{c.alpha:g}")
        statement = claim.statement.replace("{region_unit}", c.region_unit)
        main = main_spec(estimates, family, variant)
        if family in c.omitted_families or main is None:
            reason = c.omitted_families.get(family, f"no estimates of the {family} models")
            report.append([claim.id, statement, NOT_TESTABLE, sensitivity_line([]),
                           f"not testable: {reason}", "", rule, ""])
            continue
        verdicts = []
        for spec in specifications(estimates, family):
            verdict, evidence, _ = evaluate_one(claim, estimates, spec, c)
            verdicts.append(verdict)
            detail.append([claim.id, spec.label(c), verdict, evidence])
        verdict, evidence, models = evaluate_one(claim, estimates, main, c)
        report.append([claim.id, statement, verdict, sensitivity_line(verdicts),
                       evidence, main.label(c), rule, "; ".join(models)])
    return (pd.DataFrame(report, columns=CLAIM_COLUMNS),
            pd.DataFrame(detail, columns=SPECIFICATION_COLUMNS))
