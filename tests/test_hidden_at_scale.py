"""Notebook 7's hidden checks: each answer has its own cell, and each message names the cause, not the code."""
import numpy as np
import pytest

from grader.hidden import at_scale as s
from grader.hidden import checks_for, verdict
from kernel_objects import Variable

CHECKS = checks_for("07_attention_at_scale")


def answer(cell, name, value):
    return verdict(CHECKS[cell], {name: Variable(value, name)})


def test_each_kv_cache_answer_is_graded_in_its_own_cell():
    full, gqa = s.kv_cache_bytes(**s.LLAMA_7B), s.kv_cache_bytes(**dict(s.LLAMA_7B, kv_heads=8))
    assert CHECKS["test_q_kv_memory"].names == ("answer_kv_bytes",)
    assert CHECKS["test_q_kv_memory_gqa"].names == ("answer_kv_bytes_gqa",)
    assert answer("test_q_kv_memory", "answer_kv_bytes", full)[0]
    assert answer("test_q_kv_memory_gqa", "answer_kv_bytes_gqa", gqa)[0]
    passed, message = answer("test_q_kv_memory", "answer_kv_bytes", full / 2)
    assert not passed and "Reread section 3" in message
    passed, message = answer("test_q_kv_memory_gqa", "answer_kv_bytes_gqa", full)
    assert not passed and "how many key/value heads" in message and "answer_kv_bytes_gqa" in message


@pytest.mark.parametrize("letter, passed", [("d", True), (" D", True), ("a", False), ("b", False), ("c", False)])
def test_q_flash(letter, passed):
    ok, message = answer("test_q_flash", "answer_flash", letter)
    assert ok == passed and (passed or "Reread section 2" in message)


def test_gqa_tiled_heads_are_named_without_the_function():
    def tiled(Q, K, V):
        group = Q.shape[1] // K.shape[1]
        return s.attention(Q, np.tile(K, (1, group, 1, 1)), np.tile(V, (1, group, 1, 1)))

    passed, message = verdict(CHECKS["test_gqa"], {"grouped_query_attention": tiled})
    assert not passed and "consecutive query heads share a head" in message
    assert "repeat" not in message and "tile" not in message


def test_fit_exponent_intercept_is_named():
    passed, message = verdict(CHECKS["test_fit_exponent"],
                              {"fit_exponent": lambda n, y: np.polyfit(np.log(n), np.log(y), 1)[1]})
    assert not passed and "the intercept of the line, not its slope" in message and "polyfit" not in message


@pytest.mark.parametrize("check, wrong", [("test_flash", dict(rescale_acc=False)), ("test_flash", dict(rescale_sum=False)),
                                          ("test_flash_causal", dict(rescale_acc=False)),
                                          ("test_flash_causal", dict(rescale_sum=False))])
def test_a_rescaling_slip_gets_the_rescaling_fix_causal_or_not(check, wrong):
    """The catalogue's hint for both rescaling slips, never the causal mask's fix."""
    def flash(Q, K, V, block=64, causal=False):
        return s.tiled(Q, K, V, block, causal, **wrong)

    passed, message = verdict(CHECKS[check], {"flash_attention": flash})
    assert not passed and "multiply both the running sum l and the accumulator" in message
    assert "inside its block" not in message and "diagonal" not in message
