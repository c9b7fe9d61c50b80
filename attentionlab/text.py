"""Vocabularies and batched datasets for the translation notebooks."""
from __future__ import annotations

from collections import Counter

import numpy as np

PAD, UNK, START, END = "[pad]", "[unk]", "[start]", "[end]"
PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3


class Vocab:
    """Token <-> id. Id 0 is padding, 1 unknown, 2 start, 3 end; words by frequency from 4 on."""

    def __init__(self, sentences, max_size: int | None = None):
        counts = Counter(tok for s in sentences for tok in s.split())
        words = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:max_size]
        self.tokens = [PAD, UNK, START, END] + words
        self.ids = {tok: i for i, tok in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, sentence: str, start_end: bool = False) -> list[int]:
        """Token ids of a normalised sentence; with ``start_end``, wrapped in [start] ... [end]."""
        ids = [self.ids.get(tok, UNK_ID) for tok in sentence.split()]
        return [START_ID, *ids, END_ID] if start_end else ids

    def decode(self, ids) -> str:
        """Text of ids, stopping at [end] and skipping padding and [start]."""
        words = []
        for i in ids:
            if i == END_ID:
                break
            if i not in (PAD_ID, START_ID):
                words.append(self.tokens[i])
        return " ".join(words)


def pad(sequences, length: int | None = None) -> np.ndarray:
    """int32 array of the sequences, right-padded with 0 to ``length`` (default: the longest)."""
    length = length or max(len(s) for s in sequences)
    out = np.zeros((len(sequences), length), dtype="int32")
    for i, seq in enumerate(sequences):
        out[i, :len(seq)] = seq[:length]
    return out


def batches(pairs, src_vocab: Vocab, tgt_vocab: Vocab, batch_size: int, shuffle: bool = False, seed: int = 0):
    """A tf.data.Dataset of ((source ids, target input ids), target output ids).

    Pairs of similar target length are batched together and each batch is padded
    only to its own longest sentence, which halves the training time compared with
    padding everything to the longest sentence of the corpus. With ``shuffle``,
    the sentences and the order of the batches change every epoch.
    """
    import tensorflow as tf

    src = [src_vocab.encode(en) for en, _ in pairs]
    tgt = [tgt_vocab.encode(es, start_end=True) for _, es in pairs]
    rng = np.random.default_rng(seed)

    def generate():
        order = rng.permutation(len(src)) if shuffle else np.arange(len(src))
        order = order[np.argsort([len(tgt[i]) for i in order], kind="stable")]
        starts = np.arange(0, len(order), batch_size)
        if shuffle:
            rng.shuffle(starts)
        for start in starts:
            idx = order[start:start + batch_size]
            target = pad([tgt[i] for i in idx])
            yield (pad([src[i] for i in idx]), target[:, :-1]), target[:, 1:]

    spec = tf.TensorSpec((None, None), tf.int32)
    dataset = tf.data.Dataset.from_generator(generate, output_signature=((spec, spec), spec))
    n_batches = -(-len(pairs) // batch_size)
    untuned = tf.data.Options()
    untuned.autotune.enabled = False  # else each new epoch waits (up to an epoch's time) for the last one's tuner thread
    return dataset.apply(tf.data.experimental.assert_cardinality(n_batches)).prefetch(2).with_options(untuned)
