"""Claims report and published-number comparison: verdicts follow from the numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.errors import ConfigError
from analysis.exhibits.claims import (
    MIXED,
    NOT_SUPPORTED,
    SUPPORTED,
    ClaimContext,
    evaluate_claims,
)
from analysis.exhibits.compare import check_published, compare_published

OUTCOMES = ("product", "process", "new_to_market")


def row(family, outcome, quantity, term, estimate, p, lo=None, hi=None):
    return {"model": f"{family}__{outcome}__manager", "outcome": outcome, "quantity": quantity,
            "term": term, "estimate": estimate, "std_error": 0.05, "p_value": p,
            "ci_lower": lo, "ci_upper": hi}


def paper_like() -> pd.DataFrame:
    """Estimates shaped like the papers' findings: every claim holds."""
    rows = []
    for o in OUTCOMES:
        rows += [row("breadth", o, "coef", "breadth_local", 0.06, 0.40),
                 row("breadth", o, "coef", "breadth_national", 0.07, 0.30),
                 row("breadth", o, "coef", "breadth_international", 0.24, 0.001),
                 row("breadth", o, "test", "international_over_local", 4.0, 0.2, 1.5, 6.5),
                 row("breadth", o, "test", "international_equals_local", 0.18, 0.01)]
    for o in ("product", "process"):
        rows += [row("modes", o, "coef", "dui_supply_regional", 0.1, 0.3),
                 row("modes", o, "coef", "dui_supply_extra", 0.4, 0.001),
                 row("modes", o, "coef", "dui_competitors_regional", 0.0, 0.9),
                 row("modes", o, "coef", "dui_competitors_extra", -0.1, 0.4),
                 row("modes", o, "coef", "sti_regional", 0.1, 0.3),
                 row("modes", o, "coef", "sti_extra", 0.3, 0.01),
                 row("modes", o, "test", "dui_extra_equals_regional", 0.3, 0.02)]
    return pd.DataFrame(rows)


def verdicts(frame: pd.DataFrame) -> list[str]:
    return evaluate_claims(frame)["verdict"].tolist()


def test_paper_like_estimates_support_every_claim() -> None:
    assert verdicts(paper_like()) == [SUPPORTED] * 6


def assert_mixed_then_not_supported(claim: int, rows, column: str, value: float) -> None:
    """Setting ``column`` to ``value`` in the process outcome's ``rows`` makes the claim
    mixed; in every outcome's, not supported."""
    frame = paper_like()
    selected = rows(frame)
    frame.loc[selected & (frame["outcome"] == "process"), column] = value
    assert verdicts(frame)[claim] == MIXED
    frame.loc[selected, column] = value
    assert verdicts(frame)[claim] == NOT_SUPPORTED


def test_a_significant_local_effect_flips_claim_one() -> None:
    assert_mixed_then_not_supported(
        0, lambda f: (f["term"] == "breadth_local") & (f["quantity"] == "coef"), "p_value",
        0.01)


def test_ratio_claim_needs_four_inside_the_interval() -> None:
    frame = paper_like()
    ratio = frame["term"] == "international_over_local"
    frame.loc[ratio, "ci_upper"] = 3.5
    assert verdicts(frame)[3] == NOT_SUPPORTED


def test_ratio_claim_needs_the_interval_above_one() -> None:
    assert_mixed_then_not_supported(
        3, lambda f: f["term"] == "international_over_local", "ci_lower", 0.8)


def test_ratio_claim_reports_but_does_not_require_the_wald_test() -> None:
    frame = paper_like()
    frame.loc[frame["term"] == "international_equals_local", "p_value"] = 0.3
    report = evaluate_claims(frame)
    assert report["verdict"].tolist()[3] == SUPPORTED
    assert "does not reject equality" in report["evidence"].tolist()[3]


def test_significant_competitors_break_claim_five() -> None:
    frame = paper_like()
    frame.loc[frame["term"] == "dui_competitors_extra", ["estimate", "p_value"]] = [0.3, 0.01]
    assert verdicts(frame)[4] == NOT_SUPPORTED


def test_missing_rows_make_a_claim_not_testable_not_a_crash() -> None:
    frame = paper_like()
    frame = frame[~frame["term"].str.contains("local")]
    report = evaluate_claims(frame)
    assert report["verdict"][0].startswith("not testable") and "breadth_local" in \
        report["verdict"][0]
    assert report["verdict"][2] == SUPPORTED


def test_evidence_quotes_the_numbers_and_models() -> None:
    report = evaluate_claims(paper_like())
    assert "p = 0.400" in report["evidence"][0]
    assert "breadth__product__manager" in report["models"][0]


# ------------------------------------------------- a domestic / abroad survey (stand-ins)

#: The stand-ins the build step names for a survey recording "domestic" and "international".
STAND_INS = {"breadth_local": "breadth_domestic",
             "sti_regional": "sti_domestic", "sti_extra": "sti_international",
             "dui_supply_regional": "dui_supply_domestic",
             "dui_supply_extra": "dui_supply_international",
             "dui_competitors_regional": "dui_competitors_domestic",
             "dui_competitors_extra": "dui_competitors_international"}


def domestic_like() -> pd.DataFrame:
    """paper_like() as a domestic/abroad survey estimates it: stand-in terms, base variant."""
    frame = paper_like()
    terms = frame["term"].astype(str)
    for old, new in STAND_INS.items():
        terms = terms.where(terms != old, new)
    frame["term"] = terms
    frame = frame[frame["term"] != "breadth_national"]
    frame["model"] = frame["model"].str.replace("__manager", "__base")
    return frame


def domestic_context(**changes) -> ClaimContext:
    fields = dict(headline_variant="base", modes_variant="base", local="breadth_domestic",
                  stand_ins=STAND_INS,
                  unavailable=(*STAND_INS, "breadth_national", "internal_regional"))
    fields.update(changes)
    return ClaimContext(**fields)


def test_claims_five_and_six_use_the_stand_ins_and_say_so() -> None:
    report = evaluate_claims(domestic_like(), domestic_context())
    assert report["verdict"].tolist() == [SUPPORTED, "not testable: 'breadth_national' is not "
                                          "available in this survey and has no stand-in",
                                          SUPPORTED, SUPPORTED, SUPPORTED, SUPPORTED]
    assert report["evidence"][0].startswith("Stand-in: breadth_domestic for breadth_local. ")
    assert "breadth_domestic for breadth_local" in report["evidence"][3]
    assert report["evidence"][4].startswith("Stand-ins: dui_supply_domestic for "
                                            "dui_supply_regional; dui_supply_international for "
                                            "dui_supply_extra; dui_competitors_domestic for ")
    assert "sti_international for sti_extra" in report["evidence"][5]
    assert "modes__product__base" in report["models"][4]
    # claim 3 needs no stand-in and names none
    assert "Stand-in" not in report["evidence"][2]


def test_the_stand_ins_carry_the_numbers_of_claim_five() -> None:
    frame = domestic_like()
    rival = frame["term"] == "dui_competitors_international"
    frame.loc[rival, ["estimate", "p_value"]] = [0.3, 0.01]
    assert evaluate_claims(frame, domestic_context())["verdict"][4] == NOT_SUPPORTED


def test_absent_stand_ins_make_claims_five_and_six_not_testable_with_the_reason() -> None:
    frame = domestic_like()
    frame = frame[~frame["term"].str.startswith("dui_competitors")]
    stand_ins = {k: v for k, v in STAND_INS.items() if "competitors" not in k}
    report = evaluate_claims(frame, domestic_context(stand_ins=stand_ins))
    assert report["verdict"][4] == ("not testable: 'dui_competitors_regional' is not available "
                                    "in this survey and has no stand-in")
    assert report["verdict"][5] == SUPPORTED  # needs no competitor term


def test_without_the_stand_ins_the_2013_terms_are_not_found_rather_than_passed() -> None:
    report = evaluate_claims(domestic_like(), ClaimContext(headline_variant="base",
                                                           modes_variant="base"))
    assert all(v.startswith("not testable") for v in report["verdict"][[0, 1, 3, 4, 5]])


def test_an_outcome_without_competitor_rows_is_not_read_as_no_effect() -> None:
    frame = paper_like()
    drop = frame["term"].str.startswith("dui_competitors") & (frame["outcome"] == "process")
    verdict = evaluate_claims(frame[~drop])["verdict"][4]
    assert verdict.startswith("not testable") and "process" in verdict


def test_an_omitted_family_gives_its_reason() -> None:
    frame = paper_like()
    frame = frame[~frame["model"].str.startswith("modes")]
    note = "Models of family 'modes' are omitted: none of its main variables is available."
    report = evaluate_claims(frame, ClaimContext(omitted_families={"modes": note}))
    assert report["verdict"][4] == report["verdict"][5] == f"not testable: {note}"


def published(**overrides) -> pd.DataFrame:
    base = {"table": ["T3"], "model": ["breadth__product__manager"], "quantity": ["coef"],
            "term": ["breadth_international"], "published_estimate": [0.241],
            "published_std_error": [0.05], "published_decimals": [3], "source": ["p. 9"],
            "note": [""]}
    base.update(overrides)
    return pd.DataFrame(base)


def test_comparison_flags_differences_beyond_printed_precision() -> None:
    ours = paper_like()
    ours.loc[ours["term"] == "breadth_international", "estimate"] = 0.2414
    result = compare_published(check_published(published(), "p.csv"), ours)
    assert result["status"].tolist() == ["matches at printed precision"]
    ours.loc[ours["term"] == "breadth_international", "estimate"] = 0.2416
    result = compare_published(check_published(published(), "p.csv"), ours)
    assert result["status"].tolist() == ["differs"]


def test_comparison_reports_rows_absent_from_this_run() -> None:
    result = compare_published(check_published(published(term=["nope"]), "p.csv"),
                               paper_like())
    assert result["status"].tolist() == ["not in this run's estimates"]


def test_malformed_published_file_names_row_and_column() -> None:
    with pytest.raises(ConfigError, match=r"p.csv: row 2, column 'published_estimate'"):
        check_published(published(published_estimate=["0.2x"]), "p.csv")
    with pytest.raises(ConfigError, match="missing column"):
        check_published(pd.DataFrame({"table": []}), "p.csv")
