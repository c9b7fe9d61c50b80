"""The measuring helpers of notebook 7: peak memory follows what a call allocates, time is the fastest call."""
import numpy as np
import pytest

from attentionlab import scale


def test_peak_bytes_counts_the_arrays_a_call_allocates():
    for n in (100_000, 400_000):
        peak = scale.peak_bytes(np.ones, n)  # n float64
        assert 8 * n <= peak < 8 * n + 10_000


def test_peak_bytes_ignores_the_inputs_and_keeps_outer_tracing():
    import tracemalloc

    x = np.ones(1_000_000)
    assert scale.peak_bytes(np.sum, x) < 10_000  # a reduction allocates almost nothing
    tracemalloc.start()
    try:
        scale.peak_bytes(np.ones, 10)
        assert tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()


def test_best_time_is_the_fastest_call():
    import time

    delays = iter([0.05, 0.01, 0.03])
    assert scale.best_time(lambda: time.sleep(next(delays)), repeat=3) == pytest.approx(0.01, abs=0.008)


def test_best_time_runs_on_one_blas_thread():
    from threadpoolctl import threadpool_info

    def blas_threads():
        seen.append([pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"])

    seen = []
    scale.best_time(blas_threads, repeat=1)
    assert seen[0] and set(seen[0]) == {1}
