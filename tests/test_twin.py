"""Tests of the synthetic twin: reproducibility, SPSS metadata, calibration and structure.

The marginal checks run on the committed file (n = 1,604 usable firms). Their tolerances
are 4 binomial standard errors, sqrt(p (1 - p) / n), around the docs/study.md section 6
target p: a correct generator fails such a check with probability below 1e-4 per share,
while a wrong parameter (a share off by 5 points or more) fails it.
"""

from __future__ import annotations

import math
import re
import tomllib

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis import config
from analysis.config import PARTNER_TYPES, SCALES
from analysis.data.twin import generate as generate_module
from analysis.data.twin.generator import COLUMNS, check_digit, draw_survey, write_sav
from analysis.data.twin.questionnaire import ITEMS, ITEMS_BY_NAME, NACE_DIVISIONS, render_markdown
from analysis.data.twin.truth import (
    DEFAULT,
    REGRESSOR_DEFINITIONS,
    REGRESSORS,
    build_regressors,
    collaboration_column,
    sector_of_nace,
)
from analysis.errors import DataError

SAV = config.DATA_RAW / generate_module.SAV_NAME
QUESTIONNAIRE = config.DATA_RAW / generate_module.QUESTIONNAIRE_NAME
N_USABLE = 1604

# Targets copied from docs/study.md section 6 (independent of the generator's parameters,
# so a changed parameter in truth.py cannot silently move the target with it).
STUDY_REGIONS = {1: 0.45, 2: 0.18, 3: 0.16, 4: 0.13, 5: 0.08}
STUDY_SECTORS = {"manufacturing": 0.14, "construction": 0.16, "trade": 0.22,
                 "accommodation_food": 0.07, "transport": 0.08, "business_services": 0.33}
STUDY_COLLABORATION = {  # local, national, international; group: share of all firms
    "suppliers": (0.45, 0.40, 0.25), "customers": (0.45, 0.35, 0.18),
    "competitors": (0.20, 0.15, 0.07), "consultants": (0.30, 0.20, 0.06),
    "universities": (0.10, 0.08, 0.04), "institutes": (0.08, 0.08, 0.04),
    "group": (0.15, 0.15, 0.12),
}


def binomial_tolerance(p: float, n: int, z: float = 4.0) -> float:
    return z * math.sqrt(p * (1 - p) / n)


def read_sav(path):
    return pyreadstat.read_sav(str(path), user_missing=True)


@pytest.fixture(scope="module")
def committed():
    return read_sav(SAV)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("twin")
    paths = generate_module.generate(out, seed=config.SEED, n_usable=N_USABLE)
    return paths


def usable_records(raw: pd.DataFrame) -> pd.DataFrame:
    """The cleaning rules of config/norway_twin.toml, applied by hand."""
    answered = raw["q6_prod"].isin([1, 2]) | raw["q8_proc"].isin([1, 2])
    kept = raw[(raw["q1_emp"] >= 10) & answered]
    return kept.sort_values("intnr").drop_duplicates("orgnr", keep="first")


@pytest.fixture(scope="module")
def usable(committed) -> pd.DataFrame:
    return usable_records(committed[0])


# --- (a) reproducibility -------------------------------------------------------------


def test_regeneration_is_byte_identical(regenerated):
    assert regenerated["sav"].read_bytes() == SAV.read_bytes()
    assert regenerated["questionnaire"].read_text() == QUESTIONNAIRE.read_text()
    assert regenerated["readme"].read_text() == (config.DATA_RAW / "README.md").read_text()


def test_regeneration_reproduces_content(regenerated, committed):
    data, meta = read_sav(regenerated["sav"])
    pd.testing.assert_frame_equal(data, committed[0])
    for attribute in ("column_names_to_labels", "variable_value_labels", "missing_ranges",
                      "variable_measure", "original_variable_types", "file_label", "notes"):
        assert getattr(meta, attribute) == getattr(committed[1], attribute), attribute


def test_other_seed_gives_other_data():
    first, second = draw_survey(200, 1), draw_survey(200, 2)
    assert not first.raw.equals(second.raw)
    pd.testing.assert_frame_equal(draw_survey(200, 1).raw, first.raw)
    pd.testing.assert_frame_equal(draw_survey(200, 1).truth, first.truth)


# --- (b) the committed file and its documentation ------------------------------------


def test_columns_are_the_questionnaire_items(committed):
    assert tuple(committed[0].columns) == tuple(item.name for item in ITEMS) == COLUMNS


def test_sav_carries_labels_value_labels_and_missing_codes(committed):
    _, meta = committed
    assert "SYNTHETIC" in meta.file_label
    for item in ITEMS:
        assert meta.column_names_to_labels[item.name] == item.label
        if item.value_labels:
            assert meta.variable_value_labels[item.name] == {
                float(k): v for k, v in item.value_labels.items()}
        declared = sorted(r["lo"] for r in meta.missing_ranges.get(item.name, []))
        assert declared == sorted(float(c) for c in item.missing), item.name
        assert meta.variable_measure[item.name] == item.measure
        assert re.fullmatch(r"F\d+\.0", meta.original_variable_types[item.name])


def test_user_missing_codes_are_kept_as_codes(committed):
    data, _ = committed
    assert data["q5_highed"].isin([998, 999]).any()
    assert data["q10_sup_int"].isin([8, 9]).any()


def test_every_column_is_documented_in_questionnaire(committed):
    text = QUESTIONNAIRE.read_text()
    assert text == render_markdown()
    for name in committed[0].columns:
        assert f"### `{name}`" in text, name


# --- (c) marginals against the docs/study.md targets ----------------------------------------


def test_region_shares(usable):
    n = len(usable)
    shares = usable["region"].value_counts(normalize=True)
    for code, target in STUDY_REGIONS.items():
        assert abs(shares.get(code, 0) - target) < binomial_tolerance(target, n), code
    assert set(shares.index) <= set(STUDY_REGIONS)


def test_sector_shares(usable):
    n = len(usable)
    shares = sector_of_nace(usable["nace"]).value_counts(normalize=True)
    for sector, target in STUDY_SECTORS.items():
        assert abs(shares.get(sector, 0) - target) < binomial_tolerance(target, n), sector


def test_employees(usable):
    employees = usable["q1_emp"]
    assert employees.min() >= 10
    # Median 25 (docs/study.md section 6): the sample median of a log-normal with log-sd 1.6
    # truncated at 10 has a standard error of about 1 employee at n = 1,604; +-5 is ~5 SEs.
    assert 20 <= employees.median() <= 30
    # Long right tail: the largest firm has "a few thousand" employees.
    assert 1000 <= employees.max() <= 10000


def test_foreign_ownership(usable):
    share = usable["q3_foreign"]
    share = share[share.between(0, 100)]
    assert abs((share == 0).mean() - 0.80) < binomial_tolerance(0.80, len(share))
    assert (share == 100).mean() > 0.05  # the spike at 100 %
    assert share[(share > 0) & (share < 100)].nunique() > 20  # the rest is spread out


def test_outcome_rates(usable):
    product = usable["q6_prod"][usable["q6_prod"].isin([1, 2])]
    process = usable["q8_proc"][usable["q8_proc"].isin([1, 2])]
    n = len(product)
    assert abs((product == 1).mean() - 0.48) < binomial_tolerance(0.48, n)
    assert abs((process == 1).mean() - 0.40) < binomial_tolerance(0.40, len(process))
    new_to_market = (usable.loc[product.index, "q7_prod_new"] == 2).mean()
    assert abs(new_to_market - 0.20) < binomial_tolerance(0.20, n)


@pytest.mark.parametrize("partner", PARTNER_TYPES)
def test_collaboration_prevalence(usable, partner):
    for target, scale in zip(STUDY_COLLABORATION[partner], SCALES, strict=True):
        code = usable[collaboration_column(partner, scale)]
        if partner == "group":
            # Share of ALL firms: firms outside a group are routed out and do not collaborate.
            known = usable["q4_group"].isin([1, 2]) & (code.isna() | code.between(1, 5))
            active = code.between(2, 5)[known]
            assert not code[usable["q4_group"] == 2].notna().any()
        else:
            active = code[code.between(1, 5)].between(2, 5)
        tolerance = binomial_tolerance(target, len(active))
        assert abs(active.mean() - target) < tolerance, (partner, scale, active.mean())


def test_item_nonresponse_rates(usable):
    for item in ITEMS:
        if not item.missing or item.name == "q1_emp":
            continue
        asked = usable[item.name].notna()
        rate = usable[item.name].isin(list(item.missing)).sum() / asked.sum()
        assert 0.005 <= rate <= 0.05, (item.name, rate)
    # The screener is always answered, so the screen-out rule is exact.
    assert usable["q1_emp"].between(10, 99997).all()


# --- (d) record types ------------------------------------------------------------------


def test_record_counts(committed):
    raw = committed[0]
    screen_outs = raw["q1_emp"] < 10
    break_offs = ~screen_outs & raw["q6_prod"].isna() & raw["q8_proc"].isna()
    duplicates = raw.duplicated("orgnr", keep="first")  # the file is sorted by intnr
    assert screen_outs.sum() > 0 and break_offs.sum() > 0 and duplicates.sum() > 0
    assert not (duplicates & (screen_outs | break_offs)).any()
    assert (~screen_outs & ~break_offs & ~duplicates).sum() == N_USABLE
    assert len(usable_records(raw)) == N_USABLE
    extra = len(raw) - N_USABLE
    assert 0.01 * N_USABLE <= extra <= 0.06 * N_USABLE  # "a few percent"


def test_screen_outs_and_break_offs_are_blank_after_their_last_item(committed):
    raw = committed[0]
    frame = ["intnr", "orgnr", "region", "nace"]
    screen_outs = raw[raw["q1_emp"] < 10]
    assert screen_outs[frame + ["q1_emp"]].notna().all().all()
    assert screen_outs.drop(columns=frame + ["q1_emp"]).isna().all().all()
    break_offs = raw[(raw["q1_emp"] >= 10) & raw["q6_prod"].isna() & raw["q8_proc"].isna()]
    after_q5 = list(raw.columns[raw.columns.get_loc("q6_prod"):])
    assert break_offs[after_q5].isna().all().all()
    assert break_offs[frame + ["q1_emp"]].notna().all().all()


def test_identifiers(committed):
    raw = committed[0]
    assert raw["intnr"].is_unique and raw["intnr"].is_monotonic_increasing
    assert raw["orgnr"].between(800_000_000, 999_999_999).all()
    orgnr = raw["orgnr"].astype("int64").to_numpy()
    assert (check_digit(orgnr // 10) == orgnr % 10).all()
    # A duplicate interview comes after the first one and answers nearly identically.
    dupes = raw[raw.duplicated("orgnr", keep=False)].sort_values(["orgnr", "intnr"])
    for _, pair in dupes.groupby("orgnr"):
        assert len(pair) == 2
        first, second = pair.iloc[0], pair.iloc[1]
        same = (first == second) | (first.isna() & second.isna())
        assert same.drop("intnr").mean() > 0.8


def test_check_digit_known_answers():
    # Real organisation numbers: Equinor ASA 923609016, Bronnoysundregistrene 974760673.
    assert list(check_digit(np.array([92360901, 97476067]))) == [6, 3]


# --- routing and non-response --------------------------------------------------------------


def test_routing(usable):
    assert usable.loc[usable["q6_prod"] != 1, "q7_prod_new"].isna().all()
    assert usable.loc[usable["q8_proc"] != 1, "q9_proc_new"].isna().all()
    assert usable.loc[usable["q6_prod"] == 1, "q7_prod_new"].notna().all()
    group_items = [collaboration_column("group", s) for s in SCALES]
    assert usable.loc[usable["q4_group"] != 1, group_items].isna().all().all()
    assert usable.loc[usable["q4_group"] == 1, group_items].notna().all().all()
    other = [collaboration_column(p, s) for p in PARTNER_TYPES[1:] for s in SCALES]
    assert usable[other].notna().all().all()


def test_no_usable_firm_lacks_both_outcomes(usable):
    assert (usable["q6_prod"].isin([1, 2]) | usable["q8_proc"].isin([1, 2])).all()


def test_all_valid_values_are_codes_or_in_range(committed):
    raw = committed[0]
    for item in ITEMS:
        values = raw[item.name].dropna()
        allowed = values.isin(list(item.codes) + list(item.missing))
        if item.valid_range:
            allowed |= values.between(*item.valid_range)
        assert allowed.all(), (item.name, values[~allowed].unique()[:5])


# --- (e) within-firm correlation and the truth frame -------------------------------------


def test_collaboration_correlated_within_firm(usable):
    regressors = build_regressors(usable)
    corr = regressors[["breadth_local", "breadth_national", "breadth_international"]].corr()
    assert corr.loc["breadth_local", "breadth_international"] > 0.3
    assert corr.loc["breadth_local", "breadth_national"] > 0.3
    assert regressors["open_mindedness"].corr(regressors["breadth_international"]) > 0.2


@pytest.fixture(scope="module")
def big_twin():
    return draw_survey(50_000, config.SEED)


def test_truth_frame_rebuilds_regressors_and_outcomes(big_twin):
    truth = big_twin.truth
    assert len(truth) == 50_000 and truth["orgnr"].is_unique
    rebuilt = build_regressors(truth)
    np.testing.assert_allclose(rebuilt.to_numpy(), truth[list(REGRESSORS)].to_numpy())
    for model in (DEFAULT.product, DEFAULT.process):
        index = truth[list(REGRESSORS)].to_numpy() @ model.beta()
        np.testing.assert_allclose(truth[f"index_{model.name}"], index)
        latent = truth[f"latent_{model.name}"]
        expected = (latent > model.cuts[0]).astype(int) + (latent > model.cuts[1]).astype(int)
        np.testing.assert_array_equal(truth[f"{model.name}_novelty"], expected)
    assert set(REGRESSOR_DEFINITIONS) == set(REGRESSORS)


def test_calibrated_cut_points_hit_targets_at_large_n(big_twin):
    truth = big_twin.truth
    # SE at n = 50,000 is at most 0.0023; 0.012 also allows the cut-point rounding.
    assert abs(truth["product"].mean() - 0.48) < 0.012
    assert abs(truth["new_to_market"].mean() - 0.20) < 0.012
    assert abs(truth["process"].mean() - 0.40) < 0.012
    assert abs(truth["new_to_industry"].mean() - DEFAULT.process.targets[1]) < 0.012


def test_large_draw_collaboration_prevalence(big_twin):
    truth = big_twin.truth
    for partner, targets in STUDY_COLLABORATION.items():
        for target, scale in zip(targets, SCALES, strict=True):
            active = truth[collaboration_column(partner, scale)].between(2, 5)
            assert abs(active.mean() - target) < binomial_tolerance(target, len(truth)), (
                partner, scale)


def test_record_types_of_a_draw(big_twin):
    records = big_twin.records
    counts = records["record_type"].value_counts()
    assert counts["usable"] == 50_000
    assert counts["duplicate"] == round(DEFAULT.design.duplicate_rate * 50_000)
    usable = records[records["record_type"] == "usable"]
    assert set(usable["orgnr"]) == set(big_twin.truth["orgnr"])
    assert usable.set_index("orgnr")["intnr"].loc[big_twin.truth["orgnr"]].tolist() == (
        big_twin.truth["intnr"].tolist())


# --- configuration consistency and errors -----------------------------------------------


def test_sector_divisions_match_config_and_codebook():
    study = tomllib.loads(config.DEFAULT_STUDY_CONFIG.read_text())
    ranges = study["sectors"]
    assert set(ranges) == set(DEFAULT.frame.sector_shares) == set(DEFAULT.frame.nace_weights)
    covered = set()
    for sector, weights in DEFAULT.frame.nace_weights.items():
        for division in weights:
            assert any(lo <= division <= hi for lo, hi in ranges[sector]), (sector, division)
            assert division in NACE_DIVISIONS
        covered |= set(weights)
    assert covered == set(NACE_DIVISIONS)
    assert math.isclose(sum(DEFAULT.frame.sector_shares.values()), 1.0)
    assert math.isclose(sum(DEFAULT.frame.region_shares.values()), 1.0)


def test_missing_codes_of_config_match_codebook():
    study = tomllib.loads(config.DEFAULT_STUDY_CONFIG.read_text())
    for column, kind in study["validate"].items():
        if column not in ITEMS_BY_NAME:
            continue
        spec = study["kinds"][kind]
        expected = set(spec.get("dont_know", [])) | set(spec.get("refused", []))
        assert set(ITEMS_BY_NAME[column].missing) == expected, column


def test_invalid_requests_raise(tmp_path):
    with pytest.raises(DataError, match="n_usable"):
        draw_survey(0, 1)
    twin = draw_survey(30, 1)
    with pytest.raises(DataError, match="columns"):
        write_sav(twin.raw.drop(columns="q13b"), tmp_path / "x.sav")
    assert not (tmp_path / "x.sav").exists()
