"""Nothing lost, nothing leaked (issue 20), through the real entry point.

Disclosure control on every run and every file, the raw data untouchable, studies that never
collide, an output tree that equals what the run makes, and write failures that end in one
line naming the file and what to do. The runs use a 400-record cut of the synthetic twin
(a few seconds per step) unless the case needs the whole survey.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from analysis import config, output_tree
from analysis.runner import pipeline

REPS = ("--option", "bootstrap_reps=2")


def study_text(data_file: Path, name: str | None = "norway_twin", extra: str = "") -> str:
    """The default study configuration reading ``data_file`` (absolute), renamed."""
    lines = []
    for line in config.DEFAULT_STUDY_CONFIG.read_text(encoding="utf-8").splitlines():
        if line.startswith("data_file ="):
            line = f"data_file = '{data_file}'"
        elif line.startswith("name =") and name != "norway_twin":
            line = f"name = '{name}'" if name else ""
        lines.append(line)
    return "\n".join(lines) + "\n" + extra


@pytest.fixture(scope="module")
def survey(tmp_path_factory) -> Path:
    """A 400-record cut of the synthetic twin (SPSS), in its own folder."""
    folder = tmp_path_factory.mktemp("survey")
    frame, meta = pyreadstat.read_sav(
        str(config.DATA_RAW / "norway_firm_survey_2010_synthetic.sav"), user_missing=True,
        row_limit=400)
    path = folder / "survey.sav"
    pyreadstat.write_sav(frame, str(path), column_labels=meta.column_names_to_labels,
                         variable_value_labels=meta.variable_value_labels,
                         missing_ranges=meta.missing_ranges)
    return path


def write_study(folder: Path, data_file: Path, **kwargs) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "study.toml"
    path.write_text(study_text(data_file, **kwargs), encoding="utf-8")
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = pipeline.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def files_below(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# ----------------------------------------------------------------- 1. disclosure control


def test_a_firm_level_exhibit_made_by_configuration_alone_stops_the_run_and_is_removed(
        survey, tmp_path, capsys):
    """A robustness subsample on firm_id (a copy of config/robustness.toml, nothing else):
    only the robustness step is selected, yet the disclosure check runs, removes the
    listing in every format and stops the run; no message names a firm."""
    robustness = tmp_path / "robustness.toml"
    robustness.write_text(config.CONFIG_DIR.joinpath("robustness.toml").read_text().replace(
        'by = ["region", "sector"]', 'by = ["firm_id"]'), encoding="utf-8")
    study = write_study(tmp_path / "study", survey)
    root = tmp_path / "out"
    code, out, err = run(capsys, "--config", str(study), "--output-root", str(root), *REPS,
                         "--option", f"robustness_config={robustness}", "--only", "robustness")
    assert code == 1
    assert "step 'disclosure' failed" in err and "withheld" in err and "What to do" in err
    assert "column 'firm_id' identifies firms" in err
    assert "disclosure: failed" in out  # not selected: it runs on every run
    assert not list(root.rglob("robustness_subsamples_firm_id.*"))
    assert (root / "output" / "tables" / "robustness_estimators.csv").is_file()
    ids = pd.read_parquet(root / "data_clean" / "survey_clean.parquet")["firm_id"]
    log = (root / "output" / "logs" / "run_log.json").read_text()
    for text in (out, err, log):
        assert "Traceback" not in text or text is log
        assert not re.search(r"firm_id\s*=\s*\d", text)
        assert not any(str(int(i)) in text for i in ids.head(50))


def test_a_small_subsample_is_suppressed_with_its_notes_or_flagged(tmp_path, capsys):
    """A sector group of 17 firms under a threshold of 20: suppressed (N, estimates,
    problems and the notes about it) when configured, else flagged in the report and a note
    on the exhibit; small counts in the other notes are said as "fewer than 20"."""
    text = study_text(config.DATA_RAW / "norway_firm_survey_2010_synthetic.sav").replace(
        "manufacturing = [[10, 33]]", "manufacturing = [[10, 28], [33, 33]]\ntiny = [[30, 30]]")
    for suppress in (True, False):
        study = tmp_path / f"tiny_{suppress}.toml"
        study.write_text(text + f"\n[disclosure]\nmin_cell_count = 20\nsuppress = "
                         f"{str(suppress).lower()}\n", encoding="utf-8")
        root = tmp_path / f"out_{suppress}"
        code, _, err = run(capsys, "--config", str(study), "--output-root", str(root), *REPS,
                           "--only", "robustness")
        assert code == 0, err
        tables = root / "output" / "tables"
        sector = pd.read_csv(tables / "robustness_subsamples_sector.csv", dtype=str)
        tiny = sector[sector["Sector group"] == "tiny"]
        report = pd.read_csv(tables / "disclosure_report.csv", dtype=str)
        flagged = report[(report["exhibit"] == "robustness_subsamples_sector")
                         & (report["row"] == "tiny")]
        assert len(tiny) == 3 and not flagged.empty
        markdown = (tables / "robustness_subsamples_sector.md").read_text()
        assert "Disclosure control" in markdown
        if suppress:
            assert (tiny["N"] == "<20").all()
            assert (tiny.drop(columns=["Sector group", "Outcome", "N"]) == "suppressed").all(
                axis=None)
            assert "tiny," not in markdown
            assert set(flagged["count"]) == {"<20"}  # the report is published too
            region = (tables / "robustness_subsamples_region.md").read_text()
            assert "fewer than 20 obs" in region
            appendix = pd.read_csv(root / "output" / "data_appendix" / "clean_variables.csv",
                                   dtype=str)
            assert (appendix == "<20").any(axis=None)
        else:
            assert tiny["N"].astype(int).lt(20).all()
            assert set(flagged["action"]) == {"flagged"}


def test_the_data_appendix_small_counts_are_flagged_and_every_file_is_listed(full_run):
    """The default run: counts of 3 and 4 firms in the data appendix are flagged (with a
    note on the appendix); the checks list every file the disclosure step saw."""
    output = full_run / "output"
    report = pd.read_csv(output / "tables" / "disclosure_report.csv")
    appendix = report[report["exhibit"] == "clean_variables"]
    assert {3, 4} <= set(appendix["count"]) and (appendix["action"] == "flagged").all()
    assert "Disclosure control" in (output / "data_appendix" / "clean_variables.md").read_text()
    checks = pd.read_csv(output / "tables" / "disclosure_checks.csv")
    own = {f"tables/disclosure_{s}.{e}" for s in ("report", "checks")
           for e in ("csv", "md", "tex", "html", "docx")}
    expected = {f for f in files_below(output) if not f.startswith("logs/")} - own - {
        "manifest.csv", "replication_report.html"}
    assert expected <= set(checks["File"])
    assert "replication_report.html" in set(checks["File"])
    assert any("messages" in f for f in checks["File"])


def test_messages_and_the_run_log_never_name_firms_or_small_counts(survey, tmp_path,
                                                                     capsys):
    """A raw value error names its record by position; the firm's interview number and the
    count of 3 rows are withheld on screen and in the run log, and kept only in the private
    diagnostics file the user asked for (refused inside the output folders)."""
    frame, meta = pyreadstat.read_sav(str(survey), user_missing=True)
    frame.loc[[10, 11, 12], "q3_foreign"] = 500.0
    bad = tmp_path / "bad.sav"
    pyreadstat.write_sav(frame, str(bad), column_labels=meta.column_names_to_labels,
                         variable_value_labels=meta.variable_value_labels,
                         missing_ranges=meta.missing_ranges)
    study = write_study(tmp_path / "study", bad)
    root, private = tmp_path / "out", tmp_path / "private" / "diagnostics.md"
    code, _, err = run(capsys, "--config", str(study), "--output-root", str(root),
                       "--only", "clean", "--diagnostics", str(private))
    assert code == 1
    intnr = int(frame.loc[10, "intnr"])
    assert "record 11 (intnr=<withheld>)" in err and f"intnr={intnr}" not in err
    assert "fewer than 5 rows affected" in err and "3 rows" not in err
    logs = [(root / "output" / "logs" / f"run_log.{e}").read_text() for e in ("json", "md")]
    for text in logs:
        assert f"intnr={intnr}" not in text and "3 rows" not in text
    assert json.loads(logs[0])["disclosure_screen"]["messages_changed"] >= 1
    kept = private.read_text()
    assert f"intnr={intnr}" in kept and "3 rows affected" in kept
    code, _, err = run(capsys, "--config", str(study), "--output-root", str(root),
                       "--diagnostics", str(root / "output" / "d.md"))
    assert code == 2 and "outside" in err


# --------------------------------------------------------------- 2. raw data untouchable


def refused(capsys, study: Path, root: Path, *args: str) -> str:
    code, _, err = run(capsys, "--config", str(study), "--output-root", str(root), *args)
    assert code == 1, err
    assert "input file in the way of the outputs" in err and "What to do" in err, err
    return err


def test_a_raw_file_where_a_clean_output_goes_is_refused_before_any_step(survey, tmp_path,
                                                                          capsys):
    root = tmp_path / "out"
    raw = root / "data_clean" / "survey_clean.parquet"
    raw.parent.mkdir(parents=True)
    pyreadstat.read_sav(str(survey))[0].to_parquet(raw)
    before = raw.read_bytes()
    study = write_study(tmp_path / "study", raw)
    err = refused(capsys, study, root, "--only", "clean")
    assert str(raw) in err and "written by step 'clean'" in err
    assert raw.read_bytes() == before


@pytest.mark.parametrize("where", ["equal", "above", "symlink"])
def test_an_output_root_at_or_above_the_data_folder_is_refused(survey, tmp_path, capsys,
                                                               where):
    data = tmp_path / "secure" / "survey"
    data.mkdir(parents=True)
    raw = data / "survey.sav"
    raw.write_bytes(survey.read_bytes())
    study = write_study(tmp_path / "study", raw)
    root = {"equal": data, "above": tmp_path / "secure", "symlink": tmp_path / "link"}[where]
    if where == "symlink":
        root.symlink_to(data)
    err = refused(capsys, study, root)
    assert "lies below the output root" in err
    assert raw.read_bytes() == survey.read_bytes()
    assert not (data / "data_clean").exists() or not any((data / "data_clean").iterdir())


def test_inputs_in_or_linked_into_an_output_folder_are_refused(survey, tmp_path, capsys):
    root = tmp_path / "out"
    (root / "output").mkdir(parents=True)
    linked = root / "output" / "survey.sav"  # a link in output/ to the data elsewhere
    linked.symlink_to(survey)
    refused(capsys, write_study(tmp_path / "a", linked), root)
    models = root / "output" / "models.toml"  # a configuration file in output/
    models.write_text(config.DEFAULT_MODEL_SPEC.read_text())
    err = refused(capsys, write_study(tmp_path / "b", survey), root, "--models", str(models))
    assert "models.toml lies in a folder the run writes" in err
    assert survey.is_file() and linked.is_symlink()


def test_input_problems_unit(tmp_path):
    """The rule itself: an input a later or the same step writes, a file in data_clean/ the
    package did not write as it is, a configured file in output/, anything else below an
    explicit root; an earlier step's output, an unchanged stale output and results a
    referee puts back into output/ are fine."""
    paths = output_tree.Paths.under(tmp_path / "root")
    clean, table = paths.data_clean / "clean.csv", paths.tables / "t.csv"
    products = {clean: "clean", table: "tables"}
    problems = output_tree.input_problems
    assert problems(paths, {"tables": [clean]}, products, {}) == []
    assert problems(paths, {"clean": [table], "tables": [clean]}, products, {})
    stale = paths.data_clean / "old.csv"
    stale.parent.mkdir(parents=True)
    stale.write_text("x\n")
    sha = {stale: output_tree.io.file_sha256(stale)}
    assert problems(paths, {"report": [stale]}, products, sha) == []
    stale.write_text("edited by hand\n")
    assert problems(paths, {"report": [stale]}, products, sha)
    returned = paths.output / "crosscheck" / "crosscheck_r.csv"
    assert problems(paths, {"crosscheck": [returned]}, products, {}) == []
    assert problems(paths, {}, products, {}, configured=[returned])
    assert problems(paths, {"clean": [tmp_path / "root" / "raw.sav"]}, products, {})
    assert problems(paths, {"clean": [tmp_path / "elsewhere.sav"]}, products, {}) == []


# ------------------------------------------------------------ 3. studies never collide


def test_a_study_refuses_the_folder_another_study_owns(survey, tmp_path, capsys):
    root = tmp_path / "out"
    first = write_study(tmp_path / "a", survey, name="alpha")
    code, _, err = run(capsys, "--config", str(first), "--output-root", str(root),
                       "--only", "clean")
    assert code == 0, err
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and "logs" not in
              p.parts}
    second = write_study(tmp_path / "b", survey, name="beta")
    code, _, err = run(capsys, "--config", str(second), "--output-root", str(root),
                       "--only", "clean")
    assert code == 1
    assert "holds the outputs of study 'alpha'" in err and "this run is study 'beta'" in err
    assert "What to do" in err
    assert {p: p.read_bytes() for p in before} == before
    assert output_tree.Paths.for_study(first).output.parent.name == "alpha"


# ------------------------------------------------------- 5. the tree equals this run


def test_outputs_no_step_makes_any_more_are_removed_and_verify_passes(survey, tmp_path,
                                                                      capsys):
    """Drop the sector subsample from a copy of config/robustness.toml: after the rerun its
    exhibits are gone from the tree, the manifest and the run log lists them; --verify
    passes. A file edited by hand and the READMEs are never removed."""
    robustness = tmp_path / "robustness.toml"
    shipped = config.CONFIG_DIR.joinpath("robustness.toml").read_text()
    robustness.write_text(shipped, encoding="utf-8")
    study = write_study(tmp_path / "study", survey)
    root = tmp_path / "out"
    args = ["--config", str(study), "--output-root", str(root), *REPS,
            "--option", f"robustness_config={robustness}"]
    assert run(capsys, *args)[0] == 0
    tables = root / "output" / "tables"
    assert (tables / "robustness_subsamples_sector.csv").is_file()
    (root / "output" / "README.md").write_text("notes of my own\n")
    robustness.write_text(shipped.replace('by = ["region", "sector"]', 'by = ["region"]'))
    code, _, err = run(capsys, *args)
    assert code == 0, err
    assert not list(tables.glob("robustness_subsamples_sector.*"))
    assert (tables / "robustness_subsamples_region.csv").is_file()
    assert "sector" not in (root / "output" / "manifest.csv").read_text()
    removed = json.loads((root / "output" / "logs" / "run_log.json").read_text())[
        "removed_stale_outputs"]
    assert len(removed) == 5 and all("robustness_subsamples_sector" in p for p in removed)
    assert (root / "output" / "README.md").read_text() == "notes of my own\n"
    code, out, err = run(capsys, *args, "--verify")
    assert code == 0, out + err


# ------------------------------------------------------------------ 6. write failures

PROBE = '''
import errno, os, pathlib, sys
target, kind = sys.argv[1], sys.argv[2]
code = {"full": errno.ENOSPC, "readonly": errno.EROFS, "denied": errno.EACCES}[kind]
text = {"full": "No space left on device", "readonly": "Read-only file system",
        "denied": "Permission denied"}[kind]
original = os.replace
def replace(src, dst, *args, **kwargs):
    if target in str(dst):
        raise OSError(code, text, str(dst))
    return original(src, dst, *args, **kwargs)
os.replace = replace
from analysis.runner import pipeline
sys.exit(pipeline.main(sys.argv[3:]))
'''


@pytest.fixture(scope="module")
def cleaned(survey, tmp_path_factory) -> tuple[Path, Path]:
    """A study whose clean step ran once: (study configuration, output root)."""
    base = tmp_path_factory.mktemp("writes")
    study = write_study(base / "study", survey)
    root = base / "out"
    assert pipeline.main(["--config", str(study), "--output-root", str(root),
                          "--only", "clean"]) == 0
    return study, root


@pytest.mark.parametrize(("target", "kind", "hint"), [
    ("run_log.json", "full", "free some disk space"),
    ("survey_clean.parquet", "full", "free some disk space"),
    ("pytask.lock", "full", "free some disk space"),
    ("clean_variables.csv", "readonly", "read-only"),
    ("manifest.csv", "denied", "make the folder writable"),
])
def test_a_write_failure_ends_in_one_line_naming_the_file_with_old_outputs_intact(
        cleaned, target, kind, hint):
    study, root = cleaned
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()
              and "pytask" not in p.parts and not p.name.startswith("run_log")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, target, kind, "--config", str(study), "--output-root",
         str(root), "--only", "clean", "--force"], cwd=config.ROOT, capture_output=True,
        text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(config.ROOT)})
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    line = next(x for x in done.stderr.splitlines() if "cannot write" in x)
    assert target in line, done.stderr
    assert hint in done.stderr and "What to do" in done.stderr
    assert {p: p.read_bytes() for p in before if p.exists()} == before
    assert all(p.exists() for p in before)
    assert not [p for p in root.rglob("*.tmp") if p.name.startswith(".")]


# ------------------------------------------------- issue 14: typos before any step


def test_a_misspelt_covariate_stops_the_run_before_the_clean_step_writes(tmp_path, capsys):
    text = config.DEFAULT_MODEL_SPEC.read_text(encoding="utf-8")
    models = tmp_path / "models.toml"
    models.write_text(text.replace('"open_mindedness", "trust_general"]',
                                   '"open_mindedness", "trust_regionl"]'), encoding="utf-8")
    root = tmp_path / "out"
    code, out, err = run(capsys, "--models", str(models), "--output-root", str(root))
    assert code == 1
    assert "'trust_regionl'" in err and "nearest valid names: trust_regional" in err
    assert "(0 ran, 0 skipped)" in out
    assert [f for f in files_below(root) if "/logs/" not in f] == []
