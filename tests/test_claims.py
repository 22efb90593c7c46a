"""Claims report and published-number comparison: verdicts follow from the numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.errors import ConfigError
from analysis.exhibits.claims import (
    MIXED,
    NOT_IDENTIFIABLE,
    NOT_SUPPORTED,
    NOT_TESTABLE,
    SUPPORTED,
    VERDICTS,
    ClaimContext,
    evaluate_claims,
)
from analysis.exhibits.claims_report import printed_report, report_frame, report_notes
from analysis.exhibits.compare import check_published, compare_published

OUTCOMES = ("product", "process", "new_to_market")


def row(family, outcome, quantity, term, estimate, p, lo=None, hi=None, interval="",
        variant="manager", estimator="logit", main=True):
    return {"model": f"{family}__{outcome}__{variant}", "outcome": outcome,
            "estimator": estimator, "quantity": quantity, "term": term, "estimate": estimate,
            "std_error": 0.05, "p_value": p, "ci_lower": lo, "ci_upper": hi,
            "interval": interval, "family": family, "variant": variant, "weights": "none",
            "main": main}


def paper_like(**spec) -> pd.DataFrame:
    """Estimates shaped like the papers' findings: every claim holds."""
    rows = []
    for o in OUTCOMES:
        rows += [row("breadth", o, "coef", "breadth_local", 0.06, 0.40, **spec),
                 row("breadth", o, "coef", "breadth_national", 0.07, 0.30, **spec),
                 row("breadth", o, "coef", "breadth_international", 0.24, 0.001, **spec),
                 row("breadth", o, "test", "international_over_local", 4.0, None, 1.5, 6.5,
                     "bounded", **spec),
                 row("breadth", o, "test", "international_over_local:delta", 4.0, 0.2, -1.0,
                     9.0, **spec),
                 row("breadth", o, "test", "international_four_times_local", 0.0, 0.9,
                     **spec),
                 row("breadth", o, "test", "international_equals_local", 0.18, 0.01, **spec)]
    for o in ("product", "process"):
        rows += [row("modes", o, "coef", "dui_supply_regional", 0.1, 0.3, **spec),
                 row("modes", o, "coef", "dui_supply_extra", 0.4, 0.001, **spec),
                 row("modes", o, "coef", "dui_competitors_regional", 0.0, 0.9, **spec),
                 row("modes", o, "coef", "dui_competitors_extra", -0.1, 0.4, **spec),
                 row("modes", o, "coef", "sti_regional", 0.1, 0.3, **spec),
                 row("modes", o, "coef", "sti_extra", 0.3, 0.01, **spec),
                 row("modes", o, "test", "dui_supply_extra_equals_regional", 0.3, 0.02,
                     **spec)]
    return pd.DataFrame(rows)


def verdicts(frame: pd.DataFrame, context: ClaimContext | None = None) -> list[str]:
    return evaluate_claims(frame, context)[0]["verdict"].tolist()


def test_paper_like_estimates_support_every_claim() -> None:
    report, detail = evaluate_claims(paper_like())
    assert report["verdict"].tolist() == [SUPPORTED] * 6
    assert report["sensitivity"].tolist() == ["holds in 1 of 1 specifications"] * 6
    assert report["specification"][0] == "Manager, logit, unweighted"
    assert len(detail) == 6


def test_every_verdict_word_is_defined() -> None:
    assert set(VERDICTS) == {SUPPORTED, NOT_SUPPORTED, MIXED, NOT_IDENTIFIABLE, NOT_TESTABLE}
    assert all(len(text) > 20 for text in VERDICTS.values())


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


def test_ratio_claim_needs_four_inside_the_fieller_set() -> None:
    frame = paper_like()
    frame.loc[frame["term"] == "international_over_local", "ci_upper"] = 3.5
    assert verdicts(frame)[3] == NOT_SUPPORTED


def test_ratio_claim_needs_one_outside_the_fieller_set() -> None:
    assert_mixed_then_not_supported(
        3, lambda f: f["term"] == "international_over_local", "ci_lower", 0.8)


def test_an_unbounded_fieller_set_is_not_identifiable() -> None:
    frame = paper_like()
    ratio = frame["term"] == "international_over_local"
    frame.loc[ratio & (frame["outcome"] == "process"), "interval"] = "two rays"
    assert verdicts(frame)[3] == MIXED  # holds in two outcomes, undecidable in one
    frame.loc[ratio, "interval"] = "whole line"
    frame.loc[ratio, ["ci_lower", "ci_upper"]] = float("nan")
    report = evaluate_claims(frame)[0]
    assert report["verdict"][3] == NOT_IDENTIFIABLE
    assert "the whole line, unbounded: not identifiable" in report["evidence"][3]


def test_the_delta_method_interval_does_not_decide_claim_four() -> None:
    frame = paper_like()  # its delta row [-1, 9] contains 1; the Fieller set does not
    report = evaluate_claims(frame)[0]
    assert report["verdict"][3] == SUPPORTED
    assert "95% Fieller set [1.500, 6.500]: contains 4, excludes 1" in report["evidence"][3]
    assert "test intl = 4 x local: p = 0.900; test intl = local: p = 0.010" in \
        report["evidence"][3]


def test_significant_competitors_break_claim_five() -> None:
    frame = paper_like()
    frame.loc[frame["term"] == "dui_competitors_extra", ["estimate", "p_value"]] = [0.3, 0.01]
    assert verdicts(frame)[4] == NOT_SUPPORTED


def test_claim_six_reads_the_supply_chain_contrast() -> None:
    frame = paper_like()
    test = frame["term"] == "dui_supply_extra_equals_regional"
    frame.loc[test & (frame["outcome"] == "process"), "p_value"] = 0.4
    report = evaluate_claims(frame)[0]
    assert report["verdict"][5] == MIXED
    assert "supply chain extra-regional minus regional = 0.300 (Wald p = 0.020, " \
        "significantly positive)" in report["evidence"][5]


def test_missing_rows_make_a_claim_not_testable_not_a_crash() -> None:
    frame = paper_like()
    frame = frame[~frame["term"].str.contains("local")]
    report = evaluate_claims(frame)[0]
    assert report["verdict"][0] == NOT_TESTABLE
    assert "breadth_local" in report["evidence"][0]
    assert report["verdict"][2] == SUPPORTED


def test_evidence_is_plain_words_and_numbers() -> None:
    report, detail = evaluate_claims(paper_like())
    assert "b = 0.060 (p = 0.400, not significant)" in report["evidence"][0]
    assert "breadth__product__manager" in report["models"][0]
    text = " ".join([*report["evidence"], *detail["evidence"]])
    assert "True" not in text and "False" not in text


def test_sensitivity_counts_the_specifications() -> None:
    base = paper_like(variant="base", main=False)
    base.loc[base["term"] == "breadth_local", "p_value"] = 0.01
    probit = paper_like(estimator="probit", main=False)
    frame = pd.concat([paper_like(), base, probit], ignore_index=True)
    report, detail = evaluate_claims(frame)
    assert report["verdict"][0] == SUPPORTED  # the main specification
    assert report["sensitivity"][0] == ("holds in 2 of 3 specifications (not supported "
                                        "in 1)")
    assert report["sensitivity"][2] == "holds in 3 of 3 specifications"
    assert set(detail["specification"]) == {"Manager, logit, unweighted",
                                            "Base, logit, unweighted",
                                            "Manager, probit, unweighted"}


def test_the_report_shows_each_claim_in_words_with_its_counts() -> None:
    """The printed report: claim, short statement, verdict, "k of n" and the other
    verdicts; the CSV the same counts as numbers, beside the full statement and rule."""
    base = paper_like(variant="base", main=False)
    base.loc[base["term"] == "breadth_local", "p_value"] = 0.01
    frame = pd.concat([paper_like(), base, paper_like(estimator="probit", main=False)],
                      ignore_index=True)
    context = ClaimContext(region_unit="county")
    report, detail = evaluate_claims(frame, context)
    table = report_frame(report, detail, context)
    assert table.columns.tolist()[:7] == ["claim", "short_statement", "statement", "rule",
                                          "verdict", "holds_in", "of"]
    assert table["verdict"].tolist() == report["verdict"].tolist()  # verdicts unchanged
    assert table[["holds_in", "of"]].values.tolist()[:3] == [[2, 3], [3, 3], [3, 3]]
    assert table["short_statement"][0] == "Local (same county) collaboration: no association"
    shown = printed_report(table, detail)
    assert shown.columns.tolist() == ["Claim", "Statement", "Verdict", "Holds in",
                                      "Other verdicts"]
    assert shown.iloc[0].tolist()[2:] == [SUPPORTED, "2 of 3", "not supported in 1"]
    notes = report_notes(report, context, "", "")
    assert notes[0].startswith("Verdict: in the specification of the tables (claims 1-6: "
                               "Manager, logit, unweighted).")
    assert any(n.startswith("Rule 4: In each outcome model the 95% Fieller") for n in notes)


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
    frame = paper_like(variant="base")
    terms = frame["term"].astype(str)
    for old, new in STAND_INS.items():
        terms = terms.where(terms != old, new)
    frame["term"] = terms
    return frame[frame["term"] != "breadth_national"]


def domestic_context(**changes) -> ClaimContext:
    fields = dict(headline_variant="base", modes_variant="base", local="breadth_domestic",
                  stand_ins=STAND_INS,
                  unavailable=(*STAND_INS, "breadth_national", "internal_regional"))
    fields.update(changes)
    return ClaimContext(**fields)


def test_claims_five_and_six_use_the_stand_ins_and_say_so() -> None:
    report = evaluate_claims(domestic_like(), domestic_context())[0]
    assert report["verdict"].tolist() == [SUPPORTED, NOT_TESTABLE, SUPPORTED, SUPPORTED,
                                          SUPPORTED, SUPPORTED]
    assert report["evidence"][1] == ("not testable: 'breadth_national' is not available in "
                                     "this survey and has no stand-in")
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
    assert verdicts(frame, domestic_context())[4] == NOT_SUPPORTED


def test_absent_stand_ins_make_claims_five_and_six_not_testable_with_the_reason() -> None:
    frame = domestic_like()
    frame = frame[~frame["term"].str.startswith("dui_competitors")]
    stand_ins = {k: v for k, v in STAND_INS.items() if "competitors" not in k}
    report = evaluate_claims(frame, domestic_context(stand_ins=stand_ins))[0]
    assert report["evidence"][4] == ("not testable: 'dui_competitors_regional' is not "
                                     "available in this survey and has no stand-in")
    assert report["verdict"][5] == SUPPORTED  # needs no competitor term


def test_without_the_stand_ins_the_2013_terms_are_not_found_rather_than_passed() -> None:
    report = evaluate_claims(domestic_like(), ClaimContext(headline_variant="base",
                                                           modes_variant="base"))[0]
    assert (report["verdict"][[0, 1, 3, 4, 5]] == NOT_TESTABLE).all()


def test_an_outcome_without_competitor_rows_is_not_read_as_no_effect() -> None:
    frame = paper_like()
    drop = frame["term"].str.startswith("dui_competitors") & (frame["outcome"] == "process")
    report = evaluate_claims(frame[~drop])[0]
    assert report["verdict"][4] == NOT_TESTABLE and "process" in report["evidence"][4]


def test_an_omitted_family_gives_its_reason() -> None:
    frame = paper_like()
    frame = frame[frame["family"] != "modes"]
    note = "Models of family 'modes' are omitted: none of its main variables is available."
    report = evaluate_claims(frame, ClaimContext(omitted_families={"modes": note}))[0]
    assert report["verdict"][4] == report["verdict"][5] == NOT_TESTABLE
    assert report["evidence"][4] == f"not testable: {note}"


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
