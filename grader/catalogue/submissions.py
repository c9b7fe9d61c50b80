"""Build example submissions: the reference, the blank notebook, alternative answers and mistakes."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.course import NOTEBOOKS, SOLUTIONS, edition, folder, notebook_of

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


@dataclass(frozen=True)
class Edit:
    """Replace ``old`` by ``new`` in solution cell ``cell`` of ``assignment``: a correct answer in other words."""

    assignment: str
    name: str
    cell: str
    old: str
    new: str

    @property
    def student(self) -> str:
        return f"answer-{self.name}"


def strip_markers(source: str) -> str:
    """Solution cell source without nbgrader's solution markers."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in MARKERS)


def solution_sources(assignment: str) -> dict[str, str]:
    """grade_id -> reference answer code, for every solution cell."""
    nb = nbformat.read(notebook_of(assignment, SOLUTIONS), as_version=4)
    return {c.metadata.nbgrader["grade_id"]: strip_markers(c.source)
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def student_notebook(assignment: str, answers: dict[str, str], lang: str = "en") -> nbformat.NotebookNode:
    """The released notebook of the edition in ``lang`` with the given solution cells answered."""
    nb = nbformat.read(notebook_of(edition(assignment, lang), NOTEBOOKS), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def answers_with(*edits: Edit) -> dict[str, str]:
    """grade_id -> answer code: the reference answers with edits (of one assignment) written in."""
    answers = solution_sources(edits[0].assignment)
    for edit in edits:
        if edit.old not in answers[edit.cell]:
            raise ValueError(f"edit {edit.name}: {edit.old!r} not in cell {edit.cell}")
        answers[edit.cell] = answers[edit.cell].replace(edit.old, edit.new)
    return answers


def with_edits(*edits: Edit, lang: str = "en") -> nbformat.NotebookNode:
    """The reference answers with edits (alternative answers or mistakes, of one assignment) written in."""
    return student_notebook(edits[0].assignment, answers_with(*edits), lang)


def submit(nb: nbformat.NotebookNode, assignment: str, student: str) -> Path:
    """Write ``nb`` as ``student``'s submission of ``assignment``."""
    path = folder("submitted") / student / assignment / notebook_of(assignment, NOTEBOOKS).name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
