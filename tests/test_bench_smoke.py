"""Smoke test of bench/run_benchmark.py: it runs and writes the expected rows.

No timing is asserted (timings belong in bench/results/, not in tests). The real run covers
the estimation measurements at 1,604 firms (three child processes; `--quick` alone also
runs 20,000 firms, the pipeline and the bootstrap and takes minutes); the
pipeline and bootstrap sections, which take minutes, are checked through the reporting
functions on a report of the same shape.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "run_benchmark.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("run_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_quick_estimation_run_writes_table_and_json(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--skip", "pipeline", "--skip", "bootstrap",
         "--sizes", "1604", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((tmp_path / "quick.json").read_text())
    rows = {(r["n"], r["path"]): r for r in report["estimation"]}
    assert set(rows) == {(n, p) for n in (1604,)
                         for p in ("reference", "pipeline", "statsmodels")}
    for row in rows.values():
        assert "error" not in row, row
        assert row["seconds"] > 0 and row["peak_mb"] >= row["baseline_mb"] > 0
    # The pipeline and statsmodels paths estimate the same AME; the SEs differ only by
    # statsmodels' default cluster correction (N-1)/(N-k) on top of Stata's G/(G-1).
    for n in (1604,):
        ours, ref = rows[(n, "pipeline")], rows[(n, "statsmodels")]
        assert ours["first_ame"] == pytest.approx(ref["first_ame"], rel=1e-6)
        factor = np.sqrt((n - 1) / (n - 31))
        assert ours["first_ame_se"] * factor == pytest.approx(ref["first_ame_se"], rel=1e-6)
        assert rows[(n, "reference")]["time_ratio"] == 1.0
    table = (tmp_path / "quick.md").read_text()
    assert "## Estimation layer" in table and "## Targets (issues 7 and 15)" in table
    assert table.count("| 1,604 |") == 3
    assert report["machine"]["cores"] >= 1 and report["machine"]["python"]


def test_statsmodels_is_skipped_at_one_million_without_the_flag(bench, monkeypatch):
    calls = []
    monkeypatch.setattr(bench, "run_child",
                        lambda task: calls.append(task) or {"seconds": 1.0, "peak_mb": 10.0})
    rows = bench.measure_estimation([1_000_000], with_sm_1m=False)
    assert [r["path"] for r in rows] == ["reference", "pipeline", "statsmodels"]
    assert rows[2]["skipped"] == "skipped (memory)"
    assert [t["path"] for t in calls] == ["reference", "pipeline"] * 3  # taking turns


def test_estimation_rows_are_the_median_runs(bench, monkeypatch):
    times = iter([3.0, 9.0, 1.0, 7.0, 2.0, 5.0, 8.0])  # ref, pipe, sm, ref, pipe, ref, pipe
    monkeypatch.setattr(bench, "run_child",
                        lambda task: {"seconds": next(times), "peak_mb": 10.0})
    rows = {r["path"]: r for r in bench.measure_estimation([1604], with_sm_1m=False)}
    assert rows["reference"]["runs_s"] == [3.0, 7.0, 5.0]
    assert rows["reference"]["seconds"] == 5.0 and rows["pipeline"]["seconds"] == 8.0
    assert rows["pipeline"]["time_ratio"] == pytest.approx(8.0 / 5.0)
    assert rows["statsmodels"]["runs_s"] == [1.0]  # once


def _report(rerun_s: float, identical: bool) -> dict:
    run = {"seconds": rerun_s, "peak_mb": 250.0, "returncode": 0, "last_line": "",
           "steps_ran": []}
    return {
        "mode": "quick", "command": "x", "total_s": 1.0,
        "machine": {"date": "d", "cpu": "c", "cores": 2, "ram_gb": 1.0, "os": "o",
                    "python": "3", "packages": {"numpy": "2"}},
        "pipeline": {"imports": [], "import_s": 4.0, "import_baseline_mb": 200.0,
                     "cold": {**run, "seconds": 6.0}, "reruns": [run], "rerun_s": rerun_s,
                     "wider_imports": {"design card's packages": {
                         "modules": ["numpy", "statsmodels.api"], "runs_s": [8.0, 8.0],
                         "import_s": 8.0}}},
        "estimation": [{"n": 10, "path": "pipeline", "seconds": 3.0, "time_ratio": 1.2,
                        "peak_mb": 3000.0, "baseline_mb": 100.0, "data_mb": 1.0}],
        "bootstrap": {"reps": 19, "identical_across_workers": identical, "runs": [
            {"path": "project", "workers": 2, "seconds": 1.0, "peak_mb": 1.0,
             "ratio_to_statsmodels": 0.1, "failed": 0},
            {"path": "statsmodels loop", "workers": 1, "seconds": 10.0, "peak_mb": 1.0,
             "ratio_to_statsmodels": 1.0, "failed": 0}]},
    }


@pytest.mark.parametrize(("rerun_s", "identical"), [(0.5, True), (2.0, False)])
def test_targets_and_table_rows(bench, rerun_s, identical):
    """The targets of issue 15: a rerun under 1.5 s, a cold run <= 3x the bare stack."""
    report = _report(rerun_s, identical)
    targets = {t["target"].split(" ")[0]: t["met"] for t in bench.evaluate_targets(report)}
    met = {t["target"]: t["met"] for t in bench.evaluate_targets(report)}
    assert met["rerun with nothing changed < 1.5 s"] is (rerun_s < 1.5)
    assert met["bootstrap results identical for 1 and 2 workers"] is identical
    assert met["cold replication <= 3.0x the import of numpy, pandas, scipy, matplotlib, "
               "pyreadstat (bytecode compiled)"] is True  # 6 s / 4 s
    assert met["estimation at 10 firms peak memory < 2 GB"] is False  # 3000 MB
    assert len(targets) >= 4
    report["targets"] = bench.evaluate_targets(report)
    table = bench.markdown(report)
    for heading in ("## Full default replication", "## Estimation layer",
                    "## Bootstrap of the breadth AMEs"):
        assert heading in table
    assert "| rerun 1 (nothing changed) |" in table and "| statsmodels loop | 1 |" in table
    # the wider stack: a row of its own, and the cold run over it, with no verdict
    assert ("| import the design card's packages (the bare stack and statsmodels.api) | 8.00 |"
            in table)
    assert met["(for the reader, no target) cold replication over the import of the design "
               "card's packages"] is None
    assert "6.00 s / 8.00 s = 0.75x" in table


def test_step_lines_of_a_run_are_read(bench, monkeypatch):
    class Done:
        returncode, stderr = 0, ""
        stdout = ("[1/3] clean: skipped (unchanged)\n[2/3] build: ran in 0.38 s (code "
                  "changed: x.py)\n[3/3] tables: ran in 0.1 s (forced)\nrun_all: 3 step(s)\n")

    monkeypatch.setattr(bench.subprocess, "run", lambda *a, **k: Done())
    result = bench.child_pipeline({"output_root": "x", "force": False})
    assert result["steps_ran"] == ["build", "tables"]
