"""The course's claims are science: each figure or comparison the notebooks and the README state is tested here against
the calibration record (attentionlab/baseline.json), so a recalibration cannot leave a stale claim."""
import re
import statistics

import nbformat
import pytest

from attentionlab import baseline, data, metrics
from grader.course import ROOT, SOLUTIONS, notebook_of
from grader.hidden.cross_attention import ALIGNMENT_BAR
from kernel_objects import lookup_translator

BASELINE, ATTENTION = "no attention", ("Bahdanau", "Luong")


def record():
    return baseline.load()


def text_of(assignment: str) -> str:
    nb = nbformat.read(notebook_of(assignment, SOLUTIONS), as_version=4)
    return " ".join(" ".join(c.source.split()) for c in nb.cells if c.cell_type == "markdown")


def claimed(pattern: str, text: str) -> tuple[str, ...]:
    found = re.search(pattern, text)
    assert found, f"the claim {pattern!r} is gone: update this test with the text"
    return found.groups()


def models(split="val"):
    """{seed: {model: figures on split}}: the test split's figures are the record's top level, validation's in "val"."""
    return {seed: {name: (m if split == "test" else m["val"]) for name, m in found.items()}
            for seed, found in record()["seeds"].items()}


def test_notebook_4_states_the_bleu_its_model_and_notebook_5s_reach():
    about, decade = map(int, claimed(r"this notebook's model reaches about (\d+); the attention models of notebook 5 "
                                     r"reach the (\d+)s", text_of("04_seq2seq")))
    found = models()
    assert abs(statistics.mean(m[BASELINE]["bleu"] for m in found.values()) - about) <= 2.5
    assert all(decade <= m[name]["bleu"] < decade + 10 for m in found.values() for name in ATTENTION)


def drops(found: dict) -> dict:
    """{model: BLEU lost from the shortest to the longest length group}."""
    return {name: m["bleu_by_length"]["4-5"] - m["bleu_by_length"]["8-10"] for name, m in found.items()}


def test_notebook_5_states_what_each_model_loses_with_length():
    """Section 7: the baseline loses the most from 4-5 to 8-10 words on every seed's validation split, by the
    averages the text states; the summary: attention gains widely in every length group, on both splits."""
    text = text_of("05_cross_attention")
    stated = claimed(r"the baseline loses about (\d+) BLEU points, Luong's model about (\d+) and Bahdanau's about (\d+)",
                     text)
    lost = [drops(found) for found in models("val").values()]
    for name, about in zip((BASELINE, "Luong", "Bahdanau"), map(int, stated)):
        assert abs(statistics.mean(d[name] for d in lost) - about) <= 2.5, (name, about, lost)
    assert all(d[BASELINE] > max(d[name] for name in ATTENTION) for d in lost), lost
    assert "by a wide margin, at every sentence length of this subset" in text
    for split in ("val", "test"):
        for seed, found in models(split).items():
            for name in ATTENTION:
                gains = [found[name]["bleu_by_length"][group] - found[BASELINE]["bleu_by_length"][group]
                         for group in found[BASELINE]["bleu_by_length"]]
                assert min(gains) >= 2 * baseline.MARGIN, (split, seed, name, gains)


def test_notebook_5_states_the_homeworks_criteria_as_the_grader_applies_them():
    margin, bar = claimed(r"at least \*\*(\d+) BLEU points\*\* over the baseline on the test split, \*\*and\*\* attention "
                          r"that aligns: at least (\d+)%", text_of("05_cross_attention"))
    assert float(margin) == baseline.MARGIN and float(bar) / 100 == ALIGNMENT_BAR


def test_the_readme_states_the_reference_alignment_of_the_record():
    low, high = map(int, claimed(r"the reference scores (\d+)–(\d+)% on the calibrated seeds",
                                 " ".join((ROOT / "README.md").read_text().split())))
    fractions = [m["Luong"]["alignment"]["fraction"] * 100 for m in models("test").values()]
    assert (low, high) == (round(min(fractions)), round(max(fractions)))


@pytest.mark.slow
def test_a_lookup_of_training_sentences_scores_far_below_the_gate():
    """The held-out splits hold no near-copy of a training pair (attentionlab.data.near_copies), so recall alone scores
    far below what the homework asks of a translator."""
    corpus = data.load_corpus()
    gate = record()["bleu"] + baseline.MARGIN
    assert metrics.evaluate(lookup_translator(corpus), corpus.test).score <= gate - 5


def test_the_data_readme_states_the_corpus_as_it_is():
    corpus = data.load_corpus()
    text = " ".join((ROOT / "data" / "README.md").read_text().split())
    sizes = claimed(r"This gives ([\d,]+) training, ([\d,]+) validation and ([\d,]+) test pairs", text)
    assert [int(n.replace(",", "")) for n in sizes] == [len(corpus.train), len(corpus.val), len(corpus.test)]
    removed = claimed(r"takes (\d+) of (\d+) validation and (\d+) of (\d+) test pairs", text)
    assert [int(n) for n in removed] == [corpus.near_copies["val"], len(corpus.val) + corpus.near_copies["val"],
                                         corpus.near_copies["test"], len(corpus.test) + corpus.near_copies["test"]]


def test_the_readme_states_the_gain_of_attention_of_the_record():
    low, high = map(int, claimed(r"attention gains (\d+)–(\d+) BLEU points on the test split",
                                 " ".join((ROOT / "README.md").read_text().split())))
    gains = [m[name]["bleu"] - m[BASELINE]["bleu"] for m in models("test").values() for name in ATTENTION]
    assert (low, high) == (round(min(gains)), round(max(gains)))
    assert all(m[name]["bootstrap"]["p"] <= 0.001 for m in models("test").values() for name in ATTENTION)
