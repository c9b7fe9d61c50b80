"""Self-check: grade one notebook with the instructor's checks, in the same sandbox, without a gradebook.

For people studying alone (and students before they submit): ``python -m grader check PATH`` or
``make check NB=PATH`` prints the points of every exercise and the message of every failed check. While it runs,
stderr shows which cell runs and, while a model trains, the epoch and the time left.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from tqdm.auto import tqdm

from grader.course import EPOCH, NOTEBOOKS, ROOT, assignments, editions, notebook_of
from grader.grading import sanitize
from grader.grading.autograde import Result, failure_messages
from grader.grading.preprocessors import TOP, SandboxedExecute, heading, is_test
from grader.grading.sandbox import UNSANDBOXED, limited
from grader.grading.worker import run_submission
from grader.i18n import _

EXAMPLE = "notebooks/01_attention_numpy/01_attention_numpy.ipynb"


def _shown(path: Path) -> str:
    """The path relative to the course's folder when it is inside it."""
    full = path.resolve()
    return str(full.relative_to(ROOT)) if full.is_relative_to(ROOT) else str(path)


def assignment_of(path: Path) -> str:
    """The assignment of the notebook at ``path``: from its name, also for JupyterLab's and Colab's copies
    (01_attention_numpy-Copy1.ipynb, Copy of 01_attention_numpy.ipynb), else from its folder
    (01_attention_numpy/Untitled.ipynb). One-line errors."""
    if not path.exists():
        raise sanitize.SubmissionError(_("no notebook at {path}; the notebooks are in notebooks/NN_name/, e.g. "
                                         "{example}", path=path, example=EXAMPLE))
    if path.is_dir():
        raise sanitize.SubmissionError(_("{path} is a folder: give the notebook's path, e.g. {example}", path=path,
                                         example=EXAMPLE))
    if path.suffix != ".ipynb":
        raise sanitize.SubmissionError(_("{name} is not a Jupyter notebook (.ipynb), e.g. {example}", name=path.name,
                                         example=EXAMPLE))
    longest_first = sorted(editions(), key=len, reverse=True)  # 01_attention_numpy_es before 01_attention_numpy
    found = [a for a in longest_first if a in path.name] or [
        a for a in longest_first if path.resolve().parent.name == a]
    if not found:
        raise sanitize.SubmissionError(_(
            "{name} is not a notebook of this course: its name or its folder must hold the assignment's "
            "({assignments}); rename it, e.g. 01_attention_numpy.ipynb", name=path.name,
            assignments=", ".join(assignments())))
    return found[0]


def _exercises(cells: list[dict]) -> set[str]:
    """The grade_ids of the graded cells among ``cells``."""
    ids = {(c.get("metadata") or {}).get("nbgrader", {}).get("grade_id") for c in cells if isinstance(c, dict)}
    return ids - {None}


def check_readable(path: Path, assignment: str) -> None:
    """SubmissionError unless the file is a notebook holding some of the assignment's exercises (not an empty
    Untitled.ipynb, nor another assignment's notebook under this one's name)."""
    try:
        cells = sanitize.read_cells(path)
    except OSError as exc:
        raise sanitize.SubmissionError(_("cannot read {path}: {reason}", path=path, reason=exc.strerror)) from None
    release = _exercises(nbformat.read(notebook_of(assignment, NOTEBOOKS), as_version=4).cells)
    if not release & _exercises(cells):
        raise sanitize.SubmissionError(_("{name} holds none of the exercises of {assignment}: check the notebook you "
                                         "answered in, notebooks/{assignment}/{assignment}.ipynb", name=path.name,
                                         assignment=assignment))


class Progress:
    """A line on stderr while a notebook is graded: the code cell that runs (n of N, its exercise or section) and,
    while a model trains, the epoch with the time left at most (training may stop early)."""

    def __init__(self, nb, assignment: str):
        self.names, section = {}, _(TOP)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                section = heading(cell) or section
            elif cell.cell_type == "code":
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                self.names[index] = (len(self.names) + 1, f"`{grade_id}`" if grade_id else section)
        self.bar = tqdm(total=len(self.names), file=sys.stderr, leave=False,
                        bar_format=_("checking {assignment}: cell {{n}}/{{total}} {{desc}} [{{elapsed}}]",
                                     assignment=assignment))
        self.cell, self.epoch_started, self.epoch_seconds = "", 0.0, []

    def cell_started(self, cell, cell_index: int, **_) -> None:
        if cell_index in self.names:
            self.bar.n, self.cell = self.names[cell_index]
            self.epoch_seconds = []
            self.bar.set_description_str(self.cell)

    def text(self, text: str) -> None:
        """Keras' 'Epoch k/K' lines in what a cell prints: the epoch and, after the first, the time left."""
        for match in EPOCH.finditer(text):
            epoch, epochs, now = int(match[1]), int(match[2]), time.monotonic()
            if epoch > 1:
                self.epoch_seconds.append(now - self.epoch_started)
            self.epoch_started = now
            said = _("{cell}: training, epoch {epoch}/{epochs}", cell=self.cell, epoch=epoch, epochs=epochs)
            if self.epoch_seconds:
                mean = sum(self.epoch_seconds) / len(self.epoch_seconds)
                said += _(", {seconds:.0f} s each, at most {left} left", seconds=mean,
                          left=tqdm.format_interval(mean * (epochs - epoch + 1)))
            self.bar.set_description_str(said)

    def close(self) -> None:
        self.bar.close()


class TalkingExecute(SandboxedExecute):
    """SandboxedExecute that shows its Progress on stderr."""

    def preprocess(self, nb, resources, km=None):
        self.progress = Progress(nb, resources["nbgrader"]["assignment"])
        self.on_cell_start = self.progress.cell_started
        try:
            return super().preprocess(nb, resources, km=km)
        finally:
            self.progress.close()

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "stream":
            self.progress.text(msg["content"].get("text", ""))
        return super().output(outs, msg, display_id, cell_index)


def check(path: Path, progress: bool = True) -> Result:
    """Grade the notebook at ``path`` as the instructor would; nothing is written anywhere. ``progress``: on
    stderr."""
    assignment = assignment_of(path)
    check_readable(path, assignment)
    outcome = run_submission(assignment, "self-check", path.read_bytes(),
                             execute=TalkingExecute if progress else SandboxedExecute)
    if "error" in outcome:
        raise sanitize.SubmissionError(outcome["error"])
    nb = nbformat.reads(outcome["notebook"], as_version=4)
    result = Result(assignment, "self-check", notes=outcome["notes"], mode=outcome["mode"],
                    messages=failure_messages(nb), error=outcome["stopped"])
    if path.name != notebook_of(assignment, NOTEBOOKS).name:
        result.notes.insert(0, _("{path} was checked as {assignment}.", path=_shown(path), assignment=assignment))
    for cell in filter(is_test, nb.cells):
        points, passed = float(cell.metadata.nbgrader.points), outcome["verdicts"][cell.metadata.nbgrader.grade_id][0]
        result.cells[cell.metadata.nbgrader.grade_id] = (points if passed else 0.0, points)
    return result


def report(result: Result) -> str:
    """Points per exercise, then what to fix."""
    lines = [_("{assignment}: {score:g}/{max_score:g} (graded {mode})", assignment=result.assignment,
               score=result.score, max_score=result.max_score, mode=result.mode)]
    if result.mode == UNSANDBOXED:
        lines.append("  " + (_("(bubblewrap is not installed: your notebook ran without the sandbox, under time and "
                               "memory limits only; the points are the same)") if limited() else
                             _("(bubblewrap is not installed: your notebook ran without the sandbox, under a time "
                               "limit only; the points are the same)")))
    if result.error:
        lines.append(_("Grading stopped: {reason}.", reason=result.error))
    lines += [f"  - {note}" for note in result.notes]
    for grade_id, (score, points) in result.cells.items():
        lines.append(f"  {grade_id:<26} {score:g}/{points:g}")
        if score < points and grade_id in result.messages:
            lines += [f"      {line}" for line in result.messages[grade_id].splitlines()[-3:]]
    return "\n".join(lines)
