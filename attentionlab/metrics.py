"""BLEU with sacreBLEU: multi-reference corpus BLEU and BLEU by source length."""
from __future__ import annotations

from collections import defaultdict

from sacrebleu.metrics import BLEU
from sacrebleu.significance import PairedTest

from attentionlab.data import word_count
from attentionlab.i18n import N_, _


# What the text went through before BLEU: sacreBLEU's signature cannot say it, so it is stated next to it.
NORMALISATION = N_("lower-cased, punctuation, ¿ and ¡ split off as tokens (attentionlab.data.normalise)")


def group_references(pairs: list[tuple[str, str]]) -> tuple[list[str], list[list[str]]]:
    """Unique sources (first-seen order) and, for each, all its reference translations."""
    refs: dict[str, list[str]] = defaultdict(list)
    for source, target in pairs:
        refs[source].append(target)
    return list(refs), list(refs.values())


def corpus_bleu(hypotheses: list[str], references: list[list[str]]):
    """sacreBLEU corpus BLEU on the corpus' own tokens; each hypothesis may have any number of references.

    The corpus is already tokenized (data.normalise), so sacreBLEU splits on spaces only (tokenize="none"): its 13a
    tokenizer would glue "¿" and "¡" back to the next word.
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} reference sets")
    depth = max(len(r) for r in references)
    streams = [[r[i] if i < len(r) else None for r in references] for i in range(depth)]
    bleu = BLEU(tokenize="none", force=True)  # force: the text is tokenized on purpose (no warning on stderr)
    score = bleu.corpus_score(list(hypotheses), streams)
    score.signature = _("{signature} on text {normalisation}", signature=bleu.get_signature(),
                        normalisation=_(NORMALISATION))
    return score


def bootstrap(systems: dict[str, list[str]], references: list[list[str]], baseline: str, samples: int = 1000) -> dict:
    """{system: {"bleu", "ci95": half-width of its 95% interval, "p": p-value of its difference with ``baseline``}}, by
    sacreBLEU's paired bootstrap resampling of the sentences (1000 resamples, sacreBLEU's fixed seed)."""
    depth = max(len(r) for r in references)
    streams = [[r[i] if i < len(r) else None for r in references] for i in range(depth)]
    names = [baseline] + [name for name in systems if name != baseline]
    _, scores = PairedTest([(name, systems[name]) for name in names], {"BLEU": BLEU(tokenize="none", force=True)},
                           streams, test_type="bs", n_samples=samples)()
    return {name: {"bleu": float(r.score), "ci95": float(r.ci), "p": None if r.p_value is None else float(r.p_value)}
            for name, r in zip(names, scores["BLEU"])}


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

