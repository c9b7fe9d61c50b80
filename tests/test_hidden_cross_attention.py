"""Notebook 5's decisions: the scaling of each score is the student's, declared in SCALED and held to by the visible
test and the hidden check; question 4 is judged against the student's own figures; the questions guide without the
answer."""
import itertools

import nbformat
import numpy as np
import pytest

from grader.catalogue import mistakes, submissions
from grader.course import SOLUTIONS, notebook_of
from grader.hidden import cross_attention as x
from kernel_objects import Variable

SCORES = ("dot", "general", "additive")
DECLARATIONS = [dict(zip(SCORES, flags)) for flags in itertools.product((True, False), repeat=3)]


def cell_source(grade_id=None, cell_id=None):
    """The source of the solution notebook's cell with this grade_id (or, for cells without one, this cell id)."""
    nb = nbformat.read(notebook_of(mistakes.NB5, SOLUTIONS), as_version=4)
    if cell_id:
        return next(c.source for c in nb.cells if c.get("id") == cell_id)
    return next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def notebook(scaled, code_scaled=None):
    """The reference's score functions and CrossAttention, whose code scales as ``code_scaled`` (default: ``scaled``)
    says, with ``scaled`` as the notebook's declaration SCALED."""
    import keras
    from keras import layers, ops

    from attentionlab import checks

    found = {"np": np, "keras": keras, "layers": layers, "ops": ops, "checks": checks,
             "SCALED": dict(scaled), "CODE_SCALED": dict(code_scaled or scaled)}
    answers = submissions.solution_sources(mistakes.NB5)
    assert "if SCALED[self.score]:" in answers["cross_attention"]
    exec(answers["scores"], found)
    exec(answers["cross_attention"].replace("if SCALED[self.score]:", "if CODE_SCALED[self.score]:"), found)
    return found


def hidden_verdict(scaled, code_scaled=None, declaration=None, layer=None):
    from grader.hidden import verdict

    found = notebook(scaled, code_scaled)
    names = {"CrossAttention": layer or found["CrossAttention"], **{f"{s}_score": found[f"{s}_score"] for s in SCORES},
             "SCALED": Variable(scaled if declaration is None else declaration, "SCALED")}
    return verdict(x.cross_attention.check, names)


@pytest.mark.parametrize("scaled", DECLARATIONS, ids=lambda d: "-".join(s for s in SCORES if d[s]) or "none")
def test_any_declared_scaling_that_the_layer_follows_passes_both_tests(scaled):
    assert hidden_verdict(scaled) == (True, None)
    exec(cell_source("test_cross_attention"), notebook(scaled))


@pytest.mark.parametrize("scaled, code_scaled, score", [
    (x.COURSE_SCALED, dict(x.COURSE_SCALED, general=False), "general"),  # Luong's formula, declared otherwise
    (x.COURSE_SCALED, dict(x.COURSE_SCALED, additive=True), "additive"),
    (dict(x.COURSE_SCALED, general=False), x.COURSE_SCALED, "general"),
    ({s: False for s in SCORES}, {s: True for s in SCORES}, "dot"),
])
def test_a_layer_that_disagrees_with_its_declaration_is_told_so_in_both_tests(scaled, code_scaled, score):
    hint = "must scale exactly the scores your declaration names"
    passed, message = hidden_verdict(scaled, code_scaled)
    assert not passed and f"for the {score} score" in message and hint in message
    with pytest.raises(AssertionError, match=hint) as failure:
        exec(cell_source("test_cross_attention"), notebook(scaled, code_scaled))
    assert f"for the {score} score" in str(failure.value)


@pytest.mark.parametrize("declaration", [{"dot": True, "general": True}, ["dot", "general"], NotImplemented,
                                         {"dot": "yes", "general": True, "additive": False}])
def test_a_declaration_of_another_form_is_refused_with_its_form(declaration):
    passed, message = hidden_verdict(x.COURSE_SCALED, declaration=declaration)
    assert not passed
    assert "Not answered yet" in message if declaration is NotImplemented else 'SCALED must be a dict' in message


def test_a_wrong_layer_still_gets_its_own_fix_whatever_the_declaration():
    """A layer that ignores the mask is told about padding, under any declaration."""
    for scaled in (x.COURSE_SCALED, {s: False for s in SCORES}):
        layer = notebook(scaled)["CrossAttention"]

        def unmasked(units, score, layer=layer):
            made = layer(units, score)
            made.call = lambda q, k, m: type(made).call(made, q, k, np.ones_like(m))
            return made

        passed, message = hidden_verdict(scaled, layer=unmasked)
        assert not passed and "must get zero weight" in message, message


def test_the_measurement_supports_question_1():
    """The measurement cell, run at d = 128 and d = 512, shows what question 1's answer says: the unscaled dot and general
    spreads about double, the additive spread stays; with the factor, dot and general are no longer peaked."""
    import io
    from contextlib import redirect_stdout

    import keras
    from keras import ops

    found = {"np": np, "keras": keras, "ops": ops, "SEED": 0}
    exec(submissions.solution_sources(mistakes.NB5)["scores"], found)
    spreads = {}
    for d in (128, 512):
        with redirect_stdout(io.StringIO()) as printed:
            exec(cell_source(cell_id="measure").replace("d, S = 128, 20", f"d, S = {d}, 20"), found)
        rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in printed.getvalue().splitlines()
                if line.split() and line.split()[0] in SCORES}
        spreads[d] = {score: row[0] for score, row in rows.items()}
        if d == 128:
            assert all(rows[s][1] > 0.5 and rows[s][2] < 0.2 for s in ("dot", "general")), rows
            assert rows["additive"][1] < 0.2 and rows["additive"][2] == pytest.approx(1 / 20, abs=0.01), rows
    growth = {s: spreads[512][s] / spreads[128][s] for s in SCORES}
    assert 1.8 < growth["dot"] < 2.2 and 1.8 < growth["general"] < 2.2 and 0.85 < growth["additive"] < 1.15, growth


def figures(bleu, strict):
    return {"bleu": bleu, "alignment": {"words": 4000, "strict": strict, "near": 0.9, "ahead": 0.1, "mass": 0.5},
            "hypotheses": ["uno"]}



@pytest.fixture(scope="module")
def base():
    from attentionlab import baseline

    return baseline.load()["val"]["bleu"]


@pytest.mark.parametrize("luong, bahdanau, right", [
    ((20, 0.95), (20, 0.40), "b"), ((20, 0.95), (20, 0.80), "a"), ((20, 0.50), (20, 0.90), "c"),
    ((1, 0.95), (20, 0.40), "d"), ((0, 0.0), (0, 0.0), "d"),
])
def test_question_4_is_judged_on_the_students_own_figures(base, luong, bahdanau, right):
    results = Variable({"Luong": figures(base + luong[0], luong[1]),
                        "Bahdanau": figures(base + bahdanau[0], bahdanau[1])}, "results")
    for letter in "abcd":
        if letter == right:
            assert x.q_choice(Variable(f" {letter.upper()} "), results) is None
        else:
            with pytest.raises(AssertionError, match="Reread sections 6 and 8") as failure:
                x.q_choice(Variable(letter, "answer_choice"), results)
            assert f"'{right}'" not in str(failure.value).replace(f"= {letter!r}", "")


def test_question_4_accepts_both_readings_of_a_figure_at_its_bar(base):
    results = Variable({"Luong": figures(base + 20, x.ALIGNMENT_BAR + 0.0049), "Bahdanau": figures(base + 5.03, 0.2)},
                       "results")
    for letter in "bd":
        assert x.q_choice(Variable(letter), results) is None
    with pytest.raises(AssertionError):
        x.q_choice(Variable("a"), results)


def test_question_4_says_what_is_missing(base):
    with pytest.raises(AssertionError, match="Not answered yet"):
        x.q_choice(Variable(NotImplemented), Variable({}))
    with pytest.raises(AssertionError, match="run sections 5 to 8"):
        x.q_choice(Variable("b"), Variable(NotImplemented, "results"))
    with pytest.raises(AssertionError, match="does not hold the figures"):
        x.q_choice(Variable("b"), Variable({"Luong": figures(base, 0.9)}, "results"))


@pytest.mark.parametrize("check, right, hint", [(x.q_scaling, "c", "d = 512"), (x.q_step_by_step, "a", "sections 3 and 4"),
                                                (x.q_position, "a", "section 8")])
def test_questions_guide_without_the_answer(check, right, hint):
    assert check(Variable(right.upper() + " ")) is None
    for wrong in set("abcd") - {right}:
        with pytest.raises(AssertionError, match=hint) as failure:
            check(Variable(wrong))
        assert not {f"'{right}'", f'"{right}"'} & set(str(failure.value).replace(f"= {wrong!r}", "").split())
    with pytest.raises(AssertionError, match="Not answered yet"):
        check(Variable(NotImplemented))


def test_the_catalogue_answers_are_the_checks_answers():
    """The reference's letters are those the hidden checks accept (the catalogue's edits start from them)."""
    answers = submissions.solution_sources(mistakes.NB5)
    for cell, check in [("q_scaling", x.q_scaling), ("q_step_by_step", x.q_step_by_step), ("q_position", x.q_position)]:
        found = {}
        exec(answers[cell], found)
        (value,) = [v for k, v in found.items() if k.startswith("answer_")]
        assert check(Variable(value)) is None
