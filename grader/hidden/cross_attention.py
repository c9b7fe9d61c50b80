"""Hidden checks for notebook 5: scores, the attention layer, Luong's decoder, Bahdanau's step, BLEU, alignment.

The layers are checked against NumPy on the student's own weights, read back from the kernel, with inputs drawn
anew for every grading run (tests/test_hidden.py checks that NumPy against Keras' attention layers). BLEU and the
alignment score the grader's own greedy decoding of the handed-in model's weights (grader.hidden.forward), and count
only when the notebook's ``translate`` gives the same translations on a sample drawn anew for every run: what a
notebook reports about its model never counts.
"""
from __future__ import annotations

import numpy as np

from attentionlab import baseline, checks, metrics
from grader.hidden import SetupError, fresh, hidden_check, questions, seq2seq
from grader.hidden.forward import lstm_step as _lstm_step
from grader.hidden.numpy_attention import reference_softmax as _softmax
from grader.hidden.seq2seq import to_numpy as _np

# Share of the moved copied words whose strongest weight is on their own source word. Attention that ignores the
# words scores at most 0.45 on the test split (a diagonal shifted by one, tests/test_metrics.py); the reference
# (Luong) 0.93-0.97 on seeds 0-2, Bahdanau's model, which often looks one word ahead, 0.44-0.54
# (attentionlab/baseline.json).
ALIGNMENT_BAR = 0.75
MIN_MOVED = 30  # fewer moved copies than this: the model does not translate yet
NOT_THE_MODEL = ("Your `translate` does not give the translations that the grader computes from your model's weights, "
                 "and the grader scores only the model you trained. Hand in `translate = models[choice].translate`, "
                 "as the cell of section 9 does. If you did, your attention layer or your decoder differs from the "
                 "course's: make the tests of sections 1 to 4 pass first.")


@hidden_check("test_scores", "dot_score", "general_score", "additive_score")
def scores(dot_score, general_score, additive_score):
    """The three scores against NumPy on random shapes with T != S and A != d."""
    rng = np.random.default_rng(fresh(5))
    q, k = rng.standard_normal((3, 4, 6)), rng.standard_normal((3, 7, 6))
    W, W1, W2, v = (rng.standard_normal((6, 6)), rng.standard_normal((6, 5)), rng.standard_normal((6, 5)),
                    rng.standard_normal(5))
    kT = k.transpose(0, 2, 1)
    checks.close(_np(dot_score(q, k)), q @ kT, "dot_score", "Return query · keysᵀ, shape (batch, T, S).", atol=1e-4)
    checks.close(_np(general_score(q, k, W)), q @ W @ kT, "general_score", "Return query @ W @ keysᵀ.", atol=1e-4,
                 mistakes={"W is on the wrong side (transposed): compute query @ W @ keysᵀ.": q @ W.T @ kT,
                           "The scores are transposed: return shape (batch, T, S), queries first.":
                               (k @ W @ q.transpose(0, 2, 1))})
    expected = np.tanh((k @ W1)[:, None] + (q @ W2)[:, :, None]) @ v
    checks.close(_np(additive_score(q, k, W1, W2, v)), expected, "additive_score",
                 "Return v · tanh(keys @ W1 (with a query axis) + query @ W2 (with a key axis)).", atol=1e-4,
                 mistakes={"W1 goes with the keys (encoder outputs) and W2 with the query.":
                               np.tanh((k @ W2)[:, None] + (q @ W1)[:, :, None]) @ v})


def _case(salt, d=8):
    rng = np.random.default_rng(fresh(salt))
    query = rng.standard_normal((2, 4, d)).astype("float32")
    keys = rng.standard_normal((2, 6, d)).astype("float32")
    mask = np.array([[True] * 4 + [False] * 2, [True] * 6])
    return rng, query, keys, mask


def true_scores(score, params, query, keys):
    """The course's scores (dot and general divided by √d) in NumPy; tests compare them with Keras' layers."""
    if score == "additive":
        W1, W2, v = params
        return np.tanh((keys @ W1)[:, None] + (query @ W2)[:, :, None]) @ v
    left = query @ params[0] if score == "general" else query
    return left @ keys.transpose(0, 2, 1) / np.sqrt(query.shape[-1])


def attend(scores, keys, mask):
    """(context, weights) of masked softmax attention over the keys."""
    weights = _softmax(np.where(mask[:, None], scores, -1e9))
    return weights @ keys, weights


def _score_fns(dot_score, general_score, additive_score):
    """The student's score functions, by name, taking the layer's weights as a list."""
    return {"dot": lambda q, k, p: dot_score(q, k), "general": lambda q, k, p: general_score(q, k, p[0]),
            "additive": lambda q, k, p: additive_score(q, k, *p)}


@hidden_check("test_cross_attention", "CrossAttention", "dot_score", "general_score", "additive_score")
def cross_attention(CrossAttention, *score_fns):
    """Each score: masked softmax of the scores (the course's or the student's own), scaled as the course decides."""
    d, student = 8, _score_fns(*score_fns)
    _, query, keys, mask = _case(6, d)
    for score in ("dot", "general", "additive"):
        layer = CrossAttention(d, score)
        context, weights = (_np(x) for x in layer(query, keys, mask))
        checks.shape(context, (2, 4, d), f"{score} context (batch, T, d)")
        checks.shape(weights, (2, 4, 6), f"{score} weights (batch, T, S)")
        params = [np.asarray(w, "float64") for w in layer.get_weights()]
        scores = [true_scores(score, params, query, keys)]
        try:  # a right layer built on a wrong score function loses the score cell only
            scores.append(_np(student[score](query, keys, params)) / (1.0 if score == "additive" else np.sqrt(d)))
        except Exception:  # noqa: BLE001 - the score functions are judged by their own cell
            pass
        rescale = np.sqrt(d) if score == "additive" else 1 / np.sqrt(d)
        if any(np.allclose(weights, attend(e / rescale, keys, mask)[1], atol=1e-4) for e in scores):
            checks.fail("The dot and general scores must be divided by √d (d = units), as in notebook 1; the "
                        "additive score is not: v learns its scale." if score != "additive" else
                        "The additive score is not divided by √d: v learns its scale (only dot and general are).")
        checks.rows_sum_to_one(weights, f"{score} attention weights (softmax over the source positions)")
        if not np.allclose(weights[0, :, 4:], 0, atol=1e-6):
            checks.fail(f"{score}: padded source positions get weight: set their scores to a very negative "
                        "number (e.g. -1e9) where mask is False, before the softmax.")
        expected = next((attend(e, keys, mask) for e in scores
                         if np.allclose(weights, attend(e, keys, mask)[1], atol=1e-4)), None)
        if expected is None:
            checks.fail(f"The {score} attention weights differ from the expected ones: compute the {score} score "
                        "with this layer's weights, mask it, then take the softmax over the source positions.")
        checks.close(context, expected[0], f"{score} context",
                     "The context is the weighted sum of the encoder outputs: weights @ keys.", atol=1e-4,
                     mistakes={"The context must be weights @ keys, not the mean of the keys.":
                                   np.repeat(keys.mean(1, keepdims=True), 4, axis=1)})


def _contexts(CrossAttention, score, params, query, keys, mask):
    """Candidate (context, weights): the course's attention, and the student's layer on the same weights.

    A decoder built right on a wrong attention layer then loses the attention cell only.
    """
    found = [attend(true_scores(score, params, query, keys), keys, mask)]
    try:
        layer = CrossAttention(keys.shape[-1], score)
        layer.set_weights([p.astype("float32") for p in params])
        found.append(tuple(_np(x) for x in layer(query.astype("float32"), keys, mask)))
    except Exception:  # noqa: BLE001 - the layer is judged by its own cell
        pass
    return found


def _luong(params, context, s):
    """Luong's logits W_out tanh(W_c [c; s]) + b, for either order of c and s."""
    *_, W_c, W_out, b_out = params
    return [np.tanh(np.concatenate(pair, -1) @ W_c) @ W_out + b_out for pair in ([context, s], [s, context])]


def _lstm(params, ids, state):
    """Keras' LSTM over the embedded ids from ``state``: (outputs (B, T, U), final h, final c)."""
    embedding, kernel, recurrent, bias = params[:4]
    h, c = (np.asarray(x, "float64") for x in state)
    outputs = []
    for t in range(ids.shape[1]):
        h, c = _lstm_step(embedding[ids[:, t]], h, c, kernel, recurrent, bias)
        outputs.append(h)
    return np.stack(outputs, 1), h, c


@hidden_check("test_luong_decoder", "LuongDecoder", "CrossAttention")
def luong_decoder(LuongDecoder, CrossAttention):
    """Logits, state and weights follow Luong's equations (h̃_t = tanh(W_c[c_t; s_t])) on the decoder's weights."""
    rng, _, keys, mask = _case(7)
    decoder = LuongDecoder(vocab_size=20, embedding_dim=5, units=8, score="general")
    state = [rng.standard_normal((2, 8)).astype("float32") * 0.5, rng.standard_normal((2, 8)).astype("float32")]
    ids = np.array([[2, 4, 5], [2, 6, 0]])
    logits, (h, _), weights = decoder(ids, keys, mask, state)
    logits, h, weights = _np(logits), _np(h), _np(weights)
    checks.shape(logits, (2, 3, 20), "logits (batch, T, vocab_size)")
    checks.shape(weights, (2, 3, 6), "attention weights (batch, T, S)")
    params = [np.asarray(w, "float64") for w in decoder.get_weights()]
    if params[5].shape != (16, 8):
        checks.fail("self.W_c must take [c_t; s_t]: the context joined with the LSTM output (2 · units values).")
    s, h_end, _ = _lstm(params, ids, state)
    if not np.allclose(h, h_end, atol=1e-4):
        stateless = _lstm(params, ids, [np.zeros((2, 8))] * 2)[1]
        checks.fail("Start the LSTM from the encoder's state: initial_state=state." if np.allclose(
            h, stateless, atol=1e-4) else "Return the LSTM's final state [h, c] as the second value.")
    candidates = _contexts(CrossAttention, "general", params[4:5], s, keys, mask)
    matching = [c for c, w in candidates if np.allclose(weights, w, atol=1e-4)]
    if not matching:
        checks.fail("The attention weights are not those of self.attention with the LSTM's outputs s_t (all steps) "
                    "as queries over the encoder outputs.")
    if not any(np.allclose(logits, out, atol=1e-4) for c in matching for out in _luong(params, c, s)):
        checks.fail("The logits differ from Luong's: self.logits(self.W_c([c_t; s_t])), where W_c applies the "
                    "tanh, c_t is the context and s_t the LSTM output of the same step.")


@hidden_check("test_bahdanau_step", "BahdanauDecoder", "CrossAttention")
def bahdanau_step(BahdanauDecoder, CrossAttention):
    """One step: weights from s_{t-1}, the LSTM fed [y; c_t], output [s_t; c_t], on the decoder's own weights."""
    rng, _, keys, mask = _case(8)
    decoder = BahdanauDecoder(vocab_size=20, embedding_dim=5, units=8)
    y = rng.standard_normal((2, 5)).astype("float32")
    state = [rng.standard_normal((2, 8)).astype("float32") * 0.5, rng.standard_normal((2, 8)).astype("float32")]
    output, new_state, weights = decoder.step(y, state, keys, mask)
    output, weights, (s_new, c_new) = _np(output), _np(weights), [_np(x) for x in new_state]
    checks.shape(weights, (2, 6), "weights of one step (batch, S)")
    checks.shape(output, (2, 16), "[s_t; c_t] (batch, 2 · units)")
    _, W1, W2, v, kernel, recurrent, bias, *_ = [np.asarray(w, "float64") for w in decoder.get_weights()]

    def step_with(query):
        return [(c[:, 0], w[:, 0]) for c, w in _contexts(CrossAttention, "additive", [W1, W2, v],
                                                          np.asarray(query)[:, None], keys, mask)]

    matching = [c for c, w in step_with(state[0]) if np.allclose(weights, w, atol=1e-4)]
    if not matching:
        if any(np.allclose(weights, w, atol=1e-4) for _, w in step_with(s_new)):
            checks.fail("The weights come from the new state s_t (Luong's query): Bahdanau scores with the "
                        "previous state s_{t-1}, state[0], before the LSTM step.")
        checks.fail("The weights of the step are not self.attention's with the previous state s_{t-1} = state[0] "
                    "as a length-1 query over the encoder outputs.")
    fed = [(c, _lstm_step(np.concatenate(x, -1), state[0], state[1], kernel, recurrent, bias))
           for c in matching for x in ([y, c], [c, y])]
    fed = [(c, s) for c, (s, m) in fed if np.allclose(s_new, s, atol=1e-4) and np.allclose(c_new, m, atol=1e-4)]
    if not fed:
        checks.fail("The new state is not the LSTM cell's on [y; c_t]: feed the embedded word joined with the "
                    "context (ops.concatenate) into self.cell, with the previous state.")
    if not any(np.allclose(output, np.concatenate(x, -1), atol=1e-4) for c, s in fed for x in ([s, c], [c, s])):
        checks.fail("The step's output must be [s_t; c_t]: the cell's new output joined with the context.")


def handed_in(translate, models, choice):
    """The reading of ``models[choice]``'s weights that gives the notebook's translations, vocabularies, corpus."""
    name = choice.value()
    if not isinstance(name, str) or name not in ("Luong", "Bahdanau"):
        checks.fail('Set `choice` to "Luong" or "Bahdanau": the name of the model you hand in.')
    found = models.value(handles=True)
    fixes = ("Keep `models` as the training cell makes it: the grader reads your model's weights there.",
             f"models[{name!r}] does not have the weights of the model attention_model({name!r}) builds on the "
             "course's vocabularies, and the grader reads them in that layout. Build and train it with the "
             "notebook's cells.", NOT_THE_MODEL)
    return seq2seq.handed_in(translate, found.get(name) if isinstance(found, dict) else None, name, 9, fixes)


@hidden_check("test_bleu_gate", "translate", "models", "choice")
def bleu_gate(translate, models, choice):
    """The BLEU of the grader's own translations beats the frozen no-attention baseline by baseline.MARGIN."""
    try:
        record = baseline.load()
        baseline.check_environment(record)
    except (OSError, RuntimeError) as exc:
        raise SetupError(str(exc)) from None
    _, texts, _, references = seq2seq.grader_translations(*handed_in(translate, models, choice))
    score = metrics.corpus_bleu(texts, references)
    needed = record["bleu"] + baseline.MARGIN
    if score.score < needed:
        checks.fail(f"BLEU {score.score:.1f} does not beat the no-attention baseline ({record['bleu']:.1f}) by "
                    f"{baseline.MARGIN:g} points. Look at the loss curves first; then check that the context is a "
                    "softmax-weighted sum of the encoder outputs and that padding is masked.")
    return (f"The grader's BLEU on the test split: {score.score:.1f}; no-attention baseline {record['bleu']:.1f}; "
            f"needed {needed:.1f}.")


def judge_alignment(sources, texts, attention) -> str:
    """Enough moved copied words, and enough of them with their strongest weight on their own source word."""
    moved = metrics.alignment(sources, texts, attention)
    if moved["total"] < MIN_MOVED:
        checks.fail(f"Only {moved['total']} copied names and numbers moved in your translations: too few to judge "
                    "the alignment. Check that your model translates (BLEU above) and look at its loss curves.")
    if moved["fraction"] < ALIGNMENT_BAR:
        checks.fail(f"{moved['fraction']:.0%} of the moved copied words get their strongest weight on their own "
                    f"source word; {ALIGNMENT_BAR:.0%} are needed. Look at your model's heatmap: does the step that "
                    "writes a copied word look at it, or at a neighbour, or at the same position whatever the words? "
                    "Hand in the model whose attention follows the words (section 8).")
    return f"Alignment: {moved['hits']} of {moved['total']} moved copied words ({moved['fraction']:.0%})."


@hidden_check("test_alignment", "translate", "models", "choice")
def alignment(translate, models, choice):
    """The grader's own translations and attention weights: moved copied words weigh most on their source word."""
    sources, texts, attention, _ = seq2seq.grader_translations(*handed_in(translate, models, choice))
    return judge_alignment(sources, texts, attention)


@hidden_check("test_q_scaling", "answer_scaling")
def q_scaling(answer):
    """Dot and general scores are sums of d products; the additive one is v · tanh, and v learns its scale."""
    questions.choice(answer, "b", "Reread section 2 and notebook 1's scaling plot: which of the three scores are "
                                  "sums of d products, and which one has a learned weight that sets its size?")


@hidden_check("test_q_step_by_step", "answer_step_by_step")
def q_step_by_step(answer):
    """Bahdanau's step t needs s_{t-1} for its query, and its LSTM input holds c_t."""
    questions.choice(answer, "c", "Reread section 4: what must step t of Bahdanau's decoder know before it can "
                                  "compute its context, and where does that context go?")


@hidden_check("test_q_position", "answer_position")
def q_position(answer):
    """Most copied words keep their position, so position-following attention finds them."""
    questions.choice(answer, "a", "Reread section 8: count where the copied words sit, in the source and in the "
                                  "translation. Why does the grader count only the words that moved?")
