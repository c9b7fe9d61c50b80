"""A dask.distributed scheduler and single-threaded workers on this machine, each its own process.

What an instructor starts by hand on a cluster (docs/instructors.md, "On a cluster"), started here for the tests and the
throughput figures: workers run from the checkout, as on any machine that has the course environment.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from grader.course import ROOT, THREADS
from grader.grading.sandbox import thread_env


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_cluster(workers: int = 2):
    """Yield the address of a scheduler with ``workers`` connected workers; kill them all on exit."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).with_name("dask"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              cwd=ROOT, env=env, stderr=subprocess.DEVNULL, start_new_session=True)]
    threads = max(1, (os.cpu_count() or 1) // workers)  # the workers share this machine's cores
    shares = {THREADS: str(threads), **thread_env(threads)}
    procs += [subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-dashboard", "--name", f"w{i}"],
                               cwd=ROOT, env={**env, **shares}, stderr=subprocess.DEVNULL, start_new_session=True)
              for i in range(workers)]
    from distributed import Client

    try:
        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
