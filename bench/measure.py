"""The measurements of the benchmark, each run in a fresh child process
(``run_benchmark.py --child``): peak memory of a process tree, the synthetic firms of the
estimation measurements, and one function per kind of measurement (``CHILD_TASKS``)."""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.settings import (
    N_CLUSTERS,
    N_REGRESSORS,
    RESULT_TAG,
    ROOT,
    SCIENTIFIC_STACK,
    SEED,
    TREE_POLL_S,
)

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
