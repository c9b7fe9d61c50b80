"""Hidden checks for notebooks 4 and 5: encoder, decoder, loss, and BLEU computed by the grader.

BLEU scores the grader's own greedy decoding of the handed-in model's weights (grader.hidden.forward), and counts only
when the notebook's ``translate`` gives the same translations on a sample drawn anew for every run: what a notebook
reports about its model never counts.
"""
from __future__ import annotations

import numpy as np

from attentionlab import checks, data, metrics, text
from grader.hidden import SetupError, forward, fresh, hidden_check, questions
from grader.hidden.remote import StudentError

BLEU_FLOOR = 12.0  # notebook 4; the calibrated no-attention baseline is far above (see attentionlab/baseline.json)
SAMPLE = 64  # test sentences on which the notebook's translate must give the grader's translations
# Two words whose logits differ by less than this may come out in either order (float32 in Keras and in NumPy): the
# grader excuses a sentence that differs only where its decoding met such a tie.
TIE = 1e-4
NOT_THE_MODEL = ("Your `translate` does not give the translations that the grader computes from your model's weights, "
                 "and the grader scores only the model you trained. Hand in `translate = model.translate`, as "
                 "section 7 does. If you did, your encoder or your decoder differs from the course's: make the tests "
                 "above pass first.")
FIX_SEQUENCES = ("The {who} outputs are not one vector per position: create its LSTM with return_sequences=True, "
                 "which returns the output at every position, not only the last one.")
FIX_STATE = ("The {who}'s LSTM does not return its final state: create it with return_state=True, which adds h and c "
             "after the outputs.")


def to_numpy(x):
    """A kernel's reply (array or tensor) as a NumPy array."""
    from keras import ops

    return ops.convert_to_numpy(x)


def _diagnose_lstm(layer, ids, who: str) -> None:
    """When calling the student's layer failed: name the LSTM argument it misses, if that is the cause."""
    try:
        result = layer.lstm(to_numpy(layer.embedding(ids)))
    except Exception:  # not the attributes of the scaffold: nothing to add to the student's own error
        return
    if not isinstance(result, (list, tuple)):
        checks.fail(FIX_STATE.format(who=who))
    if np.ndim(result[0]) != 3:
        checks.fail(FIX_SEQUENCES.format(who=who))


def _call(layer, who: str, ids, *args):
    """Call the student's layer; if it fails, say which LSTM argument is missing when that is the cause."""
    try:
        return layer(ids, *args)
    except StudentError:
        _diagnose_lstm(layer, ids, who)
        raise


def _per_position(outputs, expected: tuple, who: str, name: str) -> None:
    """Outputs of shape ``expected`` (batch, positions, features); per-sentence outputs name return_sequences."""
    if np.ndim(outputs) == 2:
        checks.fail(FIX_SEQUENCES.format(who=who))
    checks.shape(outputs, expected, name)


@hidden_check("test_encoder", "Encoder")
def encoder(Encoder):
    """Shapes for other sizes; trailing padding changes neither the state nor the real outputs."""
    enc = Encoder(vocab_size=40, embedding_dim=6, units=12)
    ids = np.array([[5, 6, 7, 8, 0, 0, 0], [9, 10, 11, 12, 13, 14, 15]])
    outputs, (h, c), mask = _call(enc, "encoder", ids)
    _per_position(outputs, (2, 7, 12), "encoder", "encoder outputs")
    checks.shape(h, (2, 12), "state h")
    checks.shape(c, (2, 12), "state c")
    short, (h_short, c_short), _ = enc(ids[:1, :4])
    checks.close(to_numpy(h)[0], to_numpy(h_short)[0], "final state h with trailing padding",
                 "Padding changed the sentence's summary: pass mask= (True at ids != 0) to the LSTM.", atol=1e-5)
    checks.close(to_numpy(c)[0], to_numpy(c_short)[0], "final state c with trailing padding",
                 "Padding changed the sentence's summary: pass mask= (True at ids != 0) to the LSTM.", atol=1e-5)
    checks.close(to_numpy(mask), ids != 0, "mask", "The mask is True where the id is not 0.")


@hidden_check("test_decoder", "Decoder")
def decoder(Decoder):
    """Shapes for other sizes; the logits depend on the initial state."""
    dec = Decoder(vocab_size=25, embedding_dim=6, units=12)
    rng = np.random.default_rng(fresh(0))
    enc_out = rng.standard_normal((3, 5, 12)).astype("float32")
    mask = np.ones((3, 5), bool)
    state = [rng.standard_normal((3, 12)).astype("float32") for _ in range(2)]
    ids = np.array([[2, 4, 5, 6], [2, 7, 8, 0], [2, 9, 0, 0]])
    logits, (h, c), _ = _call(dec, "decoder", ids, enc_out, mask, state)
    _per_position(logits, (3, 4, 25), "decoder", "logits")
    checks.shape(h, (3, 12), "decoder state h")
    other, _, _ = dec(ids, enc_out, mask, [s * 0 for s in state])
    if np.allclose(to_numpy(logits), to_numpy(other), atol=1e-6):
        checks.fail("The decoder ignores the encoder's state: start its LSTM with initial_state=state.")


@hidden_check("test_loss", "masked_loss")
def masked_loss(loss_fn):
    """Equals the mean cross-entropy over real tokens, on random batches."""
    import keras

    rng = np.random.default_rng(fresh(1))
    labels = rng.integers(1, 12, size=(4, 6))
    labels[0, 3:], labels[1, 1:], labels[2, 5:] = 0, 0, 0
    logits = rng.standard_normal((4, 6, 12)).astype("float32") * 3
    per_token = to_numpy(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
    real = labels != 0
    checks.close(float(loss_fn(labels, logits)), per_token[real].mean(), "masked_loss", atol=1e-4,
                 mistakes={"Padding is counted: multiply the per-token loss by the mask.": per_token.mean(),
                           "Padding is counted in the sum: multiply the per-token loss by the mask.":
                               per_token.sum() / real.sum(),
                           "Divide by the number of real tokens, not by the number of positions.":
                               per_token[real].sum() / real.size})


def corpus() -> data.Corpus:
    """The course's corpus, test split included; a missing or corrupt corpus is the grader's error, never a score."""
    try:
        return data.load_corpus()
    except data.DataError as exc:
        raise SetupError(str(exc)) from None


def _agrees(model: forward.Model, vocabs, sample: list[str], reported) -> bool:
    """The notebook's (texts, attention) of the sample are the model's, but where its decoding met a tie; at least
    half of the sentences must agree in full."""
    texts, attention, gaps = model.translate(sample, *vocabs)
    try:
        theirs, their_attention = reported
        if len(theirs) != len(sample) or len(their_attention) != len(sample):
            return False
        same = [t == ours and np.shape(a) == w.shape and np.allclose(np.asarray(a, float), w, atol=1e-3)
                for ours, w, t, a in zip(texts, attention, theirs, their_attention)]
    except (TypeError, ValueError):
        return False
    return all(same[i] or gaps[i] < TIE for i in range(len(sample))) and sum(same) >= len(sample) / 2


def handed_in(translate, model, name: str, salt: int, fixes: tuple[str, str, str]):
    """(the reading of ``model``'s weights (architecture ``name``) that gives the notebook's translations of a fresh
    sample, (source, target) vocabularies, corpus). ``fixes``: the messages when ``model`` is no model, when its
    weights are not the notebook's model's, when ``translate`` is not the model."""
    if not callable(getattr(model, "get_weights", None)):
        checks.fail(fixes[0])
    found = corpus()
    vocabs = text.Vocab(en for en, _ in found.train), text.Vocab(es for _, es in found.train)
    readings = forward.readings(name, model.get_weights(), *vocabs)
    if not readings:
        checks.fail(fixes[1])
    sources, _ = metrics.group_references(found.test)
    sample = [sources[i] for i in np.random.default_rng(fresh(salt)).choice(len(sources), SAMPLE, replace=False)]
    reported = translate(sample, return_attention=True)
    agreeing = next((r for r in readings if _agrees(r, vocabs, sample, reported)), None)
    if agreeing is None:
        checks.fail(fixes[2])
    return agreeing, vocabs, found


def grader_translations(model: forward.Model, vocabs, found: data.Corpus):
    """(test sources, the grader's translations, their attention, their references)."""
    sources, references = metrics.group_references(found.test)
    texts, attention, _ = model.translate(sources, *vocabs)
    return sources, texts, attention, references


@hidden_check("test_bleu", "translate", "model")
def bleu_floor(translate, model):
    """The BLEU of the grader's own translations on the test split is above BLEU_FLOOR."""
    fixes = ("Keep `model` as the training cell makes it: the grader reads your model's weights there.",
             "`model` does not have the weights of the model the training cell builds on the course's vocabularies, "
             "and the grader reads them in that layout. Build and train it with the notebook's cells.", NOT_THE_MODEL)
    reading, vocabs, found = handed_in(translate, model.value(handles=True), "no attention", 2, fixes)
    _, texts, _, references = grader_translations(reading, vocabs, found)
    score = metrics.corpus_bleu(texts, references)
    if score.score < BLEU_FLOOR:
        checks.fail(f"BLEU on the test split is {score.score:.1f}, below the floor of {BLEU_FLOOR:g}. "
                    "Check that the encoder state starts the decoder and that the loss ignores padding.")
    return f"The grader's BLEU on the test split: {score.score:.1f} ({score.signature})."


# ---------------------------------------------------------------- questions

STATE_UNITS = 128  # UNITS of notebook 4


def lstm_state_size(units: int) -> int:
    """Numbers in the final state (h and c) of a Keras LSTM with ``units`` units, for one sentence."""
    import keras

    _, h, c = keras.layers.LSTM(units, return_state=True)(np.zeros((1, 3, 4), "float32"))
    size = int(np.size(h) + np.size(c))
    if size != 2 * units:
        raise SetupError("a Keras LSTM's state is not h and c of `units` numbers each")
    return size


@hidden_check("test_q_state_size", "answer_state_size")
def q_state_size(answer):
    """Numbers the encoder hands over to the decoder: h and c."""
    questions.number(answer, lstm_state_size(STATE_UNITS),
                     "Reread section 3 (the encoder): what does the encoder pass to the decoder, how many vectors is "
                     "that, and how long is each one?", rtol=0.0)


@hidden_check("test_q_bottleneck", "answer_bottleneck")
def q_bottleneck(answer):
    """What the fixed-size state limits."""
    questions.choice(answer, "b", "Reread the introduction and section 9: through what does the decoder learn about "
                                  "the source sentence, and does its size grow with the sentence?")
