"""Mistakes and other correct answers in the training notebooks, graded end to end in the sandbox without training.

With ATTENTIONLAB_TRAIN_BATCHES set, seq2seq.train and lm.train fit two batches only: the cells that need a trained model
then fail for every submission, the reference included, and every other cell is judged as in a real grading.
Each notebook's submissions are graded as one class on two workers, as an instructor grades them; the edits in
bundles (grader.catalogue.mistakes.bundles): mistakes share a submission when no test cell but the BLEU cells, which fail for
all of them, can see two of them.
"""
import functools

import pytest

from grader.catalogue import mistakes, submissions

pytestmark = [pytest.mark.slow, pytest.mark.training]
BLEU_CELLS = mistakes.NEEDS_TRAINING
EDITS = mistakes.FAST_MISTAKES + mistakes.FAST_ALTERNATIVES
SETTLED = frozenset().union(*BLEU_CELLS.values())


@pytest.fixture(scope="module")
def untrained(grade_as_class):
    """untrained(assignment) -> {student: Result} of its untrained reference and fast edits, graded once when needed."""
    from attentionlab.seq2seq import SMOKE

    @functools.cache
    def results(assignment):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(SMOKE, "2")
            notebooks = {"untrained-reference": submissions.student_notebook(
                assignment, submissions.solution_sources(assignment))}
            notebooks.update({b.student: submissions.with_edits(*b.edits)
                              for b in mistakes.bundles([e for e in EDITS if e.assignment == assignment], SETTLED)})
            return grade_as_class(assignment, notebooks)

    return results


@pytest.mark.parametrize("assignment", sorted(BLEU_CELLS))
def test_untrained_reference_loses_only_the_bleu_cells(untrained, assignment):
    result = untrained(assignment)["untrained-reference"]
    assert result.error is None and set(result.lost()) == BLEU_CELLS[assignment], result.messages


@pytest.mark.parametrize("mistake", mistakes.FAST_MISTAKES, ids=lambda m: f"{m.assignment}:{m.name}")
def test_training_notebook_mistake_fails_its_cell_with_a_fix(untrained, mistake):
    bundle = mistakes.bundle_of(mistake, EDITS, SETTLED)
    result = untrained(mistake.assignment)[bundle.student]
    assert result.error is None
    assert set(result.lost()) == set(bundle.fails) | BLEU_CELLS[mistake.assignment], result.messages
    assert not mistake.unhinted(result.messages), result.messages


@pytest.mark.parametrize("edit", mistakes.FAST_ALTERNATIVES, ids=lambda e: f"{e.assignment}:{e.name}")
def test_training_notebook_alternative_loses_only_what_needs_training(untrained, edit):
    result = untrained(edit.assignment)[mistakes.bundle_of(edit, EDITS, SETTLED).student]
    assert result.error is None and set(result.lost()) == BLEU_CELLS[edit.assignment], result.messages
