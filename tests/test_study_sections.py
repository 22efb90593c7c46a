"""The configuration sections for real national surveys, on tiny hand-made inputs.

Parsing of ``[derived]``, ``[size]``, ``[sparse_categories]``, ``[design]``, the tick-box and
filter keys of ``[collaboration]``, the employment policies of ``[sample]``, shared region
names and the wording of ``[study]``; and the pure functions behind them (combining
columns, pooling sparse categories, size bands, log employees, blank-means-no, the battery
check, stand-in labels, wording).
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis.config import DEFAULT_STUDY_CONFIG
from analysis.data import variables as v
from analysis.data.clean_derived import combine
from analysis.data.clean_validate import blank_means_no, check_batteries
from analysis.data.study_config import parse_study_config
from analysis.data.study_schema import SINGLETON_RULES, Derived, Kind
from analysis.data.wording import Wording
from analysis.errors import ConfigError, DataError
from analysis.models.estimation import survey
from analysis.models.survey_spec import stand_in_label

BASE: dict[str, Any] = tomllib.loads(DEFAULT_STUDY_CONFIG.read_text(encoding="utf-8"))
CIS = tomllib.loads((Path(DEFAULT_STUDY_CONFIG).parents[1] / "examples" / "cis_like" /
                     "study.toml").read_text(encoding="utf-8"))


def parse(mutate=None, base=BASE):
    data = copy.deepcopy(base)
    if mutate is not None:
        mutate(data)
    return parse_study_config(data, Path("my_study.toml"), Path("/repo"))


def error_of(mutate, base=BASE) -> str:
    with pytest.raises(ConfigError) as info:
        parse(mutate, base)
    return str(info.value)


# ---------------------------------------------------------------------------- parsing


def test_wording_defaults_and_norwegian_words():
    assert parse().wording == Wording("Norway", "city-region", "NACE Rev. 2 division")
    neutral = parse(base=CIS).wording
    assert neutral.region_unit == "region" and neutral.placeholders()["country"] == \
        "Example country"
    assert "non-empty" in error_of(lambda d: d["study"].update(region_unit=" "))


def test_derived_variables_become_columns():
    def add(d):
        d["derived"] = {"q7_any": {"columns": ["q7_prod_new", "q9_proc_new"], "combine": "max",
                                   "kind": "novelty"}}
        d["outcomes"]["product"]["novelty_column"] = "q7_any"
    cfg = parse(add)
    assert cfg.derived["q7_any"] == Derived("q7_any", ("q7_prod_new", "q9_proc_new"), "max",
                                            "novelty")
    assert cfg.validate["q7_any"] == "novelty"
    assert "q7_any" not in cfg.column_keys()  # made by the package, not read from the file
    assert cfg.column_keys()["q7_prod_new"] == "derived.q7_any.columns"


@pytest.mark.parametrize(("spec", "needle"), [
    ({"columns": ["q6_prod"], "combine": "max", "kind": "yes_no"}, "at least two columns"),
    ({"columns": ["a", "b"], "combine": "mean", "kind": "yes_no"}, "unknown rule 'mean'"),
    ({"columns": ["a", "b"], "combine": "max", "kind": "yesno"}, "unknown kind 'yesno'"),
    ({"columns": ["a", "b"], "combine": "any", "kind": "yes_no"}, "missing required key"),
    ({"columns": ["a", "b"], "combine": "max", "kind": "yes_no", "yes": [1]},
     "yes and no are for combine"),
    ({"columns": ["a", "b"], "combine": "max", "kind": "yes_no", "colums": 1},
     "did you mean columns"),
])
def test_derived_errors_name_the_key(spec, needle):
    assert needle in error_of(lambda d: d.update(derived={"x": spec}))


def test_size_sparse_design_sections():
    def add(d):
        d["size"] = {"bands": [0, 10, 50.0, 250]}
        d["sparse_categories"] = {"min_firms": 30, "variables": ["region"], "label": "Rest"}
        d["design"] = {"strata": "region", "fpc": "q2_founded", "singleton": "scaled"}
    cfg = parse(add)
    assert cfg.size.bands == (0, 10, 50, 250)
    assert cfg.size.labels() == ("0-9", "10-49", "50-249", "250+")
    assert (cfg.sparse.min_firms, cfg.sparse.variables, cfg.sparse.label) == (30, ("region",),
                                                                               "Rest")
    assert cfg.design.strata == "region" and cfg.design.singleton == "scaled"
    assert "design_stratum" not in cfg.columns  # canonical names are made by the cleaning
    assert "must be increasing" in error_of(lambda d: d.update(size={"bands": [10, 5]}))
    assert "needs columns.size_class" in error_of(
        lambda d: d.update(size={"classes": {"1": "small"}}))
    assert "unknown rule 'lonely'" in error_of(
        lambda d: d.update(design={"strata": "region", "singleton": "lonely"}))
    assert "name at least one" in error_of(lambda d: d.update(design={"singleton": "fail"}))
    assert "must list some of region, sector" in error_of(
        lambda d: d.update(sparse_categories={"variables": ["nace"]}))
    assert SINGLETON_RULES == survey.SINGLETON_RULES


def test_grid_keys_of_the_battery():
    def grid(d, **extra):
        d["collaboration"].pop("routed_by_group")
        d["collaboration"].update(extra)
    cfg = parse(lambda d: grid(d, blank_means_no=["q10_sup_reg"]))
    assert cfg.collaboration.blank_means_no == ("q10_sup_reg",)
    cfg = parse(lambda d: grid(d, blank_means_no=True, filter="q4_group", filter_asked=[1],
                               blank_scope="filter_answered"))
    assert len(cfg.collaboration.blank_means_no) == 21 and cfg.collaboration.filter == "q4_group"
    assert "not items of the battery" in error_of(lambda d: grid(d, blank_means_no=["x"]))
    assert '"filter_answered" needs collaboration.filter' in error_of(
        lambda d: grid(d, blank_means_no=True, blank_scope="filter_answered"))
    assert "needs collaboration.filter" in error_of(lambda d: grid(d, filter_asked=[1]))
    assert "not both" in error_of(
        lambda d: d["collaboration"].update(filter="q4_group", filter_asked=[1]))
    assert "not valid codes" in error_of(lambda d: grid(d, filter="q4_group", filter_asked=[7]))


def test_employment_policies_and_shared_region_names():
    cfg = parse(lambda d: d["sample"].update(zero_employees="exclude",
                                             missing_employees="exclude"))
    assert (cfg.sample.zero_employees, cfg.sample.missing_employees) == ("exclude", "exclude")
    assert "unknown rule 'drop'" in error_of(lambda d: d["sample"].update(zero_employees="drop"))
    cfg = parse(lambda d: d["regions"].update({"5": "Bergen"}))  # two codes, one name
    assert list(dict.fromkeys(cfg.regions.values())) == ["Oslo", "Bergen", "Stavanger",
                                                         "Trondheim"]


# ----------------------------------------------------------------- pure functions


def test_combine_columns_by_max_sum_any():
    kind = Kind("k", codes=(0, 1, 2), dont_know=(9,))
    values = pd.DataFrame({"a": [1, np.nan, 9, 0, np.nan], "b": [2, 1, np.nan, 9, np.nan]},
                          dtype="float64")
    assert combine(values, Derived("x", ("a", "b"), "max", "k"), kind).tolist()[:4] == \
        [2, 1, 9, 0]
    assert np.isnan(combine(values, Derived("x", ("a", "b"), "max", "k"), kind).iloc[4])
    assert combine(values, Derived("x", ("a", "b"), "sum", "k"), kind).tolist()[:4] == \
        [3, 1, 9, 0]
    anyone = combine(values, Derived("x", ("a", "b"), "any", "k", (1, 2), (0,)), kind)
    assert anyone.tolist()[:4] == [1, 1, 9, 0]


def test_pool_sparse_categories():
    series = pd.Series(pd.Categorical(list("aaaaabbbbcdd"), categories=list("abcd")))
    pooled, names = v.pool_sparse(series, 3, "Other")
    # c (1 firm) and d (2) are sparse; their pool (3) is large enough
    assert names == ["c", "d"]
    assert list(pooled.cat.categories) == ["a", "b", "Other"]
    assert pooled.tolist() == list("aaaaabbbb") + ["Other"] * 3
    # a pool still too small takes the smallest other category
    pooled, names = v.pool_sparse(series, 4, "a")
    assert names == ["b", "c", "d"] and list(pooled.cat.categories) == ["a", "a (pooled)"]
    assert v.pool_sparse(series, 0)[1] == []


def test_size_bands_and_log_employees_policy():
    frame = pd.DataFrame({"employees": [0, 9, 10, 49, 50, 300, np.nan],
                          "firm_id": list("abcdefg")})
    classes = v.size_class(frame, (0, 10, 50, 250))
    assert classes.astype(object).tolist()[:6] == ["0-9", "0-9", "10-49", "10-49", "50-249",
                                                  "250+"]
    assert pd.isna(v.size_class(frame).iloc[1])  # the default bands start at 10
    assert v.log_employees(frame, plus_one=True).iloc[0] == 0.0
    with pytest.raises(DataError, match=r"has no logarithm \(1 firm\(s\)\); state a policy "
                                        r"in \[sample\]: zero_employees"):
        v.log_employees(frame)


def grid_config(scope: str = "all"):
    def grid(d):
        c = d["collaboration"]
        c.pop("routed_by_group")
        c.update(filter="q4_group", filter_asked=[1], blank_means_no=True, blank_scope=scope)
    return parse(grid)


def test_blank_means_no_only_where_the_filter_was_answered():
    cfg = grid_config("filter_answered")
    frame = pd.DataFrame({"q4_group": [1, 2, np.nan, 9]})
    covered, code, rows = blank_means_no(frame, cfg)
    assert "q10_sup_reg" in covered and code == 1.0
    assert rows.tolist() == [True, True, False, False]  # 9 = refused: not an answer
    assert blank_means_no(frame, grid_config("all"))[2].tolist() == [True] * 4


def test_battery_check_names_the_scale_and_the_option():
    cfg = parse(lambda d: d["collaboration"].pop("routed_by_group"))
    items = [col for _, _, col in cfg.collaboration_items()]
    raw = pd.DataFrame({col: [2.0, np.nan, 3.0] for col in items})
    with pytest.raises(ConfigError, match=r"battery at scale 'local' .* never takes its no "
                                          r"code 1 .* collaboration.blank_means_no = true"):
        check_batteries(cfg, raw)
    raw.iloc[1] = 1.0  # an explicit never: fine
    check_batteries(cfg, raw)


def test_stand_in_labels_and_wording():
    assert stand_in_label("STI partners, regional", "sti_domestic") == \
        "STI partners, domestic"
    assert stand_in_label("STI partners, extra-regional", "sti_international") == \
        "STI partners, abroad"
    norway = Wording("Norway", "city-region")
    assert (norway.scale_label("local"), norway.scale_label("national")) == \
        ("Same city-region", "Elsewhere in Norway")
    assert Wording().scale_label("national") == "Elsewhere in the country"
    assert Wording(region_unit="province").fill("{Region_unit} dummies {x}") == \
        "Province dummies {x}"


def test_fpc_kind_must_start_above_zero():
    assert "kind must start above 0" in error_of(
        lambda d: d.update(design={"strata": "region", "fpc": "q1_emp"}))
