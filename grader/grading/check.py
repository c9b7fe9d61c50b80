"""Self-check: grade one notebook with the instructor's checks, in the same sandbox, without a gradebook.

For people studying alone (and students before they submit): ``python -m grader check PATH`` or
``make check NB=PATH`` prints the points of every exercise and the message of every failed check.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from grader.grading import sanitize
from grader.grading.autograde import Result, failure_messages
from grader.course import NOTEBOOKS, assignments, notebook_of
from grader.grading.preprocessors import is_test
from grader.grading.worker import run_submission


def assignment_of(path: Path) -> str:
    """The assignment a notebook belongs to, from its file name (e.g. 01_attention_numpy.ipynb)."""
    for assignment in assignments():
        if path.name == notebook_of(assignment, NOTEBOOKS).name:
            return assignment
    raise sanitize.SubmissionError(f"{path.name} is not a notebook of this course "
                                   f"({', '.join(notebook_of(a, NOTEBOOKS).name for a in assignments())})")


def check(path: Path) -> Result:
    """Grade the notebook at ``path`` as the instructor would; nothing is written anywhere."""
    assignment = assignment_of(path)
    outcome = run_submission(assignment, "self-check", path.read_bytes())
    if "error" in outcome:
        raise sanitize.SubmissionError(outcome["error"])
    nb = nbformat.reads(outcome["notebook"], as_version=4)
    result = Result(assignment, "self-check", notes=outcome["notes"], mode=outcome["mode"],
                    messages=failure_messages(nb), error=outcome["stopped"])
    for cell in filter(is_test, nb.cells):
        points, (passed, _) = float(cell.metadata.nbgrader.points), outcome["verdicts"][cell.metadata.nbgrader.grade_id]
        result.cells[cell.metadata.nbgrader.grade_id] = (points if passed else 0.0, points)
    return result


def report(result: Result) -> str:
    """Points per exercise, then what to fix."""
    lines = [f"{result.assignment}: {result.score:g}/{result.max_score:g} (graded {result.mode})"]
    if result.error:
        lines.append(f"Grading stopped: {result.error}.")
    lines += [f"  - {note}" for note in result.notes]
    for grade_id, (score, points) in result.cells.items():
        lines.append(f"  {grade_id:<26} {score:g}/{points:g}")
        if score < points and grade_id in result.messages:
            lines += [f"      {line}" for line in result.messages[grade_id].splitlines()[-3:]]
    return "\n".join(lines)
