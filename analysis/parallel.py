"""Parallel work inside a step: joblib pools and forked workers, one BLAS thread each.

Used by the resampling (bootstrap), the specification curve, the robustness analyses and
the figures. Results never depend on the number of workers: tasks come back in order,
and BLAS runs one thread per process (threadpoolctl), so a worker computes exactly what
this process would.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from joblib import Parallel, delayed, parallel_config
from threadpoolctl import threadpool_limits

from analysis.errors import ModelError


@contextlib.contextmanager
def single_blas_thread() -> Iterator[None]:
    """Limit BLAS/OpenMP to one thread in this process (threadpoolctl), restored on exit.

    Process-wide: set it once around a threaded run, never inside its threads. One thread
    also makes every BLAS result independent of how many workers run beside it.
    """
    with threadpool_limits(limits=1):
        yield


def check_n_jobs(n_jobs: int) -> None:
    if n_jobs == 0:
        raise ModelError("n_jobs = 0 is not allowed (use -1 for all cores, or >= 1)")


def effective_jobs(n_jobs: int) -> int:
    """The number of workers joblib uses for ``n_jobs`` (-1 = all cores, -2 = all but one)."""
    from joblib import cpu_count

    return max(1, cpu_count() + 1 + n_jobs) if n_jobs < 0 else n_jobs


def run_parallel(function: Callable, tasks: Sequence[tuple], n_jobs: int = -1,
                 backend: str = "loky") -> list:
    """``[function(*task) for task in tasks]`` through joblib, results in task order.

    loky: worker processes with one BLAS thread each; "threading": threads of this process
    (no start-up, no pickling). NumPy's BLAS in this process is limited to one thread
    meanwhile (single_blas_thread), so n_jobs=1, which runs here, computes exactly what a
    worker does; inside a forked worker (run_forked) it always runs here.
    """
    check_n_jobs(n_jobs)
    if multiprocessing.current_process().daemon:
        # Inside a worker of run_forked the cores are already shared out: more threads
        # would only compete with the other workers (measured: the specification curve
        # beside a two-thread bootstrap took twice its time).
        n_jobs = 1
    with single_blas_thread():
        if backend == "threading":
            return Parallel(n_jobs=n_jobs, backend="threading")(
                delayed(function)(*task) for task in tasks)
        with parallel_config(backend="loky", inner_max_num_threads=1):
            return Parallel(n_jobs=n_jobs)(delayed(function)(*task) for task in tasks)


#: The job of the forked workers of run_forked: set just before the fork, so the children
#: inherit it (and the data it refers to) instead of receiving it pickled.
_FORKED_JOB: dict[str, Any] = {}


def _call_forked(index: int) -> Any:
    function, tasks = _FORKED_JOB["job"]
    return function(*tasks[index])


def run_forked(function: Callable, tasks: Sequence[tuple], n_jobs: int = -1) -> list:
    """``[function(*task) for task in tasks]`` in forked worker processes, results in order.

    Forked workers start in milliseconds and inherit this process's imports and data, so
    GIL-bound work (pandas, many small fits) gains from a second core where threads do not
    and spawned workers (loky) first spend seconds importing. Only the results travel
    back (pickled). Runs in this process when one worker suffices, inside a worker (no
    nested pools) or where fork is unavailable. BLAS runs one thread per process either
    way, so the results do not depend on the number of workers.
    """
    check_n_jobs(n_jobs)
    workers = min(effective_jobs(n_jobs), len(tasks))
    with single_blas_thread():
        if (workers <= 1 or multiprocessing.current_process().daemon
                or "fork" not in multiprocessing.get_all_start_methods()):
            return [function(*task) for task in tasks]
        _FORKED_JOB["job"] = (function, list(tasks))
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                return pool.map(_call_forked, range(len(tasks)), chunksize=1)
        finally:
            _FORKED_JOB.clear()
