"""The course's claims are science: each figure or comparison the notebooks, the README and the guides (docs/) state is
tested here against the calibration record (attentionlab/baseline.json): a recalibration cannot leave a stale claim."""
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
    subset = data.Subset()
    assert (f"`Subset(min_words={subset.min_words}, max_words={subset.max_words}, vocab_size={subset.vocab_size})` "
            f"by default" in text and f"{subset.vocab_size:,} most frequent tokens" in text)
    assert f"Jaccard similarity of {data.NEAR} or more (`data.NEAR`)" in text


def prose(path: str) -> str:
    """A page of the repository with its line breaks and indentation folded into single spaces."""
    return " ".join((ROOT / path).read_text().split())


def span(values, fmt=lambda v: f"{v:.0f}") -> str:
    """How the guides write a figure over the seeds: "a–b", or "a" when the seeds agree once formatted."""
    low, high = fmt(min(values)), fmt(max(values))
    return low if low == high else f"{low}–{high}"


def test_the_figures_page_states_each_models_figures_of_the_record():
    page = prose("docs/figures.md")
    for name, notebook in ((BASELINE, 4), ("Bahdanau", 5), ("Luong", 5)):
        runs = [m[name] for m in models("test").values()]
        (params,) = {m["params"] for m in runs}
        alignment = "—" if name == BASELINE else span([m["alignment"]["fraction"] * 100 for m in runs]) + "%"
        row = (f"| {name} (notebook {notebook}) | {params:,} | {span([len(m['loss']) for m in runs])} | "
               f"{span([m['best_epoch'] for m in runs])} | {span([m['train_seconds'] for m in runs])} s | "
               f"{span([m['tokens_per_second'] for m in runs], lambda v: f'{round(v, -3):,.0f}')} | "
               f"{span([m['bleu'] for m in runs], lambda v: f'{v:.1f}')} | "
               f"±{span([m['bootstrap']['ci95'] for m in runs], lambda v: f'{v:.1f}')} | {alignment} |")
        assert row in page, f"docs/figures.md should hold the row\n{row}"


def test_the_figures_page_states_the_gain_and_the_alignment_of_the_record():
    page = prose("docs/figures.md")
    low, high = map(int, claimed(r"attention gains (\d+)–(\d+) BLEU points on the test split", page))
    gains = [m[name]["bleu"] - m[BASELINE]["bleu"] for m in models("test").values() for name in ATTENTION]
    assert (low, high) == (round(min(gains)), round(max(gains)))
    assert "each gain with p ≤ 0.001" in page
    assert all(m[name]["bootstrap"]["p"] <= 0.001 for m in models("test").values() for name in ATTENTION)
    low, high = map(int, claimed(r"the reference scores (\d+)–(\d+)% on the calibrated seeds", page))
    fractions = [m["Luong"]["alignment"]["fraction"] * 100 for m in models("test").values()]
    assert (low, high) == (round(min(fractions)), round(max(fractions)))


def test_the_figures_page_states_the_homeworks_gates():
    page, found = prose("docs/figures.md"), record()
    margin, frozen, gate, bar = claimed(r"at least ([\d.]+) BLEU points over the frozen baseline, seed (?:\d+)'s "
                                        r"no-attention model \(([\d.]+) BLEU on the test split\): ([\d.]+) or more\. "
                                        r"It also asks for attention that aligns, at least (\d+)%", page)
    assert (margin, frozen, gate) == (f"{found['margin']:.1f}", f"{found['bleu']:.1f}",
                                      f"{found['bleu'] + found['margin']:.1f}")
    assert f"seed {found['seed']}'s no-attention model" in page
    assert float(bar) / 100 == ALIGNMENT_BAR
    assert "so Luong's model can be handed in and Bahdanau's cannot" in page
    for m in models("test").values():
        assert m["Luong"]["alignment"]["fraction"] >= ALIGNMENT_BAR > m["Bahdanau"]["alignment"]["fraction"]
        assert min(m["Luong"]["bleu"], m["Bahdanau"]["bleu"]) >= found["bleu"] + found["margin"]


def notebook_seconds(assignment: str) -> list[float]:
    return [seconds[assignment] for seconds in record()["notebook_seconds"].values()]


def test_the_figures_page_states_the_notebooks_times_of_the_record():
    page = prose("docs/figures.md")
    nb4, nb5 = span(notebook_seconds("04_seq2seq")), span(notebook_seconds("05_cross_attention"))
    assert f"notebook 4 takes {nb4} s and notebook 5 (two models) {nb5} s" in page
    minutes = int(claimed(r"`make calibrate` runs both notebooks on three seeds: about (\d+) minutes", page)[0])
    total = sum(sum(seconds.values()) for seconds in record()["notebook_seconds"].values())
    assert len(record()["notebook_seconds"]) == 3 and abs(total / 60 - minutes) <= 1


def test_the_figures_page_states_the_subset_of_the_record():
    subset = record()["environment"]["subset"]
    assert (f"sentence pairs of {subset['min_words']}–{subset['max_words']} words whose words are all among the "
            f"{subset['vocab_size']:,} most frequent of each language") in prose("docs/figures.md")


def minutes_stated(text: str) -> tuple[int, int]:
    """(low, high) of "about N minute(s)" or "N to M minutes"."""
    about = re.fullmatch(r"about (\d+) minutes?", text)
    low, high = (about.group(1),) * 2 if about else re.fullmatch(r"(\d+) to (\d+) minutes", text).groups()
    return int(low), int(high)


def test_the_readme_states_how_long_the_training_notebooks_run():
    """The notebooks' table and the self-check's paragraph, against the record's times of whole notebooks."""
    readme = prose("README.md")
    nb4 = claimed(r"\| `04_seq2seq` \|[^|]*\| ([^|]+?) \|", readme)[0]
    nb5 = claimed(r"\| `05_cross_attention` \|[^|]*\| ([^|]+?) \(two models\) \|", readme)[0]
    for stated, assignment in ((nb4, "04_seq2seq"), (nb5, "05_cross_attention")):
        low, high = minutes_stated(stated)
        seconds = notebook_seconds(assignment)
        assert low - 0.5 <= min(seconds) / 60 and max(seconds) / 60 <= high + 0.5, (assignment, stated, seconds)
    assert f"their check takes a few minutes (notebook 5 alone runs for {nb5})" in readme


def test_the_readme_states_notebook_6s_training_time_as_the_notebook_does():
    """Notebook 6 is not calibrated: the README says what the notebook's own text says."""
    stated = claimed(r"\| `06_transformer_lm` \|[^|]*\| training: ([^|]+?) \|", prose("README.md"))[0]
    assert stated in text_of("06_transformer_lm").replace("**", ""), stated
