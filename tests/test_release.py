"""notebooks/ is exactly nbgrader's release of solutions/, with no solutions; no notebook holds hidden tests; the
notebooks read as one course (no heading twice, loss curves drawn one way)."""
import json
import re

import nbformat
import pytest

from grader.course import NEEDS_DATA, NOTEBOOKS, SOLUTIONS, assignments, base, editions, notebook_of

SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HEADING = re.compile(r"^#{1,6} .+$", re.M)
FENCE = re.compile(r"^```.*?^```", re.M | re.S)  # code shown in markdown: its "# comments" are no headings


def repeated_headings(nb) -> list[str]:
    """The markdown headings that appear more than once in a notebook."""
    found = [h.strip() for c in nb.cells if c.cell_type == "markdown" for h in HEADING.findall(FENCE.sub("", c.source))]
    return sorted({h for h in found if found.count(h) > 1})


def secret_lines(pattern, assignment):
    """Non-trivial lines inside solution or hidden-test regions of the instructor notebook."""
    nb = nbformat.read(notebook_of(assignment, SOLUTIONS), as_version=4)
    lines = set()
    for cell in nb.cells:
        for block in pattern.findall(cell.source):
            lines |= {line.strip() for line in block.splitlines() if len(line.strip()) > 12}
    return lines


@pytest.mark.parametrize("assignment", editions())
def test_release_has_not_drifted(grading_dir, assignment):
    workdir, _ = grading_dir
    fresh = (workdir / "release" / assignment / notebook_of(assignment, NOTEBOOKS).name).read_text()
    committed = notebook_of(assignment, NOTEBOOKS).read_text()
    assert json.loads(fresh) == json.loads(committed), "notebooks/ is stale: run `make release` and commit"


@pytest.mark.parametrize("assignment", editions())
def test_student_notebook_has_no_solutions_or_hidden_tests(assignment):
    text = notebook_of(assignment, NOTEBOOKS).read_text()
    solution = secret_lines(SOLUTION, base(assignment))
    assert solution, "every assignment has solution code"
    assert not [line for line in solution if line in text]
    assert "BEGIN SOLUTION" not in text
    for source in (notebook_of(base(assignment), SOLUTIONS).read_text(), text):
        # hidden checks live in grader/hidden/ only, and kernels cannot import it
        assert "HIDDEN TESTS" not in source and not re.search(r"(from|import) grader\b", source)


@pytest.mark.parametrize("assignment", editions())
def test_notebooks_are_clean_and_well_formed(assignment):
    for path in {notebook_of(base(assignment), SOLUTIONS), notebook_of(assignment, NOTEBOOKS)}:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata.kernelspec.name == "attentionlab"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert not any(c.outputs or c.execution_count for c in code), f"{path}: clear the outputs"
        ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
        assert len(ids) == len(set(ids)), "duplicated grade ids make nbgrader drop the submission"


@pytest.mark.parametrize("assignment", assignments())
def test_every_graded_test_cell_has_visible_tests(assignment):
    nb = nbformat.read(notebook_of(assignment, SOLUTIONS), as_version=4)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert tests
    for cell in tests:
        assert "checks." in cell.source or "assert" in cell.source, f"{cell.metadata.nbgrader.grade_id} has no visible test"


@pytest.mark.parametrize("assignment", editions())
def test_no_heading_is_repeated(assignment):
    """A heading tells the reader where they are; a section's heading pasted into a question (notebook 2 once had
    one) leaves them lost."""
    for path in (notebook_of(base(assignment), SOLUTIONS), notebook_of(assignment, NOTEBOOKS)):
        assert not repeated_headings(nbformat.read(path, as_version=4))


def test_a_repeated_heading_is_found_and_a_code_comment_is_none():
    cell = nbformat.v4.new_markdown_cell
    nb = nbformat.v4.new_notebook(cells=[cell("## 2. The weights\n\nText."), cell("**Question 1.**\n## 2. The weights"),
                                         cell("```python\n# a comment\n```"), cell("```python\n# a comment\n```")])
    assert repeated_headings(nb) == ["## 2. The weights"]


@pytest.mark.parametrize("assignment", NEEDS_DATA)
def test_loss_curves_are_drawn_one_way(assignment):
    """Every notebook that trains plots its losses with plots.loss_curves (epochs from 1, training dashed, validation
    solid), never by hand."""
    code = [c.source for c in nbformat.read(notebook_of(assignment, SOLUTIONS), as_version=4).cells
            if c.cell_type == "code"]
    assert any("plots.loss_curves(" in source for source in code)
    assert not [s for s in code if re.search(r"\.plot\(", s) and re.search(r"""\[["'](val_)?loss["']\]""", s)]
