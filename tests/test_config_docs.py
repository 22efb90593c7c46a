"""One documentation source for the study configuration, tested against the validator.

- The key reference of docs/using_your_own_survey.md is exactly what
  ``analysis.data.study_keys.reference_markdown()`` generates from the validator's key list,
  so no accepted key is undocumented (and no documented key is unknown).
- The parsers check every table against that list (no hand-written key tuple left).
- The README's "Using your own survey" is a short pointer to the document, so the two
  cannot drift apart.
- A ``--config`` run without ``--output-root`` warns that its outputs (cleaned microdata
  included) go inside the project folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from analysis import config
from analysis.data import study_keys
from analysis.runner import pipeline

DOC = config.ROOT / "docs" / "using_your_own_survey.md"
README = config.ROOT / "README.md"


def test_key_reference_is_generated_from_the_validator():
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- keys:start -->\n(.*?)<!-- keys:end -->", text, re.S)
    assert match, "docs/using_your_own_survey.md lacks the key reference markers"
    assert match.group(1) == study_keys.reference_markdown(), (
        "the key reference is out of date: regenerate it with "
        "`uv run python -m analysis.data.study_keys`")
    for section, (_, keys) in study_keys.KEYS.items():
        for key in keys:
            assert key == "*" or f"`{key}`" in match.group(1), (section, key)
            assert keys[key].strip(), f"{section}.{key} has no description"


def test_parsers_take_their_keys_from_the_key_list():
    folder = config.ROOT / "analysis" / "data"
    calls = []
    for path in folder.glob("study_*.py"):
        calls += re.findall(r"check\.unknown_keys\((.*)", path.read_text())
    assert len(calls) >= 10
    for call in calls:
        assert any(name in call for name in ("allowed(", "sections()", "ROLES")), call


def test_readme_points_to_the_document():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Using your own survey"):text.index("## Licence")]
    assert "docs/using_your_own_survey.md" in section
    assert len(section.splitlines()) < 30, "keep the README's section a pointer"
    assert "| table | key |" not in section and "[collaboration]" not in section


def test_every_documented_example_configuration_parses():
    from analysis.data.study_config import load_study_config

    for path in (config.DEFAULT_STUDY_CONFIG, config.ROOT / "examples" / "cis_like" /
                 "study.toml", config.ROOT / "examples" / "national_survey" / "study.toml"):
        assert load_study_config(path).name


def test_config_run_inside_the_project_warns(monkeypatch, capsys):
    monkeypatch.setattr(pipeline, "run", lambda *args, **kwargs: 0)
    study = config.ROOT / "examples" / "cis_like" / "study.toml"
    assert pipeline.main(["--config", str(study)]) == 0
    err = capsys.readouterr().err
    assert "warning: the outputs of this study, including its cleaned microdata" in err
    assert "--output-root DIR outside the repository" in err
    assert pipeline.main(["--config", str(study), "--output-root", str(Path("/tmp"))]) == 0
    assert "warning" not in capsys.readouterr().err
    assert pipeline.inside_project_warning(config.DEFAULT_STUDY_CONFIG, None) is None
