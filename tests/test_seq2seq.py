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


def test_adam_clips_only_on_the_cosine_schedule():
    assert seq2seq.adam(1e-2, 1000, cosine=True).clipnorm == 1.0
    constant = seq2seq.adam(2e-3, 1000)
    assert constant.clipnorm is None and float(constant.learning_rate) == pytest.approx(2e-3)


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
