"""The estimate pure functions and step on small hand-made analysis frames."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import special

from analysis.context import Context, Paths, check_options
from analysis.errors import CollinearityError, ConfigError, EstimationError, ModelError
from analysis.models import estimate as est
from analysis.models.specification import ModelSpec, parse_model_spec
from analysis.models.survey import survey_run
from analysis.tasks import estimate as step

RAW = {
    "blocks": {
        "main": {"variables": ["x1", "x2"]},
        "firm": {"variables": ["z"]},
        "cat": {"variables": ["sector"], "display": "indicator"},
    },
    "families": {
        "fam": {"outcomes": ["y", "y2"], "main": ["main"],
                "variants": {"base": ["cat"], "full": ["firm", "cat"]}},
        "ord": {"outcomes": ["novelty"], "main": ["main"], "estimator": "ologit",
                "variants": {"base": ["cat"]}},
    },
    "headline": {"family": "fam", "variant": "full", "international": "x1", "local": "x2"},
    "tests": [
        {"id": "x1_equals_x2", "kind": "wald", "family": "fam", "variant": "full",
         "terms": {"x1": 1, "x2": -1}},
        {"id": "x1_over_z", "kind": "ratio", "family": "fam", "variant": "full",
         "numerator": "x1", "denominator": "z"},
    ],
}


def make_frame(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.poisson(1.5, n).astype(float)
    x2 = rng.integers(0, 2, n).astype(float)
    z = rng.normal(size=n)
    sector = pd.Categorical(rng.choice(["a", "b", "c"], n), categories=["a", "b", "c"])
    index = -0.5 + 0.4 * x1 + 0.5 * x2 + 0.3 * z + 0.4 * (np.asarray(sector) == "b")
    y = (rng.random(n) < special.expit(index)).astype(float)
    y2 = (rng.random(n) < special.expit(index - 0.5)).astype(float)
    latent = index + rng.logistic(size=n)
    novelty = pd.Categorical.from_codes(np.digitize(latent, [0.0, 1.5]),
                                        categories=["none", "firm", "market"], ordered=True)
    frame = pd.DataFrame({"y": pd.array(y.astype(int), dtype="Int64"), "y2": y2, "x1": x1,
                          "x2": pd.array(x2.astype(int), dtype="Int64"), "z": z,
                          "sector": sector, "novelty": novelty})
    frame.loc[[0, 5, 9], "z"] = np.nan  # listwise deletion in the "full" variant only
    frame.loc[[1, 2], "y"] = pd.NA
    return frame


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return parse_model_spec(RAW, tmp_path_factory.mktemp("spec") / "models.toml")


@pytest.fixture(scope="module")
def run(spec):
    return est.estimate_all(make_frame(), spec)


def rows(frame: pd.DataFrame, model: str, quantity: str) -> pd.DataFrame:
    return frame[(frame["model"] == model) & (frame["quantity"] == quantity)].set_index("term")


def test_every_model_is_estimated_in_spec_order(run):
    assert run.model_table["model"].tolist() == [
        "fam__y__base", "fam__y__full", "fam__y2__base", "fam__y2__full", "ord__novelty__base"]
    assert run.estimates["model"].unique().tolist() == run.model_table["model"].tolist()
    assert list(run.estimates.columns) == ["model", "outcome", "estimator", "se_type",
                                           "quantity", "term", "estimate", "std_error",
                                           "statistic", "p_value", "ci_lower", "ci_upper",
                                           "nobs", "interval"]


def test_terms_dummies_and_listwise_n(run):
    table = run.model_table.set_index("model")
    assert table.loc["fam__y__full", "terms"] == "x1;x2;z;sector[b];sector[c];const"
    assert table.loc["fam__y__base", "terms"] == "x1;x2;sector[b];sector[c];const"
    # y missing in rows 1, 2; z missing in rows 0, 5, 9
    assert table.loc["fam__y__base", "nobs"] == 398
    assert table.loc["fam__y__full", "nobs"] == 395
    assert table.loc["fam__y2__full", "nobs"] == 397
    assert table.loc["fam__y__full", "n_incomplete"] == 5
    coefs = rows(run.estimates, "fam__y__full", "coef")
    assert coefs.index.tolist() == ["x1", "x2", "z", "sector[b]", "sector[c]", "const"]
    assert (run.estimates.loc[run.estimates["model"] == "fam__y__full", "nobs"] == 395).all()
    fit = rows(run.estimates, "fam__y__full", "fit")
    assert fit.loc["nobs", "estimate"] == 395
    assert set(fit.index) >= {"pseudo_r2", "llf", "llnull"}
    assert rows(run.estimates, "fam__y__full", "odds_ratio").loc["x1", "estimate"] == \
        pytest.approx(np.exp(coefs.loc["x1", "estimate"]))


def test_binary_and_factor_ames_are_discrete_changes(run):
    model = next(m for m in run.models if m.model.id == "fam__y__full")
    X, beta = model.fit.design.X, model.fit.beta
    terms = list(model.fit.terms)
    ames = rows(run.estimates, "fam__y__full", "ame")["estimate"]

    def mean_p(**settings):
        x = X.copy()
        for name, value in settings.items():
            x[:, terms.index(name)] = value
        return special.expit(x @ beta).mean()

    assert ames["x2"] == pytest.approx(mean_p(x2=1) - mean_p(x2=0), rel=1e-10)
    # factor group: the sibling dummy is zeroed in both counterfactuals (Stata i.sector)
    key_b = "sector[b]"
    expected = (mean_p(**{key_b: 1, "sector[c]": 0}) - mean_p(**{key_b: 0, "sector[c]": 0}))
    assert ames[key_b] == pytest.approx(expected, rel=1e-10)
    p = special.expit(X @ beta)
    assert ames["x1"] == pytest.approx((p * (1 - p)).mean() * beta[terms.index("x1")])
    assert "const" not in ames.index


def test_test_rows_on_the_named_variant_only(run):
    tests = run.estimates[run.estimates["quantity"] == "test"]
    assert sorted(set(tests["model"])) == ["fam__y2__full", "fam__y__full"]
    model = next(m for m in run.models if m.model.id == "fam__y__full")
    b, cov = model.fit.params, model.fit.cov
    wald = tests[(tests["model"] == "fam__y__full") & (tests["term"] == "x1_equals_x2")].iloc[0]
    var = cov.loc["x1", "x1"] + cov.loc["x2", "x2"] - 2 * cov.loc["x1", "x2"]
    assert wald["statistic"] == pytest.approx((b["x1"] - b["x2"]) ** 2 / var)
    ratio = tests[(tests["model"] == "fam__y__full") & (tests["term"] == "x1_over_z")].iloc[0]
    assert ratio["estimate"] == pytest.approx(b["x1"] / b["z"])
    # test rows come last within their model's block
    block = run.estimates[run.estimates["model"] == "fam__y__full"]["quantity"].tolist()
    assert block[-2:] == ["test", "test"]


def test_ordered_categorical_outcome_gives_cuts_and_top_category_ames(run):
    cuts = rows(run.estimates, "ord__novelty__base", "cut")
    assert cuts.index.tolist() == ["cut0|1", "cut1|2"]
    model = next(m for m in run.models if m.model.id == "ord__novelty__base")
    assert model.margins.category == 2.0
    assert "const" not in rows(run.estimates, "ord__novelty__base", "coef").index


def test_predictions_for_the_headline_models(run):
    preds = run.predictions
    assert sorted(set(preds["model"])) == ["fam__y2__full", "fam__y__full"]
    assert preds[preds["model"] == "fam__y__full"]["value"].tolist() == list(range(8))
    assert (preds["variable"] == "x1").all()
    first = preds[preds["model"] == "fam__y__full"]["prediction"].to_numpy()
    assert np.all(np.diff(first) > 0)  # positive true effect of x1


def test_unavailable_variables_are_dropped_and_recorded(spec):
    run = est.estimate_all(make_frame(), spec, unavailable=["z"])
    table = run.model_table.set_index("model")
    assert table.loc["fam__y__full", "unavailable"] == "z"
    assert table.loc["fam__y__base", "unavailable"] == ""
    assert "z" not in table.loc["fam__y__full", "terms"].split(";")
    assert table.loc["fam__y__full", "nobs"] == 398  # z's missing rows no longer dropped
    tests = run.estimates[run.estimates["quantity"] == "test"]["term"]
    assert set(tests) == {"x1_equals_x2"}
    assert any("x1_over_z" in s and "z" in s for s in run.skipped_tests)


def test_unavailable_outcome_skips_its_models(spec):
    run = est.estimate_all(make_frame(), spec, unavailable=["y2"])
    assert not run.model_table["model"].str.contains("y2").any()
    assert len(run.skipped_models) == 2


def test_estimation_error_names_the_model(spec):
    frame = make_frame().assign(z=1.0)  # constant regressor
    with pytest.raises(CollinearityError, match="'fam__y__full'.*z") as info:
        est.estimate_all(frame, spec)
    assert isinstance(info.value, EstimationError)


def test_step_writes_c5_files_byte_identically(tmp_path, spec):
    paths = Paths.under(tmp_path)
    paths.data_clean.mkdir(parents=True)
    make_frame().to_parquet(paths.data_clean / "analysis_data.parquet")
    (paths.data_clean / "analysis_meta.json").write_text(json.dumps({"unavailable": ["z"]}))
    spec_file = tmp_path / "models.toml"
    spec_file.write_text(TOML_SPEC, encoding="utf-8")
    ctx = Context(paths=paths, study_config_path=tmp_path / "study.toml",
                  model_spec_path=spec_file)
    step.run(ctx)
    first = {p.name: p.read_bytes() for p in step.outputs(ctx)}
    assert set(first) == {"estimates.csv", "predictions.csv", "models.csv"}
    models = pd.read_csv(paths.estimates / "models.csv")
    assert models.columns[:11].tolist() == ["model", "family", "outcome", "variant",
                                            "estimator", "se_type", "cluster", "weighted",
                                            "nobs", "converged", "terms"]
    assert not models["weighted"].any()
    assert models["unavailable"].fillna("").eq("z").all()
    step.run(ctx)
    assert {p.name: p.read_bytes() for p in step.outputs(ctx)} == first


TOML_SPEC = """
[blocks.main]
variables = ["x1", "x2"]
[blocks.firm]
variables = ["z"]
[families.fam]
outcomes = ["y"]
main = ["main"]
variants = { full = ["firm"] }
[headline]
family = "fam"
variant = "full"
international = "x1"
"""


# ------------------------------------------------------------------ sampling weights


def weighted_spec(tmp_path, **defaults):
    raw = {**RAW, "defaults": {"weights": True, **defaults}}
    return parse_model_spec(raw, tmp_path / "models.toml")


def test_weighted_models_equal_the_data_with_rows_repeated(tmp_path):
    frame = make_frame().assign(weight=np.tile([1.0, 2.0, 3.0, 1.0], 100))
    weighted = est.estimate_all(frame, weighted_spec(tmp_path), families=["fam"])
    repeated = frame.loc[frame.index.repeat(frame["weight"].astype(int))].reset_index(drop=True)
    plain = est.estimate_all(repeated, parse_model_spec(RAW, tmp_path / "m.toml"),
                             families=["fam"])
    assert weighted.model_table["weighted"].all() and not plain.model_table["weighted"].any()
    for quantity in ("coef", "ame"):
        a = weighted.estimates[weighted.estimates["quantity"] == quantity]
        b = plain.estimates[plain.estimates["quantity"] == quantity]
        np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-7, atol=1e-10)
    # N counts firms, not the sum of weights
    assert weighted.model_table["nobs"].max() == len(frame)


def test_weights_with_inverse_information_se_are_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"weights = \"pweight\" \(or true\) needs se = "
                       "'robust' or 'cluster'"):
        weighted_spec(tmp_path, se="nonrobust")


def model_spec(ctx: Context) -> ModelSpec:
    return survey_run(ctx).spec


def weights_context(tmp_path, *, survey_weighted: bool, options: dict) -> Context:
    paths = Paths.under(tmp_path)
    paths.data_clean.mkdir(parents=True)
    (paths.data_clean / "analysis_meta.json").write_text(
        json.dumps({"weighted": survey_weighted}))
    spec_file = tmp_path / "models.toml"
    spec_file.write_text(TOML_SPEC, encoding="utf-8")
    return Context(paths=paths, study_config_path=tmp_path / "study.toml",
                   model_spec_path=spec_file, options=options)


def test_weights_option_weights_every_family_of_a_weighted_survey(tmp_path):
    spec = model_spec(weights_context(tmp_path, survey_weighted=True,
                                           options={"weights": True}))
    assert all(f.weighted for f in spec.families.values()) and not spec.notes


def test_weights_asked_of_a_survey_without_weights_are_dropped_with_a_note(tmp_path):
    spec = model_spec(weights_context(tmp_path, survey_weighted=False,
                                           options={"weights": True}))
    assert not any(f.weighted for f in spec.families.values())
    assert "has no weight column" in " ".join(spec.notes)


def test_weights_option_must_be_a_boolean_or_a_weight_kind(tmp_path):
    with pytest.raises(ConfigError, match="'weights' must be true, false, none, pweight or "
                       "fweight"):
        check_options({"weights": "yes"})
    assert check_options({"weights": "fweight"}) == {"weights": "fweight"}
    ctx = weights_context(tmp_path, survey_weighted=True, options={"weights": "yes"})
    with pytest.raises(ModelError, match="expected true, false, none, pweight, fweight"):
        model_spec(ctx)


# ------------------------------------------------------------------ [[tests]] parsing


def test_shipped_tests_parse():
    from analysis.config import DEFAULT_MODEL_SPEC
    from analysis.models.specification import load_model_spec

    shipped = load_model_spec(DEFAULT_MODEL_SPEC)
    ids = {t.id for t in shipped.tests}
    assert {"international_equals_local", "international_over_local", "national_equals_local",
            "dui_supply_extra_equals_regional", "sti_extra_equals_regional",
            "supply_equals_competitors", "international_four_times_local"} <= ids
    assert shipped.claims_estimators == ("logit", "probit", "lpm")
    assert {"trust_general", "breadth_local"} <= set(shipped.optional)


WALD = {"id": "t", "kind": "wald", "family": "fam", "variant": "full",
        "terms": {"x1": 1, "x2": -1}}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({**WALD, "kind": "lr"}, r"\[\[tests\]\] 't' kind = 'lr'"),
        ({k: v for k, v in WALD.items() if k != "id"}, r"\[\[tests\]\] entry 1.*'id'"),
        ({k: v for k, v in WALD.items() if k != "family"}, "missing the required key 'family'"),
        ({**WALD, "family": "ghost"}, "unknown family 'ghost'"),
        ({**WALD, "variant": "nope"}, "variant 'nope' is not a variant"),
        ({**WALD, "terms": {}}, "terms must be a non-empty table"),
        ({**WALD, "terms": {"x9": 1}}, "terms names 'x9'"),
        ({**WALD, "terms": {"x1": "a"}}, r"terms\.x1 must be a non-zero number"),
        ({**WALD, "numerator": "x1"}, "key 'numerator' is for kind = 'ratio'"),
        ({**WALD, "colour": "red"}, "unknown key.*colour"),
        ({**WALD, "on": "probability"}, "on = 'probability'"),
        ({"id": "r", "kind": "ratio", "family": "fam", "variant": "full", "numerator": "x1"},
         "missing the required key 'denominator'"),
        ({"id": "r", "kind": "ratio", "family": "fam", "variant": "full", "numerator": "x1",
          "denominator": "x1"}, "both 'x1'"),
        ({"id": "r", "kind": "ratio", "family": "fam", "variant": "base", "numerator": "x1",
          "denominator": "z"}, "denominator names 'z'"),
    ],
)
def test_tests_errors_name_the_key(tmp_path, entry, message):
    with pytest.raises(ConfigError, match=message) as info:
        parse_model_spec({**RAW, "tests": [entry]}, tmp_path / "m.toml")
    assert "m.toml" in str(info.value)


def test_duplicate_test_ids_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="id 't' is used twice"):
        parse_model_spec({**RAW, "tests": [WALD, WALD]}, tmp_path / "m.toml")


def test_dummy_parameters_are_accepted(tmp_path):
    entry = {**WALD, "terms": {"sector[b]": 1, "sector[c]": -1}}
    parsed = parse_model_spec({**RAW, "tests": [entry]}, tmp_path / "m.toml")
    assert parsed.tests[0].parameters == ("sector[b]", "sector[c]")


# ------------------------------------------------------------------ table layouts


def test_table_layout_follows_blocks_and_records_unavailable(tmp_path):
    from analysis.exhibits.table_specs import table_spec

    raw = {**RAW, "labels": {"x1": "Breadth one"},
           "tables": {"t": {"title": "T", "families": ["fam"], "quantity": "coef"}}}
    spec = parse_model_spec(raw, tmp_path / "m.toml")
    run = est.estimate_all(make_frame(), spec, unavailable=["z"])
    layout = table_spec(spec, spec.tables["t"], run.model_table, run.estimates,
                        data_note="Synthetic!", unavailable=["z"])
    assert layout.models == ["fam__y__base", "fam__y__full", "fam__y2__base", "fam__y2__full"]
    assert layout.terms == {"x1": "Breadth one", "x2": "x2", "const": "const"}
    # only indicator blocks get a Yes/No row (a coefficient block's rows are its
    # coefficients; the firm block's unavailable variable is named in the notes)
    assert layout.control_rows == {"cat": dict.fromkeys(layout.models, True)}
    assert any("Not available" in n and "(z)" in n for n in layout.notes)
    assert layout.notes[-1] == "Synthetic!"
    assert layout.column_labels == ["Base", "Full"] * 2


# ------------------------------------- variants that repeat another, families with nothing left

PRUNE_SPEC = """
optional = ["z", "w"]  # declared: a survey may lack them
[blocks.main]
variables = ["x1", "x2"]
[blocks.firm]
label = "Firm controls"
variables = ["z"]
[blocks.cat]
label = "Sector dummies"
display = "indicator"
variables = ["sector"]
[blocks.gone]
label = "Vanished block"
variables = ["w"]
[families.fam]
outcomes = ["y", "y2"]
main = ["main"]
variants = { base = ["cat"], full = ["firm", "cat"] }
[families.other]
outcomes = ["y"]
main = ["gone"]
variants = { base = ["cat"] }
[tables.t]
title = "Table T"
families = ["fam"]
[tables.t_other]
title = "Table O"
families = ["other"]
[headline]
family = "fam"
variant = "full"
international = "x1"
local = "x2"
[[tests]]
id = "x1_equals_x2"
kind = "wald"
family = "fam"
variant = "full"
terms = { x1 = 1, x2 = -1 }
"""


def test_steps_skip_a_repeated_variant_and_a_family_with_nothing_left(tmp_path):
    from analysis.config import ROOT
    from analysis.tasks import tables as tables_step

    paths = Paths.under(tmp_path)
    paths.data_clean.mkdir(parents=True)
    make_frame().to_parquet(paths.data_clean / "analysis_data.parquet")
    (paths.data_clean / "analysis_meta.json").write_text(json.dumps({"unavailable": ["z", "w"]}))
    spec_file = tmp_path / "models.toml"
    spec_file.write_text(PRUNE_SPEC, encoding="utf-8")
    ctx = Context(paths=paths, study_config_path=ROOT / "examples" / "cis_like" / "study.toml",
                  model_spec_path=spec_file)
    step.run(ctx)
    models = pd.read_csv(paths.estimates / "models.csv")
    # "full" = "base" without z: estimated once; "other" has no main variable: not at all
    assert models["model"].tolist() == ["fam__y__base", "fam__y2__base"]
    estimates = pd.read_csv(paths.estimates / "estimates.csv")
    tests = estimates[estimates["quantity"] == "test"]
    assert tests["model"].tolist() == ["fam__y__base", "fam__y2__base"]  # moved with headline
    predictions = pd.read_csv(paths.estimates / "predictions.csv")
    assert set(predictions["model"]) == {"fam__y__base", "fam__y2__base"}

    tables_step.run(ctx)
    table = (paths.tables / "t.md").read_text()
    assert "\n|  | Base | Base |\n" in table and "| Full" not in table  # two columns only
    assert ("Firm controls not available in this survey: the 'Full' columns are omitted "
            "(their models would repeat the 'Base' columns).") in table
    other = (paths.tables / "t_other.md").read_text()
    assert "Table O" in other and "Not estimated" in other
    assert "Models of family 'other' are omitted" in other and "(Vanished block: w)" in other
    assert {p.name for p in tables_step.outputs(ctx)} <= {
        p.name for p in paths.tables.iterdir()}


def test_claims_use_the_surviving_variant_and_say_why_a_family_is_missing(tmp_path):
    from analysis.exhibits.claims_report import claim_context
    from analysis.models.survey_spec import survey_model_spec

    paths = Paths.under(tmp_path)
    paths.data_clean.mkdir(parents=True)
    meta = {"unavailable": ["manager_higher_ed", "open_mindedness", "trust_general",
                            "breadth_local", "breadth_national", *[
                                f"{g}_{s}" for g in ("sti", "dui_supply", "dui_competitors",
                                                     "internal") for s in ("regional", "extra")]],
            "substitutes": {"breadth_local": "breadth_domestic",
                            "dui_supply_regional": "dui_supply_domestic"}}
    (paths.data_clean / "analysis_meta.json").write_text(json.dumps(meta))
    from analysis.config import DEFAULT_MODEL_SPEC
    context = claim_context(survey_model_spec(DEFAULT_MODEL_SPEC, meta), meta)
    assert context.headline_variant == "base" and context.modes_variant == "base"
    assert context.local == "breadth_domestic"
    assert context.stand_ins == {"breadth_local": "breadth_domestic",
                                 "dui_supply_regional": "dui_supply_domestic"}
    assert "modes" not in context.omitted_families  # dui_supply_domestic still there
