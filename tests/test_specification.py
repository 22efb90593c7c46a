"""Unit tests of the model specification loader and the design matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.config import DEFAULT_MODEL_SPEC
from analysis.errors import ConfigError, ModelError
from analysis.models.regressors import regressor_frame
from analysis.models.specification import (
    expand_models,
    load_model_spec,
    parse_model_spec,
)
from analysis.models.survey_spec import check_against_data

MINIMAL = {
    "blocks": {
        "main": {"variables": ["x1"]},
        "ctrl": {"variables": ["x2"], "display": "indicator"},
    },
    "families": {
        "fam": {"outcomes": ["y1", "y2"], "main": ["main"],
                "variants": {"a": [], "b": ["ctrl"]}},
    },
}


def test_shipped_spec_loads_and_expands() -> None:
    spec = load_model_spec(DEFAULT_MODEL_SPEC)
    models = expand_models(spec)
    ids = [m.id for m in models]
    assert len(ids) == len(set(ids))
    assert "breadth__product__manager" in ids
    headline = spec.headline
    assert headline["international"] in spec.blocks["breadth"].variables


def test_families_cross_outcomes_and_variants_in_order(tmp_path) -> None:
    spec = parse_model_spec(MINIMAL, tmp_path / "m.toml")
    models = expand_models(spec)
    assert [m.id for m in models] == ["fam__y1__a", "fam__y1__b", "fam__y2__a", "fam__y2__b"]
    assert spec.variables(models[1]) == ["x1", "x2"]
    assert models[0].estimator == "logit" and models[0].se == "robust"


def test_adding_a_covariate_to_a_block_reaches_every_model(tmp_path) -> None:
    raw = {**MINIMAL, "blocks": {**MINIMAL["blocks"],
                                 "ctrl": {"variables": ["x2", "x3"]}}}
    spec = parse_model_spec(raw, tmp_path / "m.toml")
    with_ctrl = [m for m in expand_models(spec) if "ctrl" in m.blocks]
    assert with_ctrl and all("x3" in spec.variables(m) for m in with_ctrl)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"families": {"fam": {"outcomes": ["y"], "main": ["nope"]}}}, "unknown block 'nope'"),
        ({"families": {"fam": {"outcomes": ["y"], "main": ["main"], "estimator": "tobit"}}},
         "estimator = 'tobit'"),
        ({"families": {"fam": {"outcomes": ["y"], "main": ["main"], "se": "cluster",
                               "cluster": ""}}}, "needs a 'cluster'"),
        ({"blocks": {"main": {"variables": []}}}, "variables is empty"),
        ({"tables": {"t": {"families": ["ghost"]}}}, "unknown family 'ghost'"),
        ({"defaults": {"weights": "yes"}}, r"\[defaults\] weights must be true, false"),
        ({"families": {"fam": {"outcomes": ["y"], "main": ["main"], "weights": True,
                               "se": "nonrobust"}}},
         r"weights = \"pweight\" \(or true\) needs se"),
    ],
)
def test_spec_errors_name_the_key(tmp_path, patch, message) -> None:
    raw = {**MINIMAL, **patch}
    with pytest.raises(ConfigError, match=message) as info:
        parse_model_spec(raw, tmp_path / "m.toml")
    assert "m.toml" in str(info.value)


def test_unknown_variable_is_reported_with_model_and_name(tmp_path) -> None:
    spec = parse_model_spec(MINIMAL, tmp_path / "m.toml")
    models = expand_models(spec)
    with pytest.raises(ConfigError, match="'fam__y1__b' uses the variable 'x2'"):
        check_against_data(spec, models, ["y1", "y2", "x1"])
    check_against_data(spec, models, ["y1", "y2", "x1"], unavailable=["x2"])


def test_missing_spec_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_model_spec(tmp_path / "absent.toml")


def test_design_expands_categoricals_with_first_level_as_base() -> None:
    frame = pd.DataFrame({
        "x": [1.0, 2.0, np.nan, 4.0],
        "sector": pd.Categorical(["a", "b", "c", None], categories=["a", "b", "c"]),
    })
    design = regressor_frame(frame, ["x", "sector"])
    assert list(design.frame.columns) == ["x", "sector[b]", "sector[c]"]
    assert design.columns_of["sector"] == ["sector[b]", "sector[c]"]
    assert design.frame["sector[b]"].tolist()[:3] == [0.0, 1.0, 0.0]
    assert design.complete.tolist() == [True, True, False, False]
    assert design.binary_terms == {"sector[b]", "sector[c]"}


def test_design_dummies_are_missing_where_the_variable_is_and_text_is_rejected() -> None:
    frame = pd.DataFrame({"region": pd.Series(["n", None, "s", "w"], dtype="str"),
                          "count": pd.Series([1, None, 3, 4], dtype="Int64")})
    design = regressor_frame(frame, ["region", "count"])
    assert list(design.frame.columns) == ["region[s]", "region[w]", "count"]
    assert np.isnan(design.frame.iloc[1]).all()
    assert design.frame["region[w]"].tolist()[2:] == [0.0, 1.0]
    assert design.frame.dtypes.eq("float64").all()
    assert design.complete.tolist() == [True, False, True, True]
    assert design.binary_terms == {"region[s]", "region[w]"}
    empty = regressor_frame(frame, [])
    assert empty.frame.shape == (4, 0) and empty.complete.all()


def test_design_rejects_a_variable_listed_twice() -> None:
    with pytest.raises(ModelError, match="'x'.*listed twice"):
        regressor_frame(pd.DataFrame({"x": [1.0, 0.0]}), ["x", "x"])


def test_design_rejects_unknown_variable() -> None:
    with pytest.raises(ModelError, match="'z'"):
        regressor_frame(pd.DataFrame({"x": [1.0]}), ["z"])


def test_stand_ins_replace_unavailable_variables_everywhere() -> None:
    from analysis.models.survey_spec import with_substitutes

    spec = load_model_spec(DEFAULT_MODEL_SPEC)
    swapped = with_substitutes(spec, {"breadth_local": "breadth_domestic"},
                               unavailable=["breadth_local", "breadth_national"])
    assert swapped.blocks["breadth"].variables == (
        "breadth_domestic", "breadth_national", "breadth_international")
    assert swapped.headline["local"] == "breadth_domestic"
    ratio = next(t for t in swapped.tests if t.id == "international_over_local")
    assert ratio.denominator == "breadth_domestic"
    wald = next(t for t in swapped.tests if t.id == "international_equals_local")
    assert "breadth_domestic" in wald.terms and "breadth_local" not in wald.terms
    # A stand-in applies only when the original is unavailable.
    assert with_substitutes(spec, {"breadth_local": "breadth_domestic"}) is spec


# ----------------------------------- variants and families the survey cannot tell apart

MANAGER = ("manager_higher_ed", "open_mindedness", "trust_general")


def test_a_variant_repeating_an_earlier_one_is_omitted_with_a_note() -> None:
    from analysis.models.survey_spec import omit_unavailable

    spec = load_model_spec(DEFAULT_MODEL_SPEC)
    pruned = omit_unavailable(spec, MANAGER)
    for family in ("breadth", "modes", "novelty"):
        assert list(pruned.families[family].variants) == ["base"]
        assert pruned.resolve_variant(family, "manager") == "base"
    ids = [m.id for m in expand_models(pruned)]
    assert "breadth__product__base" in ids and not any(i.endswith("__manager") for i in ids)
    assert len(ids) == len(set(ids)) == len(expand_models(spec)) // 2
    # the headline and every test move to the surviving variant
    assert pruned.headline["variant"] == "base"
    assert {t.variant for t in pruned.tests} == {"base"}
    assert [t.id for t in pruned.tests] == [t.id for t in spec.tests]
    notes = pruned.omission_notes(["breadth"])
    assert notes == ["Manager controls not available in this survey: the 'Manager controls' "
                     "columns are omitted (their models would repeat the 'Base' columns)."]


def test_a_partly_available_block_keeps_its_variant() -> None:
    from analysis.models.survey_spec import omit_unavailable

    spec = load_model_spec(DEFAULT_MODEL_SPEC)
    pruned = omit_unavailable(spec, MANAGER[:2])  # trust_general is still there
    assert pruned is spec
    assert list(pruned.families["breadth"].variants) == ["base", "manager"]
    assert pruned.omission_notes(spec.families) == []


def test_variants_with_the_same_regressors_in_another_order_are_one_model(tmp_path) -> None:
    from analysis.models.survey_spec import omit_unavailable

    raw = {**MINIMAL, "blocks": {**MINIMAL["blocks"], "other": {"variables": ["x2"]}},
           "families": {"fam": {"outcomes": ["y1"], "main": ["main"],
                                "variants": {"a": ["ctrl"], "b": ["other", "ctrl"],
                                             "c": []}}}}
    spec = parse_model_spec(raw, tmp_path / "m.toml")
    pruned = omit_unavailable(spec)
    assert list(pruned.families["fam"].variants) == ["a", "c"]
    assert pruned.resolve_variant("fam", "b") == "a"
    assert "same regressors as the 'A' columns" in pruned.omission_notes(["fam"])[0]


def test_a_family_without_any_main_variable_is_omitted_with_its_tests(tmp_path) -> None:
    from analysis.models.survey_spec import omit_unavailable

    spec = load_model_spec(DEFAULT_MODEL_SPEC)
    modes = spec.blocks["modes"].variables
    pruned = omit_unavailable(spec, modes)
    assert "modes" not in pruned.families
    assert [m for m in expand_models(pruned) if m.family == "modes"] == []
    assert not any(t.family == "modes" for t in pruned.tests)
    assert pruned.tables["table3"].families == ()
    assert pruned.tables["table3"].omitted_families == ("modes",)
    assert pruned.tables["table2"].families == ("breadth",)
    note = pruned.omission_notes(["modes"])[0]
    assert "'modes'" in note and "dui_supply_regional" in note
    # breadth survives untouched (both its variants are different models)
    assert list(pruned.families["breadth"].variants) == ["base", "manager"]
    assert pruned.headline == spec.headline
