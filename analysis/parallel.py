"""Parallel work inside a step: joblib pools and forked workers, one BLAS thread each.

Used by the resampling (bootstrap), the specification curve, the robustness analyses and
the figures. Results never depend on the number of workers: tasks come back in order,
and BLAS runs one thread per process (threadpoolctl), so a worker computes exactly what
this process would. No wait on a child is unbounded: a worker's error comes back with its
class and message and ends the call at once (the other workers are stopped), and a worker
that dies outright (killed, out of memory) ends it too (run_forked: the process pool
notices the dead worker; joblib's loky raises TerminatedWorkerError).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
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
                 backend: str = "loky", on_done: Callable[[int], None] | None = None) -> list:
    """``[function(*task) for task in tasks]`` through joblib, results in task order.

    loky: worker processes with one BLAS thread each (a worker that dies ends the call
    with joblib's error, never a hang); "threading": threads of this process (no
    start-up, no pickling). NumPy's BLAS in this process is limited to one thread
    meanwhile (single_blas_thread), so n_jobs=1, which runs here, computes exactly what a
    worker does; inside a forked worker (run_forked) it always runs here. ``on_done(i)``
    is called in this process as the results come in (in task order).
    """
    check_n_jobs(n_jobs)
    if _IN_WORKER:
        # Inside a worker of run_forked the cores are already shared out: more threads
        # would only compete with the other workers (measured: the specification curve
        # beside a two-thread bootstrap took twice its time).
        n_jobs = 1
    with single_blas_thread():
        if backend == "threading":
            results = Parallel(n_jobs=n_jobs, backend="threading", return_as="generator")(
                delayed(function)(*task) for task in tasks)
            return _collect(results, on_done)
        with parallel_config(backend="loky", inner_max_num_threads=1):
            return _collect(Parallel(n_jobs=n_jobs, return_as="generator")(
                delayed(function)(*task) for task in tasks), on_done)


def _collect(results: Iterable[Any], on_done: Callable[[int], None] | None) -> list:
    out = []
    for index, result in enumerate(results):
        out.append(result)
        if on_done is not None:
            on_done(index)
    return out


#: The job of the forked workers of run_forked: set just before the fork, so the children
#: inherit it (and the data it refers to) instead of receiving it pickled.
_FORKED_JOB: dict[str, Any] = {}
#: True in a worker of run_forked (set by the pool's initializer).
_IN_WORKER = False


def _enter_worker() -> None:
    global _IN_WORKER
    _IN_WORKER = True


def _call_forked(index: int) -> Any:
    function, tasks = _FORKED_JOB["job"]
    return function(*tasks[index])


def run_forked(function: Callable, tasks: Sequence[tuple], n_jobs: int = -1,
               on_done: Callable[[int], None] | None = None) -> list:
    """``[function(*task) for task in tasks]`` in forked worker processes, results in order.

    Forked workers start in milliseconds and inherit this process's imports and data, so
    GIL-bound work (pandas, many small fits) gains from a second core where threads do not
    and spawned workers (loky) first spend seconds importing. Only the results travel
    back (pickled). Runs in this process when one worker suffices, inside a worker (no
    nested pools) or where fork is unavailable. BLAS runs one thread per process either
    way, so the results do not depend on the number of workers.

    The first error of a task ends the call at once with that error (its class and
    message, re-raised here; the other workers are stopped); a worker that dies outright
    (killed, out of memory) ends it with a ModelError saying so. ``on_done(i)`` is called
    here as each task finishes (in the order they finish).
    """
    check_n_jobs(n_jobs)
    workers = min(effective_jobs(n_jobs), len(tasks))
    with single_blas_thread():
        if (workers <= 1 or _IN_WORKER
                or "fork" not in multiprocessing.get_all_start_methods()):
            return _collect((function(*task) for task in tasks), on_done)
        _FORKED_JOB["job"] = (function, list(tasks))
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_enter_worker)
        try:
            futures = {pool.submit(_call_forked, i): i for i in range(len(tasks))}
            results: list[Any] = [None] * len(tasks)
            for future in as_completed(futures):
                results[futures[future]] = future.result()  # the worker's own error
                if on_done is not None:
                    on_done(futures[future])
        except BrokenProcessPool as err:
            _stop(pool)
            raise ModelError(f"a worker process died while running {function.__name__} "
                             f"({err}); the run cannot go on without its result") from None
        except BaseException:  # a task's error, or Ctrl-C: stop the others now
            _stop(pool)
            raise
        finally:
            _FORKED_JOB.clear()
        pool.shutdown(wait=True)
        return results


def _stop(pool: ProcessPoolExecutor) -> None:
    """Shut a pool down without waiting for tasks still running (after an error)."""
    processes = list(getattr(pool, "_processes", {}).values())  # before shutdown drops them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


class Progress:
    """``what: k/n unit done`` on stderr as work advances, at most every ``every`` seconds
    (and when all is done): progress for the long phases, never part of an output."""

    def __init__(self, what: str, total: int, unit: str, every: float = 3.0) -> None:
        self.what, self.total, self.unit, self.every = what, total, unit, every
        self.done, self.shown = 0, time.monotonic()

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        now = time.monotonic()
        if self.done >= self.total or now - self.shown >= self.every:
            self.shown = now
            print(f"  {self.what}: {self.done}/{self.total} {self.unit} done",
                  file=sys.stderr, flush=True)
