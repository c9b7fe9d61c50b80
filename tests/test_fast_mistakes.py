"""Mistakes in the training notebooks, caught by their hidden tests without training a model.

Each case runs the instructor notebook's setup and answer cells in-process, with
one mistake written into one answer, and calls the hidden test of that cell.
"""
import re

import nbformat
import pytest

from grader import mistakes, submissions
from grader.course import notebook_of
from grader.hidden import cross_attention, seq2seq

CELLS_BEFORE_TRAINING = {"04_seq2seq": ["setup", "encoder", "decoder", "loss"],
                         "05_cross_attention": ["setup", "scores", "cross_attention", "attention_decoder"]}


def namespace(assignment, answers):
    """Globals after running the setup cell and the answer cells (no training)."""
    nb = nbformat.read(notebook_of(assignment), as_version=4)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells}
    env = {"seq2seq": seq2seq, "cross_attention": cross_attention}
    for grade_id in CELLS_BEFORE_TRAINING[assignment]:
        source = answers.get(grade_id, cells[grade_id])
        if grade_id == "setup":
            source = source.split("corpus = ")[0]  # the answer cells do not need the data
        exec(compile(source, grade_id, "exec"), env)
    env.update(seq2seq=seq2seq, cross_attention=cross_attention)
    return env


@pytest.mark.parametrize("mistake", mistakes.FAST_MISTAKES, ids=lambda m: f"{m.assignment}:{m.name}")
def test_fast_mistake_fails_its_hidden_test(mistake):
    answers = submissions.solution_sources(mistake.assignment)
    assert mistake.old in answers[mistake.cell]
    eval(mistake.call, namespace(mistake.assignment, answers))  # the reference passes
    answers[mistake.cell] = answers[mistake.cell].replace(mistake.old, mistake.new)
    with pytest.raises(AssertionError, match=re.escape(mistake.hint)):
        eval(mistake.call, namespace(mistake.assignment, answers))
