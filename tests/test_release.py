"""notebooks/ is exactly nbgrader's release of solutions/, with no solutions or hidden tests."""
import json
import re

import nbformat
import pytest

from grader.course import NOTEBOOKS, SOLUTIONS, assignments, notebook_of

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


def secret_lines(pattern, assignment):
    """Non-trivial lines inside solution or hidden-test regions of the instructor notebook."""
    nb = nbformat.read(notebook_of(assignment, SOLUTIONS), as_version=4)
    lines = set()
    for cell in nb.cells:
        for block in pattern.findall(cell.source):
            lines |= {line.strip() for line in block.splitlines() if len(line.strip()) > 12}
    return lines


@pytest.mark.parametrize("assignment", assignments())
def test_release_has_not_drifted(grading_dir, assignment):
    workdir, _ = grading_dir
    fresh = (workdir / "release" / assignment / notebook_of(assignment).name).read_text()
    committed = notebook_of(assignment, NOTEBOOKS).read_text()
    assert json.loads(fresh) == json.loads(committed), "notebooks/ is stale: run `make release` and commit"


@pytest.mark.parametrize("assignment", assignments())
def test_student_notebook_has_no_solutions_or_hidden_tests(assignment):
    text = notebook_of(assignment, NOTEBOOKS).read_text()
    solution, hidden = secret_lines(SOLUTION, assignment), secret_lines(HIDDEN, assignment)
    assert solution and hidden, "every assignment has solution code and hidden tests"
    assert not [line for line in solution if line in text]
    assert not [line for line in hidden if line in text]
    assert "BEGIN HIDDEN" not in text and "BEGIN SOLUTION" not in text


@pytest.mark.parametrize("assignment", assignments())
def test_notebooks_are_clean_and_well_formed(assignment):
    for folder in (SOLUTIONS, NOTEBOOKS):
        nb = nbformat.read(notebook_of(assignment, folder), as_version=4)
        nbformat.validate(nb)
        assert nb.metadata.kernelspec.name == "attentionlab"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert not any(c.outputs or c.execution_count for c in code), f"{folder.name}: clear the outputs"
        ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
        assert len(ids) == len(set(ids)), "duplicated grade ids make nbgrader drop the submission"


@pytest.mark.parametrize("assignment", assignments())
def test_every_graded_test_cell_has_visible_and_hidden_tests(assignment):
    nb = nbformat.read(notebook_of(assignment, SOLUTIONS), as_version=4)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert tests
    for cell in tests:
        hidden = HIDDEN.search(cell.source)
        assert hidden, f"{cell.metadata.nbgrader.grade_id} has no hidden test"
        visible = HIDDEN.sub("", cell.source)
        assert "checks." in visible or "assert" in visible, f"{cell.metadata.nbgrader.grade_id} has no visible test"
