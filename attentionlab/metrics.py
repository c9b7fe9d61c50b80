"""BLEU with sacreBLEU: multi-reference corpus BLEU and BLEU by source length."""
from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
from sacrebleu.metrics import BLEU

from attentionlab.data import word_count


def detokenize(sentence: str) -> str:
    """Undo the corpus' punctuation split ("¿ dónde está ?" -> "¿dónde está?") so sacreBLEU tokenizes as usual."""
    sentence = re.sub(r" ([?!.,;:])", r"\1", sentence)
    return re.sub(r"([¿¡]) ", r"\1", sentence)


def group_references(pairs: list[tuple[str, str]]) -> tuple[list[str], list[list[str]]]:
    """Unique sources (first-seen order) and, for each, all its reference translations."""
    refs: dict[str, list[str]] = defaultdict(list)
    for source, target in pairs:
        refs[source].append(target)
    return list(refs), list(refs.values())


def corpus_bleu(hypotheses: list[str], references: list[list[str]]):
    """sacreBLEU corpus BLEU; each hypothesis may have any number of references."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} reference sets")
    depth = max(len(r) for r in references)
    streams = [[detokenize(r[i]) if i < len(r) else None for r in references] for i in range(depth)]
    bleu = BLEU()
    score = bleu.corpus_score([detokenize(h) for h in hypotheses], streams)
    score.signature = str(bleu.get_signature())
    return score


def evaluate(translate, pairs: list[tuple[str, str]]):
    """BLEU of ``translate`` (list[str] -> list[str]) on ``pairs``, grouped by source sentence."""
    sources, references = group_references(pairs)
    return corpus_bleu(list(translate(sources)), references)


def bleu_by_length(sources, hypotheses, references, edges=(4, 6, 8, 11)) -> dict[str, float]:
    """BLEU per bucket of source length in words: {'4-5': 40.1, ...}."""
    buckets = {}
    for lo, hi in zip(edges[:-1], edges[1:]):
        idx = [i for i, s in enumerate(sources) if lo <= word_count(s) < hi]
        if idx:
            buckets[f"{lo}-{hi - 1}"] = corpus_bleu([hypotheses[i] for i in idx], [references[i] for i in idx]).score
    return buckets



NAMES = frozenset({"tom", "mary", "john", "boston", "alice", "paris", "london", "tokyo", "ken", "jack"})


def copy_alignment(sources, hypotheses, attention) -> dict:
    """How often a copied name or number gets its strongest weight on its own source position.

    Counts the words in ``NAMES`` or made of digits that occur exactly once in a
    source and once in its translation; ``attention[i]`` is (target × source).
    """
    hits = total = 0
    for source, hypothesis, weights in zip(sources, hypotheses, attention):
        src, hyp = source.split(), hypothesis.split()
        for word in set(src) & set(hyp):
            if (word in NAMES or word.isdigit()) and src.count(word) == hyp.count(word) == 1:
                total += 1
                hits += int(np.argmax(weights[hyp.index(word)]) == src.index(word))
    return {"hits": hits, "total": total, "fraction": hits / total if total else float("nan")}
