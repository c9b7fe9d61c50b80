"""The catalogue's bundles, and the analysis of cells (grader.catalogue.cells) that makes it safe to grade several edits in one
submission."""
import pytest

from grader.catalogue import cells, mistakes, submissions
from grader.course import assignments

UNTRAINED = frozenset().union(*mistakes.NEEDS_TRAINING.values())
CATALOGUES = {"trained": (mistakes.ALTERNATIVES + mistakes.MISTAKES + mistakes.TRAINED_MISTAKES, frozenset()),
              "untrained": (mistakes.FAST_ALTERNATIVES + mistakes.FAST_MISTAKES, UNTRAINED)}


def reach_of(*edits):
    """{cell: test cells it reaches} for the cells of these edits, written in."""
    answers = submissions.answers_with(*edits)
    return cells.reach(edits[0].assignment, {e.cell: answers[e.cell] for e in edits})


@pytest.mark.parametrize("catalogue", CATALOGUES)
def test_bundles_hold_every_edit_once_and_judge_each_apart(catalogue):
    edits, settled = CATALOGUES[catalogue]
    bundles = mistakes.bundles(edits, settled)
    assert sorted(e.student for b in bundles for e in b.edits) == sorted(e.student for e in edits)
    for bundle in bundles:
        cells_ = [e.cell for e in bundle.edits]
        assert len({e.assignment for e in bundle.edits}) == 1 and len(set(cells_)) == len(cells_), bundle
        assert all(isinstance(e, mistakes.Mistake) for e in bundle.edits) or not bundle.fails, bundle
        reach = reach_of(*bundle.edits)
        for i, a in enumerate(cells_):
            for b in cells_[i + 1:]:
                shared = reach[a] & reach[b] - settled
                assert not shared or not bundle.fails, f"{bundle.student}: {a} and {b} both reach {shared}"
    assert len(bundles) < len(edits), "bundling saves gradings"
    assert any(sum(not e.cell.startswith("q_") for e in b.edits) > 1 for b in bundles if b.fails), \
        "mistakes in independent code cells share a submission"


def test_a_bundle_writes_every_edit_in():
    bundle = next(b for b in mistakes.bundles(mistakes.MISTAKES) if len(b.edits) > 2)
    nb = submissions.with_edits(*bundle.edits)
    sources = {c.metadata.nbgrader["grade_id"]: c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}
    assert all(e.new in sources[e.cell] for e in bundle.edits)
    assert set(bundle.fails) == {c for e in bundle.edits for c in e.fails}


@pytest.mark.parametrize("catalogue", CATALOGUES)
def test_the_analysis_reaches_every_cell_a_mistake_fails(catalogue):
    """The catalogue, found by grading each mistake, agrees with the static analysis: it misses no dependency."""
    for mistake in (e for e in CATALOGUES[catalogue][0] if isinstance(e, mistakes.Mistake)):
        assert set(mistake.fails) <= reach_of(mistake)[mistake.cell], mistake.name


def test_a_cell_reads_what_it_uses_before_binding_it():
    source = ("def f(x):\n    y = x + g\n    return [z for z in y]\n"
              "rng = np.random.default_rng(0)\nw = rng.normal() + v\nv = 1\n"
              "for name in names:\n    print(name)\nruns[key] = f(w)\n")
    reads = set().union(*(uses for uses, _ in cells.steps(source)))
    binds = set().union(*(bound for _, bound in cells.steps(source)))
    assert reads == {"g", "np", "v", "names", "print", "runs", "key"}
    assert binds == {"f", "rng", "w", "v", "name", "runs"}


def test_test_cells_reached_follow_the_names():
    reach = cells.reach(mistakes.NB5)
    assert {"test_scores", "test_cross_attention", "test_luong_decoder", "test_bahdanau_step"} <= reach["scores"]
    assert "test_luong_decoder" in reach["luong_decoder"] and "test_bahdanau_step" not in reach["luong_decoder"]
    assert "test_alignment" in reach["choose"]  # through the hidden check's names


@pytest.mark.parametrize("assignment", assignments())
def test_quiz_answers_reach_their_own_test_cell_only(assignment):
    reach = cells.reach(assignment)
    quizzes = [cell for cell in reach if cell.startswith("q_")]
    assert quizzes
    assert all(reach[quiz] == {f"test_{quiz}"} for quiz in quizzes), {q: reach[q] for q in quizzes}


def test_mistakes_that_one_test_cell_sees_are_kept_apart():
    by_cell = {(e.assignment, e.cell): e for e in mistakes.FAST_MISTAKES}
    scores, attention = by_cell[mistakes.NB5, "scores"], by_cell[mistakes.NB5, "cross_attention"]
    luong, bahdanau = by_cell[mistakes.NB5, "luong_decoder"], by_cell[mistakes.NB5, "bahdanau_decoder"]
    encoding, block = by_cell[mistakes.NB6, "positional_encoding"], by_cell[mistakes.NB6, "decoder_block"]
    assert not mistakes.apart([scores, attention], UNTRAINED)
    assert mistakes.apart([luong, bahdanau], UNTRAINED)
    assert not mistakes.apart([encoding, block]) and mistakes.apart([encoding, block], UNTRAINED)


def test_examples_that_do_not_lose_what_the_catalogue_says_are_reported():
    from grader.grading.autograde import Result

    mistake = mistakes.MISTAKES[0]
    lost = {cell: (0.0, 1.0) for cell in mistake.fails}
    hinted = {cell: f"AssertionError: {mistake.hint}" for cell in mistake.fails}

    def graded(student, cells_, messages=None):
        return Result(mistake.assignment, student, cells={"test_kept": (1.0, 1.0), **cells_}, messages=messages or {})

    as_said = [graded("reference", {}), graded("blank", {"test_kept": (0.0, 1.0), **lost}),
               graded(mistake.student, lost, hinted)]
    assert mistakes.surprises(as_said) == []
    assert mistakes.surprises([graded("reference", lost)]) == [f"{mistake.assignment} reference lost "
                                                               f"{' '.join(sorted(lost))}, not nothing"]
    (unhinted,) = mistakes.surprises([graded(mistake.student, lost)])
    assert mistake.hint in unhinted
    assert mistakes.surprises([graded("blank", lost)]) != []
