"""Hidden checks for notebook 5: scores, the attention layer, Luong's decoder, Bahdanau's step, BLEU, alignment.

Which scores the layer divides by √d is the student's decision, declared in ``SCALED``: the attention check reads the
declaration and holds the layer to it, score by score. Question 4's answer is judged against the student's own
figures (``results``), read through the kernel.

The layers are checked against NumPy on the student's own weights, read back from the kernel, with inputs drawn
anew for every grading run (tests/test_hidden.py checks that NumPy against Keras' attention layers). BLEU scores the
grader's own greedy decoding of the handed-in model's weights (grader.hidden.forward), the alignment the attention of
those weights given the test split's references; both count only when the notebook's ``translate`` gives the same
translations on a sample drawn anew for every run: what a notebook reports about its model never counts.
"""
from __future__ import annotations

import numpy as np

from attentionlab import alignment as word_alignment, baseline, checks, data, metrics, text
from grader.hidden import SetupError, fresh, hidden_check, questions, seq2seq
from grader.hidden.forward import lstm_step as _lstm_step
from grader.hidden.remote import StudentError
from grader.hidden.numpy_attention import reference_softmax as _softmax
from grader.hidden.seq2seq import to_numpy as _np
from grader.i18n import N_, _

ALIGNMENT_BAR = baseline.ALIGNMENT_BAR
NOT_THE_MODEL = N_("Your `translate` does not give the translations that the grader computes from your model's "
                   "weights, and the grader scores only the model you trained. Keep the line of section 9 that takes "
                   "`translate` from the model you chose. If you did, your attention layer or your decoder differs "
                   "from the course's: make the tests of sections 1 to 4 pass first.")
SCORES = ("dot", "general", "additive")
COURSE_SCALED = {"dot": True, "general": True, "additive": False}  # the reference's decision (tests compare with Keras)
# The tolerance of the layer checks: float32 Keras against float64 NumPy on scores of size ~10 differ by ~1e-6;
# 1e-4 leaves a margin of 100, and a wrong scale (a factor √8) or a wrong formula is off by more than 1e-2.
ATOL = 1e-4


@hidden_check("test_scores", "dot_score", "general_score", "additive_score")
def scores(dot_score, general_score, additive_score):
    """The three scores against NumPy on random shapes with T != S and A != d."""
    rng = np.random.default_rng(fresh(5))
    q, k = rng.standard_normal((3, 4, 6)), rng.standard_normal((3, 7, 6))
    W, W1, W2, v = (rng.standard_normal((6, 6)), rng.standard_normal((6, 5)), rng.standard_normal((6, 5)),
                    rng.standard_normal(5))
    kT = k.transpose(0, 2, 1)
    # float64 inputs: 1e-4 is far above rounding, far below any wrong formula
    checks.close(_np(dot_score(q, k)), q @ kT, _("dot_score (batch 3, T = 4, S = 7, d = 6)"),
                 _("Entry [b, t, j] is the dot product of query t with key j of the same batch element."), atol=1e-4)
    checks.close(_np(general_score(q, k, W)), q @ W @ kT, _("general_score (batch 3, T = 4, S = 7, d = 6)"),
                 _("Entry [b, t, j] is s W h_jᵀ: the query, times W, times key j (section 1)."), atol=1e-4,
                 mistakes={_("W is on the wrong side (transposed): in s W h_jᵀ the query meets W's rows and the key "
                             "its columns."): q @ W.T @ kT,
                           _("The scores are transposed: return shape (batch, T, S), queries first."):
                               (k @ W @ q.transpose(0, 2, 1))})
    expected = np.tanh((k @ W1)[:, None] + (q @ W2)[:, :, None]) @ v
    actual = _np(additive_score(q, k, W1, W2, v))
    misplaced = [np.tanh((k @ A)[:, None] + (q @ B)[:, :, None]) @ v for A, B in ((W2, W1), (W2, W2), (W1, W1))]
    if np.shape(actual) == expected.shape and any(np.allclose(actual, m, atol=1e-4) for m in misplaced):
        checks.fail(_("additive_score is wrong: W1 goes with the keys (encoder outputs) and W2 with the query."))
    checks.close(actual, expected, "additive_score (T = 4, S = 7, A = 5)",
                 _("Entry [b, t, j] is v · tanh(h_j W1 + s_t W2): every key paired with every query, so the sum "
                   "inside the tanh has shape (batch, T, S, A)."), atol=1e-4)


def _case(salt, d=8):
    rng = np.random.default_rng(fresh(salt))
    query = rng.standard_normal((2, 4, d)).astype("float32")
    keys = rng.standard_normal((2, 6, d)).astype("float32")
    mask = np.array([[True] * 4 + [False] * 2, [True] * 6])
    return rng, query, keys, mask


def raw_scores(score, params, query, keys):
    """The score ``score`` in NumPy, without any factor."""
    if score == "additive":
        W1, W2, v = params
        return np.tanh((keys @ W1)[:, None] + (query @ W2)[:, :, None]) @ v
    left = query @ params[0] if score == "general" else query
    return left @ keys.transpose(0, 2, 1)


def true_scores(score, params, query, keys, scaled=None):
    """The scores divided by √d where ``scaled`` (default: the course's decision) says so; tests compare them with
    Keras' layers."""
    scaled = COURSE_SCALED[score] if scaled is None else scaled
    return raw_scores(score, params, query, keys) / (np.sqrt(query.shape[-1]) if scaled else 1.0)


def attend(scores, keys, mask):
    """(context, weights) of masked softmax attention over the keys."""
    weights = _softmax(np.where(mask[:, None], scores, -1e9))
    return weights @ keys, weights


def _score_fns(dot_score, general_score, additive_score):
    """The student's score functions, by name, taking the layer's weights as a list."""
    return {"dot": lambda q, k, p: dot_score(q, k), "general": lambda q, k, p: general_score(q, k, p[0]),
            "additive": lambda q, k, p: additive_score(q, k, *p)}


SCALE_FIX = N_("the layer must scale exactly the scores your declaration names")


def declared(SCALED) -> dict:
    """The student's decision: {score: True if divided by √d}, read from the kernel."""
    value = questions.read(SCALED)
    if (not isinstance(value, dict) or set(value) != set(SCORES)
            or not all(isinstance(x, (bool, np.bool_)) for x in value.values())):
        checks.fail(_('SCALED must be a dict with one entry, True or False, for each of "dot", "general" and '
                      '"additive" (section 2), not {value!r}.', value=value))
    return {score: bool(x) for score, x in value.items()}


@hidden_check("test_cross_attention", "CrossAttention", "dot_score", "general_score", "additive_score", "SCALED")
def cross_attention(CrossAttention, dot_score, general_score, additive_score, SCALED):
    """Each score: masked softmax of the scores (the course's formula or the student's own function), divided by √d
    exactly where the student's declaration says so."""
    d, student, scaled = 8, _score_fns(dot_score, general_score, additive_score), declared(SCALED)
    _rng, query, keys, mask = _case(6, d)
    for score in SCORES:
        layer = CrossAttention(d, score)
        context, weights = (_np(x) for x in layer(query, keys, mask))
        checks.shape(context, (2, 4, d), _("{score} context (batch, T, d)", score=score))
        checks.shape(weights, (2, 4, 6), _("{score} weights (batch, T, S)", score=score))
        params = [np.asarray(w, "float64") for w in layer.get_weights()]
        raw = [raw_scores(score, params, query, keys)]
        try:  # a right layer built on a wrong score function loses the score cell only
            raw.append(_np(student[score](query, keys, params)).astype("float64"))
        except Exception:  # noqa: BLE001 - the score functions are judged by their own cell
            pass
        factor, other = (np.sqrt(d), 1.0) if scaled[score] else (1.0, np.sqrt(d))
        checks.rows_sum_to_one(weights, _("{score} attention weights (softmax over the source positions)",
                                          score=score))
        if not np.allclose(weights[0, :, 4:], 0, atol=1e-6):
            checks.fail(_("{score}: padded source positions get weight. A padded position must get zero weight "
                          "whatever its score, so its score has to be changed before the softmax, not after.",
                          score=score))
        expected = next((attend(e / factor, keys, mask) for e in raw
                         if np.allclose(weights, attend(e / factor, keys, mask)[1], atol=ATOL)), None)
        if expected is None and any(np.allclose(weights, attend(e / other, keys, mask)[1], atol=ATOL) for e in raw):
            checks.fail(_("SCALED says {declared} for the {score} score, and the layer does the opposite: {fix}.",
                          declared=scaled[score], score=score, fix=_(SCALE_FIX)))
        if expected is None:
            checks.fail(_("The {score} attention weights differ from the expected ones: the softmax over the source "
                          "positions of the {score} score on this layer's own weights, masked, scaled as you "
                          "declared.", score=score))
        checks.close(context, expected[0], _("{score} context", score=score),
                     _("The context is the weighted sum of the encoder outputs, one weight per source position."),
                     atol=ATOL, mistakes={_("The context must weigh each encoder output by its attention weight; it "
                                            "is the plain mean of the keys."):
                                              np.repeat(keys.mean(1, keepdims=True), 4, axis=1)})


def _contexts(CrossAttention, score, params, query, keys, mask):
    """Candidate (context, weights): the course's attention, scaled or not, and the student's layer on the same weights.

    A decoder built right on a wrong attention layer then loses the attention cell only, whatever the declaration.
    """
    found = [attend(true_scores(score, params, query, keys, scaled), keys, mask) for scaled in (True, False)]
    try:
        layer = CrossAttention(keys.shape[-1], score)
        layer.set_weights([p.astype("float32") for p in params])
        found.append(tuple(_np(x) for x in layer(query.astype("float32"), keys, mask)))
    except Exception:  # noqa: BLE001 - the layer is judged by its own cell
        pass
    return found


def _luong(params, context, s):
    """Luong's logits W_out tanh(W_c [c; s]) + b, for either order of c and s."""
    *_rest, W_c, W_out, b_out = params
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
    rng, _query, keys, mask = _case(7)
    decoder = LuongDecoder(vocab_size=20, embedding_dim=5, units=8, score="general")
    state = [rng.standard_normal((2, 8)).astype("float32") * 0.5, rng.standard_normal((2, 8)).astype("float32")]
    ids = np.array([[2, 4, 5], [2, 6, 0]])
    logits, (h, _c), weights = decoder(ids, keys, mask, state)
    logits, h, weights = _np(logits), _np(h), _np(weights)
    checks.shape(logits, (2, 3, 20), _("logits (batch, T, vocab_size)"))
    checks.shape(weights, (2, 3, 6), _("attention weights (batch, T, S)"))
    params = [np.asarray(w, "float64") for w in decoder.get_weights()]
    if params[5].shape != (16, 8):
        checks.fail(_("self.W_c must take [c_t; s_t]: the context joined with the LSTM output (2 · units values)."))
    s, h_end, _c_end = _lstm(params, ids, state)
    if not np.allclose(h, h_end, atol=1e-4):
        stateless = _lstm(params, ids, [np.zeros((2, 8))] * 2)[1]
        checks.fail(_("The LSTM starts from zeros: it must start from the encoder's state, the argument `state`, "
                      "or the decoder never sees the sentence.") if np.allclose(h, stateless, atol=1e-4)
                    else _("The second value must be the LSTM's final state [h, c]."))
    candidates = _contexts(CrossAttention, "general", params[4:5], s, keys, mask)
    matching = [c for c, w in candidates if np.allclose(weights, w, atol=1e-4)]
    if not matching:
        checks.fail(_("The attention weights are not those of the layer's attention with the LSTM's outputs s_t "
                      "(all steps) as queries over the encoder outputs (section 3)."))
    if not any(np.allclose(logits, out, atol=1e-4) for c in matching for out in _luong(params, c, s)):
        checks.fail(_("The logits differ from Luong's: the next-word scores come from the attentional state "
                      "h̃_t = tanh(W_c [c_t; s_t]), where c_t is the context and s_t the LSTM output of the same "
                      "step."))


@hidden_check("test_bahdanau_step", "BahdanauDecoder", "CrossAttention")
def bahdanau_step(BahdanauDecoder, CrossAttention):
    """One step: weights from s_{t-1}, the LSTM fed [y; c_t], output [s_t; c_t], on the decoder's own weights."""
    rng, _query, keys, mask = _case(8)
    decoder = BahdanauDecoder(vocab_size=20, embedding_dim=5, units=8)
    y = rng.standard_normal((2, 5)).astype("float32")
    state = [rng.standard_normal((2, 8)).astype("float32") * 0.5, rng.standard_normal((2, 8)).astype("float32")]
    output, new_state, weights = decoder.step(y, state, keys, mask)
    output, weights, (s_new, c_new) = _np(output), _np(weights), [_np(x) for x in new_state]
    checks.shape(weights, (2, 6), _("weights of one step (batch, S)"))
    checks.shape(output, (2, 16), _("[s_t; c_t] (batch, 2 · units)"))
    _embedding, W1, W2, v, kernel, recurrent, bias, *_rest = [np.asarray(w, "float64") for w in decoder.get_weights()]

    def step_with(query):
        return [(c[:, 0], w[:, 0]) for c, w in _contexts(CrossAttention, "additive", [W1, W2, v],
                                                          np.asarray(query)[:, None], keys, mask)]

    matching = [c for c, w in step_with(state[0]) if np.allclose(weights, w, atol=1e-4)]
    if not matching:
        if any(np.allclose(weights, w, atol=1e-4) for _context, w in step_with(s_new)):
            checks.fail(_("The weights come from the new state s_t (Luong's query): Bahdanau scores with the "
                          "previous state s_{t-1}, before the LSTM step."))
        checks.fail(_("The weights of the step are not the layer's attention with the previous state s_{t-1} as "
                      "the query (a sequence of one query) over the encoder outputs (section 4)."))
    fed = [(c, _lstm_step(np.concatenate(x, -1), state[0], state[1], kernel, recurrent, bias))
           for c in matching for x in ([y, c], [c, y])]
    fed = [(c, s) for c, (s, m) in fed if np.allclose(s_new, s, atol=1e-4) and np.allclose(c_new, m, atol=1e-4)]
    if not fed:
        checks.fail(_("The new state is not the LSTM cell's on [y; c_t]: the cell's input is the embedded word "
                      "joined with the context of this step, and its state the previous one."))
    if not any(np.allclose(output, np.concatenate(x, -1), atol=1e-4) for c, s in fed for x in ([s, c], [c, s])):
        checks.fail(_("The step's output must be [s_t; c_t]: the cell's new output joined with the context."))


def handed_in(translate, models, choice):
    """The reading of ``models[choice]``'s weights that gives the notebook's translations, vocabularies, corpus."""
    name = choice.value()
    if not isinstance(name, str) or name not in ("Luong", "Bahdanau"):
        checks.fail(_('Set `choice` to "Luong" or "Bahdanau": the name of the model you hand in.'))
    found = models.value(handles=True)
    fixes = (_("Keep `models` as the training cell makes it: the grader reads your model's weights there."),
             _("models[{name!r}] does not have the weights of the model attention_model({name!r}) builds on the "
               "course's vocabularies, and the grader reads them in that layout. Build and train it with the "
               "notebook's cells.", name=name), _(NOT_THE_MODEL))
    return seq2seq.handed_in(translate, found.get(name) if isinstance(found, dict) else None, name, 9, fixes)


@hidden_check("test_bleu_gate", "translate", "models", "choice")
def bleu_gate(translate, models, choice):
    """The BLEU of the grader's own translations beats the frozen no-attention baseline by baseline.MARGIN."""
    try:
        record = baseline.load()
        baseline.check_environment(record)
    except (OSError, RuntimeError) as exc:
        raise SetupError(str(exc)) from None
    _sources, texts, _attention, references = seq2seq.grader_translations(*handed_in(translate, models, choice))
    score = metrics.corpus_bleu(texts, references)
    needed = record["bleu"] + baseline.MARGIN
    if score.score < needed:
        checks.fail(_("BLEU {bleu:.1f} does not beat the no-attention baseline ({baseline:.1f}) by {margin:g} "
                      "points. Look at the loss curves first; then check that the context is a softmax-weighted sum "
                      "of the encoder outputs and that padding is masked.",
                      bleu=score.score, baseline=record['bleu'], margin=baseline.MARGIN))
    return _("The grader's BLEU on the test split: {bleu:.1f}; no-attention baseline {baseline:.1f}; needed "
             "{needed:.1f}.", bleu=score.score, baseline=record['bleu'], needed=needed)


def judge_alignment(pairs, attention, train) -> str:
    """Strict agreement of the teacher-forced ``attention`` of ``pairs`` with IBM Model 2's alignment (trained on
    ``train``) at least ALIGNMENT_BAR."""
    try:
        links = word_alignment.aligner(train).word_links(pairs)
    except ImportError as exc:
        raise SetupError(f"the word alignment cannot be trained: {exc}") from None
    found = word_alignment.agreement(links, attention)
    diagonal = word_alignment.agreement(links, word_alignment.content_blind(pairs)["diagonal"])
    if found["strict"] < ALIGNMENT_BAR:
        checks.fail(_("{strict:.0%} of the linked words of the test split get their strongest weight on their "
                      "linked English word; {bar:.0%} are needed, and position alone (the diagonal) gets "
                      "{diagonal:.0%}. Look at your model's heatmap: does the step that writes a word look at its "
                      "English word, at a neighbour, or along the diagonal whatever the words? Then compare the "
                      "figures of both models in sections 6 and 8 before you decide (section 9).",
                      strict=found['strict'], bar=ALIGNMENT_BAR, diagonal=diagonal['strict']))
    return _("Alignment: {strict:.0%} of {words} linked words (strict), {near:.0%} within one word, mean weight "
             "{mass:.2f}; the diagonal: {diagonal:.0%}.", strict=found['strict'], words=found['words'],
             near=found['near'], mass=found['mass'], diagonal=diagonal['strict'])


@hidden_check("test_alignment", "translate", "models", "choice")
def alignment(translate, models, choice):
    """The handed-in model's own attention, given the test split's references, agrees with the word alignment."""
    reading, vocabs, found = handed_in(translate, models, choice)
    return judge_alignment(found.test, reading.forced_attention(found.test, *vocabs), found.train)


@hidden_check("test_q_scaling", "answer_scaling")
def q_scaling(answer):
    """Dot and general scores are sums of d products whose spread grows as √d (Glorot's W keeps that); the additive one
    is v · tanh(...), with Glorot's v of variance 1/d: its spread does not grow."""
    questions.choice(answer, "c", _("Run the measurement cell of section 2 with d = 512 and compare the spreads "
                                    "with those at d = 128. For each score, count the products it adds up, and look "
                                    "at how the size of its initial weights depends on d."))


@hidden_check("test_q_step_by_step", "answer_step_by_step")
def q_step_by_step(answer):
    """Without c_t in its input, the LSTM's inputs are the target words only: one call gives s_1..s_T, and the queries
    s_0..s_{T-1} are all known before any attention is computed."""
    questions.choice(answer, "a", _("Reread sections 3 and 4: what does the LSTM of this variant take as input at "
                                    "step t, and is any of it computed by the attention? The queries can wait until "
                                    "the LSTM has run."))


@hidden_check("test_q_position", "answer_position")
def q_position(answer):
    """English and Spanish keep most of their word order in these short sentences: the word at the same relative
    position is often the linked one, so position alone agrees with the alignment for more than half the words."""
    questions.choice(answer, "a", _("Reread section 8: which attention is the diagonal, and what does it need for "
                                    "a hit? Then compare the order of the words in a few English sentences and their "
                                    "Spanish translations."))


# A printed figure this close to a bar may be read on either side of it: BLEU is printed with one decimal, the
# alignment as a whole percentage.
BLEU_SLACK, ALIGNMENT_SLACK = 0.05, 0.005
LETTERS = {(True, True): "a", (True, False): "b", (False, True): "c", (False, False): "d"}  # (Luong, Bahdanau) clear


def clears(figures: dict, baseline_bleu: float) -> set[bool]:
    """Whether one model's validation figures clear both criteria: {True}, {False}, or both when a figure is within
    printing precision of its bar."""
    bleu, strict = figures["bleu"] - baseline_bleu, figures["alignment"]["strict"]
    bleu_ok = {bleu >= baseline.MARGIN} | ({True, False} if abs(bleu - baseline.MARGIN) <= BLEU_SLACK else set())
    aligned = {strict >= ALIGNMENT_BAR} | ({True, False} if abs(strict - ALIGNMENT_BAR) <= ALIGNMENT_SLACK else set())
    return {b and a for b in bleu_ok for a in aligned}


@hidden_check("test_q_choice", "answer_choice", "results")
def q_choice(answer, results):
    """The letter that the student's own validation figures give: which models clear both criteria."""
    value = questions.read(answer)
    checks.one_letter(value, "abcd", str(answer))
    try:
        baseline_bleu = baseline.load()["val"]["bleu"]
    except (OSError, KeyError) as exc:
        raise SetupError(f"the frozen baseline's validation BLEU cannot be read: {exc}") from None
    try:
        found = results.value()
    except StudentError:
        checks.fail(_("`results` is not defined: run sections 5 to 8 (training, BLEU, alignment) first, then "
                      "answer."))
    try:
        figures = {name: found[name] for name in ("Luong", "Bahdanau")}
        options = {LETTERS[luong, bahdanau] for luong in clears(figures["Luong"], baseline_bleu)
                   for bahdanau in clears(figures["Bahdanau"], baseline_bleu)}
    except (TypeError, KeyError, IndexError):
        checks.fail(_("`results` does not hold the figures of section 6 for both models: run sections 5 to 8 "
                      "again, without changing `results`, then answer."))
    if value.strip().lower() not in options:
        checks.fail(_("{answer} = {value!r} does not match your own figures. Reread sections 6 and 8: for each "
                      "model, compare its validation BLEU with the baseline's ({baseline:.1f}) plus {margin:g}, and "
                      "its strict agreement with the word alignment with {bar:.0%}.",
                      answer=answer, value=value, baseline=baseline_bleu, margin=baseline.MARGIN, bar=ALIGNMENT_BAR))


# ---------------------------------------------------------------- section 7's controlled experiment, section 8's own
# sentences (attentionlab.synthetic; the grader's own decoding of the trained Luong model)

# The question of section 7 compares how much accuracy each model loses from the shortest length group to the longest.
# "Far more" is at least LENGTH_GAP points more; a gap within LENGTH_SLACK of it may be read on either side (figures print
# as whole %). On the record the gap is about 50 points on every seed (attentionlab/synthetic.json).
LENGTH_GAP, LENGTH_SLACK = 10.0, 0.5
SUBSET = data.Subset()  # the corpus' sentences: their lengths are those the student's sentences must have
# A weight this close to the largest of its row may be read as the largest: the two cells look alike in the map.
READ_SLACK = 0.01
# A row whose largest weight is below EVEN times the even weight 1/S has no strongest weight to read (an untrained
# model's rows are even to 1e-5; a trained model's rows of words are far above: 0.4-0.9 on sentences of 6-8 words).
EVEN = 1.5
MY_MODEL = "Luong"  # the model whose maps section 8's exercise reads


def length_letters(figures: dict) -> set[str]:
    """The options of the question of section 7 that the figures of synthetic.experiment support (all of them near a boundary)."""
    groups = list(figures["attention"]["accuracy"])
    drop = {name: 100 * (found["accuracy"][groups[0]] - found["accuracy"][groups[-1]])
            for name, found in ((name, figures[name]) for name in ("no attention", "attention"))}
    letters = set()
    for gap in (drop["no attention"] - drop["attention"] + s for s in (-LENGTH_SLACK, 0.0, LENGTH_SLACK)):
        letters.add("b" if gap >= LENGTH_GAP else "c" if gap <= -LENGTH_GAP else "a")
    if all(d <= LENGTH_SLACK for d in drop.values()):
        letters.add("d")
    return letters


@hidden_check("test_q_length", "answer_length", "reversal")
def q_length(answer, reversal):
    """The letter that the student's own figures of the controlled experiment give."""
    value = questions.read(answer)
    checks.one_letter(value, "abcd", str(answer))
    try:
        found = reversal.value()
    except StudentError:
        checks.fail(_("`reversal` is not defined: run the experiment of section 7 first, then answer."))
    try:
        options = length_letters(found)
    except (TypeError, KeyError, IndexError, AttributeError):
        checks.fail(_("`reversal` does not hold the figures of the experiment of section 7: run its cell again, "
                      "without changing `reversal`, then answer."))
    if value.strip().lower() not in options:
        checks.fail(_("{answer} = {value!r} does not match your own figures. Reread your figure of section 7: how "
                      "many points of accuracy does each model lose from the shortest sequences to the longest? "
                      "Compare the two losses.", answer=answer, value=value))


def source_words() -> set[str]:
    """The words the translators know: those of the training split's English sentences (the notebook's src_vocab)."""
    return set(text.Vocab(en for en, _ in seq2seq.corpus().train).tokens[4:])


def own_sentences(my_sentences) -> list[str]:
    """The student's two sentences, normalised as the corpus is, or a failure saying what to change."""
    value = questions.read(my_sentences)
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(isinstance(s, str) for s in value):
        checks.fail(_("my_sentences must be a list of two strings, your two English sentences, not {value!r}.",
                      value=value))
    sentences, known = [data.normalise(s) for s in value], source_words()
    for sentence in sentences:
        unknown = [word for word in sentence.split() if word not in known]
        if unknown:
            checks.fail(_("{word!r} in {sentence!r} is not in the source vocabulary: the models have never seen "
                          "it. Choose another word (`word in src_vocab.ids` tells whether they know it).",
                          word=unknown[0], sentence=sentence))
        if not SUBSET.length_ok(sentence):
            checks.fail(_("{sentence!r} has {count} words (punctuation not counted): write sentences of {fewest} to "
                          "{most} words, as the corpus has.", sentence=sentence, count=data.word_count(sentence),
                          fewest=SUBSET.min_words, most=SUBSET.max_words))
    if sentences[0] == sentences[1]:
        checks.fail(_("Write two different sentences."))
    return sentences


@hidden_check("test_own_sentences", "my_sentences")
def check_own_sentences(my_sentences):
    """Two different sentences of 4 to 10 words, every word known to the models."""
    own_sentences(my_sentences)


def _readings(my_readings) -> list[tuple[str, str]]:
    value = questions.read(my_readings)
    pairs = isinstance(value, (list, tuple)) and len(value) == 2 and all(
        isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(w, str) for w in p) for p in value)
    if not pairs:
        checks.fail(_("my_readings must be a list of two pairs of strings, (a word the model wrote, an English "
                      "word), one pair for each of your sentences, in their order; not {value!r}.", value=value))
    return [(written.strip().lower(), english.strip().lower()) for written, english in value]


@hidden_check("test_own_reading", "my_sentences", "my_readings", "models")
def own_reading(my_sentences, my_readings, models):
    """Each pair: the row of the written word puts its strongest weight on the English word, in the attention weights
    the grader computes from the weights of models["Luong"] (grader.hidden.forward), never in what the notebook shows."""
    sentences, readings = own_sentences(my_sentences), _readings(my_readings)
    found = models.value(handles=True)
    model = found.get(MY_MODEL) if isinstance(found, dict) else None
    fixes = (_("Keep `models` as the training cell of section 5 makes it: the grader reads the weights of "
               "models[{name!r}] there.", name=MY_MODEL),
             _("models[{name!r}] does not have the weights of the model attention_model({name!r}) builds on the "
               "course's vocabularies, and the grader reads them in that layout. Build and train it with the "
               "notebook's cells.", name=MY_MODEL),
             _("models[{name!r}].translate does not give the translations that the grader computes from the model's "
               "weights: make the tests of sections 1 to 3 pass first.", name=MY_MODEL))
    reading, vocabs, _found = seq2seq.handed_in(lambda *args, **kwargs: model.translate(*args, **kwargs), model,
                                                MY_MODEL, 11, fixes)
    texts, attention, _gaps = reading.translate(sentences, *vocabs)
    for number, (sentence, written_text, weights, (written, english)) in enumerate(
            zip(sentences, texts, attention, readings), 1):
        rows = [t for t, word in enumerate(written_text.split()) if word == written]
        if not rows:
            checks.fail(_("{word!r} is not a word that the model wrote for your sentence {number} (it wrote "
                          "{translation!r}): choose a row of that sentence's map, other than [end].",
                          word=written, number=number, translation=written_text))
        columns = [j for j, word in enumerate(sentence.split()) if word == english]
        if not columns:
            checks.fail(_("{word!r} is not a word of your sentence {number}, {sentence!r}: the columns of its map "
                          "are its words.", word=english, number=number, sentence=sentence))
        rows = [t for t in rows if weights[t].max() >= EVEN / weights.shape[1]]
        if not rows:
            checks.fail(_("In the map of your sentence {number}, the row of {word!r} spreads its weight almost "
                          "evenly (even weight {even:.2f}): it has no strongest weight to read. Choose a word whose "
                          "row has one bright cell. If every row is even, your model has not learned yet: look at "
                          "its loss curves (section 5).", number=number, word=written, even=1 / weights.shape[1]))
        if not any(weights[t, j] >= weights[t].max() - READ_SLACK for t in rows for j in columns):
            checks.fail(_("In the map of your sentence {number}, the row of {word!r} does not put its strongest "
                          "weight on {english!r}. Find the row of {word!r}, then the brightest cell along it: its "
                          "column is the English word. If two cells look alike, print that row of the weights.",
                          number=number, word=written, english=english))
    return _("Your readings match the attention weights that the grader computes from your Luong model.")
