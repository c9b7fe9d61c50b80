"""The controlled experiment of notebook 5 (attentionlab.synthetic): the task, the model without attention, the
accuracy, and a run of the whole experiment on a few batches."""
import numpy as np
import pytest

from attentionlab import synthetic
from attentionlab.text import Vocab

SMALL = synthetic.Setup(train=40, val=20, test=30, shortest=3, longest=12, groups=((3, 6), (7, 12)), units=8,
                        embedding_dim=4)


def test_the_task_reverses_random_sequences_of_every_length_without_a_sequence_in_two_splits():
    task = synthetic.reversal_task(seed=0)
    setup = synthetic.SETUP
    assert [len(task.train), len(task.val), len(task.test)] == [setup.train, setup.val, setup.test]
    sources = [s for split in (task.train, task.val, task.test) for s, _ in split]
    assert len(set(sources)) == len(sources)  # no sequence twice, so none is scored after being trained on
    lengths = {len(s.split()) for s in sources}
    assert lengths == set(range(setup.shortest, setup.longest + 1))
    assert {tok for s in sources for tok in s.split()} == set(setup.symbols)
    assert all(t.split() == s.split()[::-1] for split in (task.train, task.test) for s, t in split)
    assert synthetic.reversal_task(seed=0) == task and synthetic.reversal_task(seed=1).train != task.train


def test_accuracy_counts_the_edits_to_the_right_answer():
    right = ["a b c d", "e f g h i j"]
    assert synthetic.accuracy(right, right) == 1.0
    assert synthetic.accuracy(["a b c d"], ["a c d"]) == pytest.approx(0.75)  # a skipped symbol is one error
    assert synthetic.accuracy(["a b c d"], ["a x c d"]) == pytest.approx(0.75)
    assert synthetic.accuracy(["a b c d"], [""]) == 0.0
    assert synthetic.accuracy(["a b"], ["x y z w v u"]) == 0.0  # more errors than symbols: no negative accuracy
    assert synthetic.accuracy(right, ["a b c d", ""]) == pytest.approx(0.4)  # per symbol, over the group


class Forgetful:
    """A stand-in model that writes the source backwards but keeps only its last ``keep`` symbols."""

    def __init__(self, keep):
        self.keep = keep

    def translate(self, sources, max_len=20):
        return [" ".join(s.split()[::-1][:min(self.keep, max_len)]) for s in sources]


def test_accuracy_by_length_groups_the_sequences_by_their_length():
    pairs = synthetic.reversal_task(seed=3).test
    perfect = synthetic.accuracy_by_length(Forgetful(keep=100), pairs)
    assert list(perfect) == ["5-10", "11-15", "16-20", "21-25", "26-30"] and set(perfect.values()) == {1.0}
    forgetful = synthetic.accuracy_by_length(Forgetful(keep=10), pairs)
    assert forgetful["5-10"] == 1.0 and list(forgetful.values()) == sorted(forgetful.values(), reverse=True)
    assert 10 / 30 <= forgetful["26-30"] <= 10 / 26


def test_no_attention_gives_zero_context_and_weights_of_the_right_shapes():
    rng = np.random.default_rng(0)
    query, keys = rng.standard_normal((2, 3, 4)).astype("float32"), rng.standard_normal((2, 5, 4)).astype("float32")
    context, weights = (np.asarray(x) for x in synthetic.NoAttention()(query, keys, np.ones((2, 5), bool)))
    assert context.shape == (2, 3, 4) and weights.shape == (2, 3, 5)
    assert not context.any() and not weights.any()


@pytest.fixture(scope="module")
def luong_decoder():
    """The instructor notebook's LuongDecoder, with the cells it needs (score functions, SCALED, CrossAttention)."""
    import keras
    from keras import layers, ops

    from grader.catalogue.submissions import solution_sources

    found = {"keras": keras, "np": np, "layers": layers, "ops": ops}
    sources = solution_sources("05_cross_attention")
    for cell in ("scores", "scaling", "cross_attention", "luong_decoder"):
        exec(sources[cell], found)  # noqa: S102 - the instructor's own solution cells, as a kernel runs them
    return found["LuongDecoder"]


def test_the_two_models_differ_only_in_the_attention(luong_decoder):
    """Same encoder and decoder; the model without attention has the decoder's attention replaced, and so lacks only
    the general score's matrix W; its decoder ignores the encoder outputs."""
    vocab = Vocab(s for s, _ in synthetic.reversal_task(0, SMALL).train)
    with_attention, without = (synthetic.build(luong_decoder, vocab, attention, setup=SMALL) for attention in (True, False))
    source, target = np.array([[5, 6, 7], [8, 9, 10]]), np.array([[2, 5], [2, 6]])
    for model in (with_attention, without):
        model((source, target))  # builds the weights
    assert isinstance(without.decoder.attention, synthetic.NoAttention)
    assert with_attention.count_params() - without.count_params() == SMALL.units ** 2
    outputs, state, mask = without.encoder(source)
    logits, _, _ = without.decoder(target, outputs, mask, state)
    other, _, _ = without.decoder(target, np.random.default_rng(1).standard_normal(np.shape(outputs)).astype("float32"),
                                  mask, state)
    np.testing.assert_array_equal(np.asarray(logits), np.asarray(other))


@pytest.mark.training
def test_the_experiment_trains_both_models_and_scores_them_by_length(luong_decoder, monkeypatch):
    from attentionlab.seq2seq import SMOKE

    monkeypatch.setenv(SMOKE, "2")
    models, figures = synthetic.experiment(luong_decoder, seed=0, setup=SMALL)
    assert set(models) == set(figures) == set(synthetic.NAMES)
    for found in figures.values():
        assert list(found["accuracy"]) == ["3-6", "7-12"]
        assert all(0.0 <= v <= 1.0 for v in found["accuracy"].values())
        assert found["epochs"] == 1 and found["train_seconds"] > 0


def test_the_config_is_the_setup_as_data():
    found = synthetic.config()
    assert found["longest"] == synthetic.SETUP.longest and found["recipe"]["max_epochs"] == synthetic.SETUP.recipe.max_epochs
    assert found["groups"] == [list(g) for g in synthetic.SETUP.groups]
