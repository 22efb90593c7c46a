"""Seeded, parallel bootstrap whose results do not depend on the number of workers.

Replication ``r`` draws from its own generator,
``numpy.random.default_rng(SeedSequence(seed, spawn_key=(r,)))`` (the ``r``-th child of
``SeedSequence(seed).spawn``), so which worker runs it, and in which order, never changes
its draws. Replications run in chunks through joblib; BLAS is limited to one thread per
worker (threadpoolctl), so the cores are not oversubscribed and a result never depends on
how many threads BLAS used.

Batched bootstrap (run_bootstrap_batched): each task evaluates a fixed block of
replications at once (e.g. estimation.batched.bootstrap_ames, one Newton for the block).
Backend: joblib's threading backend, chosen by measurement (2-core machine shared with
another job, 2026-11-22; seconds for the whole bootstrap, workers 1 / 2):
default replication (999 replications x 3 logits, n = 1,373): threading 1.8 / 1.9,
loky 2.0 / 14.9; 100,000 firms (80 replications, one logit with 21 terms): threading
8.5 / 9.9, loky 11.5 / 22.1. Threads need no process start-up (loky's workers import
pandas and unpickle the fits: seconds at survey size) and NumPy releases the GIL in its
array work; with loaded cores a second worker gains little either way.

Pure functions: no file I/O. The statistic is any picklable callable
``statistic(rng) -> 1-d array`` (e.g. a :func:`functools.partial` of a module-level
function over the data arrays).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import EstimationError, ModelError
from analysis.parallel import Progress, run_parallel

#: Replications per joblib task: large enough that process overhead is negligible,
#: small enough that two workers share the load evenly.
CHUNK_SIZE = 25
INTERVAL_COLUMNS = ["term", "estimate", "boot_se", "percentile_lower", "percentile_upper",
                    "normal_lower", "normal_upper", "replications", "failed"]

#: Replications per task of run_bootstrap_batched (one batched fit each): 999 replications
#: make 8 tasks, enough to share two or more workers evenly.
BATCH_CHUNK_SIZE = 128
#: joblib backend of run_bootstrap_batched (see the module docstring for the measurement).
BATCH_BACKEND = "threading"

Statistic = Callable[[np.random.Generator], np.ndarray]
BatchStatistic = Callable[[Sequence[np.random.Generator]], tuple[np.ndarray, Sequence[str]]]


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


def _run_chunk(statistic: Statistic, seed: int, replications: Sequence[int],
               tolerate: tuple[type[BaseException], ...]) -> list[tuple[np.ndarray | None, str]]:
    """Run a block of replications; a tolerated error is recorded by name and message."""
    out: list[tuple[np.ndarray | None, str]] = []
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


def _check_reps(reps: int) -> None:
    if reps < 2:
        raise ModelError(f"bootstrap needs at least 2 replications, got {reps}")


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
    _check_reps(reps)
    tasks = [(statistic, seed, block, tolerate) for block in chunks(reps, chunk_size)]
    results = [item for part in run_parallel(_run_chunk, tasks, n_jobs) for item in part]
    k = len(names)
    replicates = np.full((reps, k), np.nan)
    errors = []
    for r, (values, error) in enumerate(results):
        if values is not None:
            if values.shape != (k,):
                raise ModelError(f"bootstrap statistic returned shape {values.shape} in "
                                     f"replication {r}; expected ({k},) for {list(names)}")
            replicates[r] = values
        errors.append(error)
    return BootstrapResult(names=tuple(names), replicates=replicates, errors=tuple(errors),
                           seed=seed)


def _run_block(statistic_batch: BatchStatistic, seed: int, replications: range
               ) -> tuple[np.ndarray, list[str]]:
    """One fixed block of replications: their generators, evaluated together."""
    values, errors = statistic_batch([replication_rng(seed, r) for r in replications])
    return np.asarray(values, dtype=np.float64), list(errors)


def run_bootstrap_batched(
    statistic_batch: BatchStatistic,
    names: Sequence[str],
    reps: int,
    seed: int,
    *,
    n_jobs: int = -1,
    chunk_size: int = BATCH_CHUNK_SIZE,
    backend: str = BATCH_BACKEND,
) -> BootstrapResult:
    """Like run_bootstrap, but each task evaluates a fixed block of replications at once.

    ``statistic_batch(rngs)`` gets the generators of one block (replication r's is
    ``replication_rng(seed, r)``, as in run_bootstrap) and returns a len(rngs) x len(names)
    array and one error string per replication ("" or "ErrorName: message"; the row is
    then set to NaN). Blocks are ``chunks(reps, chunk_size)``, whatever n_jobs, so the
    results do not depend on the number of workers.
    """
    _check_reps(reps)
    if chunk_size < 1:
        raise ModelError(f"chunk_size must be at least 1, got {chunk_size}")
    blocks = chunks(reps, chunk_size)
    tasks = [(statistic_batch, seed, block) for block in blocks]
    progress = Progress("bootstrap", reps, "replications")
    k = len(names)
    replicates = np.full((reps, k), np.nan)
    errors: list[str] = []
    for block, (values, block_errors) in zip(
            blocks, run_parallel(_run_block, tasks, n_jobs, backend,
                                 on_done=lambda i: progress.advance(len(blocks[i]))),
            strict=True):
        if values.shape != (len(block), k) or len(block_errors) != len(block):
            raise ModelError(
                f"bootstrap block statistic returned shape {values.shape} and "
                f"{len(block_errors)} error strings for replications {block.start}.."
                f"{block.stop - 1}; expected ({len(block)}, {k}) for {list(names)}")
        failed = np.array([bool(e) for e in block_errors])
        values = values.copy()
        values[failed] = np.nan
        replicates[block.start:block.stop] = values
        errors += block_errors
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
        raise ModelError(f"{len(estimates)} point estimates for {len(result.names)} "
                             "bootstrap statistics")
    ok = result.replicates[~np.isnan(result.replicates).any(axis=1)]
    if ok.shape[0] < 2:
        raise ModelError(f"only {ok.shape[0]} of {result.reps} bootstrap replications "
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
