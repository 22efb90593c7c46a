"""Tests of analysis.models.resampling: seeded, worker-independent parallel bootstrap."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from analysis import parallel
from analysis.errors import EmptyCellError, ModelError
from analysis.models import resampling
from analysis.models.resampling import BootstrapResult

DATA = np.arange(10.0) ** 2  # a fixed sample whose resampled mean varies a lot


def mean_of_resample(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """Module-level (picklable) statistic: mean and max of one pairs resample."""
    draw = values[resampling.resample_indices(rng, values.size)]
    return np.array([draw.mean(), draw.max()])


def failing_on_odd_first_draw(rng: np.random.Generator) -> np.ndarray:
    """Raises a tolerated estimation error when the first uniform draw is below 0.5."""
    u = rng.random()
    if u < 0.5:
        raise EmptyCellError("boot", f"no variation (u={u:.3f})")
    return np.array([u])


def wrong_shape(rng: np.random.Generator) -> np.ndarray:
    return np.zeros(3)


def raises_type_error(rng: np.random.Generator) -> np.ndarray:
    raise TypeError("not an estimation problem")


STAT = functools.partial(mean_of_resample, values=DATA)


def test_replication_rng_is_the_spawned_child_of_the_seed():
    children = np.random.SeedSequence(123).spawn(5)
    for r, child in enumerate(children):
        expected = np.random.default_rng(child).random(4)
        np.testing.assert_array_equal(resampling.replication_rng(123, r).random(4), expected)


def test_replication_rng_differs_across_replications_and_seeds():
    a = resampling.replication_rng(1, 0).random(3)
    assert not np.array_equal(a, resampling.replication_rng(1, 1).random(3))
    assert not np.array_equal(a, resampling.replication_rng(2, 0).random(3))


def test_resample_indices_draws_n_rows_with_replacement():
    idx = resampling.resample_indices(np.random.default_rng(0), 50)
    assert idx.shape == (50,)
    assert idx.min() >= 0 and idx.max() < 50
    assert len(np.unique(idx)) < 50  # with replacement: repeats (prob. of none ~ 1e-20)


def test_chunks_cover_every_replication_once_in_order():
    parts = resampling.chunks(53, 25)
    assert [len(p) for p in parts] == [25, 25, 3]
    assert [r for p in parts for r in p] == list(range(53))
    assert resampling.chunks(0, 25) == []


def test_results_identical_for_one_and_two_workers():
    one = resampling.run_bootstrap(STAT, ["mean", "max"], 9, seed=7, n_jobs=1, chunk_size=2)
    two = resampling.run_bootstrap(STAT, ["mean", "max"], 9, seed=7, n_jobs=2, chunk_size=2)
    np.testing.assert_array_equal(one.replicates, two.replicates)
    assert one.errors == two.errors
    assert one.replicates.shape == (9, 2)
    assert np.isfinite(one.replicates).all()


def test_results_do_not_depend_on_chunking():
    reference = resampling.run_bootstrap(STAT, ["mean", "max"], 11, seed=3, n_jobs=1,
                                         chunk_size=25)
    for size in (1, 4):
        other = resampling.run_bootstrap(STAT, ["mean", "max"], 11, seed=3, n_jobs=1,
                                         chunk_size=size)
        np.testing.assert_array_equal(reference.replicates, other.replicates)


def test_replication_draw_independent_of_order_and_worker_assignment():
    # Replication r computed alone, in reverse order, or inside a block of others: same draw.
    forward = resampling._run_chunk(STAT, 5, range(6), (EmptyCellError,))
    backward = resampling._run_chunk(STAT, 5, range(5, -1, -1), (EmptyCellError,))[::-1]
    alone = [resampling._run_chunk(STAT, 5, [r], (EmptyCellError,))[0] for r in range(6)]
    for (a, _), (b, _), (c, _) in zip(forward, backward, alone, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    # And each row is exactly the statistic under its own replication generator.
    result = resampling.run_bootstrap(STAT, ["mean", "max"], 6, seed=5, n_jobs=1)
    for r in range(6):
        np.testing.assert_array_equal(result.replicates[r],
                                      STAT(resampling.replication_rng(5, r)))


def test_different_seed_gives_different_draws():
    a = resampling.run_bootstrap(STAT, ["mean", "max"], 9, seed=1, n_jobs=1)
    b = resampling.run_bootstrap(STAT, ["mean", "max"], 9, seed=2, n_jobs=1)
    assert not np.array_equal(a.replicates[:, 0], b.replicates[:, 0])
    assert a.seed == 1 and b.seed == 2


def test_tolerated_errors_are_recorded_by_name_and_kept_as_nan_rows():
    result = resampling.run_bootstrap(failing_on_odd_first_draw, ["u"], 20, seed=11, n_jobs=1)
    expected_fail = [resampling.replication_rng(11, r).random() < 0.5 for r in range(20)]
    assert 0 < sum(expected_fail) < 20  # the seed exercises both branches
    assert [bool(e) for e in result.errors] == expected_fail
    assert np.isnan(result.replicates[expected_fail, 0]).all()
    assert np.isfinite(result.replicates[[not f for f in expected_fail], 0]).all()
    assert all(e.startswith("EmptyCellError: model 'boot': no variation")
               for e in result.errors if e)
    assert result.failed == sum(expected_fail)
    summary = result.failure_summary()
    assert summary.startswith(f"{sum(expected_fail)} of 20 bootstrap replications")
    assert "EmptyCellError" in summary


def test_untolerated_errors_propagate():
    with pytest.raises(TypeError, match="not an estimation problem"):
        resampling.run_bootstrap(raises_type_error, ["x"], 3, seed=0, n_jobs=1)


def test_bad_settings_and_shapes_raise_bootstrap_error():
    with pytest.raises(ModelError, match="at least 2"):
        resampling.run_bootstrap(STAT, ["mean", "max"], 1, seed=0, n_jobs=1)
    with pytest.raises(ModelError, match="n_jobs = 0"):
        resampling.run_bootstrap(STAT, ["mean", "max"], 3, seed=0, n_jobs=0)
    with pytest.raises(ModelError, match=r"shape \(3,\)"):
        resampling.run_bootstrap(wrong_shape, ["a", "b"], 3, seed=0, n_jobs=1)


def test_intervals_from_known_replicates_skip_failed_rows():
    reps = np.array([[1.0, 10.0], [2.0, 20.0], [np.nan, np.nan], [3.0, 30.0], [4.0, 40.0]])
    result = BootstrapResult(names=("a", "b"), replicates=reps,
                             errors=("", "", "EmptyCellError: x", "", ""), seed=0)
    table = resampling.bootstrap_intervals(result, [2.5, 25.0], level=0.5)
    assert list(table.columns) == resampling.INTERVAL_COLUMNS
    ok = reps[[0, 1, 3, 4]]
    np.testing.assert_allclose(table["boot_se"], ok.std(axis=0, ddof=1))
    np.testing.assert_allclose(table["percentile_lower"], [1.75, 17.5])
    np.testing.assert_allclose(table["percentile_upper"], [3.25, 32.5])
    z = 0.6744897501960817  # norm.ppf(0.75)
    np.testing.assert_allclose(table["normal_lower"], [2.5, 25.0] - z * ok.std(axis=0, ddof=1))
    assert table["replications"].tolist() == [4, 4]
    assert table["failed"].tolist() == [1, 1]


def test_intervals_need_two_successes_and_matching_estimates():
    reps = np.array([[1.0], [np.nan], [np.nan]])
    result = BootstrapResult(names=("a",), replicates=reps, errors=("", "E: x", "E: y"), seed=0)
    with pytest.raises(ModelError, match="only 1 of 3"):
        resampling.bootstrap_intervals(result, [1.0])
    with pytest.raises(ModelError, match="2 point estimates for 1"):
        resampling.bootstrap_intervals(result, [1.0, 2.0])


def test_effective_jobs():
    assert parallel.effective_jobs(3) == 3
    assert parallel.effective_jobs(-1) >= 1
    assert parallel.effective_jobs(-1000) == 1


def test_single_blas_thread_limits_and_restores_the_thread_count():
    from threadpoolctl import threadpool_info

    def blas_threads() -> list[int]:
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    before = blas_threads()
    with parallel.single_blas_thread():
        assert blas_threads() and set(blas_threads()) == {1}
    assert blas_threads() == before


def _square_plus(x: int, y: int) -> int:
    return x * x + y


def _fails(x: int) -> int:
    if x == 2:
        raise ValueError(f"task {x} failed")
    return x


def _nested(x: int) -> list[int]:
    # Inside a forked worker: run_forked must fall back to the worker's own process.
    return parallel.run_forked(_square_plus, [(x, 1), (x, 2)], n_jobs=2)


def test_run_forked_keeps_order_and_equals_the_in_process_run():
    tasks = [(i, 10 * i) for i in range(7)]
    expected = [_square_plus(*t) for t in tasks]
    assert parallel.run_forked(_square_plus, tasks, n_jobs=2) == expected
    assert parallel.run_forked(_square_plus, tasks, n_jobs=1) == expected
    assert parallel.run_forked(_nested, [(3,), (4,)], n_jobs=2) == [[10, 11], [17, 18]]


def test_run_forked_passes_a_task_error_on():
    with pytest.raises(ValueError, match="task 2 failed"):
        parallel.run_forked(_fails, [(1,), (2,), (3,)], n_jobs=2)
    with pytest.raises(ModelError, match="n_jobs = 0"):
        parallel.run_forked(_square_plus, [(1, 1)], n_jobs=0)


def _thread_of(_: int) -> int:
    import threading
    import time

    time.sleep(0.01)  # long enough that a second thread would take some of the tasks
    return threading.get_ident()


def _threads_in_worker(_: int) -> int:
    return len(set(parallel.run_parallel(_thread_of, [(i,) for i in range(8)], n_jobs=2,
                                           backend="threading")))


def test_run_parallel_inside_a_forked_worker_stays_on_one_thread():
    """The cores are already shared out among run_forked's workers."""
    assert parallel.run_forked(_threads_in_worker, [(0,), (1,)], n_jobs=2) == [1, 1]
    assert _threads_in_worker(0) == 2  # outside a worker: both threads take tasks
