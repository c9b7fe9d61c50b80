"""Notebooks 4 and 5's models run by the grader: greedy decoding in NumPy on the weights of the handed-in model.

BLEU scores these translations, and the alignment these weights' attention given the reference translations (teacher
forcing), never what a notebook's ``translate`` reports, so only a trained model can pass them. The layout of the
weights is that of ``Seq2Seq.get_weights()`` for the models the notebooks build: notebook 4's ("no attention"),
notebook 5's ``attention_model("Luong")`` and ``attention_model("Bahdanau")``; tests/test_hidden.py checks the decoding
against Keras' ``Seq2Seq.translate`` and the teacher-forced attention against ``Seq2Seq.forced_attention``.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np

from attentionlab.text import END_ID, START_ID, Vocab, pad

MAX_LEN = 20  # Seq2Seq.translate's default
MAX_SIZE = 1024  # largest embedding or state the grader decodes (the notebook's: 64 and 128): bounds its time
# The readings of one model's weights: the orders in which a right decoder may join its vectors (Luong's W_c input
# [c; s] or [s; c]; Bahdanau's cell input [y; c] or [c; y] and output [s; c] or [c; s]), and notebook 4's encoder with
# or without the padding mask (a mistake of its own cell: the BLEU floor judges the model the notebook trained).
# Notebook 5's scores are divided by √d or not as the student declares (SCALED): Luong's general score and Bahdanau's
# additive score are read both ways.
READINGS = {"Luong": list(product(("cs", "sc"), ("scaled", "unscaled"))),
            "Bahdanau": list(product(("yc", "cy"), ("sc", "cs"), ("unscaled", "scaled"))),
            "no attention": [("masked",), ("unmasked",)]}


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_step(x, h, c, kernel, recurrent, bias):
    """Keras' LSTM cell (gates i, f, candidate, o), in NumPy."""
    i, f, g, o = np.split(x @ kernel + h @ recurrent + bias, 4, axis=-1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c


def masked_lstm(x, mask, kernel, recurrent, bias, backward: bool = False):
    """Keras' LSTM over (B, S, E) with a padding mask: padded steps keep the state. (outputs, final h, final c)."""
    h = c = np.zeros((x.shape[0], recurrent.shape[0]), x.dtype)
    outputs = np.zeros((*x.shape[:2], recurrent.shape[0]), x.dtype)
    for t in reversed(range(x.shape[1])) if backward else range(x.shape[1]):
        h_new, c_new = lstm_step(x[:, t], h, c, kernel, recurrent, bias)
        keep = mask[:, t, None]
        h, c = np.where(keep, h_new, h), np.where(keep, c_new, c)
        outputs[:, t] = h
    return outputs, h, c


def masked_softmax(scores, mask):
    """Softmax over the source positions, padding at -1e9 as CrossAttention does."""
    scores = np.where(mask, scores, -1e9)
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _join(order: str, **vectors):
    return np.concatenate([vectors[name] for name in order], -1)


@dataclass
class Model:
    """One reading of a handed-in model's weights: its architecture (a key of READINGS) and the reading."""

    name: str
    weights: list
    reading: tuple

    def encode(self, ids):
        """(encoder outputs (B, S, U), decoder's initial state, mask (B, S))."""
        mask, w = ids != 0, self.weights
        x = w[0][ids]
        if self.name != "Bahdanau":
            outputs, h, c = masked_lstm(x, np.ones_like(mask) if self.reading == ("unmasked",) else mask, *w[1:4])
            return outputs, (h, c), mask
        forward, _, _ = masked_lstm(x, mask, *w[1:4])
        backward, h_backward, _ = masked_lstm(x, mask, *w[4:7], backward=True)
        s_0 = np.tanh(h_backward @ w[7] + w[8])
        return np.concatenate([forward, backward], -1), (s_0, np.zeros_like(s_0)), mask

    def step(self, token, keys, mask, state, projected):
        """(logits (B, V), new state, attention weights (B, S)) of one decoding step."""
        if self.name == "Bahdanau":
            return self._bahdanau(token, keys, mask, state, projected)
        embedding, kernel, recurrent, bias, W_1, W_2, W_out, b_out = self.weights[4:]
        s, c = lstm_step(embedding[token], *state, kernel, recurrent, bias)
        if self.name == "no attention":  # W_1, W_2: the Dense layer `combine`, kernel and bias
            return np.tanh(s @ W_1 + W_2) @ W_out + b_out, (s, c), np.zeros(mask.shape, keys.dtype)
        # Luong: W_1 the general score's W, W_2 the Dense layer W_c
        scores = np.einsum("bu,bsu->bs", s @ W_1, keys)
        weights = masked_softmax(scores / np.sqrt(keys.shape[-1]) if self.reading[1] == "scaled" else scores, mask)
        context = np.einsum("bs,bsu->bu", weights, keys)
        return np.tanh(_join(self.reading[0], c=context, s=s) @ W_2) @ W_out + b_out, (s, c), weights

    def _bahdanau(self, token, keys, mask, state, projected):
        """Bahdanau's step: attention with s_{t-1}, the LSTM cell fed the embedded word and the context."""
        embedding, _, W2, v, kernel, recurrent, bias, W_out, b_out = self.weights[9:]
        scores = np.tanh(projected + (state[0] @ W2)[:, None]) @ v
        weights = masked_softmax(scores / np.sqrt(keys.shape[-1]) if self.reading[2] == "scaled" else scores, mask)
        context = np.einsum("bs,bsu->bu", weights, keys)
        s, memory = lstm_step(_join(self.reading[0], y=embedding[token], c=context), *state, kernel, recurrent, bias)
        return _join(self.reading[1], s=s, c=context) @ W_out + b_out, (s, memory), weights

    def greedy(self, ids, max_len: int = MAX_LEN):
        """Greedy decoding as Seq2Seq.translate: (tokens (B, T), weights (B, T, S), gap between the two best logits)."""
        keys, state, mask = self.encode(ids)
        projected = keys @ self.weights[10] if self.name == "Bahdanau" else None
        token = np.full(len(ids), START_ID)
        tokens, weights, gaps = [], [], []
        for _ in range(max_len):
            logits, state, w = self.step(token, keys, mask, state, projected)
            top = np.partition(logits, -2, axis=-1)[:, -2:]
            token = logits.argmax(-1)
            tokens.append(token), weights.append(w), gaps.append(top[:, 1] - top[:, 0])
            if np.all(np.any(np.stack(tokens, 1) == END_ID, axis=1)):
                break
        return np.stack(tokens, 1), np.stack(weights, 1), np.stack(gaps, 1)

    def forced(self, ids, target_in):
        """Attention weights (B, T, S) when the decoder is fed ``target_in`` (teacher forcing), not its own words."""
        keys, state, mask = self.encode(ids)
        projected = keys @ self.weights[10] if self.name == "Bahdanau" else None
        weights = []
        for t in range(target_in.shape[1]):
            _, state, w = self.step(target_in[:, t], keys, mask, state, projected)
            weights.append(w)
        return np.stack(weights, 1)

    def forced_attention(self, pairs, src_vocab: Vocab, tgt_vocab: Vocab):
        """Seq2Seq.forced_attention in NumPy: each (english, spanish) pair's (words + end × source) weights when the
        decoder is given the reference."""
        ids = pad([src_vocab.encode(english) for english, _ in pairs])
        target = pad([tgt_vocab.encode(spanish, start_end=True)[:-1] for _, spanish in pairs])
        weights = self.forced(ids, target)
        return [w[:len(es.split()) + 1, :len(en.split())] for w, (en, es) in zip(weights, pairs)]

    def translate(self, sources, src_vocab: Vocab, tgt_vocab: Vocab, max_len: int = MAX_LEN):
        """(texts, attention (target × source) of each, smallest gap between the two best logits of each)."""
        tokens, weights, gaps = self.greedy(pad([src_vocab.encode(s) for s in sources]), max_len)
        texts = [tgt_vocab.decode(row) for row in tokens]
        attention = [w[:len(t.split()) + 1, :len(s.split())] for w, t, s in zip(weights, texts, sources)]
        return texts, attention, gaps.min(1)


def shapes(name: str, weights: list) -> list[tuple]:
    """The shapes the notebooks give the weights of the model ``name``, with the sizes read from ``weights``."""
    def lstm(inputs, units):
        return [(inputs, 4 * units), (units, 4 * units), (4 * units,)]

    (vs, e), u = np.shape(weights[0]), np.shape(weights[2])[0]
    if name != "Bahdanau":
        vt = np.shape(weights[-1])[0]
        combine = [(u, u), (u,)] if name == "no attention" else [(u, u), (2 * u, u)]  # Luong: W, W_c
        return [(vs, e), *lstm(e, u), (vt, e), *lstm(e, u), *combine, (u, vt), (vt,)]
    vt, units = np.shape(weights[-1])[0], 2 * u
    return [(vs, e), *lstm(e, u), *lstm(e, u), (u, units), (units,), (vt, e), (units, units), (units, units),
            (units,), *lstm(e + units, units), (2 * units, vt), (vt,)]


def readings(name: str, weights: list, src_vocab: Vocab, tgt_vocab: Vocab) -> list[Model]:
    """Every reading of the weights (READINGS), in float32 as Keras computes; [] if they are not those of the model
    ``name`` on these vocabularies."""
    try:
        weights = [np.asarray(w, "float32") for w in weights]
        expected = shapes(name, weights)
    except (TypeError, ValueError, IndexError):
        return []
    sizes = (len(src_vocab), len(tgt_vocab))
    if [w.shape for w in weights] != expected or (expected[0][0], expected[-1][0]) != sizes \
            or max(expected[0][1], expected[2][0]) > MAX_SIZE:
        return []
    return [Model(name, weights, reading) for reading in READINGS[name]]
