"""Notebook 4's checks before training: the reference passes the visible tests and the hidden checks, each catalogued
mistake fails both with its fix, each alternative passes both, and the questions judge the catalogue's answers."""
import nbformat
import numpy as np
import pytest

from grader.catalogue import mistakes, submissions
from grader.course import SOLUTIONS, notebook_of
from grader.hidden import seq2seq as h

ASSIGNMENT = mistakes.NB4
CHECKS = {"encoder": ("test_encoder", h.encoder, "Encoder"), "decoder": ("test_decoder", h.decoder, "Decoder"),
          "loss": ("test_loss", h.masked_loss, "masked_loss")}
EDITS = [e for e in mistakes.FAST_MISTAKES + mistakes.FAST_ALTERNATIVES if e.assignment == ASSIGNMENT]
LAYER_EDITS = [e for e in EDITS if e.cell in CHECKS]
QUESTION_EDITS = [e for e in EDITS if e.cell.startswith("q_")]


def visible_tests() -> dict[str, str]:
    nb = nbformat.read(notebook_of(ASSIGNMENT, SOLUTIONS), as_version=4)
    return {c.metadata.nbgrader["grade_id"]: c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}


def namespace(answers: dict[str, str], cell: str) -> dict:
    """The setup cell's names (without the corpus) and one answer cell, run."""
    import keras
    from keras import layers, ops

    from attentionlab import checks, text

    found = {"np": np, "keras": keras, "layers": layers, "ops": ops, "checks": checks, "text": text}
    exec(answers[cell], found)
    return found


def answers_of(edit=None) -> dict[str, str]:
    return submissions.answers_with(edit) if edit else submissions.solution_sources(ASSIGNMENT)


def outcome(edit, cell: str, seed: int, monkeypatch) -> tuple[str | None, str | None]:
    """(visible test's failure, hidden check's failure) of ``cell``, None for a pass."""
    test, check, name = CHECKS[cell]
    found = namespace(answers_of(edit), cell)
    failures = []
    try:
        exec(visible_tests()[test], found)
        failures.append(None)
    except AssertionError as exc:
        failures.append(str(exc))
    monkeypatch.setattr(h, "fresh", lambda salt: seed * 7 + salt)
    try:
        check(found[name])
        failures.append(None)
    except AssertionError as exc:
        failures.append(str(exc))
    return tuple(failures)


@pytest.mark.parametrize("cell", sorted(CHECKS))
def test_reference_passes_on_several_seeds(cell, monkeypatch):
    """float32 Keras layers against float64 references and against themselves: the tolerances accept them."""
    for seed in range(5):
        assert outcome(None, cell, seed, monkeypatch) == (None, None)


@pytest.mark.parametrize("edit", LAYER_EDITS, ids=lambda e: e.name)
def test_mistakes_fail_before_training_with_their_fix_and_alternatives_pass(edit, monkeypatch):
    visible, hidden = outcome(edit, edit.cell, 0, monkeypatch)
    if isinstance(edit, mistakes.Mistake):
        assert visible and edit.hint in visible, visible
        assert hidden and edit.hint in hidden, hidden
    else:
        assert (visible, hidden) == (None, None)


def test_messages_name_no_code_of_the_answers():
    """The fixes the checks give are conceptual (tests/test_exercises.py scans every literal; this checks the
    messages as the student reads them)."""
    from grader.catalogue.exercises import ANSWER_CODE

    codes = [code for codes in ANSWER_CODE[ASSIGNMENT].values() for code in codes]
    texts = [h.NO_STATE.format(who=who, section=h.WHERE[who]["section"], why=h.WHY_STATE[who]) for who in h.WHERE]
    texts += [h.NO_SEQUENCES.format(who=who, **h.WHERE[who]) for who in h.WHERE]
    texts += [h.SKIP_PADDING, h.PADDED_OUTPUTS, h.IGNORES_STATE, h.STATE_AFTER, *h.LOSS_MISTAKES]
    assert not [(code, text) for code in codes for text in texts if code in text]


def test_decoder_check_sees_a_state_that_is_not_the_lstms(monkeypatch):
    """A decoder that returns some other state than its LSTM's final one (here, half of it) cannot be continued."""
    found = namespace(answers_of(), "decoder")

    class Halved(found["Decoder"]):
        def call(self, target_ids, encoder_outputs, source_mask, state):
            logits, state, none = super().call(target_ids, encoder_outputs, source_mask, state)
            return logits, [s * 0.5 for s in state], none

    monkeypatch.setattr(h, "fresh", lambda salt: salt)
    with pytest.raises(AssertionError, match="state after the last target word"):
        h.decoder(Halved)


class Answer:
    """An answer variable as a hidden check reads it (grader.hidden.remote.Remote.value)."""

    def __init__(self, value):
        self._value = value

    def value(self):
        return self._value

    def __repr__(self):
        return "answer"


@pytest.mark.parametrize("edit", QUESTION_EDITS, ids=lambda e: e.name)
def test_questions_judge_the_catalogued_answers(edit):
    cell = answers_of(edit)[edit.cell]
    found = {}
    exec(cell, found)
    check = {"q_state_size": h.q_state_size, "q_bottleneck": h.q_bottleneck}[edit.cell]
    value = found["answer_state_size" if edit.cell == "q_state_size" else "answer_bottleneck"]
    if isinstance(edit, mistakes.Mistake):
        with pytest.raises(AssertionError, match=edit.hint) as failure:
            check(Answer(value))
        assert "192" not in str(failure.value) and "'c'" not in str(failure.value)
    else:
        assert check(Answer(value)) is None


def test_question_1_answer_is_the_state_of_the_variant_not_its_outputs():
    """h and c of 96 numbers, whatever the sentence's length: the decoder of section 4 uses the state only."""
    assert h.lstm_state_size(h.STATE_UNITS, h.STATE_WORDS) == 192 == 2 * h.STATE_UNITS
    found = namespace(answers_of(), "encoder")
    outputs, state, _ = found["Encoder"](50, 8, h.STATE_UNITS)(np.arange(4, 4 + h.STATE_WORDS)[None])
    assert sum(np.size(s) for s in state) == 192 and np.size(outputs) == h.STATE_WORDS * h.STATE_UNITS
