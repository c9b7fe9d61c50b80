"""Self-check: grade one notebook with the instructor's checks, in the same sandbox, without a gradebook.

For people studying alone (and students before they submit): ``python -m grader check PATH`` or
``make check NB=PATH`` prints the points of every exercise and the message of every failed check.
"""
from __future__ import annotations

from pathlib import Path

from grader import sanitize
from grader.autograde import Result, failure_messages
from grader.course import NOTEBOOKS, assignments, config, data_for, notebook_of
from grader.preprocessors import VERDICTS, SandboxedExecute, is_test


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
    data_for(assignment)
    release = notebook_of(assignment, NOTEBOOKS)
    nb, notes = sanitize.rebuild(path, release)
    resources = {"nbgrader": {"assignment": assignment, "student": "self-check", "notebook": release.stem},
                 "metadata": {"path": str(release.parent)}}
    nb, resources = SandboxedExecute(config=config()).preprocess(nb, resources)
    state = resources[VERDICTS]
    result = Result(assignment, "self-check", notes=notes, mode=state["mode"], messages=failure_messages(nb))
    for cell in nb.cells:
        if is_test(cell):
            points = float(cell.metadata.nbgrader.points)
            passed, _ = state["verdicts"].get(cell.metadata.nbgrader.grade_id, (False, None))
            result.cells[cell.metadata.nbgrader.grade_id] = (points if passed else 0.0, points)
    if state["stopped"]:
        result.error = state["stopped"]
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
