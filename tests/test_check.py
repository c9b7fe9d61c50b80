"""The self-check: a learner's notebook graded with the instructor's checks, in the sandbox, no gradebook."""
import nbformat
import pytest

from grader.catalogue import mistakes, submissions
from grader.grading import sanitize
from grader.grading.check import check, report

pytestmark = pytest.mark.slow


def test_self_check_gives_points_and_the_fix(tmp_path):
    mistake = next(m for m in mistakes.MISTAKES if m.name == "no-scaling")
    path = tmp_path / "01_attention_numpy.ipynb"
    nbformat.write(submissions.with_edits(mistake), path)
    result = check(path)
    assert (result.score, result.max_score, result.lost(), result.error) == (12, 14, ["test_sdpa_values"], None)
    text = report(result)
    assert "test_sdpa_values           0/2" in text and "√d" in text and "bwrap" in text


def test_blank_notebook_is_told_what_is_not_done(tmp_path):
    path = tmp_path / "03_masks.ipynb"
    nbformat.write(submissions.student_notebook("03_masks", {}), path)
    assert "Not answered yet" in report(check(path))


def test_a_notebook_of_another_course_is_refused(tmp_path):
    path = tmp_path / "homework.ipynb"
    path.write_text("{}")
    with pytest.raises(sanitize.SubmissionError, match="not a notebook of this course"):
        check(path)
