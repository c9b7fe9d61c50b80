"""The word alignment of notebook 5 (IBM Model 2 with NLTK) and the agreement of attention with it."""
import numpy as np
import pytest

from attentionlab import alignment, data

SMALL = 2000  # training pairs of the tests that train their own model: a few seconds


@pytest.fixture(scope="module")
def corpus():
    return data.load_corpus()


@pytest.fixture(scope="module")
def small(corpus):
    return corpus.train[:SMALL]


def test_the_links_are_nltks_ibm_model_2_alignments(small):
    """The arrays give NLTK's own Viterbi alignment of every pair it trained on, ties included."""
    from nltk.translate import AlignedSent, IBMModel2

    ours = alignment.train(small)
    bitext = [AlignedSent(es.split(), en.split()) for en, es in small]
    IBMModel2(bitext, alignment.ITERATIONS)
    theirs = [[i for _, i in sorted(pair.alignment)] for pair in bitext]
    assert [ours.links(en, es) for en, es in small] == theirs


def test_links_join_translations_across_a_change_of_order(corpus):
    model = alignment.aligner()
    english, spanish = "i'm not so old .", "no soy tan mayor ."
    links = model.word_links([(english, spanish)])[0]
    words = {(spanish.split()[t], english.split()[j]) for t, j in links}
    assert {("no", "not"), ("soy", "i'm"), ("mayor", "old")} <= words, words
    assert all(alignment.is_word(spanish.split()[t]) and alignment.is_word(english.split()[j]) for t, j in links)


def test_lengths_training_never_saw_still_get_links(small):
    """NLTK's table holds only its floor for unseen lengths, which would link every word to NULL."""
    model = alignment.train(small)
    english = " ".join(["tom"] * (model.seen.shape[0] + 2))
    assert model.links(english, "tom tom tom .")[:3] != [None] * 3
    assert model.links("", "tom .") == [None, None]
    assert model.links("tom is here .", "xyzzy .")[0] is None  # an unknown word links to nothing


def test_the_model_is_trained_once_then_read_from_the_cache(small, tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_CACHE, str(tmp_path))
    first = alignment.aligner(small)
    assert alignment.cache_file(small).is_file() and alignment.cache_file(small).parent == tmp_path
    monkeypatch.setattr(alignment, "train", lambda *_: pytest.fail("trained again"))
    again = alignment.aligner(small)
    assert [again.links(en, es) for en, es in small[:200]] == [first.links(en, es) for en, es in small[:200]]
    assert alignment.cache_file(small[:-1]) != alignment.cache_file(small)  # other training pairs, another model


def test_a_read_only_cache_keeps_nothing_and_still_aligns(small, tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_CACHE, str(tmp_path / "a-file" / "cache"))
    (tmp_path / "a-file").write_text("")
    assert alignment.aligner(small[:300]).links("tom is here .", "tom está aquí .")[0] == 0


def test_agreement_counts_strict_near_ahead_and_mass():
    links = [[(0, 0), (1, 2), (2, 1)], [(0, 1)]]
    attention = [np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.1, 0.1, 0.8], [1, 0, 0]]),
                 np.array([[0.5, 0.5], [0.5, 0.5]])]  # a tie: no strongest weight
    found = alignment.agreement(links, attention)
    assert found["words"] == 4
    assert found["strict"] == pytest.approx(1 / 4)  # only (0, 0)
    assert found["near"] == pytest.approx(3 / 4)  # (1, 2) looks at 1, (2, 1) at 2: both one away
    assert found["ahead"] == pytest.approx(1 / 4)  # (2, 1) looks at 2
    assert found["mass"] == pytest.approx((0.7 + 0.3 + 0.1 + 0.5) / 4)
    assert alignment.agreement([[]], [np.ones((2, 2))]) == {"words": 0, "strict": 0.0, "near": 0.0, "ahead": 0.0,
                                                             "mass": 0.0}


def test_attention_on_the_links_agrees_fully_and_attention_beside_them_never_strictly(corpus):
    pairs = corpus.val[:100]
    links = alignment.aligner().word_links(pairs)
    shapes = [(len(es.split()) + 1, len(en.split())) for en, es in pairs]
    exact = [np.eye(S)[[dict(pair).get(t, 0) for t in range(T)]] for (T, S), pair in zip(shapes, links)]
    assert alignment.agreement(links, exact) == {"words": sum(map(len, links)), "strict": 1.0, "near": 1.0,
                                                 "ahead": 0.0, "mass": 1.0}
    beside = [np.eye(S)[[(dict(pair).get(t, 0) + 1) % S for t in range(T)]] for (T, S), pair in zip(shapes, links)]
    found = alignment.agreement(links, beside)
    assert found["strict"] == 0.0 and found["mass"] == 0.0 and found["near"] > 0.9


def test_the_diagonal_follows_position_alone():
    np.testing.assert_array_equal(alignment.diagonal(5, 4), np.eye(4)[[0, 1, 2, 3, 3]])  # the end row: the last word's
    assert [int(np.argmax(r)) for r in alignment.diagonal(4, 7)] == [0, 3, 6, 6]  # scaled to the source's length
    assert [int(np.argmax(r)) for r in alignment.diagonal(5, 4, shift=1)] == [1, 2, 3, 3, 3]
    assert [int(np.argmax(r)) for r in alignment.diagonal(2, 3)] == [0, 0]


def test_content_blind_attention_on_the_validation_split(corpus):
    """Position alone: these short English and Spanish sentences keep most of their order, so the diagonal agrees for
    about half the words, and the diagonal one word ahead much less; uniform weights never have a strongest one."""
    found = alignment.blind_figures(corpus.val)
    assert 0.4 < found["diagonal"]["strict"] < 0.7 and found["diagonal"]["mass"] == found["diagonal"]["strict"]
    assert found["diagonal, one ahead"]["strict"] < found["diagonal"]["strict"] - 0.2
    assert found["diagonal, one ahead"]["ahead"] > 0.5
    uniform = found["uniform"]
    assert uniform["strict"] == uniform["near"] == uniform["ahead"] == 0.0 and 0.1 < uniform["mass"] < 0.2
    assert len({f["words"] for f in found.values()}) == 1 and found["uniform"]["words"] > 3000


@pytest.mark.parametrize("shift", [-2, -1, 0, 1, 2])
def test_no_diagonal_and_no_random_attention_comes_near_the_homeworks_bar(corpus, shift):
    """The bar of notebook 5 (baseline.ALIGNMENT_BAR) against attention that does not read the words: a diagonal at any
    offset, or weights drawn at random, on the test split the grader uses."""
    from attentionlab import baseline

    pairs = corpus.test
    links = alignment.aligner().word_links(pairs)
    shapes = [(len(es.split()) + 1, len(en.split())) for en, es in pairs]
    rng = np.random.default_rng(shift + 2)
    for weights in ([alignment.diagonal(*s, shift=shift) for s in shapes],
                    [rng.dirichlet(np.ones(S), size=T) for T, S in shapes]):
        assert alignment.agreement(links, weights)["strict"] <= baseline.ALIGNMENT_BAR - 0.08
