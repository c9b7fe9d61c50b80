"""The catalogue's bundles: what makes it safe to grade several edits in one submission."""
import ast

import nbformat
import pytest

from grader import mistakes, submissions
from grader.course import SOLUTIONS, assignments, notebook_of

CATALOGUES = {"make examples": mistakes.ALTERNATIVES + mistakes.MISTAKES,
              "untrained": mistakes.FAST_ALTERNATIVES + mistakes.FAST_MISTAKES}


@pytest.mark.parametrize("catalogue", CATALOGUES)
def test_bundles_hold_every_edit_once_and_judge_each_apart(catalogue):
    edits = CATALOGUES[catalogue]
    bundles = mistakes.bundles(edits)
    assert sorted(e.student for b in bundles for e in b.edits) == sorted(e.student for e in edits)
    for bundle in bundles:
        cells = [e.cell for e in bundle.edits]
        assert len({e.assignment for e in bundle.edits}) == 1 and len(set(cells)) == len(cells), bundle
        code_mistakes = [e for e in bundle.edits if isinstance(e, mistakes.Mistake) and not mistakes.is_quiz(e)]
        assert len(code_mistakes) <= 1, bundle
        assert all(isinstance(e, mistakes.Mistake) for e in bundle.edits) or not bundle.fails, bundle
    assert len(bundles) < len(edits), "bundling saves gradings"


def test_a_bundle_writes_every_edit_in():
    bundle = next(b for b in mistakes.bundles(mistakes.MISTAKES) if len(b.edits) > 2)
    nb = submissions.with_edits(*bundle.edits)
    sources = {c.metadata.nbgrader["grade_id"]: c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}
    assert all(e.new in sources[e.cell] for e in bundle.edits)
    assert set(bundle.fails) == {c for e in bundle.edits for c in e.fails}


def _names(source: str, stored: bool) -> set[str]:
    """Names a cell assigns at top level (``stored``) or reads anywhere."""
    tree = ast.parse(submissions.strip_markers(source))
    if stored:
        return {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


@pytest.mark.parametrize("assignment", assignments())
def test_quiz_answers_are_read_by_their_own_test_cell_only(assignment):
    """What lets quiz mistakes share a submission (mistakes.is_quiz): no other cell can be judged differently."""
    cells = {c.metadata.get("nbgrader", {}).get("grade_id", f"cell-{i}"): c.source
             for i, c in enumerate(nbformat.read(notebook_of(assignment, SOLUTIONS), as_version=4).cells)
             if c.cell_type == "code"}
    quizzes = [g for g in cells if g.startswith("q_")]
    assert quizzes
    for quiz in quizzes:
        answers = _names(cells[quiz], stored=True)
        assert answers & _names(cells[f"test_{quiz}"], stored=False), quiz
        readers = [g for g, source in cells.items() if g not in (quiz, f"test_{quiz}") and answers & _names(source, False)]
        assert not readers, f"{quiz}'s answer is read by {readers}"
