"""Hidden checks for notebook 6: positional encoding, pre-LN decoder block, perplexity gate, decoding rules.

The block is checked against NumPy on weights the grader draws and sets in the student's layer; the decoding rules
by their properties on logits drawn anew for every grading run (no ties, no cumulative mass close to p).
"""
from __future__ import annotations

import functools

import numpy as np

from attentionlab import checks, data, lm, text
from grader.hidden import SetupError, fresh, hidden_check, questions
from grader.hidden.numpy_attention import reference_softmax as _softmax
from grader.hidden.seq2seq import to_numpy as _np
from grader.i18n import N_, _

# Test-split sentences (drawn per run from the 712 of lm_texts) on which the grader measures both perplexities. Measured
# on all 712 with the reference trained as notebook 6 trains it, seeds 0, 1, 2: 17.6, 18.0 and 17.7 against the
# bigram model's 30.9: the reference passes with its perplexity 42-43% below the gate.
GATE_SENTENCES = 600
PROBE_SENTENCES = 8  # sentences of the no-peeking check, each changed from every position on
SIGMAS = 5.0  # a token's count among DRAWS samples may differ from its expected count by this many std deviations
DRAWS = 4000
LN_EPSILON = 1e-3  # keras.layers.LayerNormalization's default
# A float32 implementation rounds each angle pos / 10000^(2i/d_model) (up to n - 1 radians) to about 6e-8 of its size,
# and sin and cos pass that error on; the power and the division add a few more roundings. 4 such roundings per radian,
# plus 1e-6 for the small entries, bound what a correct float32 encoding errs by (measured: at most 1.1 rounding per
# radian, 3.3e-6 at n = 59); a mistake errs by 0.1 or more.
PE_ATOL_PER_POSITION = 4 * 6e-8
FIX_CAUSAL = N_("Position t sees the words after it. A language model predicts word t + 1 from words 1..t, so in "
                 "training each position may attend to itself and to the positions before it only: the attention "
                 "needs the causal mask of notebook 3 (section 2 says how the layer takes it).")


# ---------------------------------------------------------------- 1. positional encoding

def reference_pe(n: int, d: int, exponent: str = "2i", sine_even: bool = True) -> np.ndarray:
    """Vaswani et al.'s encoding; ``exponent`` "j" or "i" and ``sine_even=False`` give the common mistakes."""
    column = np.arange(d)[None, :]
    power = {"2i": 2 * (column // 2), "i": column // 2, "j": column}[exponent]
    angles = np.arange(n)[:, None] / 10000 ** (power / d)
    even, odd = (np.sin, np.cos) if sine_even else (np.cos, np.sin)
    return np.where(column % 2 == 0, even(angles), odd(angles))


@hidden_check("test_positional_encoding", "positional_encoding")
def positional_encoding(student):
    """Vaswani et al.'s values for an even and an odd width, drawn anew."""
    rng = np.random.default_rng(fresh(60))
    for n, d in ((int(rng.integers(20, 60)), 2 * int(rng.integers(4, 16))), (int(rng.integers(5, 30)), 7)):
        checks.close(_np(student(n, d)), reference_pe(n, d), f"positional_encoding({n}, {d})",
                     atol=1e-6 + PE_ATOL_PER_POSITION * n, rtol=0.0,
                     hint=_("Column 2i holds sin(pos / 10000^(2i/d_model)), column 2i + 1 the cos of the same "
                            "angle."),
                     mistakes={
                         _("sin and cos are swapped: the even columns (2i) hold the sine, the odd ones (2i + 1) "
                           "the cosine."): reference_pe(n, d, sine_even=False),
                         _("The two columns of a pair share one frequency, so the exponent is 2i/d_model with i the "
                           "number of the column's pair, not the column index over d_model."):
                         reference_pe(n, d, exponent="j"),
                         _("The exponent is 2i/d_model, not i/d_model: i numbers the pairs, and pair i fills the "
                           "columns 2i and 2i + 1."): reference_pe(n, d, exponent="i")})


# ---------------------------------------------------------------- 2. decoder block

def _layer_norm(x, gamma, beta):
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LN_EPSILON) * gamma + beta


def _mha(x, weights, causal: bool):
    """Keras' MultiHeadAttention of x over itself, from its eight weights, optionally with the causal mask."""
    W_q, b_q, W_k, b_k, W_v, b_v, W_o, b_o = weights
    Q, K, V = (np.einsum("bnd,dhk->bhnk", x, W) + b[:, None] for W, b in ((W_q, b_q), (W_k, b_k), (W_v, b_v)))
    scores = np.einsum("bhtk,bhsk->bhts", Q, K) / np.sqrt(W_q.shape[-1])
    if causal:
        n = x.shape[1]
        scores = np.where(np.tril(np.ones((n, n), bool)), scores, -1e9)
    return np.einsum("bhts,bhsv,hvd->btd", _softmax(scores), V, W_o) + b_o


def reference_block(x, weights, post_ln=False, causal=True, attention_residual=True, ffn_residual=True):
    """The pre-LN block in NumPy; the flags give the common mistakes."""
    g1, b1, *attention, g2, b2, W1, c1, W2, c2 = weights

    def ffn(z):
        return np.maximum(z @ W1 + c1, 0) @ W2 + c2

    if post_ln:
        x = _layer_norm(x + _mha(x, attention, causal), g1, b1)
        return _layer_norm(x + ffn(x), g2, b2)
    x = (x if attention_residual else 0) + _mha(_layer_norm(x, g1, b1), attention, causal)
    return (x if ffn_residual else 0) + ffn(_layer_norm(x, g2, b2))


@hidden_check("test_decoder_block", "DecoderBlock")
def decoder_block(DecoderBlock):
    """No future leak; the pre-LN equations on weights drawn by the grader, for another width and head count."""
    rng = np.random.default_rng(fresh(61))
    d, heads, d_ff, n = 12, 3, 20, 6
    block = DecoderBlock(d, heads, d_ff)
    x = rng.standard_normal((2, n, d)).astype("float32")
    block(x)
    shapes = [np.shape(w) for w in block.get_weights()]
    expected = [(d,), (d,), (d, heads, d // heads), (heads, d // heads), (d, heads, d // heads), (heads, d // heads),
                (d, heads, d // heads), (heads, d // heads), (heads, d // heads, d), (d,), (d,), (d,), (d, d_ff),
                (d_ff,), (d_ff, d), (d,)]
    if shapes != expected:
        checks.fail(_("The block's weights are not those of the layers created in __init__: keep __init__ as "
                      "given and use self.norm1, self.attention, self.norm2 and self.ffn once each."))
    weights = [(rng.standard_normal(s) * 0.5 + (1.0 if i in (0, 10) else 0.0)).astype("float32")
               for i, s in enumerate(shapes)]  # LayerNorm scales around 1, everything else around 0
    block.set_weights(weights)
    y = _np(block(x))
    checks.shape(y, (2, n, d), _("DecoderBlock output (B, n, d_model)"))
    later = x.copy()
    later[:, 3:] = rng.standard_normal((2, n - 3, d))
    if not np.allclose(_np(block(later))[:, :3], y[:, :3], atol=1e-4):
        checks.fail(_(FIX_CAUSAL))
    weights = [np.asarray(w, "float64") for w in weights]
    x64 = x.astype("float64")
    checks.close(y, reference_block(x64, weights), _("DecoderBlock output"), atol=1e-4,
                 hint=_("Compute x + attention(norm1(x)) with the causal mask, then x + ffn(norm2(x))."),
                 mistakes={
                     _("This is the post-LN order, LayerNorm after the residual sum: normalise the input of each "
                       "sub-layer instead (pre-LN), x + attention(norm1(x)), then x + ffn(norm2(x))."):
                         reference_block(x64, weights, post_ln=True),
                     _("The attention's residual connection is missing: add its input back, "
                       "x + attention(norm1(x))."):
                         reference_block(x64, weights, attention_residual=False),
                     _("The feed-forward residual connection is missing: add its input back, x + ffn(norm2(x))."):
                         reference_block(x64, weights, ffn_residual=False),
                     _("The attention reads x before its LayerNorm: its query, key and value must all be the "
                       "normalised input, norm1(x)."): _attention_on_raw(x64, weights)})


def _attention_on_raw(x, weights):
    """The block with LayerNorm skipped before the attention (the normalised vector computed but not used)."""
    g1, b1, *attention, g2, b2, W1, c1, W2, c2 = weights
    x = x + _mha(x, attention, True)
    return x + np.maximum(_layer_norm(x, g2, b2) @ W1 + c1, 0) @ W2 + c2


# ---------------------------------------------------------------- 3. perplexity gate

@functools.lru_cache(maxsize=1)
def lm_texts() -> tuple[list[str], list[str]]:
    """The notebook's training sentences, and the gate's: the Spanish side of the test split (graded kernels never have
    it), minus the sentences a kernel has in training or validation. A missing corpus is the grader's error."""
    try:
        corpus = data.load_corpus()
    except data.DataError as exc:
        raise SetupError(str(exc)) from None
    train, val = lm.sentences(corpus)
    known = set(train) | set(val)
    return train, [s for s in dict.fromkeys(es for _, es in corpus.test) if s not in known]


def peeks(model, inputs, vocab_size: int, rng) -> bool:
    """Whether some position's logits change with the words after it, at any position, in one call: row (b, t)
    is sentence b with random words from position t on, compared with sentence b before position t."""
    B, n = inputs.shape
    starts = np.tile(np.arange(1, n), B)  # (B·(n-1),): row (b, t) changes positions t..n-1
    later = np.arange(n) >= starts[:, None]
    changed = np.where(later, rng.integers(4, vocab_size, later.shape), np.repeat(inputs, n - 1, axis=0))
    logits = _np(model(np.concatenate([inputs, changed])))
    checks.shape(logits, (B * n, n, vocab_size), _("model(inputs): logits (B, n, vocabulary size)"))
    moved = np.abs(logits[B:] - np.repeat(logits[:B], n - 1, axis=0)).max(axis=-1)  # (B·(n-1), n)
    return bool(np.any(moved[~later] > 1e-4))


def causal_perplexity(model, texts, vocab) -> float:
    """The perplexity of ``texts`` with every token predicted from a prefix that ends before it: whatever the model
    does, it is never shown the word it predicts."""
    inputs, targets = lm.next_token_data(texts, vocab)
    total, count = 0.0, 0
    for length in range(1, inputs.shape[1] + 1):
        rows = targets[:, length - 1] != text.PAD_ID
        logp = lm.log_softmax(_np(model(inputs[rows, :length]))[:, -1])
        total -= logp[np.arange(len(logp)), targets[rows, length - 1]].sum()
        count += int(rows.sum())
    return float(np.exp(total / count))


@hidden_check("test_perplexity", "model")
def perplexity_gate(model):
    """No position sees the words after it; on test sentences no kernel has, the model is less perplexed than the
    bigram model the grader counts on the training sentences."""
    train, test = lm_texts()
    vocab = text.Vocab(train)
    rng = np.random.default_rng(fresh(62))
    sample = [test[i] for i in sorted(rng.choice(len(test), min(GATE_SENTENCES, len(test)), replace=False))]
    longest = sorted(sample, key=lambda s: len(s.split()))[-PROBE_SENTENCES:]
    probe, _targets = lm.next_token_data(longest, vocab)
    if peeks(model, probe, len(vocab), rng):
        checks.fail(_("Your model's predictions at position t change with the words after t: it peeks at the "
                      "words it must predict, so its perplexity means nothing. {fix}", fix=_(FIX_CAUSAL)))
    model_ppl = causal_perplexity(model, sample, vocab)
    bigram_ppl = min(lm.perplexity(lm.BigramLM(train, vocab, k), sample, vocab) for k in (0.003, 0.01, 0.03, 0.1))
    if not model_ppl < bigram_ppl:
        checks.fail(_("The grader's perplexity of your model on held-out test sentences is {model:.1f}, not below "
                      "the bigram model's {bigram:.1f}. Look at the loss curves first, then at your positional "
                      "encoding and decoder block.", model=model_ppl, bigram=bigram_ppl))
    return _("The grader's perplexity on held-out test sentences: your model {model:.1f}, bigram model "
             "{bigram:.1f}.", model=model_ppl, bigram=bigram_ppl)


# ---------------------------------------------------------------- 4. decoding

def spread_logits(rng, rows: int, size: int, scale: float = 1.5) -> np.ndarray:
    """Random logits (rows, size) whose values differ by at least 0.05 within each row: no ties, ever."""
    while True:
        z = rng.standard_normal((rows, size)) * scale
        if np.min(np.diff(np.sort(z, axis=-1), axis=-1)) > 0.05:
            return z


def nucleus(z, p, extra: int = 0) -> np.ndarray:
    """(rows, vocab_size) True on the fewest most probable tokens whose mass reaches p (``extra``: off-by-ones)."""
    probs = _softmax(z)
    order = np.argsort(-probs, axis=-1)
    cumulative = np.cumsum(np.take_along_axis(probs, order, -1), axis=-1)
    n_keep = np.minimum(np.sum(cumulative < p, axis=-1, keepdims=True) + 1 + extra, z.shape[-1])
    return np.argsort(order, axis=-1) < n_keep  # rank of each token < number kept


def _kept(filtered, name):
    filtered = _np(filtered)
    if np.any(np.isnan(filtered)) or np.any(filtered == np.inf):
        checks.fail(_("{name} returned NaN or +inf: return the logits, with -np.inf for the removed tokens.",
                      name=name))
    return np.isfinite(filtered), filtered


@hidden_check("test_temperature", "greedy", "softmax_with_temperature")
def temperature(greedy, softmax_with_temperature):
    """Greedy is the argmax; distributions sum to 1; temperature 1 is the softmax; as it goes to 0, greedy's one-hot."""
    rng = np.random.default_rng(fresh(63))
    z = spread_logits(rng, 5, 9)
    checks.close(_np(greedy(z)), np.argmax(z, -1), _("greedy(logits) on 5 rows"),
                 _("Return the argmax of each row."))
    for tau in (1.0, 0.5, 2.0):
        probs = _np(softmax_with_temperature(z, tau))
        checks.rows_sum_to_one(probs, f"softmax_with_temperature(logits, {tau:g})")
        checks.close(probs, _softmax(z / tau), f"softmax_with_temperature(logits, {tau:g})", atol=1e-6,
                     hint=_("Return softmax(logits / temperature) over the last axis."),
                     mistakes={_("Divide the logits by the temperature, do not multiply them."): _softmax(z * tau)})
    cold = _np(softmax_with_temperature(z, 1e-4))
    checks.finite(cold, "softmax_with_temperature(logits, 1e-4)",
                  _("Divide by the temperature first, then subtract the row's largest value before np.exp."))
    checks.close(cold, np.eye(9)[np.argmax(z, -1)], "softmax_with_temperature(logits, 1e-4)", atol=1e-6,
                 hint=_("As the temperature goes to 0, all the mass must go to the largest logit (greedy's "
                        "token)."))


@hidden_check("test_top_k", "top_k_filter")
def top_k(top_k_filter):
    """Exactly the k largest logits of each row are kept, unchanged; the softmax of the rest is a distribution."""
    rng = np.random.default_rng(fresh(64))
    z = spread_logits(rng, 6, 12)
    for k in (1, int(rng.integers(2, 11)), 12):
        kept, filtered = _kept(top_k_filter(z, k), f"top_k_filter(logits, {k})")
        counts = kept.sum(-1)
        if np.any(counts != k):
            checks.fail(_("top_k_filter(logits, {k}) keeps {counts} tokens per row: keep exactly the k = {k} "
                          "largest logits of each row.", k=k, counts=sorted(set(counts.tolist()))))
        if not np.array_equal(kept, np.argsort(np.argsort(-z, -1), -1) < k):
            checks.fail(_("top_k_filter(logits, {k}) keeps other tokens than the k largest logits of each row.",
                          k=k))
        checks.close(filtered[kept], z[kept], _("the kept part of top_k_filter(logits, {k})", k=k),
                     _("Keep the kept logits as they are; set only the others to -np.inf."))
        checks.rows_sum_to_one(_softmax(filtered), _("softmax of top_k_filter(logits, {k})", k=k))


def _logits_for_nucleus(rng, rows=8, size=10):
    """Logits and a p for each row whose cumulative masses all stay at least 0.02 away from p."""
    z = spread_logits(rng, rows, size, scale=1.2)
    cumulative = np.cumsum(-np.sort(-_softmax(z), -1), -1)
    p = np.empty((rows, 1))
    for r in range(rows):
        candidates = [q for q in np.linspace(0.3, 0.95, 66) if np.min(np.abs(cumulative[r] - q)) > 0.02
                      and cumulative[r, 0] < q]
        p[r] = rng.choice(candidates) if candidates else 0.99
    return z, p


@hidden_check("test_top_p", "top_p_filter")
def top_p(top_p_filter):
    """The smallest set of most probable tokens whose mass reaches p, row by row; never fewer than one token."""
    rng = np.random.default_rng(fresh(65))
    z, p = _logits_for_nucleus(rng)
    for r in range(len(z)):
        name = f"top_p_filter(logits, {float(p[r, 0]):.3g})"
        kept, filtered = _kept(top_p_filter(z[r], float(p[r, 0])), name)
        expected = nucleus(z[r:r + 1], p[r, 0])[0]
        if np.array_equal(kept, expected):
            checks.close(filtered[kept], z[r][kept], _("the kept part of {name}", name=name),
                         _("Keep the kept logits as they are; set only the others to -np.inf."))
            continue
        if np.array_equal(kept, nucleus(z[r:r + 1], p[r, 0], extra=-1)[0]):
            checks.fail(_("{name} drops the token whose probability makes the mass reach p: keep it too. The kept "
                          "tokens' total probability must reach p (>= p), with as few tokens as possible.",
                          name=name))
        if np.array_equal(kept, nucleus(z[r:r + 1], p[r, 0], extra=1)[0]):
            checks.fail(_("{name} keeps one token more than needed: stop at the token whose probability makes the "
                          "mass reach p; the one after it goes.", name=name))
        checks.fail(_("{name} keeps {kept} tokens where the nucleus has {nucleus}: keep the most probable tokens, "
                      "in decreasing order of probability, up to the one that makes their total reach p.",
                      name=name, kept=int(kept.sum()), nucleus=int(expected.sum())))
    sure = np.array([6.0, 0.0, 1.0, -1.0])  # the first token alone holds more than 0.99 of the mass
    kept, _filtered = _kept(top_p_filter(sure, 0.5), _("top_p_filter on a confident row"))
    if not np.array_equal(kept, [True, False, False, False]):
        checks.fail(_("When the most probable token alone reaches p, keep it, and only it: never fewer than one "
                      "token."))


def _expected(z, temperature, top_k, top_p, filters):
    """Candidate sampling distributions: the course's, and one built on the student's own filters."""
    top_k_filter, top_p_filter = filters
    scaled = z / temperature
    reference = np.where(np.argsort(np.argsort(-scaled)) < (top_k or len(z)), scaled, -np.inf)
    if top_p is not None:
        reference = np.where(nucleus(reference[None], top_p)[0], reference, -np.inf)
    found = [_softmax(reference)]
    try:  # a right sample() on wrong filters loses the filters' cells only
        own = scaled if top_k is None else _np(top_k_filter(scaled, top_k))
        own = own if top_p is None else _np(top_p_filter(own, top_p))
        found.append(_softmax(own))
    except Exception:  # noqa: BLE001 - the filters are judged by their own cells
        pass
    return found


def _follows(counts, probs) -> bool:
    """Every token's count is within SIGMAS standard deviations of its expectation (and impossible ones never)."""
    expected = DRAWS * probs
    spread = SIGMAS * np.sqrt(DRAWS * probs * (1 - probs)) + 2
    return bool(np.all(np.abs(counts - expected) <= spread) and np.all(counts[probs == 0] == 0))


@hidden_check("test_sample", "sample", "top_k_filter", "top_p_filter")
def sample(sample_fn, *filters):
    """Reproducible with a seed; the frequencies of DRAWS draws follow the tempered, filtered distribution."""
    rng = np.random.default_rng(fresh(66))
    z = spread_logits(rng, 1, 8)[0]
    many = np.tile(z, (DRAWS, 1))
    seed = int(rng.integers(2**31))
    first = _np(sample_fn(many, seed=seed))
    checks.shape(first, (DRAWS,), _("sample of logits ({draws}, 8)", draws=DRAWS))
    checks.close(_np(sample_fn(many, seed=seed)), first, _("a second sample with the same seed"),
                 _("Draw with np.random.default_rng(seed), created inside sample."))
    if np.array_equal(_np(sample_fn(many, seed=seed + 1)), first):
        checks.fail(_("Two different seeds gave the same draws: build the generator from the seed argument."))
    if len(set(first.tolist())) == 1:
        checks.fail(_("sample returns the same token every time: draw at random from the distribution, do not "
                      "take the argmax."))
    nucleus_p = float(np.cumsum(-np.sort(-_softmax(z / 1.5)))[2] + 0.01)
    settings = ({}, {"temperature": 0.6}, {"temperature": 0.8, "top_k": 3}, {"temperature": 1.5, "top_p": nucleus_p})
    for kwargs in settings:
        counts = np.bincount(_np(sample_fn(many, seed=seed, **kwargs)).astype(int), minlength=8)[:8]
        candidates = _expected(z, kwargs.get("temperature", 1.0), kwargs.get("top_k"), kwargs.get("top_p"), filters)
        if not any(_follows(counts, probs) for probs in candidates):
            wanted = ", ".join(f"{k}={v:.3g}" for k, v in kwargs.items()) or _("default arguments")
            expected = np.round(DRAWS * candidates[0]).astype(int).tolist()
            checks.fail(_("With {arguments}, the frequencies of {draws} draws do not follow the expected "
                          "distribution (counts {counts}, expected about {expected}). Divide by the temperature, "
                          "then apply top-k and top-p, then draw from the softmax.",
                          arguments=wanted, draws=DRAWS, counts=counts.tolist(), expected=expected))


# ---------------------------------------------------------------- questions

@hidden_check("test_q_uniform", "answer_uniform")
def q_uniform(answer):
    """The loss of a uniform model over |vocab| tokens: -log(1/|vocab|) = log |vocab|, in Keras' natural logarithm."""
    size = len(text.Vocab(lm_texts()[0]))
    value = questions.read(answer)
    checks.positive_number(value, str(answer))
    if np.isclose(float(value), size, rtol=1e-3):
        checks.fail(_("{answer} = {value!r} is that model's perplexity: the question asks for its loss. Reread "
                      "how section 3 links the two.", answer=answer, value=value))
    if any(np.isclose(float(value), np.log(size) / np.log(base), rtol=1e-3) for base in (2, 10)):
        checks.fail(_("{answer} = {value!r} uses another logarithm than the loss does: the cross-entropy of "
                      "section 3 uses the natural logarithm, the inverse of exp.", answer=answer, value=value))
    questions.number(answer, np.log(size),
                     _("Reread section 3: the loss is the mean of -log(probability of the true next token). What is "
                       "that probability when the model spreads its mass evenly over the vocabulary?"))


@hidden_check("test_q_pre_ln", "answer_pre_ln")
def q_pre_ln(answer):
    """Post-LN normalises on the main path: with silent sub-layers it gives LN(LN(x)) = LN(x), where pre-LN gives x
    (the identity path of Xiong et al., 2020)."""
    questions.choice(answer, "c", _("Reread section 2 and write the post-LN update, x ← LN(x + MHA(x)), with MHA "
                                    "giving 0; then do the same for the feed-forward step."))
