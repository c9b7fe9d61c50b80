"""Execute notebooks top to bottom with nbclient; any error fails."""
from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from grader.course import KERNEL, config
from grader.kernel import QuietKernelManager


def execute(path: Path, timeout: int | None = None, notebook=None) -> tuple[nbformat.NotebookNode, float]:
    """Run the notebook at ``path`` (or ``notebook``, in that folder); return it executed and the seconds taken.

    Raises nbclient's CellExecutionError (naming the cell) on the first error,
    which includes a failing test cell.
    """
    nb = notebook or nbformat.read(path, as_version=4)
    timeout = timeout or config().Execute.timeout
    client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL, kernel_manager_class=QuietKernelManager,
                            resources={"metadata": {"path": str(Path(path).parent)}})
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def execute_all(paths: list[Path]) -> list[tuple[Path, float, str | None]]:
    """Execute each notebook; return (path, seconds, error or None) for every one."""
    results = []
    for path in paths:
        start = time.perf_counter()
        try:
            _, seconds = execute(path)
            results.append((path, seconds, None))
        except CellExecutionError as exc:
            results.append((path, time.perf_counter() - start, str(exc)))
    return results
