"""Notebooks 5-7's hidden checks speak the submission's language: a real failure under ``use("es")`` gives the
catalogue's Spanish, filled with the same values, and the English message is unchanged."""
import numpy as np
import pytest
from babel.messages.pofile import read_po

from attentionlab.i18n import use
from grader.hidden import at_scale, checks_for, cross_attention, transformer_lm, verdict
from grader.i18n import _
from kernel_objects import Variable
from test_hidden_cross_attention import hidden_verdict

OURS = ("grader/hidden/cross_attention.py", "grader/hidden/transformer_lm.py", "grader/hidden/at_scale.py",
        "grader/hidden/forward.py")


@pytest.fixture(scope="module")
def spanish():
    """msgid -> msgstr of the checks' catalogue."""
    with _.po("es").open("rb") as file:
        return {m.id: m.string for m in read_po(file) if m.id}


def in_both(run):
    """(English, Spanish) of the same run."""
    with use("en"):
        english = run()
    with use("es"):
        return english, run()


def test_every_message_of_these_checks_is_translated(spanish):
    with _.po("es").open("rb") as file:
        catalog = read_po(file)
    ours = [m for m in catalog if m.id and any(path in OURS for path, _line in m.locations)]
    assert len(ours) > 100
    assert not [m.id for m in ours if not m.string or m.fuzzy]


def test_a_layer_against_its_declaration_is_told_so_in_spanish(spanish):
    """Notebook 5: the layer leaves the general score unscaled, the declaration says it scales it."""
    scaled = cross_attention.COURSE_SCALED
    english, español = in_both(lambda: hidden_verdict(scaled, dict(scaled, general=False)))
    assert english == (False, "SCALED says True for the general score, and the layer does the opposite: the layer "
                              "must scale exactly the scores your declaration names.")
    template = "SCALED says {declared} for the {score} score, and the layer does the opposite: {fix}."
    assert español == (False, spanish[template].format(declared=True, score="general",
                                                       fix=spanish[cross_attention.SCALE_FIX]))
    assert "capa" in español[1] and español[1] != english[1]


def test_a_top_k_filter_that_keeps_one_more_is_told_so_in_spanish(spanish):
    """Notebook 6: the filter keeps k + 1 logits of each row; the first k tried is 1."""
    def one_more(logits, k):
        z = np.asarray(logits, float)
        return np.where(np.argsort(np.argsort(-z, -1), -1) < k + 1, z, -np.inf)

    check = checks_for("06_transformer_lm")["test_top_k"]
    english, español = in_both(lambda: verdict(check, {"top_k_filter": one_more}))
    assert english == (False, "top_k_filter(logits, 1) keeps [2] tokens per row: keep exactly the k = 1 largest logits "
                              "of each row.")
    template = "top_k_filter(logits, {k}) keeps {counts} tokens per row: keep exactly the k = {k} largest logits of " \
               "each row."
    assert español == (False, spanish[template].format(k=1, counts=[2]))
    assert "top_k_filter(logits, 1)" in español[1] and español[1] != english[1]


def test_a_kv_cache_without_its_dict_and_a_tiled_gqa_are_told_so_in_spanish(spanish):
    """Notebook 7: decode_step returns the output alone; grouped-query attention tiles the key/value heads (the fix
    is named inside attentionlab.checks' own sentence, so only the fix is compared)."""
    checks = checks_for("07_attention_at_scale")
    english, español = in_both(lambda: verdict(checks["test_decode_step"], {"decode_step": lambda *args: np.zeros(3)}))
    message = "decode_step must return (output, cache), the cache a dict {'K': ..., 'V': ...}."
    assert english == (False, message)
    assert español == (False, spanish[message]) and español != english

    def tiled(Q, K, V):
        group = Q.shape[1] // K.shape[1]
        return at_scale.attention(Q, np.tile(K, (1, group, 1, 1)), np.tile(V, (1, group, 1, 1)))

    english, español = in_both(lambda: verdict(checks["test_gqa"], {"grouped_query_attention": tiled}))
    fix = next(m for m in spanish if m.startswith("Query head h used key/value head h % G"))
    assert not english[0] and not español[0]
    assert fix in english[1] and spanish[fix] in español[1] and fix not in español[1]


def test_a_wrong_answer_of_notebook_6_is_told_so_in_spanish(spanish):
    """A question's answer: the perplexity where the loss is asked (the answer's name and value kept as they are)."""
    size = len(transformer_lm.text.Vocab(transformer_lm.lm_texts()[0]))
    check = checks_for("06_transformer_lm")["test_q_uniform"]
    english, español = in_both(lambda: verdict(check, {"answer_uniform": Variable(float(size), "answer_uniform")}))
    template = ("{answer} = {value!r} is that model's perplexity: the question asks for its loss. Reread how section 3 "
                "links the two.")
    assert english == (False, template.format(answer="answer_uniform", value=float(size)))
    assert español == (False, spanish[template].format(answer="answer_uniform", value=float(size)))
    assert f"answer_uniform = {float(size)!r}" in español[1] and español[1] != english[1]
