"""Language-model plumbing for notebook 6: Spanish sentences, a bigram baseline, a Transformer LM, perplexity.

The notebook writes the positional encoding and the decoder block; this module assembles and trains the model,
and measures any model the same way: ``logits_fn(inputs (B, n)) -> logits (B, n, vocab_size)``.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from attentionlab.seq2seq import fit
from attentionlab.text import END_ID, PAD_ID, START_ID, Vocab, batches, pad


def sentences(corpus) -> tuple[list[str], list[str]]:
    """(training, validation) Spanish sentences, each once; validation keeps only sentences unseen in training."""
    train = list(dict.fromkeys(es for _, es in corpus.train))
    seen = set(train)
    return train, [s for s in dict.fromkeys(es for _, es in corpus.val) if s not in seen]


def lm_batches(texts, vocab: Vocab, batch_size: int, shuffle: bool = False, seed: int = 0):
    """A tf.data.Dataset of (inputs [start] w1 .. wn, targets w1 .. wn [end]), length-bucketed as in text.batches."""
    pairs = [(s, s) for s in texts]  # text.batches pairs a source with a target; the LM reads the target only
    return batches(pairs, vocab, vocab, batch_size, shuffle=shuffle, seed=seed).map(lambda x, y: (x[1], y))


def next_token_data(texts, vocab: Vocab) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets) (B, n) of whole sentences, right-padded with 0: target t is the token after input t."""
    ids = pad([vocab.encode(s, start_end=True) for s in texts])
    return ids[:, :-1], ids[:, 1:]


def log_softmax(logits) -> np.ndarray:
    """log softmax over the last axis, in float64."""
    x = np.asarray(logits, "float64")
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def perplexity(logits_fn, texts, vocab: Vocab, batch_size: int = 128) -> float:
    """exp(mean negative log-likelihood per real target token, [end] included) of ``texts`` under ``logits_fn``."""
    total, count = 0.0, 0
    for start in range(0, len(texts), batch_size):
        inputs, targets = next_token_data(texts[start:start + batch_size], vocab)
        logp = log_softmax(ops.convert_to_numpy(logits_fn(inputs)))  # (B, n, vocab_size)
        picked = np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
        real = targets != PAD_ID
        total, count = total - picked[real].sum(), count + real.sum()
    return float(np.exp(total / count))


class BigramLM:
    """Add-k smoothed bigram model over the ids of ``vocab``: P(w | previous word), from training counts."""

    def __init__(self, texts, vocab: Vocab, k: float = 0.1):
        counts = np.zeros((len(vocab), len(vocab)))
        for s in texts:
            ids = vocab.encode(s, start_end=True)
            np.add.at(counts, (ids[:-1], ids[1:]), 1)
        # (vocab_size, vocab_size): row u holds log P(w | u)
        self.log_probs = np.log((counts + k) / (counts.sum(axis=1, keepdims=True) + k * len(vocab)))

    def __call__(self, inputs) -> np.ndarray:
        """Log-probabilities of the next token (B, n, vocab_size): a row of the table per input token."""
        return self.log_probs[np.asarray(inputs)]


class TransformerLM(keras.Model):
    """Decoder-only LM: token embedding · √d_model + positional encoding, decoder blocks, final LayerNorm, LM head."""

    def __init__(self, vocab_size: int, d_model: int, positions, blocks, **kwargs):
        super().__init__(**kwargs)
        self.d_model = d_model
        self.positions = np.asarray(positions, "float32")  # (max_len, d_model), fixed
        self.embedding = layers.Embedding(vocab_size, d_model)
        self.blocks = list(blocks)
        self.norm = layers.LayerNormalization()  # pre-LN blocks leave the residual stream unnormalised
        self.head = layers.Dense(vocab_size)

    def call(self, ids):
        """ids (B, n) -> logits (B, n, vocab_size)."""
        n = ops.shape(ids)[1]
        x = self.embedding(ids) * self.d_model**0.5 + ops.convert_to_tensor(self.positions)[:n]
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))


def train(model, texts, val_texts, vocab: Vocab, epochs: int = 4, batch_size: int = 64,
          learning_rate: float = 1e-3, seed: int = 0) -> dict:
    """Fit next-token prediction; return losses (untrained too), epoch times and target tokens per second."""
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=PAD_ID)
    train_ds = lm_batches(texts, vocab, batch_size, shuffle=True, seed=seed)
    val_ds = lm_batches(val_texts, vocab, 256)
    run = fit(model, keras.optimizers.Adam(learning_rate), loss, train_ds, val_ds, epochs)
    tokens = sum(len(s.split()) + 1 for s in texts)
    return {**run, "tokens_per_second": tokens * len(run["epoch_seconds"]) / run["train_seconds"]}


def generate(model, vocab: Vocab, pick, n: int = 3, max_len: int = 20, prompt: str = "") -> list[str]:
    """``n`` sentences, each continuing ``prompt``; ``pick(logits (n, vocab_size), step) -> ids (n,)`` picks tokens."""
    ids = np.array([[START_ID, *vocab.encode(prompt)]] * n, dtype="int32")
    for step in range(max_len):
        logits = ops.convert_to_numpy(model(ids))[:, -1]  # (n, vocab_size): the next token's scores
        ids = np.concatenate([ids, np.asarray(pick(logits, step), "int32").reshape(n, 1)], axis=1)
        if np.all(np.any(ids[:, 1:] == END_ID, axis=1)):
            break
    return [vocab.decode(row) for row in ids]
