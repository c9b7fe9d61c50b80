"""Attention against an independent word alignment, as Koehn & Knowles (2017) and Ghader & Monz (2017) measure it.

IBM Model 2 (NLTK's, trained on the training split, English -> Spanish) links each Spanish word of a held-out pair to
one English word or to none. A translator is then given the pair's reference translation (teacher forcing), and each
linked Spanish word's row of attention weights is compared with its link: is the strongest weight on the linked English
word (strict), within one position of it (±1), on a later word (ahead), and how much weight does the linked word get
(mass)? Attention that ignores the words (:func:`content_blind`) gets the same figures on the same words, for
comparison.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np

from attentionlab import data

ITERATIONS = 5  # of Model 2, after NLTK's 2 × 5 of Model 1 (its lexical start): about 20 s on the training split
MIN_PROB = 1e-12  # NLTK's floor for every probability (IBMModel.MIN_PROB)
CACHED = "ibm2-{}.npz"  # named after the training pairs, NLTK's version and this module


def is_word(token: str) -> bool:
    """Punctuation is not a word: the measure leaves it out on both sides."""
    return data.word_count(token) > 0


@dataclass
class Aligner:
    """IBM Model 2's tables as arrays: t(f | e) and a(i | j, l, m), i = 0 for NULL (no English word)."""

    english: dict[str, int]  # English token -> column of ``translation`` (0 is NULL)
    spanish: dict[str, int]  # Spanish token -> row of ``translation``
    translation: np.ndarray  # (Spanish tokens, 1 + English tokens): t(f | e)
    distortion: np.ndarray  # (l, m, j, i) for l English and m Spanish tokens, j from 0: a(i | j + 1, l, m)
    seen: np.ndarray  # (l, m): True where the training split had a pair of these lengths

    def links(self, english: str, spanish: str) -> list[int | None]:
        """For each Spanish token, the position of its English token, or None (NULL): NLTK's ``IBMModel2.align``.

        Lengths that training never saw get a uniform a(i | j, l, m) (NLTK's table would hold only its floor there,
        which links every word to NULL).
        """
        src, tgt = english.split(), spanish.split()
        l, m = len(src), len(tgt)
        if not l:
            return [None] * m
        lex = np.full((m, l + 1), MIN_PROB)
        rows = [self.spanish.get(f) for f in tgt]
        columns = [0] + [self.english.get(e, -1) for e in src]
        for j, row in enumerate(rows):
            if row is not None:
                lex[j] = [self.translation[row, c] if c >= 0 else MIN_PROB for c in columns]
        known = l < self.seen.shape[0] and m < self.seen.shape[1] and self.seen[l, m]
        prior = self.distortion[l, m, :m, :l + 1] if known else np.full((m, l + 1), 1 / (l + 1))
        scores = lex * prior
        null = np.maximum(scores[:, 0], MIN_PROB)
        best = scores[:, 1:].max(axis=1)
        last = l - 1 - np.argmax(scores[:, :0:-1], axis=1)  # NLTK keeps the last of equal scores
        return [int(i) if b >= n else None for i, b, n in zip(last, best, null)]

    def word_links(self, pairs) -> list[list[tuple[int, int]]]:
        """For each (english, spanish) pair, its (Spanish position, English position) links between words."""
        found = []
        for english, spanish in pairs:
            src, tgt = english.split(), spanish.split()
            found.append([(t, j) for t, j in enumerate(self.links(english, spanish))
                          if j is not None and is_word(tgt[t]) and is_word(src[j])])
        return found


def train(pairs, iterations: int = ITERATIONS) -> Aligner:
    """IBM Model 2 trained with NLTK on (english, spanish) ``pairs``, as arrays."""
    from nltk.translate import AlignedSent, IBMModel2

    bitext = [AlignedSent(es.split(), en.split()) for en, es in pairs]
    model = IBMModel2(bitext, iterations)
    english = sorted({e for en, _ in pairs for e in en.split()})
    spanish = sorted({f for _, es in pairs for f in es.split()})
    table = model.translation_table
    translation = np.array([[table[f][e] if e in table[f] else MIN_PROB for e in [None, *english]] for f in spanish])
    lengths = {(len(en.split()), len(es.split())) for en, es in pairs}
    size = max(max(pair) for pair in lengths) + 1
    distortion, seen = np.full((size, size, size, size), MIN_PROB), np.zeros((size, size), bool)
    a = model.alignment_table
    for l, m in lengths:
        seen[l, m] = True
        for j in range(m):
            distortion[l, m, j, :l + 1] = [a[i][j + 1][l][m] for i in range(l + 1)]
    return Aligner({e: i + 1 for i, e in enumerate(english)}, {f: i for i, f in enumerate(spanish)},
                   translation, distortion, seen)


def cache_file(pairs) -> Path:
    """Where the model trained on ``pairs`` is kept: the grader and every kernel with the same training split share
    it."""
    module = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    key = json.dumps([sorted(pairs), ITERATIONS, version("nltk"), module], ensure_ascii=False)
    return data.cache_dir() / CACHED.format(hashlib.sha256(key.encode()).hexdigest()[:16])


def aligner(train_pairs=None) -> Aligner:
    """The IBM Model 2 of the course's training split (or of ``train_pairs``), trained once and then read from the
    cache folder (a read-only folder keeps nothing)."""
    pairs = data.load_corpus().train if train_pairs is None else train_pairs
    path = cache_file(pairs)
    try:
        with np.load(path) as found:
            return Aligner(dict(zip(found["english"].tolist(), range(1, len(found["english"]) + 1))),
                           dict(zip(found["spanish"].tolist(), range(len(found["spanish"])))),
                           found["translation"], found["distortion"], found["seen"])
    except (OSError, KeyError, ValueError):
        pass
    model = train(pairs)
    try:
        with data._replacing(path) as tmp:
            np.savez_compressed(tmp, english=np.array(list(model.english)), spanish=np.array(list(model.spanish)),
                                translation=model.translation, distortion=model.distortion, seen=model.seen)
    except OSError:
        pass
    return model


def agreement(links, attention) -> dict:
    """How attention agrees with the word alignment ``links`` (one list of (target, source) positions per pair).

    ``attention[i]`` is pair i's (target × source) weights, row t where the step that writes target word t looks.
    Over the linked words: strict, the share whose strongest weight is on their English word; near, within one position
    of it; ahead, on a later English word; a tie for the strongest weight (uniform attention) counts for none of these.
    mass: the mean weight on the linked English word.
    """
    counts = dict.fromkeys(("strict", "near", "ahead", "mass"), 0.0)
    words = 0
    for pair_links, weights in zip(links, attention):
        weights = np.asarray(weights, float)
        for t, j in pair_links:
            row = weights[t]
            top = int(np.argmax(row))
            if row[top] > np.max(np.delete(row, top), initial=-np.inf):
                counts["strict"] += top == j
                counts["near"] += abs(top - j) <= 1
                counts["ahead"] += top > j
            counts["mass"] += row[j]
            words += 1
    return {"words": words, **{name: float(total) / max(words, 1) for name, total in counts.items()}}


def diagonal(rows: int, columns: int, shift: int = 0) -> np.ndarray:
    """Weights that follow position alone: row t on column round(t (S - 1) / (T - 1)) + shift, T the rows but the last
    (the end token, which looks where the last word does), S the columns."""
    words = max(rows - 1, 1)
    weights = np.zeros((rows, columns))
    for t in range(rows):
        j = round(min(t, words - 1) * (columns - 1) / max(words - 1, 1)) + shift
        weights[t, min(max(j, 0), columns - 1)] = 1.0
    return weights


def content_blind(pairs) -> dict[str, list[np.ndarray]]:
    """Attention that ignores the words, for each (english, spanish) pair (rows: Spanish tokens and the end)."""
    shapes = [(len(es.split()) + 1, len(en.split())) for en, es in pairs]
    return {"diagonal": [diagonal(*s) for s in shapes], "diagonal, one ahead": [diagonal(*s, shift=1) for s in shapes],
            "uniform": [np.full(s, 1 / s[1]) for s in shapes]}


def blind_figures(pairs, model: Aligner | None = None) -> dict[str, dict]:
    """:func:`agreement` of each content-blind attention on ``pairs``."""
    links = (model or aligner()).word_links(pairs)
    return {name: agreement(links, weights) for name, weights in content_blind(pairs).items()}
