"""Build example submissions (reference, blank, mistakes) and sanitise submitted notebooks."""
from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import nbformat

from grader.course import NOTEBOOKS, ROOT, SOLUTIONS, config, notebook_of
from grader.mistakes import Mistake

log = logging.getLogger(__name__)
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def submitted_dir() -> Path:
    """Where nbgrader looks for submissions."""
    return ROOT / config().CourseDirectory.submitted_directory


def strip_markers(source: str) -> str:
    """Solution cell source without nbgrader's solution markers."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in MARKERS)


def solution_sources(assignment: str) -> dict[str, str]:
    """grade_id -> reference answer code, for every solution cell."""
    nb = nbformat.read(notebook_of(assignment, SOLUTIONS), as_version=4)
    return {c.metadata.nbgrader["grade_id"]: strip_markers(c.source)
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def student_notebook(assignment: str, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The released notebook with the given solution cells answered."""
    nb = nbformat.read(notebook_of(assignment, NOTEBOOKS), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def with_mistake(mistake: Mistake) -> nbformat.NotebookNode:
    """The reference answers with one mistake written in."""
    answers = solution_sources(mistake.assignment)
    if mistake.old not in answers[mistake.cell]:
        raise ValueError(f"mistake {mistake.name}: {mistake.old!r} not in cell {mistake.cell}")
    answers[mistake.cell] = answers[mistake.cell].replace(mistake.old, mistake.new)
    return student_notebook(mistake.assignment, answers)


def submit(nb: nbformat.NotebookNode, assignment: str, student: str) -> Path:
    """Write ``nb`` as ``student``'s submission of ``assignment``."""
    path = submitted_dir() / student / assignment / notebook_of(assignment, NOTEBOOKS).name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def drop_duplicate_ids(path: Path) -> list[str]:
    """Un-grade later copies of a graded cell (nbgrader rejects the whole notebook otherwise).

    Returns the duplicated grade ids. Only then is the file rewritten, the
    original kept beside it as ``<name>.orig``.
    """
    nb = nbformat.read(path, as_version=4)
    seen = Counter()
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is None:
            continue
        seen[grade_id] += 1
        if seen[grade_id] > 1:
            del cell.metadata["nbgrader"]
    duplicated = sorted(g for g, n in seen.items() if n > 1)
    if duplicated:
        log.warning("%s: copies of graded cells %s were un-graded; the first copy of each is graded.",
                    path, ", ".join(duplicated))
        path.with_name(path.name + ".orig").write_bytes(path.read_bytes())
        nbformat.write(nb, path)
    return duplicated
