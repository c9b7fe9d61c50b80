"""Servers the browser tests start (JupyterLab, JupyterHub, the book's), and where their screenshots go."""
import http.client
import os
import signal
import subprocess
import time

import pytest

from grader.course import ROOT

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"


def wait_for(port: int, path: str, process: subprocess.Popen, seconds: float = 90) -> None:
    """Wait until the server on ``port`` answers ``path`` with 200 (fail if it exits or never does)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited with {process.returncode}"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"no answer on port {port} within {seconds} s")


def stop(process: subprocess.Popen) -> None:
    """End the server and every process it started (it leads its own process group)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
