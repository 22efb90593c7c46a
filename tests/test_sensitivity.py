"""The claims' specifications (analysis/models/sensitivity.py) and the model-level records of
weights and perfect prediction that the claims, the tables and refits in other packages
read (models.csv)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_estimate_step import RAW, make_frame

from analysis.errors import PerfectSeparationError
from analysis.models import estimate as est
from analysis.models.sensitivity import (
    SPECIFICATION_COLUMNS,
    claim_families,
    specification_estimates,
    weightings,
)
from analysis.models.specification import parse_model_spec

CLAIMS_RAW = {**RAW, "claims": {"estimators": ["logit", "probit", "lpm"]}}


def test_every_variant_estimator_and_weighting_is_estimated(tmp_path):
    spec = parse_model_spec(CLAIMS_RAW, tmp_path / "models.toml")
    assert claim_families(spec) == ["fam"]  # the ordered family is not a claims family
    frame = make_frame().assign(weight=np.tile([1.0, 2.0], 200))
    rows = specification_estimates(frame, spec, survey_weighted=True)
    assert list(rows.columns) == SPECIFICATION_COLUMNS
    combos = rows[["variant", "estimator", "weights"]].drop_duplicates()
    assert len(combos) == 2 * 3 * 2  # variants x estimators x (unweighted, pweight)
    main = rows[rows["main"]]
    assert set(main["estimator"]) == {"logit"} and set(main["weights"]) == {"none"}
    # the tests of the "full" variant are repeated in "base" where their terms exist
    tests = rows[rows["quantity"] == "test"]
    assert set(tests.loc[tests["variant"] == "base", "term"]) == {"x1_equals_x2"}
    assert {"x1_over_z", "x1_over_z:delta"} <= set(tests.loc[tests["variant"] == "full",
                                                              "term"])
    # the main specification's numbers are those of the estimate step
    reference = est.estimate_all(frame, spec).estimates
    a = main[(main["model"] == "fam__y__full") & (main["quantity"] == "coef")]
    b = reference[(reference["model"] == "fam__y__full") & (reference["quantity"] == "coef")]
    np.testing.assert_allclose(a["estimate"].to_numpy(), b["estimate"].to_numpy())


def test_weightings():
    assert weightings("", survey_weighted=False) == [""]
    assert weightings("", survey_weighted=True) == ["", "pweight"]
    assert weightings("pweight", survey_weighted=True) == ["pweight", ""]
    assert weightings("fweight", survey_weighted=True) == ["fweight"]


def test_perfect_prediction_is_recorded_for_the_tables_and_refits(tmp_path):
    frame = make_frame()
    # sector "c": no firm innovates (y = 0): Stata drops sector[c] and those firms
    c = frame["sector"] == "c"
    frame.loc[c, "y"] = 0
    spec = parse_model_spec(RAW, tmp_path / "models.toml")
    run = est.estimate_all(frame, spec, families=["fam"])
    table = run.model_table.set_index("model")
    row = table.loc["fam__y__base"]
    n_c = int((c & frame["y"].notna()).sum())
    assert row["dropped_terms"] == "sector[c]" and row["dropped_rows"] == "sector[c] != 0"
    assert row["dropped_nobs"] == n_c
    assert row["dropped_notes"] == (f"sector[c] != 0 predicts failure perfectly; sector[c] "
                                    f"dropped and {n_c} obs not used")
    assert row["nobs"] + row["n_incomplete"] + row["dropped_nobs"] == len(frame)
    assert row["perfect_prediction"] == "drop" and row["weight_type"] == "none"
    assert "sector[c]" not in row["terms"].split(";")
    assert table.loc["fam__y2__base", "dropped_terms"] == ""  # y2 unaffected
    # the strict option refuses the model, as before
    strict = parse_model_spec({**RAW, "defaults": {"perfect_prediction": "error"}},
                              tmp_path / "strict.toml")
    with pytest.raises(PerfectSeparationError, match=r"sector\[c\]"):
        est.estimate_all(frame, strict, families=["fam"])


def test_a_dropped_regressor_gets_a_note_under_its_table(tmp_path):
    from analysis.exhibits.table_specs import table_notes
    from analysis.models.specification import expand_models

    frame = make_frame()
    frame.loc[frame["sector"] == "c", "y"] = 0
    raw = {**RAW, "tables": {"t": {"families": ["fam"]}}}
    spec = parse_model_spec(raw, tmp_path / "models.toml")
    run = est.estimate_all(frame, spec, families=["fam"])
    chosen = expand_models(spec, ["fam"])
    notes = table_notes(spec, spec.tables["t"], chosen, run.model_table)
    hits = [n for n in notes if "predicts failure perfectly" in n]
    assert len(hits) == 2 and hits[0].startswith("y, Base: sector[c] != 0 predicts failure")
    assert isinstance(run.model_table, pd.DataFrame)
