"""Shared fixtures: one end-to-end run of the whole pipeline per test session, and a
package of fake steps for the runner's tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_steps import FakeProject

from analysis import config
from analysis.data.study_config import load_study_config
from analysis.models.specification import ModelSpec, load_model_spec
from analysis.models.survey_spec import with_wording
from analysis.runner import pipeline

#: Bootstrap replications in the test run (the shipped default is 999): the exhibits are
#: the same files, only the intervals are noisier.
TEST_BOOTSTRAP_REPS = 19


@pytest.fixture(scope="session")
def full_run(tmp_path_factory) -> Path:
    """The whole default replication, every step, in a temporary folder; its root."""
    base = tmp_path_factory.mktemp("full_run")
    code = pipeline.main(["--output-root", str(base), "--force",
                          "--option", f"bootstrap_reps={TEST_BOOTSTRAP_REPS}"])
    assert code == 0, "the full pipeline failed in the test run"
    return base


def default_spec() -> ModelSpec:
    """The model specification in the default study's words (as the steps read it)."""
    wording = load_study_config(config.DEFAULT_STUDY_CONFIG).wording
    return with_wording(load_model_spec(config.DEFAULT_MODEL_SPEC), wording.fill)


@pytest.fixture
def project(tmp_path, monkeypatch, capsys) -> FakeProject:
    """Fake steps a <- raw_a, b <- a's output, c <- raw_c (tests/fake_steps.py), for the
    runner's tests in tests/test_pipeline.py and tests/test_pipeline_runs.py."""
    fake = FakeProject(tmp_path, monkeypatch, capsys)
    fake.add_chain()
    return fake
