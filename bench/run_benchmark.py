"""Benchmark of the replication package (issue 7): time and peak memory.

    uv run python bench/run_benchmark.py                  # full run -> bench/results/latest.*
    uv run python bench/run_benchmark.py --quick          # smoke run -> bench/results/quick.*
    uv run python bench/run_benchmark.py --sizes 1604,100000 --reps 199

Every measurement runs in a fresh child process (this script with --child), so peaks do
not mix. See bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `analysis` and `bench` importable
    sys.path.insert(0, str(ROOT))

from bench.measure import child_main, child_pipeline, compile_bytecode  # noqa: E402
from bench.report import evaluate_targets, markdown  # noqa: E402
from bench.settings import (  # noqa: E402
    COLD_RUNS,
    PACKAGES,
    RESULT_TAG,
    SEED,
    STATSMODELS_GUARD,
    WIDER_RUNS,
    WIDER_STACKS,
)

#: Used by the tests through this module (the script is their one entry point).
__all__ = ["child_pipeline", "evaluate_targets", "main", "markdown", "measure_estimation"]

def run_child(task: dict[str, Any], timeout: float = 3600.0) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; {"error": ...} if it fails."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(task)]
    start = time.perf_counter()
    try:
        proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    wall = time.perf_counter() - start
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            return {**json.loads(line[len(RESULT_TAG):]), "process_s": wall}
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return {"error": " / ".join(tail) or f"exit code {proc.returncode}"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine_info() -> dict[str, Any]:
    import importlib.metadata

    import psutil

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu,
            "cores": os.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "os": platform.platform(), "python": platform.python_version(),
            "packages": versions}


def measure_pipeline(work: Path, reruns: int) -> dict[str, Any]:
    log("pipeline: compiling the project's bytecode")
    compile_bytecode()
    task = {"kind": "imports"}
    root = str(work / "pipeline")
    log(f"pipeline: {COLD_RUNS} x (import the scientific stack, then a cold run with --force)")
    imports, colds = [], []
    for _ in range(COLD_RUNS):
        imports.append(run_child(task))
        colds.append(run_child({"kind": "pipeline", "output_root": root, "force": True}))
    log(f"pipeline: {reruns} reruns")
    rerun = [run_child({"kind": "pipeline", "output_root": root, "force": False})
             for _ in range(reruns)]
    ok_imports = [r for r in imports if "error" not in r]
    import_s = statistics.median(r["process_s"] for r in ok_imports) if ok_imports else None
    baseline = max((r["baseline_mb"] for r in ok_imports), default=None)
    ok_reruns = [r for r in rerun if "error" not in r]
    rerun_s = statistics.median(r["seconds"] for r in ok_reruns) if ok_reruns else None
    ok_colds = sorted((r for r in colds if "error" not in r), key=lambda r: r["seconds"])
    cold = ok_colds[len(ok_colds) // 2] if ok_colds else colds[0]  # the median run
    log(f"pipeline: {WIDER_RUNS} imports of each wider stack")
    wider = {}
    for label, modules in WIDER_STACKS.items():
        runs = [run_child({"kind": "imports", "modules": list(modules)})
                for _ in range(WIDER_RUNS)]
        ok = [r["process_s"] for r in runs if "error" not in r]
        wider[label] = {"modules": list(modules), "runs_s": ok,
                        "import_s": statistics.median(ok) if ok else None}
    return {"imports": imports, "import_s": import_s, "import_baseline_mb": baseline,
            "cold": cold, "colds": colds, "reruns": rerun, "rerun_s": rerun_s,
            "wider_imports": wider, "output_root": root}


def measure_estimation(sizes: list[int], with_sm_1m: bool, repeats: int = 3
                       ) -> list[dict[str, Any]]:
    """Each path at each size ``repeats`` times, in fresh processes, the paths taking turns
    (so a change of load on the machine hits all of them alike); the median run counts."""
    rows = []
    for n in sizes:
        runs: dict[str, list[dict[str, Any]]] = {}
        for repeat in range(repeats):
            for path in ("reference", "pipeline", "statsmodels"):
                if path == "statsmodels" and (repeat > 0 or
                                              (n >= STATSMODELS_GUARD and not with_sm_1m)):
                    continue  # statsmodels is far off the targets: once is enough
                log(f"estimation: n={n:,} {path} (run {repeat + 1} of {repeats})")
                runs.setdefault(path, []).append(
                    run_child({"kind": "estimation", "n": n, "path": path}))
        for path in ("reference", "pipeline", "statsmodels"):
            if path not in runs:
                rows.append({"n": n, "path": path, "skipped": "skipped (memory)"})
                continue
            done = sorted((r for r in runs[path] if "seconds" in r), key=lambda r: r["seconds"])
            median = done[len(done) // 2] if done else runs[path][0]
            rows.append({"n": n, "path": path, **median,
                         "runs_s": [r.get("seconds") for r in runs[path]]})
    reference = {r["n"]: r for r in rows if r["path"] == "reference" and "seconds" in r}
    for r in rows:
        ref = reference.get(r["n"])
        if ref and "seconds" in r:
            r["time_ratio"] = r["seconds"] / ref["seconds"]
            r["peak_ratio"] = r["peak_mb"] / ref["peak_mb"]
    return rows


def ensure_analysis_data(work: Path, pipeline: dict[str, Any] | None) -> str:
    """An output root holding data_clean/analysis_data.parquet (from the cold run if any)."""
    if pipeline and (Path(pipeline["output_root"]) / "data_clean" /
                     "analysis_data.parquet").is_file():
        return pipeline["output_root"]
    root = work / "data"
    subprocess.run([sys.executable, str(ROOT / "run_all.py"), "--only", "clean", "--only",
                    "build", "--output-root", str(root)], cwd=ROOT, capture_output=True,
                   check=False)
    return str(root)


def measure_bootstrap(work: Path, data_root: str, reps: int, workers: list[int]
                      ) -> dict[str, Any]:
    import numpy as np

    runs = []
    files = {}
    for n_jobs in workers:
        log(f"bootstrap: project, {reps} replications, {n_jobs} worker(s)")
        files[n_jobs] = work / f"boot_{n_jobs}.npy"
        runs.append({"path": "project", "workers": n_jobs, **run_child(
            {"kind": "bootstrap_project", "data_root": data_root, "reps": reps, "seed": SEED,
             "n_jobs": n_jobs, "save": str(files[n_jobs])})})
    log(f"bootstrap: plain sequential statsmodels loop, {reps} replications")
    sm_file = work / "boot_sm.npy"
    sm_run = {"path": "statsmodels loop", "workers": 1, **run_child(
        {"kind": "bootstrap_statsmodels", "data_root": data_root, "reps": reps, "seed": SEED,
         "save": str(sm_file)})}
    runs.append(sm_run)
    out: dict[str, Any] = {"reps": reps, "runs": runs}
    loaded = {k: np.load(f) for k, f in files.items() if f.is_file()}
    if len(loaded) >= 2:
        arrays = list(loaded.values())
        out["identical_across_workers"] = all(
            np.array_equal(arrays[0], a, equal_nan=True) for a in arrays[1:])
    if loaded and sm_file.is_file():
        sm_values = np.load(sm_file)
        ours = next(iter(loaded.values()))
        both = ~np.isnan(ours).any(axis=1) & ~np.isnan(sm_values).any(axis=1)
        if both.any() and ours.shape == sm_values.shape:
            out["max_abs_diff_vs_statsmodels"] = float(np.abs(ours[both] - sm_values[both]).max())
    if "seconds" in sm_run:
        for r in runs:
            if "seconds" in r:
                r["ratio_to_statsmodels"] = r["seconds"] / sm_run["seconds"]
    return out


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: sizes 1604,20000, 19 bootstrap replications, 1 rerun")
    parser.add_argument("--sizes", help="comma-separated numbers of firms "
                        "(default 1604,100000,1000000; quick 1604,20000)")
    parser.add_argument("--reps", type=int, help="bootstrap replications (default 999)")
    parser.add_argument("--workers", default="1,2", help="bootstrap worker counts (default 1,2)")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["pipeline", "estimation", "bootstrap"],
                        help="leave out a group of measurements (repeatable)")
    parser.add_argument("--with-statsmodels-1m", action="store_true",
                        help="also run statsmodels get_margeff at >= 1,000,000 firms (~15 GB)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results",
                        help="folder for the results (latest.* or quick.*)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        return child_main(args.child)
    sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes
             else [1604, 20_000] if args.quick else [1604, 100_000, 1_000_000])
    reps = args.reps or (19 if args.quick else 999)
    workers = [int(w) for w in args.workers.split(",")]
    started = time.perf_counter()
    report: dict[str, Any] = {"mode": "quick" if args.quick else "full",
                              "command": "python bench/run_benchmark.py "
                              + " ".join(sys.argv[1:] if argv is None else argv),
                              "machine": machine_info()}
    work = Path(tempfile.mkdtemp(prefix="bench_"))
    try:
        if "pipeline" not in args.skip:
            report["pipeline"] = measure_pipeline(work, reruns=1 if args.quick else 3)
        if "estimation" not in args.skip:
            report["estimation"] = measure_estimation(sizes, args.with_statsmodels_1m,
                                                      repeats=1 if args.quick else 3)
        if "bootstrap" not in args.skip:
            data_root = ensure_analysis_data(work, report.get("pipeline"))
            report["bootstrap"] = measure_bootstrap(work, data_root, reps, workers)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["total_s"] = time.perf_counter() - started
    report["targets"] = evaluate_targets(report)
    text = markdown(report)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "quick" if args.quick else "latest"
    (args.out / f"{stem}.md").write_text(text)
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(text)
    log(f"wrote {args.out / (stem + '.md')} and {stem}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
