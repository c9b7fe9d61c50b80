"""Notebook 6's hidden checks: their NumPy references agree with Keras, the reference passes, mistakes are named."""
import numpy as np
import pytest

import grader.hidden
from grader.catalogue import submissions
from grader.hidden import transformer_lm as h
from grader.hidden import verdict
from kernel_objects import Variable

ASSIGNMENT = "06_transformer_lm"


@pytest.fixture(scope="module")
def reference():
    """The namespace of the notebook's reference answers (the setup cell's imports, without the corpus)."""
    import keras
    from keras import layers, ops

    namespace = {"np": np, "keras": keras, "layers": layers, "ops": ops}
    for grade_id in ("positional_encoding", "decoder_block", "temperature", "filters", "sample"):
        exec(submissions.solution_sources(ASSIGNMENT)[grade_id], namespace)
    return namespace


def test_block_reference_is_keras_pre_ln(reference):
    """The grader's NumPy block equals the Keras reference block, layer by layer, on random weights."""
    from attentionlab.checks import randomise_weights

    block = reference["DecoderBlock"](8, 2, 16)
    x = np.random.default_rng(0).standard_normal((2, 5, 8)).astype("float32")
    block(x)
    randomise_weights(block, seed=1)
    weights = [np.asarray(w, "float64") for w in block.get_weights()]
    np.testing.assert_allclose(np.asarray(block(x)), h.reference_block(x.astype("float64"), weights), atol=1e-4)


def test_checks_pass_on_the_reference(reference):
    h.positional_encoding(reference["positional_encoding"])
    h.decoder_block(reference["DecoderBlock"])
    h.temperature(reference["greedy"], reference["softmax_with_temperature"])
    h.top_k(reference["top_k_filter"])
    h.top_p(reference["top_p_filter"])
    h.sample(reference["sample"], reference["top_k_filter"], reference["top_p_filter"])


@pytest.mark.parametrize("mistake, fix", [(dict(sine_even=False), "swapped"), (dict(exponent="j"), "column index"),
                                          (dict(exponent="i"), "not i/d")])
def test_positional_encoding_mistakes_are_named(mistake, fix):
    with pytest.raises(AssertionError, match=fix):
        h.positional_encoding(lambda n, d: h.reference_pe(n, d, **mistake))


def float32_encoding(n, d):
    """A correct encoding computed in float32 throughout, as keras-hub's SinePositionEncoding does."""
    positions = np.arange(n, dtype=np.float32)[:, None]
    pair = (np.arange(d) // 2).astype(np.float32)[None, :]
    frequencies = np.exp(-np.log(np.float32(10000)) * 2 * pair / d).astype(np.float32)
    angles = (positions * frequencies).astype(np.float32)
    return np.where(np.arange(d) % 2 == 0, np.sin(angles), np.cos(angles)).astype(np.float32)


def test_a_float32_encoding_passes_on_200_seeds(monkeypatch):
    """float32 rounds the angles (up to n - 1 radians) to about 6e-8 of their size: the check's tolerance accepts that
    on every size it draws, and still names each mistake."""
    assert float32_encoding(50, 64).dtype == np.float32
    assert np.abs(float32_encoding(59, 30) - h.reference_pe(59, 30)).max() > 1e-6  # the old tolerance failed it
    for seed in range(200):
        monkeypatch.setattr(grader.hidden, "BASE_SEED", seed)
        h.positional_encoding(float32_encoding)
        with pytest.raises(AssertionError, match="swapped"):
            h.positional_encoding(lambda n, d: h.reference_pe(n, d, sine_even=False).astype(np.float32))


@pytest.mark.parametrize("answer, passed, words", [
    (lambda v: np.log(v), True, None), (lambda v: float(np.log(v)), True, None),
    (lambda v: v, False, "the question asks for its loss"), (lambda v: np.log10(v), False, "natural logarithm"),
    (lambda v: np.log2(v), False, "natural logarithm"), (lambda v: 1 / v, False, "Reread section 3")])
def test_q_uniform_wants_the_loss_and_names_the_confusion(answer, passed, words):
    from attentionlab import text

    size = len(text.Vocab(h.lm_texts()[0]))
    ok, message = verdict(h.q_uniform.check, {"answer_uniform": Variable(answer(size), "answer_uniform")})
    assert ok == passed and (words is None or words in message), message


@pytest.mark.parametrize("extra, fix", [(-1, "drops the token"), (1, "one token more")])
def test_top_p_off_by_ones_are_named(extra, fix):
    with pytest.raises(AssertionError, match=fix):
        h.top_p(lambda z, p: np.where(h.nucleus(np.atleast_2d(z), p, extra=extra).reshape(np.shape(z)), z, -np.inf))


def test_sample_from_the_wrong_distribution_fails(reference):
    def untempered(logits, seed=0, temperature=1.0, top_k=None, top_p=None):
        return reference["sample"](logits, seed=seed, top_k=top_k, top_p=top_p)

    with pytest.raises(AssertionError, match="temperature"):
        h.sample(untempered, reference["top_k_filter"], reference["top_p_filter"])


def test_nucleus_is_the_smallest_set_reaching_p():
    z = np.log(np.array([[0.1, 0.4, 0.2, 0.3]]))
    assert h.nucleus(z, 0.65).tolist() == [[False, True, False, True]]  # 0.4 + 0.3 reaches 0.65
    assert h.nucleus(z, 0.7).tolist() == [[False, True, False, True]]  # exactly 0.7 reaches 0.7
    assert h.nucleus(z, 0.35).tolist() == [[False, True, False, False]]


def test_gate_sentences_are_none_a_kernel_has():
    """The gate's sentences come from the test split, which graded kernels never get, and repeat no sentence of the
    notebook's training or validation sets."""
    from attentionlab import data, lm

    train, test = h.lm_texts()
    _, val = lm.sentences(data.load_corpus())
    assert len(test) > h.GATE_SENTENCES and not set(test) & (set(train) | set(val))


@pytest.mark.parametrize("peek_at", [1, 5, 10])
def test_peeking_is_found_at_any_position(peek_at):
    """A model that sees the next word at one position only, early or late, is caught; a causal one is not."""
    table = np.random.default_rng(0).standard_normal((50, 50))
    inputs = np.random.default_rng(1).integers(4, 50, (3, 12))

    def causal(ids):
        return table[np.asarray(ids)]

    def peeking(ids):
        logits = causal(ids).copy()
        logits[:, peek_at] += table[np.asarray(ids)[:, peek_at + 1]]
        return logits

    rng = np.random.default_rng(2)
    assert h.peeks(peeking, inputs, 50, rng) and not h.peeks(causal, inputs, 50, rng)


def test_causal_perplexity_is_the_perplexity_of_a_causal_model():
    from attentionlab import lm, text

    train, test = h.lm_texts()
    vocab = text.Vocab(train)
    bigram = lm.BigramLM(train, vocab, 0.01)
    assert h.causal_perplexity(bigram, test[:50], vocab) == pytest.approx(lm.perplexity(bigram, test[:50], vocab))
