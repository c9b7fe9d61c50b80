"""Notebook 5's additions of issue 30: the question on the controlled experiment is judged on the student's own figures;
the student's own sentences are checked for words the models know, and their readings of the maps on the attention
weights that the grader computes from the Luong model's weights."""
import numpy as np
import pytest

from grader.hidden import cross_attention as x, verdict
from kernel_objects import Variable
from test_hidden import nb5, seq2seq_model  # noqa: F401 - the reference answers' namespaces (a fixture)

KNOWN = ["Mary lives in a big house.", "tom has two cats and a dog ."]


def figures(plain, attention):
    """synthetic.experiment's figures with accuracies (in %) at the shortest and the longest length group."""
    groups = ("5-10", "11-15", "26-30")
    return {name: {"accuracy": dict(zip(groups, (short / 100, (short + long) / 200, long / 100))), "epochs": 10}
            for name, (short, long) in (("no attention", plain), ("attention", attention))}


@pytest.mark.parametrize("plain, attention, right", [
    ((95, 42), (100, 97), {"b"}), ((60, 58), (99, 98), {"a"}), ((90, 88), (95, 40), {"c"}),
    ((40, 45), (50, 55), {"a", "d"}), ((95, 84.7), (100, 100), {"a", "b"}),  # a gap of 10.3 points prints as 10
])
def test_the_question_on_length_is_judged_on_the_students_own_figures(plain, attention, right):
    reversal = Variable(figures(plain, attention), "reversal")
    for letter in "abcd":
        if letter in right:
            assert x.q_length(Variable(f" {letter.upper()}"), reversal) is None
        else:
            with pytest.raises(AssertionError, match="Reread your figure of section 7") as failure:
                x.q_length(Variable(letter, "answer_length"), reversal)
            assert not any(f"'{r}'" in str(failure.value).replace(f"= {letter!r}", "") for r in right)


def test_the_question_on_length_says_what_is_missing():
    with pytest.raises(AssertionError, match="Not answered yet"):
        x.q_length(Variable(NotImplemented), Variable({}))
    with pytest.raises(AssertionError, match="run the experiment of section 7 first"):
        x.q_length(Variable("b"), Variable(NotImplemented, "reversal"))
    for broken in ({}, {"attention": {"accuracy": {}}}, [1, 2], "figures"):
        with pytest.raises(AssertionError, match="does not hold the figures"):
            x.q_length(Variable("b"), Variable(broken, "reversal"))
    with pytest.raises(AssertionError, match="must be one letter"):
        x.q_length(Variable("bc"), Variable(figures((95, 42), (100, 97))))


def test_own_sentences_are_normalised_and_pass():
    assert x.own_sentences(Variable(KNOWN)) == ["mary lives in a big house .", "tom has two cats and a dog ."]
    assert verdict(x.check_own_sentences.check, {"my_sentences": Variable(tuple(KNOWN))}) == (True, None)


@pytest.mark.parametrize("sentences, message", [
    (["Mary lives in a big castle.", KNOWN[1]], "'castle' in 'mary lives in a big castle .' is not in the source "
                                                 "vocabulary"),
    ([KNOWN[0], "tom [unk] two cats ."], "'[unk]'"),
    (["Mary lives here.", KNOWN[1]], "has 3 words (punctuation not counted)"),
    ([KNOWN[0], "tom has two cats and a dog and mary has a big house ."], "has 13 words"),
    ([KNOWN[0], "MARY lives in a BIG house ."], "Write two different sentences"),
    ([KNOWN[0]], "must be a list of two strings"),
    ("mary lives in a big house .", "must be a list of two strings"),
    ([KNOWN[0], 3], "must be a list of two strings"),
    (NotImplemented, "Not answered yet"),
])
def test_own_sentences_that_the_models_cannot_read_are_refused_with_the_reason(sentences, message):
    passed, found = verdict(x.check_own_sentences.check, {"my_sentences": Variable(sentences, "my_sentences")})
    assert not passed and message in found, found


W = 8  # the index of the general score's matrix W in Luong's weights (grader.hidden.forward.shapes)


def luong_model(nb5, scale=4.0):  # noqa: F811
    """An untrained Luong model on the course's vocabularies (small, random weights), its score's matrix W multiplied
    by ``scale``: at 4, rows of its maps have a clear strongest weight (2-5 times the even weight); at 0 they are even."""
    from attentionlab import text
    from grader.hidden import seq2seq

    corpus = seq2seq.corpus()
    vocabs = text.Vocab(en for en, _ in corpus.train), text.Vocab(es for _, es in corpus.train)
    model = seq2seq_model(nb5["reference"], "Luong", *vocabs, embedding_dim=4, units=8, seed=2)
    weights = model.get_weights()
    weights[W] = weights[W] * scale
    model.set_weights(weights)
    return model


@pytest.fixture(scope="module")
def luong(nb5):  # noqa: F811
    return luong_model(nb5)


def read_maps(model, sentences, pick):
    """A reading of each sentence's map: the written word whose row is the most peaked, and the English word that
    ``pick`` chooses in that row."""
    from attentionlab import data

    own = [data.normalise(s) for s in sentences]
    texts, weights = model.translate(own, return_attention=True)
    rows = [int(np.argmax(w[:len(t.split())].max(axis=1))) for t, w in zip(texts, weights)]
    return [(t.split()[r], s.split()[int(pick(w[r]))]) for s, t, w, r in zip(own, texts, weights, rows)]


def reading_verdict(model, readings, sentences=KNOWN):
    return verdict(x.own_reading.check, {"my_sentences": Variable(sentences, "my_sentences"),
                                         "my_readings": Variable(readings, "my_readings"),
                                         "models": Variable({"Luong": model}, "models")})


def test_a_reading_of_the_strongest_weight_passes(luong):
    readings = read_maps(luong, KNOWN, np.argmax)
    passed, message = reading_verdict(luong, readings)
    assert passed and "match the attention weights" in message
    assert reading_verdict(luong, [[w.upper() + " ", e.title()] for w, e in readings])[0]  # any case, lists


def test_a_reading_of_another_cell_fails_without_the_answer(luong):
    right, wrong = read_maps(luong, KNOWN, np.argmax), read_maps(luong, KNOWN, np.argmin)
    number = next(i for i, (r, w) in enumerate(zip(right, wrong), 1) if r != w)
    passed, message = reading_verdict(luong, wrong)
    assert not passed and f"In the map of your sentence {number}, the row of" in message
    assert "does not put its strongest weight" in message and repr(right[number - 1][1]) not in message


def test_a_reading_must_name_a_written_word_and_a_source_word(luong):
    (written, english), second = read_maps(luong, KNOWN, np.argmax)
    passed, message = reading_verdict(luong, [("[end]", english), second])
    assert not passed and "is not a word that the model wrote for your sentence 1" in message
    passed, message = reading_verdict(luong, [(written, "castle"), second])
    assert not passed and "'castle' is not a word of your sentence 1" in message
    for broken in ([(written, english)], [(written, english, "x"), second], "casa house", [(written, 3), second]):
        passed, message = reading_verdict(luong, broken)
        assert not passed and "must be a list of two pairs of strings" in message


def test_a_reading_of_sentences_with_unknown_words_names_the_word(luong):
    passed, message = reading_verdict(luong, read_maps(luong, KNOWN, np.argmax),
                                      sentences=["Mary lives in a big castle.", KNOWN[1]])
    assert not passed and "is not in the source vocabulary" in message


def test_a_reading_is_judged_on_the_model_not_on_what_the_notebook_shows(luong):
    """A translate that reports other maps than the model's weights give, or no model, is refused."""
    readings = read_maps(luong, KNOWN, np.argmax)
    passed, message = reading_verdict(None, readings)
    assert not passed and "Keep `models` as the training cell of section 5 makes it" in message

    class Shown:
        """The model, whose translate reports uniform weights."""

        def get_weights(self):
            return luong.get_weights()

        def translate(self, sources, return_attention=False, **kwargs):
            texts, weights = luong.translate(sources, return_attention=True)
            return texts, [np.full(np.shape(w), 1 / np.shape(w)[1]) for w in weights]

    passed, message = reading_verdict(Shown(), readings)
    assert not passed and "does not give the translations that the grader computes" in message


def test_a_map_without_a_strongest_weight_cannot_be_read(nb5):  # noqa: F811
    """With the general score's matrix W at zero, every row is even, as an untrained model's: no reading passes, and
    the message says why."""
    even = luong_model(nb5, scale=0.0)
    texts, maps = even.translate([s.lower() for s in KNOWN], return_attention=True)
    assert all(np.allclose(m, 1 / m.shape[1]) for m in maps) and all(texts)
    passed, message = reading_verdict(even, read_maps(even, KNOWN, np.argmax))
    assert not passed and "spreads its weight almost evenly" in message
