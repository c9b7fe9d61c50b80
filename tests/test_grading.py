"""Autograde the reference, the blank notebook, every alternative answer and every mistake, sandboxed."""
import pytest

from grader import autograde, mistakes, submissions
from grader.course import NEEDS_DATA, assignments, limits_for

pytestmark = pytest.mark.slow


def trains(assignment, value=None):
    """A test parameter (``value``, by default the assignment), marked `training` when grading it trains a model."""
    marks = [pytest.mark.training] if assignment in NEEDS_DATA else []
    return pytest.param(assignment if value is None else value, marks=marks)


def grade(assignment, student, nb):
    submissions.submit(nb, assignment, student)
    return autograde.grade(assignment, student, feedback=False)


@pytest.fixture(scope="module")
def trained(grading_dir):
    """{(assignment, student): Result} of every submission that trains fully, graded two at a time, longest first."""
    notebooks = {(a, "reference"): submissions.student_notebook(a, submissions.solution_sources(a)) for a in NEEDS_DATA}
    notebooks.update({(e.assignment, e.student): submissions.with_edit(e)
                      for e in mistakes.ALTERNATIVES + mistakes.MISTAKES if e.assignment in NEEDS_DATA})
    for (assignment, student), nb in notebooks.items():
        submissions.submit(nb, assignment, student)
        autograde.ensure_in_gradebook(assignment)
    order = sorted(notebooks, key=lambda job: limits_for(job[0]).wall_seconds, reverse=True)
    jobs = [(a, s, autograde.submission(a, s)) for a, s in order]
    return {(a, s): autograde.record(a, s, outcome, seconds, feedback=False, sha256=autograde.fingerprint(a, s))
            for (a, s, _), outcome, seconds in autograde.run_jobs(jobs, workers=2)}


def reference(request, assignment):
    """The graded reference of ``assignment`` (the notebooks that train are graded together, in `trained`)."""
    if assignment in NEEDS_DATA:
        return request.getfixturevalue("trained")[assignment, "reference"]
    return grade(assignment, "reference", submissions.student_notebook(
        assignment, submissions.solution_sources(assignment)))


@pytest.mark.parametrize("assignment", [trains(a) for a in assignments()])
def test_reference_gets_full_marks(grading_dir, request, assignment):
    result = reference(request, assignment)
    assert result.error is None and result.mode == "bwrap"
    assert result.max_score > 0 and result.score == result.max_score, result.messages


@pytest.mark.parametrize("assignment", assignments())
def test_blank_gets_zero_without_crashing(grading_dir, assignment):
    result = grade(assignment, "blank", submissions.student_notebook(assignment, {}))
    assert result.error is None
    assert result.max_score > 0 and result.score == 0
    assert set(result.cells) <= set(result.messages), "every test cell fails with a message"


QUICK = [e for e in mistakes.ALTERNATIVES + mistakes.MISTAKES if e.assignment not in NEEDS_DATA]


@pytest.fixture(scope="module")
def catalogue(grade_as_class):
    """{(assignment, student): Result} of every edit of the notebooks that do not train, graded as classes."""
    graded = {}
    for assignment in sorted({e.assignment for e in QUICK}):
        notebooks = {e.student: submissions.with_edit(e) for e in QUICK if e.assignment == assignment}
        graded.update({(assignment, s): r for s, r in grade_as_class(assignment, notebooks).items()})
    return graded


def _graded(edit, request):
    graded = request.getfixturevalue("catalogue" if edit in QUICK else "trained")
    return graded[edit.assignment, edit.student]


@pytest.mark.parametrize("edit", [trains(e.assignment, e) for e in mistakes.ALTERNATIVES], ids=lambda e: f"{e.assignment}:{e.name}")
def test_alternative_answer_gets_full_marks(grading_dir, request, edit):
    result = _graded(edit, request)
    assert result.error is None and result.score == result.max_score > 0, result.messages


@pytest.mark.parametrize("mistake", [trains(m.assignment, m) for m in mistakes.MISTAKES], ids=lambda m: f"{m.assignment}:{m.name}")
def test_mistake_loses_matching_points_with_a_fix(grading_dir, request, mistake):
    result = _graded(mistake, request)
    assert result.error is None
    assert result.lost() == sorted(mistake.fails), result.messages
    assert mistake.hint in result.messages[mistake.fails[0]], result.messages
