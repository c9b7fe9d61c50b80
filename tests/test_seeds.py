"""A fair check does not pass an answer on one grading run and fail it on the next: every other correct answer of the
catalogue passes the hidden checks of every cell it reaches on 20 grading seeds (ATTENTIONLAB_CHECK_SEED=0..19).

The notebook runs in this process, with the alternatives written in and training cut to two batches (seq2seq.SMOKE),
and the checks take its functions, classes and answers as the grader's remote calls would give them."""
import os

import matplotlib
import pytest

import grader.hidden
from attentionlab.seq2seq import SMOKE
from grader.catalogue import cells, mistakes, submissions
from grader.grading.preprocessors import is_test
from grader.hidden import checks_for, verdict
from kernel_objects import Variable

pytestmark = pytest.mark.slow
SEEDS = range(20)
MEASURED = {"test_flash_memory"}  # reads the kernel's memory from /proc: tests/test_hostile_models.py
ALTERNATIVES = mistakes.ALTERNATIVES + mistakes.FAST_ALTERNATIVES
NEEDS_TRAINING = set().union(*mistakes.NEEDS_TRAINING.values())  # fail untrained, as for every submission


def run_notebook(nb) -> dict:
    """The namespace of ``nb`` after all its code cells ran in this process (visible tests too: they must pass)."""
    matplotlib.use("Agg")
    namespace = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and not (is_test(cell) and cell.metadata.nbgrader.grade_id in NEEDS_TRAINING):
            exec(cell.source, namespace)
    return namespace


@pytest.mark.parametrize("bundle", mistakes.bundles(ALTERNATIVES), ids=lambda b: b.edits[0].assignment)
def test_alternatives_pass_their_checks_on_20_seeds(monkeypatch, bundle):
    assignment = bundle.edits[0].assignment
    monkeypatch.setenv(SMOKE, "2")
    monkeypatch.chdir(os.environ.get("TMPDIR", "/tmp"))
    answers = submissions.answers_with(*bundle.edits)
    namespace = run_notebook(submissions.with_edits(*bundle.edits))
    reached = set().union(*cells.reach(assignment, {e.cell: answers[e.cell] for e in bundle.edits}).values())
    judged = reached - NEEDS_TRAINING - MEASURED
    failed = {}
    for grade_id in sorted(judged):
        check = checks_for(assignment)[grade_id]
        given = {name: Variable(namespace[name], name) for name in check.names}
        for seed in SEEDS:
            monkeypatch.setattr(grader.hidden, "BASE_SEED", seed)
            passed, message = verdict(check, given)
            if not passed:
                failed.setdefault(grade_id, (seed, message))
    assert not failed, failed
