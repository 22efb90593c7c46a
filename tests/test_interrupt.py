"""Killing a run midway leaves every output old or new, never partial; the next run recovers.

A first run writes the reference outputs. A second, forced run is killed (SIGKILL, no
clean-up possible) right after the clean step has replaced its Parquet file, i.e. during
build/describe. Every output must then still be a complete file identical to the reference
(old and new versions are byte-identical: the pipeline is deterministic). A third run must
complete normally, remove the stale temporary files, and reproduce the reference exactly.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from analysis import config, io

STEPS = ("clean", "build", "describe", "disclosure")
N_RECORDS = 300


def state(root: Path) -> dict[str, str]:
    """SHA-256 of every visible output file (run logs excluded: they change every run)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")
            and "logs" not in p.relative_to(root).parts}


def command(study: Path, root: Path, *extra: str) -> list[str]:
    only = [a for s in STEPS for a in ("--only", s)]
    return [sys.executable, str(config.ROOT / "run_all.py"), "--config", str(study),
            "--output-root", str(root), *only, *extra]


def run(study: Path, root: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(study, root, *extra), cwd=config.ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def study(tmp_path) -> Path:
    source = config.DATA_RAW / "norway_firm_survey_2010_synthetic.sav"
    frame, meta = pyreadstat.read_sav(str(source), user_missing=True, row_limit=N_RECORDS)
    raw = tmp_path / "survey.sav"
    pyreadstat.write_sav(frame, str(raw), column_labels=meta.column_names_to_labels,
                         variable_value_labels=meta.variable_value_labels,
                         missing_ranges=meta.missing_ranges)
    text = config.DEFAULT_STUDY_CONFIG.read_text(encoding="utf-8")
    text = "\n".join(f"data_file = '{raw}'" if line.startswith("data_file =") else line
                     for line in text.splitlines())
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    return path


def assert_complete(root: Path) -> None:
    """Every visible output is a complete, readable file."""
    for path in root.rglob("*"):
        if not path.is_file() or path.name.startswith("."):
            continue
        assert not path.name.endswith(".tmp"), f"visible temporary file {path}"
        if path.suffix == ".parquet":
            io.read_parquet(path)
        elif path.suffix == ".csv":
            pd.read_csv(path)


def test_killed_run_leaves_old_or_new_and_next_run_recovers(tmp_path, study):
    root = tmp_path / "out"
    first = run(study, root)
    assert first.returncode == 0, first.stderr
    reference = state(root)
    manifest = (root / "output" / "manifest.csv").read_bytes()
    clean_file = root / "data_clean" / "survey_clean.parquet"
    old_inode = clean_file.stat().st_ino

    # Second run, killed as soon as the clean step has replaced its output.
    proc = subprocess.Popen(command(study, root, "--force"), cwd=config.ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if clean_file.exists() and clean_file.stat().st_ino != old_inode:
            break
        time.sleep(0.005)
    if proc.poll() is not None:
        pytest.fail("the run finished before it could be interrupted")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    assert_complete(root)
    interrupted = state(root)
    assert interrupted.keys() <= reference.keys()
    for name, digest in interrupted.items():
        assert digest == reference[name], f"{name} is neither the old nor the new version"

    # A temporary file of the killed writer, as an atomic write cut short leaves it.
    stale = root / "output" / "tables" / f".sample_flow.csv.{proc.pid}.abcd1234.tmp"
    stale.write_text("half a tab")

    third = run(study, root)
    assert third.returncode == 0, third.stderr
    assert state(root) == reference
    assert (root / "output" / "manifest.csv").read_bytes() == manifest
    assert not stale.exists()
    assert [p for p in root.rglob("*.tmp")] == []


def test_stale_temp_files_are_told_from_live_ones(tmp_path):
    from analysis.context import Paths
    from analysis.io import remove_stale_temp_files

    paths = Paths.under(tmp_path)
    folder = paths.output / "tables"
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = folder / f".x.csv.{int(dead.stdout)}.abcd1234.tmp"
    live = folder / f".x.csv.{os.getpid()}.efgh5678.tmp"
    unknown_fresh = folder / ".manifest.csv.ijkl9012.tmp"
    other_study = paths.output / "studies" / "s" / f".y.csv.{int(dead.stdout)}.mnop3456.tmp"
    other_study.parent.mkdir(parents=True)
    for path in (stale, live, unknown_fresh, other_study):
        path.write_text("x")
    assert remove_stale_temp_files([paths.data_clean, paths.output],
                                   skip=[paths.output / "studies"]) == [stale]
    assert live.exists() and unknown_fresh.exists() and other_study.exists()
