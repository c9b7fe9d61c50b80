"""The training schedule of notebook 5: warm-up, cosine decay, clipped gradients."""
import pytest

from attentionlab import seq2seq


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
