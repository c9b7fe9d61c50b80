"""Execute notebooks top to bottom with nbclient; any error fails. Progress goes to stderr as plain lines."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from grader.course import EPOCH, KERNEL, ROOT, config
from grader.grading.kernel import QuietKernelManager

SLOW_CELL = 2.0  # seconds: cells that take longer get a progress line


class Progress:
    """Prints, for one notebook, every cell that ran longer than SLOW_CELL and each training epoch with time left."""

    def __init__(self, name: str, cells: int):
        self.name, self.cells = name, cells
        self.start = self.cell_start = self.epoch_start = time.perf_counter()
        self.epoch_seconds: list[float] = []

    def say(self, text: str) -> None:
        """One line, stamped with the notebook's elapsed time."""
        print(f"  [{time.perf_counter() - self.start:6.0f} s] {self.name} {text}", file=sys.stderr, flush=True)

    def cell_started(self, cell, cell_index: int, **_) -> None:
        self.cell_start, self.epoch_seconds = time.perf_counter(), []

    def cell_done(self, cell, cell_index: int, **_) -> None:
        seconds = time.perf_counter() - self.cell_start
        if seconds > SLOW_CELL:
            self.say(f"cell {cell_index + 1}/{self.cells} took {seconds:.0f} s")

    def text(self, text: str) -> None:
        """Watch a cell's printed text for Keras' epoch lines."""
        for match in EPOCH.finditer(text):
            epoch, epochs = int(match[1]), int(match[2])
            now = time.perf_counter()
            if epoch > 1:
                self.epoch_seconds.append(now - self.epoch_start)
                mean = sum(self.epoch_seconds) / len(self.epoch_seconds)
                self.say(f"training: epoch {epoch}/{epochs}, {mean:.0f} s per epoch, "
                         f"about {mean * (epochs - epoch + 1):.0f} s left")
            else:
                self.say(f"training: epoch 1/{epochs}")
            self.epoch_start = now


class ProgressClient(NotebookClient):
    """A NotebookClient that reports to a Progress the text its cells print."""

    progress: Progress | None = None

    def output(self, outs, msg, display_id, cell_index):
        if self.progress and msg["msg_type"] == "stream":
            self.progress.text(msg["content"]["text"])
        return super().output(outs, msg, display_id, cell_index)


def execute(path: Path, timeout: int | None = None, notebook=None,
            progress: bool = False) -> tuple[nbformat.NotebookNode, float]:
    """Run the notebook at ``path`` (or ``notebook``, in that folder); return it executed and the seconds taken.

    Raises nbclient's CellExecutionError (naming the cell) on the first error,
    which includes a failing test cell. ``progress``: print slow cells and epochs to stderr.
    """
    nb = notebook or nbformat.read(path, as_version=4)
    timeout = timeout or config().Execute.timeout
    client = ProgressClient(nb, timeout=timeout, kernel_name=KERNEL, kernel_manager_class=QuietKernelManager,
                            resources={"metadata": {"path": str(Path(path).parent)}})
    if progress:
        client.progress = Progress(Path(path).stem, len(nb.cells))
        client.on_cell_start, client.on_cell_executed = client.progress.cell_started, client.progress.cell_done
        print(f"executing {_shown(path)} ({len(nb.cells)} cells)", file=sys.stderr, flush=True)
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def _shown(path: Path) -> str:
    """The path relative to the project when it is inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def execute_all(paths: list[Path], progress: bool = False) -> list[tuple[Path, float, str | None]]:
    """Execute each notebook; return (path, seconds, error or None) for every one."""
    results = []
    for path in paths:
        start = time.perf_counter()
        try:
            _, seconds = execute(path, progress=progress)
            results.append((path, seconds, None))
        except CellExecutionError as exc:
            results.append((path, time.perf_counter() - start, str(exc)))
    return results
