"""Everything typed in the model specification is checked before any model is estimated.

A misspelt covariate in config/models.toml (``trust_regionl``) used to be dropped quietly as
"not available in this survey"; now a model variable must be in the analysis data, be
replaced by a stand-in the build step declared (analysis_meta.json ``substitutes``), or be
declared ``optional``; anything else stops the run with the file, the key and the nearest
valid names. Unknown keys, blocks, families and estimators get the same treatment, and every
variable a table shows has a label or the table says which lack one.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import config
from analysis.errors import ConfigError
from analysis.models.specification import parse_model_spec
from analysis.models.survey_spec import check_variables, unlabelled, unlabelled_note
from analysis.runner import pipeline

BASE = {
    "optional": ["z"],
    "blocks": {"main": {"variables": ["x1", "x2"]}, "ctrl": {"variables": ["z", "w"]}},
    "outcomes": {"y": "Outcome"},
    "labels": {"x1": "First", "x2": "Second", "z": "Zed", "w": "Double-u"},
    "families": {"fam": {"outcomes": ["y"], "main": ["main"],
                         "variants": {"a": [], "b": ["ctrl"]}}},
}


def spec(tmp_path: Path, **changes):
    return parse_model_spec({**BASE, **changes}, tmp_path / "models.toml")


def test_a_misspelt_variable_is_named_with_the_nearest_columns(tmp_path):
    wrong = spec(tmp_path, blocks={"main": {"variables": ["x1", "x2"]},
                                   "ctrl": {"variables": ["z", "trust_regionl"]}})
    with pytest.raises(ConfigError) as info:
        check_variables(wrong, ["y", "x1", "x2", "trust_regional", "trust_general"])
    message = str(info.value)
    assert str(tmp_path / "models.toml") in message
    assert "[blocks.ctrl] variables names 'trust_regionl'" in message
    assert "nearest valid names: trust_regional, trust_general" in message


def test_optional_and_stood_in_variables_pass_by_declaration(tmp_path):
    ok = spec(tmp_path)
    check_variables(ok, ["y", "x1", "x2", "w"])  # z is optional
    with pytest.raises(ConfigError, match="'w'"):
        check_variables(ok, ["y", "x1", "x2", "z"])  # w is not
    check_variables(ok, ["y", "x1", "x_dom", "w"], substitutes={"x2": "x_dom"})
    with pytest.raises(ConfigError, match="'x2'"):  # a stand-in the data lack is no stand-in
        check_variables(ok, ["y", "x1", "w"], substitutes={"x2": "x_dom"})


def test_the_optional_list_is_checked_too(tmp_path):
    with pytest.raises(ConfigError, match="optional names 'zz'.*nearest valid names: z"):
        check_variables(spec(tmp_path, optional=["zz"]), ["y", "x1", "x2", "z", "w"])


@pytest.mark.parametrize(("patch", "message"), [
    ({"defualts": {}}, "the top level has the unknown key 'defualts' .*defaults"),
    ({"defaults": {"estimater": "logit"}}, r"\[defaults\] has the unknown key 'estimater' "
                                           r"\(nearest valid names: estimator\)"),
    ({"families": {"fam": {"outcomes": ["y"], "main": ["mian"]}}},
     "unknown block 'mian' .*nearest valid names: main"),
    ({"families": {"fam": {"outcomes": ["y"], "main": ["main"], "estimator": "oprobitt"}}},
     "estimator = 'oprobitt' .*nearest valid names: oprobit"),
    ({"families": {"fam": {"outcomes": ["y"], "main": ["main"], "weights": "fwieght"}}},
     "weights must be .*nearest valid names: fweight"),
    ({"blocks": {"main": {"variables": ["x1"], "lable": "x"}}}, "unknown key 'lable'"),
    ({"claims": {"estimators": ["logit", "tobit"]}}, r"\[claims\] estimators = 'tobit'"),
    ({"headline": {"family": "fam", "international": "x9"}},
     r"\[headline\] international = 'x9' is not a main variable"),
])
def test_typos_in_keys_and_values_stop_with_close_matches(tmp_path, patch, message):
    with pytest.raises(ConfigError, match=message):
        spec(tmp_path, **patch)


def test_every_variable_shown_has_a_label_or_the_table_says_which(tmp_path):
    labelled = spec(tmp_path)
    assert unlabelled(labelled) == []
    bare = spec(tmp_path, labels={"x1": "First"}, outcomes={})
    assert unlabelled(bare) == ["y", "x2", "z", "w"]
    note = unlabelled_note(bare, ["x1", "x2", "y"])
    assert note == ["No label in models.toml for y, x2: shown by the variable name (add it "
                    "under [labels] or [outcomes])."]


def test_the_shipped_specification_labels_everything_it_shows():
    from analysis.models.specification import load_model_spec

    shipped = load_model_spec(config.DEFAULT_MODEL_SPEC)
    assert unlabelled(shipped) == []


def test_a_typo_in_models_toml_stops_the_run_before_any_estimation(tmp_path, capsys):
    """The issue's case, through the real entry point."""
    text = config.DEFAULT_MODEL_SPEC.read_text(encoding="utf-8")
    assert '"open_mindedness", "trust_general"]' in text
    models = tmp_path / "models.toml"
    models.write_text(text.replace('"open_mindedness", "trust_general"]',
                                   '"open_mindedness", "trust_regionl"]'), encoding="utf-8")
    root = tmp_path / "out"
    code = pipeline.main(["--models", str(models), "--output-root", str(root)])
    err = capsys.readouterr().err
    assert code != 0
    assert str(models) in err
    assert "[blocks.manager] variables names 'trust_regionl'" in err
    assert "(nearest valid names: trust_regional, " in err and "trust_general)" in err
    assert "Traceback" not in err
    output = root / "output"
    assert not (output / "estimates" / "estimates.csv").exists()
    assert not list((output / "tables").glob("table2.*")) if (output / "tables").exists() \
        else True
    assert not (output / "tables" / "robustness_estimators.csv").exists()


def test_table_notes_name_the_unlabelled_rows(tmp_path):
    from analysis.exhibits.table_specs import table_notes
    from analysis.models.specification import expand_models

    bare = spec(tmp_path, labels={"x1": "First"},
                tables={"t": {"families": ["fam"], "quantity": "coef"}})
    chosen = expand_models(bare)
    models = pd.DataFrame({"model": [m.id for m in chosen], "se_type": "robust",
                           "cluster": "", "terms": "x1;x2;const", "weight_type": "none",
                           "dropped_notes": ""})
    notes = table_notes(bare, bare.tables["t"], chosen, models)
    assert any(n.startswith("No label in models.toml for x2") for n in notes)
