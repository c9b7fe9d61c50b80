"""attentionlab.lm: data, bigram baseline, perplexity, the Transformer LM and generation, on a toy corpus."""
import numpy as np
import pytest

from attentionlab import lm, seq2seq, text
from attentionlab.data import Corpus, Subset

TEXTS = ["el perro come .", "el gato come .", "el perro duerme .", "un gato duerme ."]


@pytest.fixture
def vocab():
    return text.Vocab(TEXTS)


def test_sentences_are_unique_and_validation_unseen():
    corpus = Corpus(train=[("a", "x y"), ("b", "x y"), ("c", "z")], val=[("d", "x y"), ("e", "w"), ("f", "w")],
                    test=[("g", "t")], subset=Subset())
    assert lm.sentences(corpus) == (["x y", "z"], ["w"])


def test_next_token_data_shifts_by_one(vocab):
    inputs, targets = lm.next_token_data(["el perro come .", "un gato ."], vocab)
    assert inputs[0].tolist() == [text.START_ID, *vocab.encode("el perro come .")]
    assert targets[0].tolist() == [*vocab.encode("el perro come ."), text.END_ID]
    assert targets[1, -1] == text.PAD_ID and inputs.shape == targets.shape == (2, 5)


def test_bigram_probabilities_are_smoothed_counts(vocab):
    bigram = lm.BigramLM(TEXTS, vocab, k=0.5)
    probs = np.exp(bigram.log_probs)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    el, perro = vocab.ids["el"], vocab.ids["perro"]
    assert probs[el, perro] == pytest.approx((2 + 0.5) / (3 + 0.5 * len(vocab)))  # "el" -> perro twice of 3


def test_perplexity_of_uniform_logits_is_the_vocabulary_size(vocab):
    assert lm.perplexity(lambda ids: np.zeros(ids.shape + (len(vocab),)), TEXTS, vocab) == pytest.approx(len(vocab))


def test_perplexity_counts_real_tokens_only(vocab):
    bigram = lm.BigramLM(TEXTS, vocab)
    one_by_one = [np.log(lm.perplexity(bigram, [s], vocab)) * (len(s.split()) + 1) for s in TEXTS]
    together = np.log(lm.perplexity(bigram, TEXTS, vocab, batch_size=3)) * sum(len(s.split()) + 1 for s in TEXTS)
    assert together == pytest.approx(sum(one_by_one))


def test_lm_batches_pair_inputs_with_next_tokens(vocab):
    (inputs, targets), = lm.lm_batches(["el perro come ."], vocab, batch_size=4).as_numpy_iterator()
    expected_in, expected_out = lm.next_token_data(["el perro come ."], vocab)
    np.testing.assert_array_equal(inputs, expected_in)
    np.testing.assert_array_equal(targets, expected_out)


@pytest.mark.slow
def test_transformer_lm_learns_and_generates(vocab, monkeypatch):
    import keras

    monkeypatch.setenv(seq2seq.QUIET, "1")
    keras.utils.set_random_seed(0)
    block = keras.layers.Dense(16)  # any (B, n, d) -> (B, n, d) layer stands in for a decoder block
    model = lm.TransformerLM(len(vocab), 16, np.zeros((12, 16)), [block])
    run = lm.train(model, TEXTS * 8, TEXTS, vocab, epochs=15, batch_size=8, learning_rate=1e-2)
    assert run["val_loss"][-1] < 0.5 * run["initial_val_loss"] and run["tokens_per_second"] > 0
    assert lm.perplexity(model, TEXTS, vocab) < lm.perplexity(lm.BigramLM(TEXTS, vocab, k=1.0), TEXTS, vocab)
    texts = lm.generate(model, vocab, lambda logits, step: np.argmax(logits, -1), n=2, prompt="el")
    assert len(texts) == 2 and all(t.startswith("el ") for t in texts)
