"""Mistakes in the training notebooks, graded end to end in the sandbox without training a model.

With ATTENTIONLAB_TRAIN_BATCHES set, seq2seq.train fits two batches only: the BLEU cells then fail for
every submission, the reference included, and every other cell is judged as in a real grading.
"""
import pytest

from grader import autograde, mistakes, submissions

pytestmark = pytest.mark.slow
BLEU_CELLS = {"04_seq2seq": {"test_bleu"}, "05_cross_attention": {"test_bleu_gate"}}


@pytest.fixture
def untrained(monkeypatch):
    from attentionlab.seq2seq import SMOKE

    monkeypatch.setenv(SMOKE, "2")


def grade(nb, assignment, student):
    submissions.submit(nb, assignment, student)
    return autograde.grade(assignment, student, feedback=False)


@pytest.mark.parametrize("assignment", sorted(BLEU_CELLS))
def test_untrained_reference_loses_only_the_bleu_cells(grading_dir, untrained, assignment):
    result = grade(submissions.student_notebook(assignment, submissions.solution_sources(assignment)),
                   assignment, "untrained-reference")
    assert result.error is None and set(result.lost()) == BLEU_CELLS[assignment], result.messages


@pytest.mark.parametrize("mistake", mistakes.FAST_MISTAKES, ids=lambda m: f"{m.assignment}:{m.name}")
def test_training_notebook_mistake_fails_its_cell_with_a_fix(grading_dir, untrained, mistake):
    result = grade(submissions.with_edit(mistake), mistake.assignment, mistake.student)
    assert result.error is None
    assert set(result.lost()) == set(mistake.fails) | BLEU_CELLS[mistake.assignment], result.messages
    assert mistake.hint in result.messages[mistake.fails[0]], result.messages


@pytest.mark.parametrize("edit", mistakes.FAST_ALTERNATIVES, ids=lambda e: f"{e.assignment}:{e.name}")
def test_training_notebook_alternative_loses_only_the_bleu_cells(grading_dir, untrained, edit):
    result = grade(submissions.with_edit(edit), edit.assignment, edit.student)
    assert result.error is None and set(result.lost()) == BLEU_CELLS[edit.assignment], result.messages
