"""Seeded, parallel bootstrap whose results do not depend on the number of workers.

Replication ``r`` draws from its own generator,
``numpy.random.default_rng(SeedSequence(seed, spawn_key=(r,)))`` (the ``r``-th child of
``SeedSequence(seed).spawn``), so which worker runs it, and in which order, never changes
its draws. Replications run in chunks through joblib (loky processes); each worker limits
BLAS to one thread (threadpoolctl when installed, else the ``OMP_NUM_THREADS``-style
variables joblib sets for loky workers), so the cores are not oversubscribed.

Pure functions: no file I/O. The statistic is any picklable callable
``statistic(rng) -> 1-d array`` (e.g. a :func:`functools.partial` of a module-level
function over the data arrays).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, parallel_config
from scipy import stats

from analysis.estimation import EstimationError

#: Replications per joblib task: large enough that process overhead is negligible,
#: small enough that two workers share the load evenly.
CHUNK_SIZE = 25
INTERVAL_COLUMNS = ["term", "estimate", "boot_se", "percentile_lower", "percentile_upper",
                    "normal_lower", "normal_upper", "replications", "failed"]

Statistic = Callable[[np.random.Generator], np.ndarray]


class BootstrapError(ValueError):
    """Bad bootstrap settings, or a statistic that returns the wrong shape."""


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """Replicates (one row per replication, NaN where it failed) and each failure's reason."""

    names: tuple[str, ...]
    replicates: np.ndarray
    errors: tuple[str, ...]
    seed: int

    @property
    def reps(self) -> int:
        return int(self.replicates.shape[0])

    @property
    def failed(self) -> int:
        return sum(bool(e) for e in self.errors)

    def failure_summary(self) -> str:
        """How many replications failed and why (the distinct error names), or ""."""
        if not self.failed:
            return ""
        kinds = sorted({e.split(":", 1)[0] for e in self.errors if e})
        return (f"{self.failed} of {self.reps} bootstrap replications could not be estimated "
                f"({', '.join(kinds)}); intervals use the {self.reps - self.failed} others")


def replication_rng(seed: int, replication: int) -> np.random.Generator:
    """The generator of replication ``replication`` (independent of workers and order)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replication,)))


def resample_indices(rng: np.random.Generator, n: int) -> np.ndarray:
    """Row indices of one pairs-bootstrap sample: ``n`` draws with replacement from ``n``."""
    return rng.integers(0, n, size=n)


@contextlib.contextmanager
def single_blas_thread() -> Iterator[None]:
    """Limit BLAS/OpenMP to one thread inside a worker (no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # loky workers already get OMP_NUM_THREADS etc. = 1 (see below)
        yield
        return
    with threadpool_limits(limits=1):
        yield


def _run_chunk(statistic: Statistic, seed: int, replications: Sequence[int],
               tolerate: tuple[type[BaseException], ...]) -> list[tuple[np.ndarray | None, str]]:
    """Run a block of replications; a tolerated error is recorded by name and message."""
    out: list[tuple[np.ndarray | None, str]] = []
    with single_blas_thread():
        for r in replications:
            try:
                values = np.asarray(statistic(replication_rng(seed, r)), dtype=np.float64)
            except tolerate as err:
                out.append((None, f"{type(err).__name__}: {err}"))
                continue
            out.append((values, ""))
    return out


def chunks(total: int, size: int = CHUNK_SIZE) -> list[range]:
    """Consecutive ranges covering ``range(total)``."""
    return [range(start, min(start + size, total)) for start in range(0, total, size)]


def run_parallel(function: Callable, tasks: Sequence[tuple], n_jobs: int = -1) -> list:
    """``[function(*task) for task in tasks]`` through joblib, results in task order.

    Workers are loky processes with one BLAS thread each; n_jobs=1 runs in this process.
    """
    if n_jobs == 0:
        raise BootstrapError("n_jobs = 0 is not allowed (use -1 for all cores, or >= 1)")
    with parallel_config(backend="loky", inner_max_num_threads=1):
        return Parallel(n_jobs=n_jobs)(delayed(function)(*task) for task in tasks)


def run_bootstrap(
    statistic: Statistic,
    names: Sequence[str],
    reps: int,
    seed: int,
    *,
    n_jobs: int = -1,
    chunk_size: int = CHUNK_SIZE,
    tolerate: tuple[type[BaseException], ...] = (EstimationError,),
) -> BootstrapResult:
    """Evaluate ``statistic(rng_r)`` for r = 0..reps-1 in parallel.

    ``names`` labels the statistic's entries. A replication raising one of ``tolerate``
    (by default any estimation problem, e.g. perfect separation in a resample) is kept as
    a row of NaN with its error recorded; any other exception propagates.
    """
    if reps < 2:
        raise BootstrapError(f"bootstrap needs at least 2 replications, got {reps}")
    tasks = [(statistic, seed, block, tolerate) for block in chunks(reps, chunk_size)]
    results = [item for part in run_parallel(_run_chunk, tasks, n_jobs) for item in part]
    k = len(names)
    replicates = np.full((reps, k), np.nan)
    errors = []
    for r, (values, error) in enumerate(results):
        if values is not None:
            if values.shape != (k,):
                raise BootstrapError(f"bootstrap statistic returned shape {values.shape} in "
                                     f"replication {r}; expected ({k},) for {list(names)}")
            replicates[r] = values
        errors.append(error)
    return BootstrapResult(names=tuple(names), replicates=replicates, errors=tuple(errors),
                           seed=seed)


def bootstrap_intervals(result: BootstrapResult, estimates: Sequence[float],
                        level: float = 0.95) -> pd.DataFrame:
    """Percentile and normal-approximation intervals, one row per statistic.

    Percentile: the (1-level)/2 and (1+level)/2 quantiles of the successful replicates
    (linear interpolation). Normal: estimate +- z * bootstrap SE (SD of the replicates,
    ddof=1), like Stata's ``estat bootstrap, normal``.
    """
    estimates = np.asarray(estimates, dtype=float)
    if estimates.shape != (len(result.names),):
        raise BootstrapError(f"{len(estimates)} point estimates for {len(result.names)} "
                             "bootstrap statistics")
    ok = result.replicates[~np.isnan(result.replicates).any(axis=1)]
    if ok.shape[0] < 2:
        raise BootstrapError(f"only {ok.shape[0]} of {result.reps} bootstrap replications "
                             "succeeded; no interval can be computed")
    alpha = 1.0 - level
    lower, upper = np.quantile(ok, [alpha / 2.0, 1.0 - alpha / 2.0], axis=0)
    se = ok.std(axis=0, ddof=1)
    crit = stats.norm.ppf(1.0 - alpha / 2.0)
    return pd.DataFrame({
        "term": list(result.names), "estimate": estimates, "boot_se": se,
        "percentile_lower": lower, "percentile_upper": upper,
        "normal_lower": estimates - crit * se, "normal_upper": estimates + crit * se,
        "replications": ok.shape[0], "failed": result.reps - ok.shape[0]},
        columns=INTERVAL_COLUMNS)


def effective_jobs(n_jobs: int) -> int:
    """The number of workers joblib uses for ``n_jobs`` (-1 = all cores, -2 = all but one)."""
    from joblib import cpu_count

    return max(1, cpu_count() + 1 + n_jobs) if n_jobs < 0 else n_jobs
