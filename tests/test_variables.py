"""Unit tests of analysis.data.variables on tiny hand-made clean frames (contract C3)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.config import PARTNER_TYPES, SCALES
from analysis.data import variables as v
from analysis.errors import DataError

NA = pd.NA


def collab_frame(rows: list[dict[tuple[str, str], object]],
                 partners=PARTNER_TYPES, scales=SCALES) -> pd.DataFrame:
    """Clean collaboration items: each row maps (partner, scale) to a code or a missing kind.

    Unlisted items are answered "never" (1); a string value is the kind of missing answer.
    """
    data: dict[str, list] = {"firm_id": list(range(101, 101 + len(rows)))}
    for p in partners:
        for s in scales:
            col = v.item_column(p, s)
            values = [row.get((p, s), 1) for row in rows]
            data[col] = pd.array([x if not isinstance(x, str) else None for x in values],
                                 dtype="Int64")
            data[col + "__missing"] = pd.array([x if isinstance(x, str) else None
                                                for x in values], dtype="string")
    return pd.DataFrame(data)


def all_at(scale: str, code: int = 3, partners=PARTNER_TYPES) -> dict:
    return {(p, scale): code for p in partners}


def ints(series: pd.Series) -> list:
    return [None if pd.isna(x) else int(x) for x in series]


# ------------------------------------------------------------------------------ outcomes

def outcome_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "firm_id": [1, 2, 3, 4, 5, 6],
        "product": pd.array([0, 1, 1, 1, None, 0], dtype="Int64"),
        "product_novelty": pd.Categorical([None, "market", "firm", None, None, None]),
        "process": pd.array([0, 1, None, 0, 0, None], dtype="Int64"),
        "process_novelty": pd.Categorical([None, "industry", None, None, None, None]),
    })


def test_binary_outcome_keeps_missing_and_rejects_other_values():
    frame = outcome_frame()
    assert ints(v.binary_outcome(frame, "product")) == [0, 1, 1, 1, None, 0]
    frame["product"] = pd.array([0, 1, 2, 1, None, 0], dtype="Int64")
    with pytest.raises(DataError, match=r"column product, firm_id 3: value 2"):
        v.binary_outcome(frame, "product")


def test_new_to_market_rule():
    # no product -> 0; market -> 1; firm -> 0; innovator w/o novelty -> NA; product NA -> NA
    assert ints(v.new_to_market(outcome_frame())) == [0, 1, 0, None, None, 0]


def test_novelty_rejects_unknown_answer():
    frame = outcome_frame()
    frame["product_novelty"] = pd.Categorical([None, "world", "firm", None, None, None])
    with pytest.raises(DataError, match="product_novelty, firm_id 2.*'world'"):
        v.new_to_market(frame)


def test_process_new_to_industry_accepts_industry_and_market():
    assert ints(v.process_new_to_industry(outcome_frame())) == [0, 1, None, 0, 0, None]


def test_novelty_ordered_and_code():
    frame = outcome_frame()
    assert ints(v.novelty_code(frame)) == [0, 2, 1, None, None, 0]
    ordered = v.novelty_ordered(frame)
    assert ordered.dtype.ordered
    assert list(ordered.cat.categories) == ["none", "new to firm", "new to market"]
    assert ordered.cat.codes.tolist() == [0, 2, 1, -1, -1, 0]
    assert ordered.isna().tolist() == [False, False, False, True, True, False]


def test_any_innovation_uses_kleene_or():
    # (0,0)->0, (1,1)->1, (1,NA)->1, (1,0)->1, (NA,0)->NA, (0,NA)->NA
    assert ints(v.any_innovation(outcome_frame())) == [0, 1, 1, 1, None, None]


# ------------------------------------------------------------------------------ collaboration

def test_indicator_codes_routing_and_unknown():
    frame = collab_frame([{("suppliers", "local"): 3}, {("suppliers", "local"): 1},
                          {("suppliers", "local"): "dont_know"},
                          {("suppliers", "local"): "not_applicable"}])
    assert ints(v.collaboration_indicator(frame, "suppliers", "local")) == [1, 0, None, 0]
    # a survey whose "never" codes are 1 and 2
    assert ints(v.collaboration_indicator(frame, "suppliers", "local", never=(1, 2, 3))) == [
        0, 0, None, 0]


def test_missing_kind_without_companion_is_no_answer():
    frame = pd.DataFrame({"x": pd.array([1, None], dtype="Int64")})
    assert v.missing_kind(frame, "x").tolist()[1] == "no_answer"
    assert pd.isna(v.missing_kind(frame, "x").iloc[0])


def test_breadth_edge_cases_no_partners_and_all_at_one_scale():
    frame = collab_frame([{}, all_at("local"), all_at("international", code=5)])
    out = v.breadth(frame, PARTNER_TYPES, SCALES)
    assert list(out.columns) == ["breadth_local", "breadth_national", "breadth_international"]
    assert ints(out["breadth_local"]) == [0, 7, 0]
    assert ints(out["breadth_national"]) == [0, 0, 0]
    assert ints(out["breadth_international"]) == [0, 0, 7]
    anyc = v.any_collaboration(frame, PARTNER_TYPES, SCALES)
    assert ints(anyc["any_collab_local"]) == [0, 1, 0]
    assert ints(anyc["any_collab_international"]) == [0, 0, 1]


def test_breadth_missing_rule_half_of_the_items():
    three_dk = {(p, "local"): "dont_know" for p in PARTNER_TYPES[:3]}
    four_dk = {(p, "local"): "refused" for p in PARTNER_TYPES[:4]}
    frame = collab_frame([
        {("suppliers", "local"): "dont_know", ("customers", "local"): 4},  # 1 unknown: defined
        {**three_dk, ("institutes", "local"): 2},                           # 3 of 7: defined
        four_dk,                                                            # 4 of 7: NA
        {("group", "local"): "not_applicable", ("customers", "local"): 2},  # routed: not missing
    ])
    out = v.breadth(frame, PARTNER_TYPES, SCALES)
    assert ints(out["breadth_local"]) == [1, 1, None, 1]
    assert ints(out["breadth_national"]) == [0, 0, 0, 0]
    assert ints(v.scale_answered(frame, PARTNER_TYPES, ["local"])["local"]) == [1, 1, 0, 1]


def test_group_counts_partner_counts_once_across_extra_regional_scales():
    frame = collab_frame([
        {("universities", "national"): 3, ("universities", "international"): 3,
         ("consultants", "local"): 2, ("suppliers", "international"): 4,
         ("customers", "national"): 2, ("group", "national"): 5},
        {},
    ])
    out = v.group_counts(frame, PARTNER_TYPES, SCALES)
    assert list(out.columns) == [
        "sti_regional", "sti_extra", "dui_supply_regional", "dui_supply_extra",
        "dui_competitors_regional", "dui_competitors_extra", "internal_regional",
        "internal_extra"]
    assert ints(out.iloc[0]) == [1, 1, 0, 2, 0, 0, 0, 1]
    assert ints(out.iloc[1]) == [0] * 8


def test_extra_regional_count_is_na_if_any_extra_scale_fails_the_battery_rule():
    frame = collab_frame([{**{(p, "national"): "no_answer" for p in PARTNER_TYPES},
                           ("suppliers", "international"): 3, ("suppliers", "local"): 3}])
    out = v.group_counts(frame, PARTNER_TYPES, SCALES)
    assert ints(out[["dui_supply_regional", "dui_supply_extra"]].iloc[0]) == [1, None]
    assert pd.isna(v.glocal_type(frame, PARTNER_TYPES, SCALES).iloc[0])


def test_glocal_type_excludes_group_firms_from_external_partners():
    frame = collab_frame([
        {},                                                            # none
        {("group", "local"): 5, ("group", "international"): 5},        # internal only
        {("customers", "local"): 2},                                   # local only
        {("institutes", "national"): 2},                               # non-local only
        {("customers", "local"): 2, ("suppliers", "international"): 3},  # both
    ])
    out = v.glocal_type(frame, PARTNER_TYPES, SCALES)
    assert out.tolist() == ["No external partners", "No external partners", "Local only",
                            "Non-local only", "Local and non-local"]
    assert list(out.cat.categories) == list(v.GLOCAL_TYPES)


def test_intensity_weights_and_rules():
    frame = collab_frame([
        {("suppliers", "local"): 5, ("customers", "local"): 3, ("group", "local"): "dont_know"},
        {("group", "local"): "not_applicable", ("competitors", "local"): 2},
        {(p, "local"): "dont_know" for p in PARTNER_TYPES},
    ])
    weights = {"1": 0, "2": 1, "3": 2, "4": 3, "5": 10}  # TOML keys are strings
    out = v.collaboration_intensity(frame, PARTNER_TYPES, SCALES, weights)
    assert out["intensity_local"].tolist()[:2] == [12.0, 1.0]
    assert math.isnan(out["intensity_local"].iloc[2])
    assert out["intensity_national"].tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(DataError, match=r"collab__suppliers__local, firm_id 101.*code 5"):
        v.collaboration_intensity(frame, PARTNER_TYPES, SCALES, {1: 0, 2: 1, 3: 2, 4: 3})


def test_survey_with_only_domestic_and_international_scales():
    scales = ("domestic", "international")
    frame = collab_frame([{("suppliers", "domestic"): 3, ("universities", "international"): 2},
                          {("group", "domestic"): 4}], scales=scales)
    partners, found = v.collaboration_layout(frame)
    assert partners == PARTNER_TYPES and found == scales
    assert ints(v.breadth(frame, partners, found)["breadth_domestic"]) == [1, 1]
    groups = v.group_counts(frame, partners, found)
    # no regional scale: no regional / extra-regional split, one count per scale instead
    assert not [c for c in groups.columns if c.endswith(("_regional", "_extra"))]
    assert ints(groups["sti_international"]) == [1, 0]
    assert ints(groups["sti_domestic"]) == [0, 0]
    assert ints(groups["dui_supply_domestic"]) == [1, 0]
    # the glocal typology uses the nearest scale recorded (domestic) as "local"
    assert v.glocal_type(frame, partners, found).tolist() == ["Local and non-local",
                                                              "No external partners"]


def test_survey_lacking_partner_types():
    partners = tuple(p for p in PARTNER_TYPES if p not in ("universities", "group"))
    frame = collab_frame([all_at("local", partners=partners)], partners=partners)
    assert v.collaboration_layout(frame)[0] == partners
    assert ints(v.breadth(frame, partners, SCALES)["breadth_local"]) == [5]
    groups = v.group_counts(frame, partners, SCALES)
    assert "internal_regional" not in groups.columns
    assert ints(groups["sti_regional"]) == [2]  # consultants and institutes only
    out = v.build_analysis_data(full_clean(frame), survey_year=2010)
    assert "collab_universities_local" not in out.columns and "internal_extra" not in out.columns


def test_collaboration_layout_ignores_companions_and_rejects_unknown_partner():
    frame = collab_frame([{}], partners=("suppliers",), scales=("local",))
    assert v.collaboration_layout(frame) == (("suppliers",), ("local",))
    frame["collab__aliens__local"] = pd.array([1], dtype="Int64")
    with pytest.raises(DataError, match="unknown partner type.*aliens"):
        v.collaboration_layout(frame)


# ------------------------------------------------------------------------------ controls

def test_log_employees_and_size_class_bounds():
    frame = pd.DataFrame({"firm_id": range(8),
                          "employees": pd.array([10, 19, 20, 99, 249, 250, 3000, None],
                                                dtype="Int64")})
    assert np.allclose(v.log_employees(frame).iloc[:2], np.log([10, 19]))
    assert v.size_class(frame).astype(object).tolist()[:7] == [
        "10-19", "10-19", "20-49", "50-99", "100-249", "250+", "250+"]
    assert pd.isna(v.size_class(frame).iloc[7])
    frame.loc[1, "employees"] = 0
    with pytest.raises(DataError, match="employees, firm_id 1"):
        v.log_employees(frame)


def test_foreign_owned_threshold_and_missing():
    frame = pd.DataFrame({"foreign_share": [0.0, 49.9, 50.0, 100.0, np.nan]})
    assert ints(v.foreign_owned(frame)) == [0, 0, 1, 1, None]


def test_firm_age_uses_survey_year_parameter():
    frame = pd.DataFrame({"firm_id": [1, 2, 3], "founded": pd.array([1990, 2010, None],
                                                                    dtype="Int64")})
    assert ints(v.firm_age(frame, 2010)) == [20, 0, None]
    assert ints(v.firm_age(frame, 2012)) == [22, 2, None]
    with pytest.raises(DataError, match="founded, firm_id 2.*survey year 2009"):
        v.firm_age(frame, 2009)


def test_manager_higher_ed():
    frame = pd.DataFrame({"manager_education": pd.array([1, 2, 3, 5, None], dtype="Int64")})
    assert ints(v.manager_higher_ed(frame)) == [0, 0, 1, 1, None]


def test_open_mindedness_needs_three_of_four_items():
    frame = pd.DataFrame({
        "open_1": pd.array([4, 4, 4, None], dtype="Int64"),
        "open_2": pd.array([2, None, None, None], dtype="Int64"),
        "open_3": pd.array([5, 5, None, 3], dtype="Int64"),
        "open_10": pd.array([1, 3, 2, None], dtype="Int64"),  # item order is numeric
    })
    assert v.open_items(frame) == ["open_1", "open_2", "open_3", "open_10"]
    out = v.open_mindedness(frame)
    assert out.iloc[0] == pytest.approx(3.0)
    assert out.iloc[1] == pytest.approx(4.0)
    assert out.isna().tolist() == [False, False, True, True]
    assert v.min_answered(4) == 3 and v.min_answered(6) == 5 and v.min_answered(2) == 2


def test_cronbach_alpha_matches_hand_computation():
    items = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 4], "c": [1, 3, 3, 4, 5],
                          "d": pd.array([1, 2, None, 3, 3], dtype="Int64")})
    # by hand on a, b, c: variances 2.5, 1.7, 2.2; sums 4, 7, 9, 13, 14 -> variance 17.3
    expected = 3 / 2 * (1 - (2.5 + 1.7 + 2.2) / 17.3)
    assert v.cronbach_alpha(items[["a", "b", "c"]]) == pytest.approx(expected)
    # with d, the row with a missing item is dropped (complete cases)
    complete = items.drop(index=2).astype(float)
    k = 4
    by_hand = k / (k - 1) * (1 - complete.var().sum() / complete.sum(axis=1).var())
    assert v.cronbach_alpha(items) == pytest.approx(by_hand)
    with pytest.raises(DataError, match="at least 2 items"):
        v.cronbach_alpha(items[["a"]])


def test_dummies_slug_and_missing_rows():
    series = pd.Series(pd.Categorical(["Oslo", None, "Tromsø"], categories=["Oslo", "Tromsø"]),
                       name="region")
    out = v.dummies(series, "region")
    assert list(out.columns) == ["region_oslo", "region_tromso"]
    assert ints(out["region_oslo"]) == [1, None, 0]
    assert v.slug("250+") == "250plus"


def test_region_sector_cells():
    frame = pd.DataFrame({"region": pd.Categorical(["Oslo", "Bergen", None]),
                          "sector": pd.Categorical(["trade", "trade", "trade"])})
    out = v.region_sector(frame)
    assert out.astype(object).tolist()[:2] == ["Oslo / trade", "Bergen / trade"]
    assert pd.isna(out.iloc[2])


# ------------------------------------------------------------------------------ whole build

def full_clean(collab: pd.DataFrame) -> pd.DataFrame:
    """Add outcome and control columns to a collaboration frame (one pattern per row)."""
    n = len(collab)
    rng = np.random.default_rng(3)
    extra = pd.DataFrame({
        "interview_id": range(1, n + 1),
        "region": pd.Categorical(rng.choice(["Oslo", "Bergen"], n), categories=["Oslo",
                                                                               "Bergen"]),
        "nace": rng.choice([10, 46], n),
        "sector": pd.Categorical(rng.choice(["manufacturing", "trade"], n),
                                 categories=["manufacturing", "trade"]),
        "employees": pd.array(rng.integers(10, 400, n), dtype="Int64"),
        "founded": pd.array(rng.integers(1950, 2010, n), dtype="Int64"),
        "foreign_share": rng.choice([0.0, 100.0], n),
        "group": pd.array(rng.integers(0, 2, n), dtype="Int64"),
        "higher_ed_share": rng.uniform(0, 100, n),
        "product": pd.array(rng.integers(0, 2, n), dtype="Int64"),
        "process": pd.array(rng.integers(0, 2, n), dtype="Int64"),
        "manager_education": pd.array(rng.integers(1, 6, n), dtype="Int64"),
        "trust_general": pd.array(rng.integers(0, 11, n), dtype="Int64"),
        "trust_regional": pd.array(rng.integers(1, 6, n), dtype="Int64"),
        "weight": 1.0,
    }, index=collab.index)
    extra["product_novelty"] = pd.Categorical(
        np.where(extra["product"] == 1, rng.choice(["firm", "market"], n), None))
    extra["process_novelty"] = pd.Categorical(
        np.where(extra["process"] == 1, rng.choice(["firm", "market"], n), None))
    for i in range(1, 5):
        extra[f"open_{i}"] = pd.array(rng.integers(1, 6, n), dtype="Int64")
    return pd.concat([collab, extra], axis=1)


def test_build_analysis_data_is_complete_and_documented():
    clean = full_clean(collab_frame([{}, all_at("local"), {("customers", "national"): 2},
                                     {("suppliers", "local"): "dont_know"}]))
    out = v.build_analysis_data(clean, survey_year=2010)
    assert len(out) == len(clean) and out.columns.is_unique
    for name in ("product", "process", "new_to_market", "process_new_to_industry",
                 "novelty_ordered", "novelty_code", "any_innovation", "collab_group_local",
                 "breadth_local", "breadth_national", "breadth_international", "sti_regional",
                 "dui_supply_extra", "internal_extra", "any_collab_national", "glocal_type",
                 "intensity_international", "log_employees", "size_class", "foreign_owned",
                 "firm_age", "manager_higher_ed", "open_mindedness", "trust_general",
                 "trust_regional", "region_sector", "sector_trade", "region_oslo"):
        assert name in out.columns, name
    assert ints(out["breadth_local"]) == [0, 7, 0, 0]
    docs = v.variable_registry(categories={"sector": ["manufacturing", "trade"],
                                           "region": ["Oslo", "Bergen"]})
    undocumented = [c for c in out.columns if c not in docs]
    assert not undocumented
    assert all(d.label and d.definition and d.source for d in docs.values())
    assert set(v.VARIABLES) <= set(docs)


def test_policy_counts_count_the_firms_each_rule_touches():
    clean = full_clean(collab_frame([
        {("suppliers", "local"): "dont_know"},                         # item unknown, usable
        {(p, "national"): "refused" for p in PARTNER_TYPES[:4]},       # national unusable
        {("group", "local"): "not_applicable"},                        # routed out
        {},
    ]))
    clean["product"] = pd.array([1, 1, None, 0], dtype="Int64")
    clean["product_novelty"] = pd.Categorical(["market", None, None, None])
    clean.loc[0, ["open_1"]] = pd.NA
    clean.loc[1, ["open_1", "open_2"]] = pd.NA
    clean["employees"] = pd.array([10, None, 20, 30], dtype="Int64")
    counts = v.policy_counts(clean, PARTNER_TYPES, SCALES)
    got = dict(zip(counts["case"], counts["firms"], strict=True))
    assert got["product missing (NA)"] == 1
    assert got["product innovator without novelty answer (NA)"] == 1
    assert got["at least one partner item unknown (indicator NA)"] == 2
    assert got["at least one item not applicable (= 0)"] == 1
    assert got["unknown item(s) counted as no collaboration at a usable scale"] == 1
    assert got["more than half the items unknown at national: aggregates NA"] == 1
    assert got["more than half the items unknown at local: aggregates NA"] == 0
    assert got["3 of 4 items answered: mean of answered items"] == 1
    assert got["fewer than 3 items answered: NA"] == 1
    assert got["employees missing (NA)"] == 1
    assert set(counts["construct"]) <= set(v.MISSING_DATA_POLICY)
    # the rules are applied by the code the counts describe
    built = v.build_analysis_data(clean, survey_year=2010)
    assert int(built["breadth_national"].isna().sum()) == 1
    assert int(built["open_mindedness"].isna().sum()) == 1
