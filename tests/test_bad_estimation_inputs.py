"""Bad inputs that reach estimation, each run through the estimate step on a tiny
hand-made analysis frame with a one-family model specification: the step must end in one
clear message naming the model and the variable, write nothing and leave its input as it
was (the data and file cases: tests/test_bad_inputs.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bad_input_checks import assert_one_message, temp_files

from analysis import config
from analysis.context import Context, Paths
from analysis.errors import ConvergenceError, ReplicationError, explain
from analysis.io import file_sha256
from analysis.tasks import estimate as estimate_step

TINY_SPEC = """
[defaults]
estimator = "{estimator}"
se = "robust"

[blocks.main]
label = "Main"
display = "coefficients"
variables = {variables}

[outcomes]
product = "Product innovation"

[families.tiny]
description = "one model"
estimator = "{estimator}"
outcomes = ["product"]
main = ["main"]
variants = {{ base = [] }}
"""


def tiny_frame(n: int = 60, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    y = (x1 + rng.normal(size=n) > 0).astype("int64")
    return pd.DataFrame({"firm_id": np.arange(1, n + 1), "product": pd.array(y, dtype="Int64"),
                         "x1": x1, "x2": x2})


@pytest.fixture
def estimate_case(tmp_path):
    """Run the estimate step on a tiny analysis frame; check it fails and writes nothing.

    The step is run on its own (through the runner, a hand-made analysis data set would be
    replaced by the build step's, as a stale input); the message is the runner's line.
    """

    def run(frame: pd.DataFrame, variables: tuple[str, ...] = ("x1", "x2"),
            estimator: str = "logit") -> str:
        root = tmp_path / "est out"
        (root / "data_clean").mkdir(parents=True)
        data = root / "data_clean" / "analysis_data.parquet"
        frame.to_parquet(data)
        data_sha = file_sha256(data)
        spec = tmp_path / "models.toml"
        spec.write_text(TINY_SPEC.format(estimator=estimator, variables=list(variables)),
                        encoding="utf-8")
        ctx = Context(paths=Paths.under(root), study_config_path=config.DEFAULT_STUDY_CONFIG,
                      model_spec_path=spec)
        with pytest.raises(ReplicationError) as failure:
            estimate_step.run(ctx)
        err = f"run_all: step 'estimate' failed: {explain(failure.value)}"
        assert not (root / "output" / "estimates").exists() or not any(
            (root / "output" / "estimates").iterdir())
        assert temp_files(root) == []
        assert file_sha256(data) == data_sha
        assert "What to do:" in err, err
        return err

    return run


def test_outcome_missing_for_everyone(estimate_case):
    frame = tiny_frame().assign(product=pd.array([pd.NA] * 60, dtype="Int64"))
    err = estimate_case(frame)
    # EmptyCellError (its hint) naming the model and the outcome
    assert_one_message(err, "model 'tiny__product__base'", "'product'", "no usable observations")


def test_empty_subsample_after_listwise_deletion(estimate_case):
    err = estimate_case(tiny_frame().assign(x2=np.nan))
    assert_one_message(err, "model 'tiny__product__base'", "no observations left", "'x2'")


def test_constant_regressor(estimate_case):
    err = estimate_case(tiny_frame().assign(x2=1.0))
    assert_one_message(err, "model 'tiny__product__base'", "x2")


def test_perfect_separation(estimate_case):
    frame = tiny_frame()
    frame["x2"] = (frame["product"] == 1).astype(float)
    err = estimate_case(frame)
    assert_one_message(err, "model 'tiny__product__base'", "'x2'", "predicts success perfectly")


def test_collinear_dummy(estimate_case):
    frame = tiny_frame()
    frame["d_a"] = (frame["x1"] > 0).astype(float)
    frame["d_b"] = 1.0 - frame["d_a"]  # d_a + d_b = constant
    err = estimate_case(frame, variables=("x1", "d_a", "d_b"))
    assert_one_message(err, "model 'tiny__product__base'", "d_b")


def test_unknown_variable_in_specification(estimate_case):
    err = estimate_case(tiny_frame(), variables=("x1", "x_unknown"))
    assert_one_message(err, "models.toml", "x_unknown")


def test_unknown_estimator(estimate_case):
    err = estimate_case(tiny_frame(), estimator="tobit")
    assert_one_message(err, "models.toml", "tobit")


def test_non_convergence():
    """Not reachable from the specification (no iteration option): the layer's error."""
    from analysis.models.estimation import fit_model

    with pytest.raises(ConvergenceError, match="model 'm1'.*did not converge in 1 iter"):
        fit_model(tiny_frame(), "product", ["x1", "x2"], model_id="m1", max_iter=1)
