"""Autograde submissions with nbgrader's API and read the scores from the gradebook.

nbgrader's own exit status says nothing about failing tests, so scores always
come from the gradebook and messages from the autograded notebook.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from grader.course import QUIET, ROOT, api, config, notebook_of, NOTEBOOKS
from grader.submissions import drop_duplicate_ids, submitted_dir


@dataclass
class Result:
    """One student's graded notebook: per-cell (score, max) and failing messages."""

    assignment: str
    student: str
    cells: dict[str, tuple[float, float]] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def score(self) -> float:
        return sum(s for s, _ in self.cells.values())

    @property
    def max_score(self) -> float:
        return sum(m for _, m in self.cells.values())

    def lost(self) -> list[str]:
        """Test cells that did not get full points."""
        return sorted(c for c, (s, m) in self.cells.items() if s < m)


def _autograded_path(assignment: str, student: str) -> Path:
    folder = ROOT / config().CourseDirectory.autograded_directory / student / assignment
    return folder / notebook_of(assignment, NOTEBOOKS).name


def failure_messages(path: Path) -> dict[str, str]:
    """grade_id -> error text for every graded cell that raised."""
    nb = nbformat.read(path, as_version=4)
    messages = {}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if grade_id and errors:
            messages[grade_id] = f"{errors[0].ename}: {errors[0].evalue}"
    return messages


def scores(assignment: str, student: str) -> dict[str, tuple[float, float]]:
    """grade_id -> (score, max score) of the test cells, from the gradebook."""
    notebook = notebook_of(assignment, NOTEBOOKS).stem
    with Gradebook(config().CourseDirectory.db_url) as gb:
        sub = gb.find_submission_notebook(notebook, assignment, student)
        return {g.name: (g.score, g.max_score) for g in sub.grades if g.max_score > 0}


def autograde(assignment: str, student: str, feedback: bool = True) -> Result:
    """Autograde one submission (and write its feedback); never raises for a bad notebook."""
    os.environ[QUIET] = "1"
    result = Result(assignment, student)
    try:
        drop_duplicate_ids(submitted_dir() / student / assignment / notebook_of(assignment, NOTEBOOKS).name)
    except Exception as exc:  # unreadable notebook: nbgrader reports it below
        result.error = f"unreadable notebook: {exc}"
    course = api()
    outcome = course.autograde(assignment, student)
    if not outcome.get("success"):
        result.error = (result.error or "") + outcome.get("error", "") + outcome.get("log", "")
        return result
    result.cells = scores(assignment, student)
    result.messages = failure_messages(_autograded_path(assignment, student))
    if feedback:
        course.generate_feedback(assignment, student)
    return result


def table(results: list[Result]) -> str:
    """A plain-text grade table."""
    width = max([len("student"), *(len(r.student) for r in results)])
    rows = [f"{'assignment':<22} {'student':<{width}} {'score':>7}  lost points in"]
    for r in results:
        score = "ERROR" if r.error else f"{r.score:g}/{r.max_score:g}"
        lost = r.error.strip().splitlines()[-1][:60] if r.error else ", ".join(r.lost()) or "-"
        rows.append(f"{r.assignment:<22} {r.student:<{width}} {score:>7}  {lost}")
    return "\n".join(rows)
