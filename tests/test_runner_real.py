"""The runner on the real steps: a selection never shows stale numbers, and code changes
are found wherever the project lives (also below a folder whose name starts with ".")."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEST_BOOTSTRAP_REPS

from analysis import config
from analysis.runner import pipeline

OPTION = ["--option", f"bootstrap_reps={TEST_BOOTSTRAP_REPS}"]


def statuses(root: Path) -> dict[str, str]:
    log = json.loads((root / "output" / "logs" / "run_log.json").read_text())
    return {step["name"]: step["status"] for step in log["steps"]}


def tables(root: Path) -> dict[str, bytes]:
    folder = root / "output" / "tables"
    return {p.name: p.read_bytes() for p in sorted(folder.glob("table[2-9]*"))}


@pytest.mark.slow
def test_only_tables_after_a_specification_change_shows_the_new_models(full_run, tmp_path,
                                                                       capsys):
    """Table 2 loses firm_age: --only tables reruns the estimates first (never the old
    numbers under the new layout) and writes what a fresh run writes; the steps left out
    of date (not selected, their inputs changed) are named in the log and a warning."""
    models = tmp_path / "models.toml"
    text = config.DEFAULT_MODEL_SPEC.read_text(encoding="utf-8")
    changed = text.replace('"higher_ed_share", "firm_age"]', '"higher_ed_share"]')
    # a variable no block uses any more may not stay listed as optional (a typo check)
    changed = changed.replace('"higher_ed_share", "firm_age",\n', '"higher_ed_share",\n')
    assert changed.count("firm_age") == text.count("firm_age") - 2
    models.write_text(changed, encoding="utf-8")
    root = tmp_path / "old"
    shutil.copytree(full_run, root)  # outputs and pytask state of the old specification
    before = tables(root)
    argv = ["--models", str(models), "--only", "tables", *OPTION]
    capsys.readouterr()
    assert pipeline.main(["--output-root", str(root), *argv]) == 0
    out, err = capsys.readouterr()
    ran = statuses(root)
    assert ran["estimate"] == "ran" and ran["tables"] == "ran"
    assert ran["robustness"] == ran["figures"] == "not selected"
    assert "figures: not selected, now out of date" in out  # they read the old estimates
    assert "warning: out of date, not selected:" in err and "figures" in err
    fresh = tmp_path / "fresh"
    assert pipeline.main(["--output-root", str(fresh), *argv]) == 0
    after = tables(root)
    assert after == tables(fresh)
    assert after["table2.md"] != before["table2.md"]
    assert "Firm age" in before["table2.md"].decode()
    assert "Firm age" not in after["table2.md"].decode()


def run(project: Path, root: Path) -> dict[str, str]:
    done = subprocess.run([sys.executable, "run_all.py", "--only", "compare",
                           "--output-root", str(root)], cwd=project, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return {name: status for name, status in statuses(root).items() if status != "not selected"}


@pytest.mark.slow
def test_an_edited_module_reruns_exactly_the_steps_that_import_it_in_a_hidden_folder(tmp_path):
    project = tmp_path / ".cache" / "replication"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=config.ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (config.ROOT / name).is_file():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(config.ROOT / name, project / name)
    root = tmp_path / "out"
    assert set(run(project, root).values()) == {"ran"}
    for module, expected in (("analysis/exhibits/compare.py", {"compare"}),
                             ("analysis/models/results.py", {"estimate", "compare"})):
        with (project / module).open("a", encoding="utf-8") as handle:
            handle.write("\n# edited\n")
        ran = run(project, root)
        # the disclosure check (selected on every run) skips: no output changed
        assert {n for n, s in ran.items() if s == "ran"} == expected, module
        assert {n for n, s in ran.items() if s == "skipped"} == set(ran) - expected
