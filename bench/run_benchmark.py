"""Benchmark of the replication package (issue 7): time and peak memory.

    uv run python bench/run_benchmark.py                  # full run -> bench/results/latest.*
    uv run python bench/run_benchmark.py --quick          # smoke run -> bench/results/quick.*
    uv run python bench/run_benchmark.py --sizes 1604,100000 --reps 199

Every measurement runs in a fresh child process (this script with --child), so peaks do
not mix. See bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `analysis` importable
    sys.path.insert(0, str(ROOT))

#: The bare scientific stack a replication cannot avoid importing (issue 15): the cold run
#: is compared with the time a fresh interpreter takes to import just these.
SCIENTIFIC_STACK = ("numpy", "pandas", "scipy", "matplotlib", "pyreadstat")
#: Wider stacks, measured beside it for the reader (not a target): the design card's
#: packages (stargazer imports statsmodels and linearmodels to register its translators,
#: so a run that uses stargazer pays for both), and every third-party package a run imports.
DESIGN_CARD_STACK = (*SCIENTIFIC_STACK, "statsmodels.api", "linearmodels", "stargazer.stargazer")
RUN_STACK = (*DESIGN_CARD_STACK, "pyarrow.parquet", "docx", "pytask", "joblib")
WIDER_STACKS = {"design card's packages": DESIGN_CARD_STACK,
                "third-party packages a run imports": RUN_STACK}
#: Import-only runs of each wider stack (the median is shown).
WIDER_RUNS = 3
#: Cold runs of the full replication, each after an import-only run (the medians are
#: compared): on a shared machine the speed drifts by 10-20% within minutes.
COLD_RUNS = 5
#: Seconds between two polls of the RSS of a process tree: often enough for the peaks of
#: seconds-long steps, rarely enough that the poller (psutil walks /proc) does not take
#: CPU from the pipeline it measures (every 5 ms it took ~20% of a core).
TREE_POLL_S = 0.05
PACKAGES = ("numpy", "scipy", "pandas", "statsmodels", "linearmodels", "joblib", "pyarrow",
            "matplotlib", "stargazer", "psutil")
N_REGRESSORS = 30
N_CLUSTERS = 1_600
SEED = 20110601
RESULT_TAG = "BENCH_RESULT "
STATSMODELS_GUARD = 1_000_000  # get_margeff needs ~15 GB here (issue 7)
TARGETS = {"rerun_s": 1.5, "cold_over_import": 3.0, "estimation_over_reference": 1.5,
           "estimation_peak_mb": 2048.0, "bootstrap_over_statsmodels": 0.2}


# ============================================================================ memory


def current_rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _reset_peak() -> bool:
    """Reset this process's peak RSS (Linux: VmHWM via /proc/self/clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_self_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pss_bytes(pid: int) -> float | None:
    """Proportional set size of a process (Linux): pages shared with other processes, as
    a forked worker's copy-on-write pages are, count once over all of them, so the PSS
    of a process tree adds up to its real memory where the RSS counts them repeatedly."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class PeakMemory:
    """Peak RSS during a block: this process (VmHWM after a reset) and the process tree
    (self + descendants, e.g. run_all or joblib workers), polled every ``interval`` s."""

    def __init__(self, interval: float = TREE_POLL_S) -> None:
        self.interval = interval
        self.tree_peak = 0.0
        self.children_peak = 0.0
        self.children_pss_peak: float | None = None
        self._stop = threading.Event()

    def _poll(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            total = 0.0
            others = 0.0
            others_pss: float | None = 0.0
            try:
                procs = [me, *me.children(recursive=True)]
                for p in procs:
                    try:
                        rss = p.memory_info().rss
                    except psutil.Error:
                        continue
                    total += rss
                    if p.pid != me.pid:
                        others += rss
                        pss = _pss_bytes(p.pid)
                        others_pss = None if pss is None or others_pss is None \
                            else others_pss + pss
            except psutil.Error:
                pass
            self.tree_peak = max(self.tree_peak, total / 2**20)
            self.children_peak = max(self.children_peak, others / 2**20)
            if others_pss is not None and others:
                self.children_pss_peak = max(self.children_pss_peak or 0.0, others_pss / 2**20)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        gc.collect()
        self.before = current_rss_mb()
        _reset_peak()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.self_peak = _peak_self_mb()
        # Largest terminated child (run_all); this child process is fresh, so no mixing.
        waited = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        self.children_peak = max(self.children_peak, waited)
        self.peak = max(self.self_peak, self.tree_peak)


# ====================================================================== child tasks


def make_firms(n: int, seed: int = SEED):
    """Synthetic firms: 20 continuous regressors (correlated), 5 independent dummies and a
    6-level factor (5 dummies) = 30 regressors; ~1,600 clusters (n // 10 when smaller);
    logit outcome with moderate effects (no separation)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_cont, n_dummy, n_levels = 20, 5, 6
    common = rng.standard_normal(n)
    columns: dict[str, Any] = {}
    for j in range(n_cont):
        columns[f"x{j + 1}"] = 0.5 * common + rng.standard_normal(n)
    for j in range(n_dummy):
        columns[f"d{j + 1}"] = (rng.random(n) < 0.2 + 0.1 * j).astype(np.float64)
    level = rng.integers(0, n_levels, n)
    for j in range(1, n_levels):
        columns[f"f{j + 1}"] = (level == j).astype(np.float64)
    data = pd.DataFrame(columns)
    regressors = list(data.columns)
    assert len(regressors) == N_REGRESSORS
    beta = rng.uniform(-0.3, 0.3, N_REGRESSORS)
    groups = min(N_CLUSTERS, max(2, n // 10))
    data["g"] = rng.integers(0, groups, n)
    shock = rng.normal(scale=0.3, size=groups)[data["g"].to_numpy()]
    index = data[regressors].to_numpy() @ beta - 0.2 + shock
    data["y"] = (rng.logistic(size=n) < index).astype(np.float64)
    binary = [c for c in regressors if not c.startswith("x")]
    factor = [[f"f{j + 1}" for j in range(1, n_levels)]]
    return data, regressors, binary, factor


def reference_newton_logit(data, regressors, outcome="y"):
    """The minimal NumPy reference: logit Newton with X'WX, SEs from the inverse Hessian."""
    import numpy as np

    X = np.column_stack([data[regressors].to_numpy(np.float64), np.ones(len(data))])
    y = data[outcome].to_numpy(np.float64)
    b = np.zeros(X.shape[1])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(X @ b)))
        hess = X.T @ (X * (p * (1.0 - p))[:, None])
        step = np.linalg.solve(hess, X.T @ (y - p))
        b += step
        if np.abs(step).max() < 1e-10:
            break
    return b, np.sqrt(np.diag(np.linalg.inv(hess)))


def child_estimation(task: dict[str, Any]) -> dict[str, Any]:
    """Fit + clustered SEs + AMEs with delta-method SEs at n firms, by one `path`."""
    import numpy as np  # noqa: F401
    import pandas  # noqa: F401
    import scipy.special  # noqa: F401

    path = task["path"]
    if path == "pipeline":
        from analysis.models.estimation import average_marginal_effects, fit_model
    elif path == "statsmodels":
        import statsmodels.api as sm
    baseline = current_rss_mb()
    data, regressors, binary, factor = make_firms(task["n"])
    gc.collect()
    data_mb = current_rss_mb() - baseline
    detail: dict[str, Any] = {}
    with PeakMemory() as mem:
        start = time.perf_counter()
        if path == "pipeline":
            fit = fit_model(data, "y", regressors, estimator="logit", se_type="cluster",
                            cluster="g", model_id="bench")
            t_fit = time.perf_counter()
            ames = average_marginal_effects(fit, binary=binary, factor_groups=factor)
            detail = {"fit_s": t_fit - start, "ame_s": time.perf_counter() - t_fit,
                      "iterations": fit.iterations, "first_ame": float(ames.estimates[0]),
                      "first_ame_se": float(ames.std_errors[0])}
        elif path == "statsmodels":
            exog = sm.add_constant(data[regressors], prepend=False)
            res = sm.Logit(data["y"], exog).fit(
                method="newton", disp=0, cov_type="cluster",
                cov_kwds={"groups": data["g"].to_numpy()})
            t_fit = time.perf_counter()
            margeff = res.get_margeff(at="overall", dummy=True)
            detail = {"fit_s": t_fit - start, "ame_s": time.perf_counter() - t_fit,
                      "first_ame": float(margeff.margeff[0]),
                      "first_ame_se": float(margeff.margeff_se[0])}
        else:
            b, _ = reference_newton_logit(data, regressors)
            detail = {"first_coef": float(b[0])}
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": mem.peak, "baseline_mb": baseline,
            "data_mb": data_mb, **detail}


def child_imports(task: dict[str, Any]) -> dict[str, Any]:
    """Import a stack (``task["modules"]``, by default the bare SCIENTIFIC_STACK); the
    parent times the process."""
    import importlib

    os.environ.setdefault("MPLBACKEND", "Agg")
    modules = task.get("modules", SCIENTIFIC_STACK)
    start = time.perf_counter()
    for name in modules:
        importlib.import_module(name)
    return {"import_s": time.perf_counter() - start, "baseline_mb": _peak_self_mb(),
            "modules": list(modules)}


def compile_bytecode() -> None:
    """Bytecode for the project's modules (uv compiles the installed packages at install:
    ``compile-bytecode`` in pyproject.toml), so that cold runs and imports compare alike."""
    import compileall

    for folder in ("analysis", "bench"):
        compileall.compile_dir(str(ROOT / folder), quiet=1)
    compileall.compile_file(str(ROOT / "run_all.py"), quiet=1)


def child_pipeline(task: dict[str, Any]) -> dict[str, Any]:
    """run_all.py in a subprocess (cold with --force, or a rerun), timed from outside."""
    argv = [sys.executable, str(ROOT / "run_all.py"), "--output-root", task["output_root"]]
    argv += ["--force"] if task["force"] else []
    with PeakMemory() as mem:
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    # Step lines look like "[4/10] estimate: ran in 3.10 s (...)"; keep the steps that ran.
    ran = [line.split("]", 1)[1].split(":")[0].strip() for line in lines
           if line.startswith("[") and ": ran in " in line]
    return {"seconds": seconds, "peak_mb": mem.children_peak,
            "peak_pss_mb": mem.children_pss_peak, "returncode": proc.returncode,
            "last_line": lines[-1] if lines else "", "steps_ran": ran}


def _bootstrap_setup(data_root: str):
    import pandas as pd

    from analysis import config
    from analysis.models.headline import headline_setup
    from analysis.models.specification import load_model_spec

    root = Path(data_root) / "data_clean"
    data = pd.read_parquet(root / "analysis_data.parquet")
    meta = root / "analysis_meta.json"
    unavailable = json.loads(meta.read_text()).get("unavailable", []) if meta.is_file() else []
    headline = headline_setup(load_model_spec(config.DEFAULT_MODEL_SPEC),
                                         unavailable)
    return data, headline


def child_bootstrap_project(task: dict[str, Any]) -> dict[str, Any]:
    """The project's bootstrap of the breadth AMEs (robustness.bootstrap_frame: blocks of
    replications fitted at once by estimation.batched, joblib threads, seeded per
    replication)."""
    import numpy as np

    from analysis.models import robustness

    data, headline = _bootstrap_setup(task["data_root"])
    baseline = current_rss_mb()
    with PeakMemory() as mem:
        start = time.perf_counter()
        _, result = robustness.bootstrap_frame(data, headline, task["reps"], task["seed"],
                                               n_jobs=task["n_jobs"])
        seconds = time.perf_counter() - start
    np.save(task["save"], result.replicates)
    return {"seconds": seconds, "peak_mb": mem.peak, "baseline_mb": baseline,
            "failed": result.failed, "statistics": len(result.names)}


def child_bootstrap_statsmodels(task: dict[str, Any]) -> dict[str, Any]:
    """The plain sequential loop: per replication and outcome, sm.Logit + get_margeff, on
    the same resampled rows as the project's bootstrap (same per-replication generators)."""
    import warnings

    import numpy as np
    import statsmodels.api as sm

    from analysis.models import resampling
    from analysis.models.headline import fit_with_margins, model_data

    data, headline = _bootstrap_setup(task["data_root"])
    variables = headline.variables(headline.control_blocks)
    # The estimation samples of the project's fits (design.X holds "const" last).
    models = [fit_with_margins(
        model_data(data, o, variables), headline.main,
        estimator=headline.estimator, se_type=headline.se, model_id=o)[0].design
        for o in headline.outcomes]
    main = list(headline.main)
    contrast = headline.has_difference
    model_class = sm.Logit if headline.estimator == "logit" else sm.Probit
    baseline = current_rss_mb()
    reps = task["reps"]
    width = len(models) * (len(main) + int(contrast))
    out = np.full((reps, width), np.nan)
    failed = 0
    with PeakMemory() as mem, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        for r in range(reps):
            rng = resampling.replication_rng(task["seed"], r)
            row: list[float] = []
            try:
                for md in models:
                    idx = resampling.resample_indices(rng, md.y.size)
                    res = model_class(md.y[idx], md.X[idx]).fit(disp=0)
                    effects = res.get_margeff(at="overall").margeff
                    ame = {t: effects[md.terms.index(t)] for t in main}
                    row += [ame[t] for t in main]
                    if contrast:
                        row.append(ame[headline.international] - ame[headline.local])
                out[r] = row
            except Exception:  # noqa: BLE001  (a failed replicate stays NaN, as in the project)
                failed += 1
        seconds = time.perf_counter() - start
    np.save(task["save"], out)
    return {"seconds": seconds, "peak_mb": mem.peak, "baseline_mb": baseline, "failed": failed}


CHILD_TASKS = {"estimation": child_estimation, "imports": child_imports,
               "pipeline": child_pipeline, "bootstrap_project": child_bootstrap_project,
               "bootstrap_statsmodels": child_bootstrap_statsmodels}


def child_main(task_json: str) -> int:
    task = json.loads(task_json)
    result = CHILD_TASKS[task["kind"]](task)
    print(RESULT_TAG + json.dumps(result), flush=True)
    return 0


# ============================================================================ parent


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


# ========================================================================= reporting


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def paired_ratios(pipe: dict[str, Any]) -> list[float]:
    """Each cold run over the import-only run just before it (the same machine state)."""
    return [c["seconds"] / i["process_s"] for i, c in zip(pipe.get("imports", []),
                                                        pipe.get("colds", []), strict=False)
            if "seconds" in c and "process_s" in i and c.get("returncode") == 0]


def paired_note(pipe: dict[str, Any]) -> str:
    ratios = paired_ratios(pipe)
    if len(ratios) < 2:
        return ""
    return (f" (run by run: {', '.join(fmt(r) for r in ratios)}; median "
            f"{fmt(statistics.median(ratios))}x)")


def evaluate_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    targets = []
    pipe = report.get("pipeline")
    if pipe:
        rerun = pipe["rerun_s"]
        targets.append({"target": f"rerun with nothing changed < {TARGETS['rerun_s']} s",
                        "measured": f"{fmt(rerun)} s",
                        "met": None if rerun is None else rerun < TARGETS["rerun_s"]})
        cold = pipe["cold"]
        ratio = (cold["seconds"] / pipe["import_s"]
                 if "seconds" in cold and pipe["import_s"] else None)
        complete = cold.get("returncode") == 0
        targets.append({
            "target": f"cold replication <= {TARGETS['cold_over_import']}x the import of "
                      f"{', '.join(SCIENTIFIC_STACK)} (bytecode compiled)",
            "measured": f"{fmt(cold.get('seconds'))} s / {fmt(pipe['import_s'])} s = "
                        f"{fmt(ratio)}x" + paired_note(pipe) + (
                            "" if complete else " (run failed: "
                            f"{cold.get('last_line') or cold.get('error')})"),
            "met": None if ratio is None or not complete else
            ratio <= TARGETS["cold_over_import"]})
        for label, stack in pipe.get("wider_imports", {}).items():
            wider = (cold["seconds"] / stack["import_s"]
                     if "seconds" in cold and stack.get("import_s") else None)
            targets.append({
                "target": f"(for the reader, no target) cold replication over the import "
                          f"of the {label}",
                "measured": f"{fmt(cold.get('seconds'))} s / {fmt(stack.get('import_s'))} s = "
                            f"{fmt(wider)}x",
                "met": None})
    est = [r for r in report.get("estimation", []) if r["path"] == "pipeline"]
    if est:
        big = max(est, key=lambda r: r["n"])
        ratio = big.get("time_ratio")
        targets.append({
            "target": f"estimation at {big['n']:,} firms <= "
                      f"{TARGETS['estimation_over_reference']}x NumPy reference time",
            "measured": f"{fmt(ratio)}x ({fmt(big.get('seconds'))} s)",
            "met": None if ratio is None else ratio <= TARGETS["estimation_over_reference"]})
        peak = big.get("peak_mb")
        targets.append({
            "target": f"estimation at {big['n']:,} firms peak memory < 2 GB",
            "measured": f"{fmt(peak, 0)} MB",
            "met": None if peak is None else peak < TARGETS["estimation_peak_mb"]})
    boot = report.get("bootstrap")
    if boot:
        best = [r for r in boot["runs"] if r["path"] == "project" and "ratio_to_statsmodels" in r]
        ratio = min((r["ratio_to_statsmodels"] for r in best), default=None)
        targets.append({
            "target": f"bootstrap ({boot['reps']} reps) <= "
                      f"{TARGETS['bootstrap_over_statsmodels']}x sequential statsmodels loop",
            "measured": f"{fmt(ratio, 3)}x (best worker count)",
            "met": None if ratio is None else ratio <= TARGETS["bootstrap_over_statsmodels"]})
        same = boot.get("identical_across_workers")
        targets.append({"target": "bootstrap results identical for 1 and 2 workers",
                        "measured": "identical" if same else ("differ" if same is False
                                                              else "n/a"),
                        "met": same})
    return targets


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [f"# Benchmark results ({report['mode']})", "",
             f"- Date: {m['date']}",
             f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; {m['os']}",
             f"- Python {m['python']}; " + ", ".join(
                 f"{k} {v}" for k, v in m["packages"].items() if v),
             f"- Command: `{report['command']}`; total {fmt(report['total_s'], 0)} s", ""]
    lines += ["## Targets (issues 7 and 15)", "", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {t['target']} | {t['measured']} | {verdict(t['met'])} |"
              for t in report["targets"]]
    pipe = report.get("pipeline")
    if pipe:
        cold, base = pipe["cold"], pipe["import_baseline_mb"]
        lines += ["", "## Full default replication", "",
                  "Wall time of a fresh `python run_all.py` process; peak RSS and PSS of its "
                  "process tree (summed over the processes, polled; the RSS counts the pages "
                  "that forked processes share once per process, the PSS once in all). "
                  "Baseline: RSS of an interpreter that imported the bare scientific stack.",
                  "",
                  "| measurement | time (s) | peak RSS (MB) | peak PSS (MB) | baseline (MB) "
                  "| increment (MB) | ratio to import time | status |",
                  "|---|---:|---:|---:|---:|---:|---:|---|"]
        what = ", ".join(SCIENTIFIC_STACK)
        lines.append(f"| import {what} | {fmt(pipe['import_s'])} | {fmt(base, 0)} | "
                     f"| {fmt(base, 0)} | 0 | 1.00 | median of {len(pipe['imports'])}: "
                     f"{', '.join(fmt(r.get('process_s')) for r in pipe['imports'])} |")
        for label, stack in pipe.get("wider_imports", {}).items():
            extra = [m for m in stack["modules"] if m not in SCIENTIFIC_STACK]
            ratio = (stack["import_s"] / pipe["import_s"]
                     if stack.get("import_s") and pipe["import_s"] else None)
            lines.append(f"| import the {label} (the bare stack and "
                         f"{', '.join(extra)}) | {fmt(stack.get('import_s'))} | | | | | "
                         f"{fmt(ratio)} | median of {len(stack['runs_s'])}: "
                         f"{', '.join(fmt(t) for t in stack['runs_s'])} |")
        colds = pipe.get("colds", [cold])
        cold_times = ", ".join(fmt(r.get("seconds")) for r in colds)
        for label, run in [(f"cold (`--force`), median of {len(colds)}: {cold_times}", cold),
                           *[(f"rerun {i + 1} (nothing changed)", r)
                             for i, r in enumerate(pipe["reruns"])]]:
            if "error" in run:
                lines.append(f"| {label} | | | | | | | error: {run['error']} |")
                continue
            inc = run["peak_mb"] - base if base else None
            ratio = run["seconds"] / pipe["import_s"] if pipe["import_s"] else None
            status = "ok" if run["returncode"] == 0 else f"exit {run['returncode']}: " \
                f"{run['last_line']}"
            if run["returncode"] == 0 and not label.startswith("cold"):
                status = f"ok; steps rerun: {', '.join(run['steps_ran']) or 'none'}"
            lines.append(f"| {label} | {fmt(run['seconds'])} | {fmt(run['peak_mb'], 0)} | "
                         f"{fmt(run.get('peak_pss_mb'), 0)} | {fmt(base, 0)} | {fmt(inc, 0)} | "
                         f"{fmt(ratio)} | {status} |")
    est = report.get("estimation")
    if est:
        lines += ["", "## Estimation layer", "",
                  f"Logit, {N_REGRESSORS} regressors + constant (20 continuous, 5 dummies, a "
                  "6-level factor), clustered SEs (~1,600 clusters), AMEs of all 30 regressors "
                  "with delta-method SEs (discrete changes for dummies). *pipeline*: "
                  "`fit_model` + `average_marginal_effects`; *statsmodels*: `sm.Logit(...)"
                  ".fit(cov_type='cluster')` + `get_margeff(dummy=True)`; *reference*: "
                  "NumPy Newton (X'WX), inverse-Hessian SEs only, no AMEs. Peak: RSS "
                  "high-water mark during the work (includes the imports and the data); "
                  "baseline: RSS after the imports; data: the generated DataFrame. Each row is "
                  "the median of the runs listed (fresh processes, the paths taking turns; "
                  "statsmodels once).", "",
                  "| firms | path | time (s) | x reference | fit (s) | AMEs (s) | peak (MB) "
                  "| baseline (MB) | data (MB) | increment (MB) | peak x reference | runs (s) |",
                  "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in est:
            if "skipped" in r or "error" in r:
                why = r.get("skipped") or f"error: {r['error']}"
                lines.append(f"| {r['n']:,} | {r['path']} | {why} | | | | | | | | | |")
                continue
            lines.append(
                f"| {r['n']:,} | {r['path']} | {fmt(r['seconds'])} | {fmt(r.get('time_ratio'))} "
                f"| {fmt(r.get('fit_s'))} | {fmt(r.get('ame_s'))} | {fmt(r['peak_mb'], 0)} "
                f"| {fmt(r['baseline_mb'], 0)} | {fmt(r['data_mb'], 0)} "
                f"| {fmt(r['peak_mb'] - r['baseline_mb'], 0)} | {fmt(r.get('peak_ratio'))} "
                f"| {', '.join(fmt(t) for t in r.get('runs_s', []))} |")
    boot = report.get("bootstrap")
    if boot:
        lines += ["", f"## Bootstrap of the breadth AMEs ({boot['reps']} replications, "
                  "default data)", "",
                  "*project*: `analysis.models.robustness.bootstrap_frame` (blocks of replications "
                  "fitted at once by `analysis.models.estimation.batched`, joblib threads, "
                  "seeded per replication; all headline outcomes per replication). "
                  "*statsmodels loop*: "
                  "the same resamples, sequential, `sm.Logit().fit()` + `get_margeff()` per "
                  "outcome, default BLAS threads. Peak: sum of RSS over the process and its "
                  "workers.", "",
                  "| path | workers | time (s) | x statsmodels loop | peak (MB) | failed reps |",
                  "|---|---:|---:|---:|---:|---:|"]
        for r in boot["runs"]:
            if "error" in r:
                lines.append(f"| {r['path']} | {r['workers']} | error: {r['error']} | | | |")
                continue
            lines.append(f"| {r['path']} | {r['workers']} | {fmt(r['seconds'])} | "
                         f"{fmt(r.get('ratio_to_statsmodels'), 3)} | {fmt(r['peak_mb'], 0)} | "
                         f"{r.get('failed', '')} |")
        same = boot.get("identical_across_workers")
        diff = boot.get("max_abs_diff_vs_statsmodels")
        lines += ["", f"Replicates identical across worker counts: "
                  f"{'yes' if same else ('no' if same is False else 'n/a')}; largest absolute "
                  f"difference from the statsmodels loop on the same resamples: "
                  f"{'n/a' if diff is None else f'{diff:.1e}'}."]
    return "\n".join(lines) + "\n"


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
