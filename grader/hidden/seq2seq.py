"""Hidden checks for notebooks 4 and 5: encoder, decoder, loss, and BLEU computed by the grader.

BLEU scores the grader's own greedy decoding of the handed-in model's weights (grader.hidden.forward), and counts only
when the notebook's ``translate`` gives the same translations on a sample drawn anew for every run: what a notebook
reports about its model never counts.
"""
from __future__ import annotations

import numpy as np

from attentionlab import checks, data, metrics, text
from grader.hidden import SetupError, forward, fresh, hidden_check, questions
from grader.i18n import N_, _

BLEU_FLOOR = 12.0  # notebook 4; the calibrated no-attention baseline is far above (see attentionlab/baseline.json)
SAMPLE = 64  # test sentences on which the notebook's translate must give the grader's translations
# Two words whose logits differ by less than this may come out in either order (float32 in Keras and in NumPy): the
# grader excuses a sentence that differs only where its decoding met such a tie.
TIE = 1e-4
NOT_THE_MODEL = N_("Your `translate` does not give the translations that the grader computes from your model's "
                   "weights, and the grader scores only the model you trained. Hand in `translate = model.translate`, "
                   "as section 7 does. If you did, your encoder or your decoder differs from the course's: make the "
                   "tests above pass first.")
# The fix of each mistake, as the notebook's visible tests word it (tests/test_fast_mistakes.py requires the same
# words in both), then why it matters. The templates' fields are filled in translated: _(WHO[who]), _(WHY_STATE[who]),
# _(WHERE[who]["where"]) and _(WHERE[who]["what"]).
WHO = {"encoder": N_("encoder"), "decoder": N_("decoder")}
NO_STATE = N_("The {who}'s LSTM returns only its outputs: it must also return its final state, h and c (section "
              "{section}). {why}")
WHY_STATE = {"encoder": N_("That state is all the decoder learns about the source sentence."),
             "decoder": N_("Translation writes one word at a time, each step starting from the state the step before "
                           "returned.")}
NO_SEQUENCES = N_("The {who}'s LSTM gives one output per sentence: it must give one at every {where} position, {what} "
                  "(section {section}).")
WHERE = {"encoder": dict(where=N_("source"), what=N_("the h_j"), section=3),
         "decoder": dict(where=N_("target"), what=N_("one for each word to predict"), section=4)}
SKIP_PADDING = N_("Padding after the sentence changed its final state: it must be the state after the last real word, "
                  "so the LSTM must skip padded positions (section 3). Otherwise the same sentence gets another "
                  "summary in a batch with longer sentences.")
PADDED_OUTPUTS = N_("Padding after the sentence changed the outputs at its real words: the LSTM must skip padded "
                    "positions (section 3).")
IGNORES_STATE = N_("The logits do not change when the initial state changes: the decoder must start from the state it "
                   "is given, the encoder's summary of the source sentence (section 4). Without it, the translation "
                   "cannot depend on the sentence to translate.")
STATE_AFTER = N_("The state the decoder returns must be its LSTM's state after the last target word: translation "
                 "continues from it (section 4). Greedy decoding feeds it back in to write each next word.")
LOSS_MISTAKES = (N_("Padded positions count in this mean: it is over the real tokens (label ≠ 0) only."),
                 N_("Padded positions count in the sum: only real tokens (label ≠ 0) may add to it."),
                 N_("The sum is right, but the mean is over real tokens: divide by how many there are."))
LOSS_PADDING = N_("The logits at padded positions must not change the loss.")
# Both runs of a layer compute in float32 with the same weights: they agree to about 1e-7 (a few ulps of values
# below 10). 1e-5 accepts that and still sees what a mistake changes (1e-3 and more).
SAME_RUN_ATOL = 1e-5


def to_numpy(x):
    """A kernel's reply (array or tensor) as a NumPy array."""
    from keras import ops

    return ops.convert_to_numpy(x)


def _lstm_returns(layer, ids, who: str) -> None:
    """The student's LSTM, called alone on the embedded ids, returns its outputs at every position and its state."""
    result = layer.lstm(to_numpy(layer.embedding(ids)))
    where = WHERE[who]
    if not isinstance(result, (list, tuple)):
        checks.fail(_(NO_STATE, who=_(WHO[who]), section=where["section"], why=_(WHY_STATE[who])))
    if len(result) != 3:
        checks.fail(_("The {who}'s LSTM returns {count} arrays: one LSTM returns its outputs, then h and c "
                      "(section {section}).", who=_(WHO[who]), count=len(result), section=where["section"]))
    if np.ndim(result[0]) != 3:
        checks.fail(_(NO_SEQUENCES, who=_(WHO[who]), where=_(where["where"]), what=_(where["what"]),
                      section=where["section"]))


@hidden_check("test_encoder", "Encoder")
def encoder(Encoder):
    """Shapes for other sizes; trailing padding changes neither the state nor the outputs at real words."""
    enc = Encoder(vocab_size=40, embedding_dim=6, units=12)
    rng = np.random.default_rng(fresh(3))
    length = int(rng.integers(2, 6))  # real words of the padded sentence
    ids = rng.integers(4, 40, size=(2, 7))
    ids[0, length:] = 0
    _lstm_returns(enc, ids, "encoder")
    outputs, (h, c), mask = enc(ids)
    checks.shape(outputs, (2, 7, 12), _("encoder output array (batch, S, units)"))
    checks.shape(h, (2, 12), _("state h"))
    checks.shape(c, (2, 12), _("state c"))
    checks.close(to_numpy(mask), ids != 0, _("mask"), _("The mask is True at real tokens (id ≠ 0), False at padding."))
    alone, (h_alone, c_alone) = enc(ids[:1, :length])[:2]
    checks.close(to_numpy(outputs)[0, :length], to_numpy(alone)[0],
                 _("the output at each real word of a padded sentence"), _(PADDED_OUTPUTS), atol=SAME_RUN_ATOL)
    for name, padded, unpadded in (("h", h, h_alone), ("c", c, c_alone)):
        checks.close(to_numpy(padded)[0], to_numpy(unpadded)[0],
                     _("final state {state} of a padded sentence", state=name), _(SKIP_PADDING), atol=SAME_RUN_ATOL)


@hidden_check("test_decoder", "Decoder")
def decoder(Decoder):
    """Shapes for other sizes; the logits depend on the initial state; the state returned continues the decoding."""
    dec = Decoder(vocab_size=25, embedding_dim=6, units=12)
    rng = np.random.default_rng(fresh(0))
    enc_out = rng.standard_normal((3, 5, 12)).astype("float32")
    mask = np.ones((3, 5), bool)
    state = [rng.standard_normal((3, 12)).astype("float32") for _ in range(2)]
    ids = np.array([[2, 4, 5, 6], [2, 7, 8, 0], [2, 9, 0, 0]])
    _lstm_returns(dec, ids, "decoder")
    logits, (h, c) = dec(ids, enc_out, mask, state)[:2]
    checks.shape(logits, (3, 4, 25), _("logits array (batch, T, vocab_size)"))
    checks.shape(h, (3, 12), _("decoder state h"))
    other = dec(ids, enc_out, mask, [rng.standard_normal((3, 12)).astype("float32") for _ in range(2)])[0]
    if np.max(np.abs(to_numpy(logits) - to_numpy(other))) <= 1e-6:  # the same computation: exactly equal
        checks.fail(_(IGNORES_STATE))
    split = int(rng.integers(1, 4))  # decode the first words, then the rest from the state they returned
    after = dec(ids[:, :split], enc_out, mask, state)[1]
    rest = dec(ids[:, split:], enc_out, mask, after)[0]
    checks.close(to_numpy(rest), to_numpy(logits)[:, split:], _("the decoding of the last words from the state the "
                                                               "first words returned"), _(STATE_AFTER),
                 atol=SAME_RUN_ATOL)


def cross_entropy(labels, logits) -> np.ndarray:
    """The cross-entropy at every position, in float64: log Σ exp(logits) minus the label's logit."""
    z = np.asarray(logits, np.float64)
    top = z.max(axis=-1, keepdims=True)
    log_sum = np.log(np.exp(z - top).sum(axis=-1)) + top[..., 0]
    return log_sum - np.take_along_axis(z, np.asarray(labels)[..., None], axis=-1)[..., 0]


@hidden_check("test_loss", "masked_loss")
def masked_loss(loss_fn):
    """Equals the mean cross-entropy over real tokens, on random batches; the logits at padding do not count."""
    rng = np.random.default_rng(fresh(1))
    labels = rng.integers(1, 12, size=(4, 6))
    labels[0, 3:], labels[1, 1:], labels[2, 5:] = 0, 0, 0
    logits = rng.standard_normal((4, 6, 12)).astype("float32") * 3
    per_token, real = cross_entropy(labels, logits), labels != 0
    loss = float(loss_fn(labels, logits))
    # A float32 loss near 3 is about 1e-6 off the float64 one; each mistake is 0.1 away or more.
    checks.close(loss, per_token[real].mean(), "masked_loss", atol=1e-4,
                 mistakes=dict(zip(map(_, LOSS_MISTAKES), (per_token.mean(), per_token.sum() / real.sum(),
                                                           per_token[real].sum() / real.size))))
    changed = logits.copy()
    changed[~real] = 5 * rng.standard_normal((int(np.sum(~real)), 12))
    checks.close(float(loss_fn(labels, changed)), loss, _("masked_loss after changing the logits at padded positions"),
                 _(LOSS_PADDING), atol=1e-4)


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
    fixes = (_("Keep `model` as the training cell makes it: the grader reads your model's weights there."),
             _("`model` does not have the weights of the model the training cell builds on the course's "
               "vocabularies, and the grader reads them in that layout. Build and train it with the notebook's "
               "cells."), _(NOT_THE_MODEL))
    reading, vocabs, found = handed_in(translate, model.value(handles=True), "no attention", 2, fixes)
    sources, texts, attention, references = grader_translations(reading, vocabs, found)
    score = metrics.corpus_bleu(texts, references)
    if score.score < BLEU_FLOOR:
        checks.fail(_("BLEU on the test split is {bleu:.1f}, below the floor of {floor:g}. Check that the encoder "
                      "state starts the decoder and that the loss ignores padding.", bleu=score.score,
                      floor=BLEU_FLOOR))
    return _("The grader's BLEU on the test split: {bleu:.1f} ({signature}).", bleu=score.score,
             signature=score.signature)


# ---------------------------------------------------------------- questions

STATE_UNITS, STATE_WORDS = 96, 9  # Question 1's variant of the model: other units, a sentence of 9 words


def lstm_state_size(units: int, words: int) -> int:
    """Numbers in the final state (h and c) of a Keras LSTM with ``units`` units, after a sentence of ``words``."""
    import keras

    _, h, c = keras.layers.LSTM(units, return_state=True)(np.zeros((1, words, 4), "float32"))
    size = int(np.size(h) + np.size(c))
    if size != 2 * units:
        raise SetupError("a Keras LSTM's state is not h and c of `units` numbers each")
    return size


@hidden_check("test_q_state_size", "answer_state_size")
def q_state_size(answer):
    """Numbers of the encoder that the decoder uses: h and c, whatever the sentence's length."""
    questions.number(answer, lstm_state_size(STATE_UNITS, STATE_WORDS),
                     _("Reread sections 3 and 4: of what the encoder returns, what does the decoder use, and what is "
                       "its shape for one sentence? Your own Encoder with units=96 shows it."), rtol=0.0)


@hidden_check("test_q_bottleneck", "answer_bottleneck")
def q_bottleneck(answer):
    """An experiment that tests the fixed-size state as the cause of the long sentences' lower BLEU."""
    questions.choice(answer, "c", _("Reread section 9. An experiment tests a cause when it changes that cause, and "
                                    "looks for an effect that the other explanations do not predict."))
