"""The same answers get the same scores in both editions, cell for cell, and the Spanish one speaks Spanish.

The Spanish reference and every catalogued mistake of the notebooks that train no model are graded as a Spanish
class; each must lose exactly the cells the catalogue says it loses in English (tests/test_grading.py holds the
English class to the same catalogue). The training notebooks' Spanish references are graded untrained, as
tests/test_fast_mistakes.py grades the English ones: they lose only the cells that need a trained model.
"""
import functools

import pytest

from attentionlab.seq2seq import SMOKE
from grader.catalogue import mistakes, submissions
from grader.course import NEEDS_DATA, assignments, edition
from grader.delivery import translate

pytestmark = pytest.mark.slow
QUICK = [a for a in assignments() if a not in NEEDS_DATA]


def english_in(text: str) -> list[str]:
    """The grader's English messages (those without fields, so found verbatim) that appear in ``text``."""
    catalog = translate.read(translate.po_path("checks", "es", translate.DOMAINS["checks"][0]))
    return [m.id for m in catalog if m.id and m.string != m.id and "{" not in m.id and len(m.id) > 30 and m.id in text]


@pytest.fixture(scope="module")
def spanish(grade_as_class):
    """spanish(assignment) -> {student: Result}: its Spanish reference and mistake bundles, graded once."""
    @functools.cache
    def results(assignment):
        with pytest.MonkeyPatch.context() as patch:
            if assignment in NEEDS_DATA:
                patch.setenv(SMOKE, "2")
            notebooks = {"reference": submissions.student_notebook(
                assignment, submissions.solution_sources(assignment), "es")}
            if assignment in QUICK:
                notebooks.update({b.student: submissions.with_edits(*b.edits, lang="es")
                                  for b in mistakes.bundles(mistakes.for_assignment(assignment, trained=False))})
            return grade_as_class(edition(assignment, "es"), notebooks)

    return results


@pytest.mark.parametrize("assignment", QUICK)
def test_the_spanish_edition_scores_as_the_english_one_and_speaks_spanish(spanish, assignment):
    results = spanish(assignment)
    assert results["reference"].error is None and results["reference"].score == results["reference"].max_score > 0
    for bundle in mistakes.bundles(mistakes.for_assignment(assignment, trained=False)):
        result = results[bundle.student]
        assert result.error is None and result.lost() == list(bundle.fails), (bundle.student, result.messages)
        assert not english_in(" ".join(result.messages.values())), result.messages


@pytest.mark.parametrize("assignment", sorted(NEEDS_DATA))
@pytest.mark.training
def test_the_untrained_spanish_reference_loses_only_what_needs_training(spanish, assignment):
    result = spanish(assignment)["reference"]
    assert result.error is None and set(result.lost()) == mistakes.NEEDS_TRAINING[assignment], result.messages
