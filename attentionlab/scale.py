"""Measuring how a computation scales: its best wall time and its peak memory, one call at a time."""
from __future__ import annotations

import time
import tracemalloc

from threadpoolctl import threadpool_limits


def best_time(fn, *args, repeat: int = 3, **kwargs) -> float:
    """Seconds of the fastest of ``repeat`` calls, on one BLAS thread: the arithmetic's cost, not the machine's load.

    A multi-threaded matrix product waits for its slowest thread; on a busy machine that wait, not the size of the
    product, sets the time of small calls.
    """
    best = float("inf")
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(repeat):
            start = time.perf_counter()
            fn(*args, **kwargs)
            best = min(best, time.perf_counter() - start)
    return best


def peak_bytes(fn, *args, **kwargs) -> int:
    """Peak bytes allocated during one call, NumPy arrays included: the memory it needs beyond its inputs."""
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    try:
        fn(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not tracing:
            tracemalloc.stop()
    return peak - before
