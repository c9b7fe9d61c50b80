"""Training of notebooks 4 and 5: the schedule (warm-up, cosine decay, clipped gradients) and the batches' pipeline."""
import time

import pytest

from attentionlab import seq2seq, text


def test_cosine_schedule_warms_up_then_decays_to_five_percent():
    steps, warm = 1000, seq2seq.WARMUP_STEPS
    rate = lambda step: float(seq2seq.cosine_schedule(1e-2, steps)(step))  # noqa: E731
    assert rate(0) == pytest.approx(1e-3)
    assert rate(warm // 2) == pytest.approx(5.5e-3, rel=1e-3)
    assert rate(warm) == pytest.approx(1e-2)
    assert rate(warm) > rate((steps + warm) // 2) > rate(steps - 1)
    assert rate(steps) == pytest.approx(5e-4)
    assert float(seq2seq.cosine_schedule(1e-2, 10)(10)) > 0  # shorter than the warm-up: still a rate


def test_training_stops_when_validation_stops_improving_and_keeps_the_best_epoch():
    import keras
    import numpy as np
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)

    def noise(n):  # inputs and targets drawn apart: nothing to learn, so the model soon overfits
        pairs = rng.standard_normal((n, 8)).astype("float32"), rng.standard_normal((n, 1)).astype("float32")
        return tf.data.Dataset.from_tensor_slices(pairs).batch(16)

    train, val = noise(64), noise(64)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
    run = seq2seq.fit(model, keras.optimizers.Adam(1e-2), "mse", train, val, epochs=50, patience=2)
    assert len(run["val_loss"]) < 50 and run["best_epoch"] == len(run["val_loss"]) - 2
    assert model.evaluate(val, verbose=0) == pytest.approx(min(run["val_loss"]), rel=1e-4)


def test_every_translator_trains_with_the_one_recipe():
    """Notebooks 4 and 5 pass no training setting of their own: the baseline and the attention models share RECIPE."""
    import re

    import nbformat

    from grader.course import SOLUTIONS, notebook_of

    calls = [call for assignment in ("04_seq2seq", "05_cross_attention")
             for cell in nbformat.read(notebook_of(assignment, SOLUTIONS), as_version=4).cells
             for call in re.findall(r"seq2seq\.train\(([^)]*)\)", cell.source)]
    assert len(calls) == 2 and all(set(re.findall(r"(\w+)=", call)) <= {"loss", "seed"} for call in calls), calls
    assert seq2seq.RECIPE.patience >= 2 and seq2seq.RECIPE.max_epochs >= 15


def test_a_new_epoch_does_not_wait_for_the_last_ones_pipeline():
    """Keras takes exactly len(dataset) batches per epoch and then drops the iterator: with tf.data's autotuning on,
    dropping it waited for the tuner's sleep, about as long as the epoch had lasted (9 s of a 10 s epoch)."""
    pairs = [(f"a{i % 7} b", f"c d{i % 5} e") for i in range(4000)]
    vocab_src, vocab_tgt = text.Vocab(s for s, _ in pairs), text.Vocab(t for _, t in pairs)
    dataset = text.batches(pairs, vocab_src, vocab_tgt, batch_size=16, shuffle=True)
    waits = []
    for _ in range(4):
        start = time.perf_counter()
        iterator = iter(dataset)  # drops the previous epoch's iterator
        waits.append(time.perf_counter() - start)
        for _ in range(len(dataset)):
            next(iterator)
        time.sleep(0.5)  # the epoch's training
    assert max(waits) < 0.25, waits
