"""The repository stands on its own: nothing in it points outside it.

A user clones the repository alone, so no tracked file may cite a document that is not in
the repository (the workplace's study notes) or read a folder beside it. The CI script runs
the README's two commands in a fresh clone in an empty folder (.ci/run); this test catches
the references themselves, in every tracked text file.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from analysis import config

#: Built from parts so that this file does not match itself.
FORBIDDEN = ("STUDY" + ".md", "../" + "shared", "/work" + "/shared", "shared/" + "reference")
TEXT_SUFFIXES = {".py", ".md", ".toml", ".cff", ".txt", ".cfg", ".R", ".do", ".csv", ".json",
                 ".html", ".tex", ""}


def tracked_files() -> list[Path]:
    try:
        listing = subprocess.run(["git", "ls-files"], cwd=config.ROOT, capture_output=True,
                                 text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    return [config.ROOT / name for name in listing]


def test_no_tracked_file_points_outside_the_repository():
    offenders = []
    for path in tracked_files():
        if path.suffix not in TEXT_SUFFIXES or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        offenders += [f"{path.relative_to(config.ROOT)}: {needle}" for needle in FORBIDDEN
                      if needle in text]
    assert not offenders, "files citing something outside the repository:\n" + "\n".join(
        offenders)


def test_known_answer_data_ship_with_the_tests():
    data = config.ROOT / "tests" / "data"
    for name in ("stata_auto.dta", "spector_statsmodels.csv", "ucla_binary_admit_glmjl.csv"):
        assert (data / name).is_file(), name
        assert name in (data / "README.md").read_text(encoding="utf-8"), name


def test_the_study_document_cited_everywhere_exists():
    text = (config.ROOT / "docs" / "study.md").read_text(encoding="utf-8")
    for section in range(1, 8):
        assert f"## {section}." in text
