"""The course's claims are science: each figure or comparison the notebooks, the README and the guides (docs/) state is
tested here against the calibration record (attentionlab/baseline.json): a recalibration cannot leave a stale claim."""
import re
import statistics

import nbformat
import pytest

from attentionlab import baseline, data, metrics, report
from grader.course import ROOT, SOLUTIONS, notebook_of
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
    text = text_of("05_cross_attention")
    margin, bar = claimed(r"at least \*\*(\d+) BLEU points\*\* over the baseline, \*\*and\*\* 2\. attention that follows the "
                          r"words: a \*\*strict agreement of at least (\d+)%\*\*", text)
    assert float(margin) == baseline.MARGIN and float(bar) / 100 == baseline.ALIGNMENT_BAR
    assert claimed(r"at least (\d+) BLEU points over the baseline, and a strict agreement of at least (\d+)%\?",
                   text) == (margin, bar)  # Question 4


def span(values) -> tuple[int, int]:
    """The range of shares, as whole percentages."""
    return round(100 * min(values)), round(100 * max(values))


def test_notebook_5_states_the_alignment_figures_of_the_record():
    """Section 8: what position alone, Luong's and Bahdanau's models score against the word alignment on the validation
    split, on every calibrated seed."""
    text = text_of("05_cross_attention")
    blind = record()["content_blind"]["val"]
    found = models("val")
    diagonal, ahead = map(int, claimed(r"its strongest weight is on the linked word for (\d+)% of the words \(Question 3 "
                                       r"asks why\)\. The diagonal one word ahead gets (\d+)%", text))
    assert (diagonal, ahead) == (round(100 * blind["diagonal"]["strict"]),
                                 round(100 * blind["diagonal, one ahead"]["strict"]))
    assert claimed(r"means something only well above (\d+)%", text) == (str(diagonal),)
    strict = {name: [m[name]["alignment"]["strict"] for m in found.values()] for name in ATTENTION}
    low, high, gain = map(int, claimed(r"Luong's model\*\* agrees (\d+)–(\d+)% of the time, about (\d+) points more "
                                       r"than the diagonal", text))
    assert (low, high) == span(strict["Luong"])
    assert abs(100 * (statistics.mean(strict["Luong"]) - blind["diagonal"]["strict"]) - gain) <= 1.5
    low, high, ahead_low, ahead_high = map(int, claimed(
        r"Bahdanau's model\*\* agrees (\d+)–(\d+)% of the time, no more often than the diagonal\. For (\d+)–(\d+)% of "
        r"the words, its strongest weight is on a later English word", text))
    assert (low, high) == span(strict["Bahdanau"]) and max(strict["Bahdanau"]) <= blind["diagonal"]["strict"]
    assert (ahead_low, ahead_high) == span([m["Bahdanau"]["alignment"]["ahead"] for m in found.values()])
    assert "Yet its BLEU is about as high as Luong's" in text
    bleu = {name: statistics.mean(m[name]["bleu"] for m in found.values()) for name in ATTENTION}
    assert abs(bleu["Bahdanau"] - bleu["Luong"]) <= 2.0, bleu


def test_notebook_5_justifies_the_alignment_bar_with_the_test_splits_figures():
    """Section 9: the bar is about 10 points above the best content-blind attention, far more than chance moves a share
    of this many words; the ±1 and mass figures cannot separate the diagonal from a trained model."""
    text = text_of("05_cross_attention")
    blind = record()["content_blind"]["test"]
    diagonal = blind["diagonal"]
    assert max(f["strict"] for f in blind.values()) == diagonal["strict"]
    stated, above, words, chance, near = claimed(
        r"the diagonal, reaches (\d+)% on the test split\. The bar asks for about (\d+) points more\. With about "
        r"([\d,]+) linked words, chance moves such a share by only about (\d+) point\. So a model above the bar looks at "
        r"the words, not only at their positions\. The ±1 figure cannot be the bar: the diagonal gets (\d+)%", text)
    assert int(stated) == round(100 * diagonal["strict"])
    assert abs(100 * (baseline.ALIGNMENT_BAR - diagonal["strict"]) - int(above)) <= 1
    assert abs(diagonal["words"] - int(words.replace(",", ""))) <= 500
    standard_error = 100 * (diagonal["strict"] * (1 - diagonal["strict"]) / diagonal["words"]) ** 0.5
    assert abs(standard_error - int(chance)) <= 0.5 and int(above) >= 8 * standard_error
    assert int(near) == round(100 * diagonal["near"])
    assert "its mass equals its strict share, about as high as a trained model's mass" in text
    assert diagonal["mass"] == diagonal["strict"]
    for found in models("test").values():
        assert abs(found["Luong"]["alignment"]["mass"] - diagonal["mass"]) <= 0.05


def test_notebook_5s_example_is_translated_as_stated_on_every_seed():
    """Section 8's example: a held-out sentence whose Spanish changes the word order, which both trained models
    translate as one of its references on every calibrated seed."""
    nb = nbformat.read(notebook_of("05_cross_attention", SOLUTIONS), as_version=4)
    (example,) = [m for c in nb.cells if c.cell_type == "code" for m in re.findall(r'^example = "(.*)"$', c.source, re.M)]
    assert example == report.SHOWCASE
    (stated,) = claimed(r"both trained models translate the example as \*(.*?)\*, one of its reference translations",
                        text_of("05_cross_attention"))
    corpus = data.load_corpus()
    assert example not in {english for english, _ in corpus.train}
    assert stated in [spanish for english, spanish in corpus.val + corpus.test if english == example]
    for seed, found in record()["seeds"].items():
        for name in ATTENTION:
            assert found[name]["showcase"] == {"sentence": example, "translation": stated}, (seed, name)


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


def spread(values, fmt=lambda v: f"{v:.0f}") -> str:
    """How the guides write a figure over the seeds: "a–b", or "a" when the seeds agree once formatted."""
    low, high = fmt(min(values)), fmt(max(values))
    return low if low == high else f"{low}–{high}"


def test_the_figures_page_states_each_models_figures_of_the_record():
    page = prose("docs/figures.md")
    for name, notebook in ((BASELINE, 4), ("Bahdanau", 5), ("Luong", 5)):
        runs = [m[name] for m in models("test").values()]
        (params,) = {m["params"] for m in runs}
        alignment = "—" if name == BASELINE else spread([m["alignment"]["strict"] * 100 for m in runs]) + "%"
        row = (f"| {name} (notebook {notebook}) | {params:,} | {spread([len(m['loss']) for m in runs])} | "
               f"{spread([m['best_epoch'] for m in runs])} | {spread([m['train_seconds'] for m in runs])} s | "
               f"{spread([m['tokens_per_second'] for m in runs], lambda v: f'{round(v, -3):,.0f}')} | "
               f"{spread([m['bleu'] for m in runs], lambda v: f'{v:.1f}')} | "
               f"±{spread([m['bootstrap']['ci95'] for m in runs], lambda v: f'{v:.1f}')} | {alignment} |")
        assert row in page, f"docs/figures.md should hold the row\n{row}"


def test_the_figures_page_states_the_gain_and_the_alignment_of_the_record():
    page = prose("docs/figures.md")
    low, high = map(int, claimed(r"attention gains (\d+)–(\d+) BLEU points on the test split", page))
    gains = [m[name]["bleu"] - m[BASELINE]["bleu"] for m in models("test").values() for name in ATTENTION]
    assert (low, high) == (round(min(gains)), round(max(gains)))
    assert "each gain with p ≤ 0.001" in page
    assert all(m[name]["bootstrap"]["p"] <= 0.001 for m in models("test").values() for name in ATTENTION)
    low, high = map(int, claimed(r"Luong's model agrees (\d+)–(\d+)% of the time on the calibrated seeds", page))
    assert (low, high) == span([m["Luong"]["alignment"]["strict"] for m in models("test").values()])


def test_the_figures_page_states_the_homeworks_gates():
    page, found = prose("docs/figures.md"), record()
    margin, frozen, gate, bar = claimed(r"at least ([\d.]+) BLEU points over the frozen baseline, seed (?:\d+)'s "
                                        r"no-attention model \(([\d.]+) BLEU on the test split\): ([\d.]+) or more\. "
                                        r"It also asks for attention that follows the words, a strict agreement of at "
                                        r"least (\d+)%", page)
    assert (margin, frozen, gate) == (f"{found['margin']:.1f}", f"{found['bleu']:.1f}",
                                      f"{found['bleu'] + found['margin']:.1f}")
    assert f"seed {found['seed']}'s no-attention model" in page
    assert float(bar) / 100 == baseline.ALIGNMENT_BAR
    assert "so Luong's model can be handed in and Bahdanau's cannot" in page
    for m in models("test").values():
        assert m["Luong"]["alignment"]["strict"] >= baseline.ALIGNMENT_BAR > m["Bahdanau"]["alignment"]["strict"]
        assert min(m["Luong"]["bleu"], m["Bahdanau"]["bleu"]) >= found["bleu"] + found["margin"]


def notebook_seconds(assignment: str) -> list[float]:
    return [seconds[assignment] for seconds in record()["notebook_seconds"].values()]


def test_the_figures_page_states_the_notebooks_times_of_the_record():
    page = prose("docs/figures.md")
    nb4, nb5 = spread(notebook_seconds("04_seq2seq")), spread(notebook_seconds("05_cross_attention"))
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


def test_the_readme_states_no_time_for_notebook_6():
    """Notebook 6 is not calibrated: the README gives no figure for its training."""
    stated = claimed(r"\| `06_transformer_lm` \|[^|]*\| ([^|]+?) \|", prose("README.md"))[0]
    assert not re.search(r"\d|minute|second", stated), stated
