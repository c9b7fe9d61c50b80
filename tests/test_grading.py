"""Autograde the reference, the blank notebook, every alternative answer and every mistake, sandboxed.

The edits are graded in bundles (grader.catalogue.mistakes.bundles): mistakes share a submission only when no test cell can see
two of them, so each still loses exactly its own cells; a bundle of alternatives must lose nothing. The mistakes that
need a second full training (grader.catalogue.mistakes.TRAINED_MISTAKES) are left to `make examples`.
"""
import functools

import nbformat
import pytest

from grader.catalogue import mistakes, submissions
from grader.grading import autograde
from grader.course import NEEDS_DATA, assignments, folder
from test_solutions import stderr_of

pytestmark = pytest.mark.slow


def trains(assignment, value=None):
    """A test parameter (``value``, by default the assignment), marked `training` when grading it trains a model."""
    marks = [pytest.mark.training] if assignment in NEEDS_DATA else []
    return pytest.param(assignment if value is None else value, marks=marks)


def grade(assignment, student, nb):
    submissions.submit(nb, assignment, student)
    return autograde.grade(assignment, student, feedback=False)


@pytest.fixture(scope="module")
def graded(grade_as_class):
    """graded(assignment) -> {student: Result}: its reference and the bundles of its other answers and mistakes,
    graded as one class, once (per assignment, so that parallel test workers can take different assignments)."""
    @functools.cache
    def results(assignment):
        notebooks = {"reference": submissions.student_notebook(assignment, submissions.solution_sources(assignment))}
        notebooks.update({b.student: submissions.with_edits(*b.edits)
                          for b in mistakes.bundles(mistakes.for_assignment(assignment, trained=False))})
        return grade_as_class(assignment, notebooks)

    return results


@pytest.mark.parametrize("assignment", [trains(a) for a in assignments()])
def test_reference_gets_full_marks(graded, assignment):
    result = graded(assignment)["reference"]
    assert result.error is None and result.mode == "bwrap"
    assert result.max_score > 0 and result.score == result.max_score, result.messages
    stored = folder("autograded") / "reference" / assignment
    assert not stderr_of(nbformat.read(next(stored.glob("*.ipynb")), as_version=4)), "no stderr in the graded notebook"
    page = next((folder("feedback") / "reference" / assignment).glob("*.html")).read_text(encoding="utf-8")
    assert "output_stderr" not in page, "no stderr in the feedback"


@pytest.mark.parametrize("assignment", assignments())
def test_blank_gets_zero_without_crashing(grading_dir, assignment):
    result = grade(assignment, "blank", submissions.student_notebook(assignment, {}))
    assert result.error is None
    assert result.max_score > 0 and result.score == 0
    assert set(result.cells) <= set(result.messages), "every test cell fails with a message"
    assert not [m for m in result.messages.values() if "is not defined" in m], "a missing name says which cell to fix"
    assert all(m.strip() != "NotImplementedError:" for m in result.messages.values()), "an empty exercise says so"


@pytest.mark.parametrize("edit", [trains(e.assignment, e) for e in mistakes.ALTERNATIVES], ids=lambda e: f"{e.assignment}:{e.name}")
def test_alternative_answer_gets_full_marks(graded, edit):
    result = graded(edit.assignment)[mistakes.bundle_of(edit, mistakes.ALTERNATIVES).student]
    assert result.error is None and result.score == result.max_score > 0, result.messages


@pytest.mark.parametrize("mistake", [trains(m.assignment, m) for m in mistakes.MISTAKES], ids=lambda m: f"{m.assignment}:{m.name}")
def test_mistake_loses_matching_points_with_a_fix(graded, mistake):
    bundle = mistakes.bundle_of(mistake, mistakes.MISTAKES)
    result = graded(mistake.assignment)[bundle.student]
    assert result.error is None
    assert result.lost() == list(bundle.fails), result.messages
    assert not mistake.unhinted(result.messages), result.messages
