"""Hidden checks for notebook 5: score functions, the attention layer and the attention decoder."""
from __future__ import annotations

import numpy as np

from attentionlab import baseline, checks
from grader.hidden import SetupError, fresh, hidden_check
from grader.hidden.seq2seq import test_bleu


def _np(x):
    from keras import ops

    return ops.convert_to_numpy(x)


@hidden_check("test_scores", "dot_score", "general_score", "additive_score")
def scores(dot_score, general_score, additive_score):
    """The three scores against NumPy on random shapes with T != S and A != U."""
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


def _case(salt=6):
    rng = np.random.default_rng(fresh(salt))
    query = rng.standard_normal((2, 4, 8)).astype("float32")
    keys = rng.standard_normal((2, 6, 8)).astype("float32")
    mask = np.array([[True] * 4 + [False] * 2, [True] * 6])
    return query, keys, mask


@hidden_check("test_cross_attention", "CrossAttention")
def cross_attention(CrossAttention):
    """Context is the softmax-weighted sum of the encoder outputs, padding masked, for every score."""
    query, keys, mask = _case()
    for score in ("dot", "general", "additive"):
        layer = CrossAttention(8, score)
        context, weights = (_np(x) for x in layer(query, keys, mask))
        checks.shape(weights, (2, 4, 6), f"{score} weights")
        if np.allclose(context, 0):
            checks.fail("The context is all zeros: it must be the weighted sum of the encoder outputs, weights @ keys.")
        uniform = np.where(mask[:, None, :], 1.0, 0.0) / mask.sum(-1)[:, None, None]
        if np.allclose(weights, uniform, atol=1e-5) or np.allclose(context, (uniform @ keys), atol=1e-5):
            checks.fail("The weights ignore the scores (a plain mean): apply the softmax to the scores.")
        checks.rows_sum_to_one(weights, f"{score} attention weights (softmax over the source positions)")
        checks.close(weights[0, :, 4:], np.zeros((4, 2)), f"{score} weights on padded source positions",
                     "Set the scores of padded source positions to -1e9 before the softmax.")
        checks.close(context, weights @ keys, f"{score} context",
                     "The context is the weighted sum of the encoder outputs: weights @ keys.", atol=1e-4)
        changed = keys.copy()
        changed[:, 1] += 1.0
        if np.allclose(_np(layer(query, changed, mask)[0]), context):
            checks.fail("The context does not change with the encoder outputs: attend over keys.")


@hidden_check("test_attention_decoder", "AttentionDecoder")
def attention_decoder(AttentionDecoder):
    """Shapes, and the logits depend on the encoder outputs through the attention."""
    query, keys, mask = _case(7)
    decoder = AttentionDecoder(vocab_size=20, embedding_dim=5, units=8, score="general")
    state = [np.ones((2, 8), "float32") * 0.1, np.zeros((2, 8), "float32")]
    ids = np.array([[2, 4, 5], [2, 6, 0]])
    logits, (h, c), weights = decoder(ids, keys, mask, state)
    checks.shape(logits, (2, 3, 20), "logits")
    checks.shape(weights, (2, 3, 6), "attention weights (batch, T, S)")
    other, _, _ = decoder(ids, keys * 2.0 + 1.0, mask, state)
    if np.allclose(_np(logits), _np(other), atol=1e-6):
        checks.fail("The logits do not depend on the encoder outputs: join the context to the LSTM outputs "
                    "(ops.concatenate) before the output layers.")


@hidden_check("test_bleu_gate", "translate")
def bleu_gate(translate):
    """The grader's own BLEU beats the frozen no-attention baseline by at least baseline.MARGIN."""
    try:
        record = baseline.load()
        baseline.check_environment(record)
    except (OSError, RuntimeError) as exc:
        raise SetupError(str(exc)) from None
    score = test_bleu(translate)
    needed = record["bleu"] + baseline.MARGIN
    if score.score < needed:
        checks.fail(f"BLEU {score.score:.1f} does not beat the no-attention baseline ({record['bleu']:.1f}) by "
                    f"{baseline.MARGIN:g} points. Check that the context is a softmax-weighted sum of the encoder "
                    "outputs, that the weights are normalised over the source positions, and that padding is masked.")
    return (f"The grader's BLEU on the test split: {score.score:.1f}; no-attention baseline {record['bleu']:.1f}; "
            f"needed {needed:.1f}.")
