"""The hidden checks of notebooks 1-4 and the verdicts shared by all speak the submission's language: real failures,
under attentionlab.i18n.use("es"), give the Spanish of locale/es/LC_MESSAGES/checks.po, and under English the
messages they always gave."""
import numpy as np
import pytest
from babel.messages import pofile

from attentionlab.i18n import use
from grader.hidden import NOT_ANSWERED, checks_for, verdict
from grader.hidden import masks as m
from grader.hidden import numpy_attention as h
from grader.hidden import seq2seq as s
from grader.hidden.remote import StudentError
from grader.i18n import _


@pytest.fixture(scope="module")
def spanish():
    """msgid -> msgstr of the checks' Spanish catalogue; each one used here must be translated, and not fuzzy."""
    with _.po("es").open("rb") as file:
        catalog = pofile.read_po(file)

    def of(msgid: str) -> str:
        entry = catalog.get(msgid)
        assert entry is not None and entry.string and not entry.fuzzy, f"no Spanish for {msgid!r}"
        return entry.string

    return of


def unscaled(Q, K, V, mask=None):
    """Scaled dot-product attention without the division by √d (catalogue: "sdpa-no-scale")."""
    return h._attention(Q, K, V, mask, scale=1.0)


def failure(check, functions):
    passed, message = verdict(check, functions)
    assert not passed
    return message


def test_a_wrong_attention_is_told_in_spanish(spanish):
    check = checks_for("01_attention_numpy")["test_sdpa_values"]
    english = failure(check, {"scaled_dot_product_attention": unscaled})
    assert english == "The attention weights are wrong. " + h.FIX_SCALE
    with use("es"):
        message = failure(check, {"scaled_dot_product_attention": unscaled})
    assert message == spanish("The attention weights are wrong. {fix}").format(fix=spanish(h.FIX_SCALE))
    assert message != english and "pesos de atención" in message and "√d" in message
    assert failure(check, {"scaled_dot_product_attention": unscaled}) == english  # English again after the block


def test_a_reversed_causal_mask_is_told_in_spanish(spanish):
    check = checks_for("03_masks")["test_causal_mask"]

    def reversed_mask(n):
        return np.triu(np.ones((n, n), bool))

    english = failure(check, {"causal_mask": reversed_mask})
    assert english.startswith("causal_mask is reversed") and english.endswith(m.CAUSAL_FIX)
    with use("es"):
        message = failure(check, {"causal_mask": reversed_mask})
    template = spanish("causal_mask is reversed: it lets each position attend to the future (upper triangle). {fix}")
    assert message == template.format(fix=spanish(m.CAUSAL_FIX))
    assert "triángulo superior" in message and "upper triangle" not in message


def test_the_shared_verdicts_and_the_questions_speak_spanish(spanish):
    def not_done(*args, **kwargs):
        raise StudentError("NotImplementedError: ")

    check = checks_for("01_attention_numpy")["test_softmax"]
    assert failure(check, {"softmax": not_done}) == NOT_ANSWERED
    with use("es"):
        assert failure(check, {"softmax": not_done}) == spanish(NOT_ANSWERED)
        assert "`raise NotImplementedError()`" in spanish(NOT_ANSWERED)

    class Answer:  # an answer variable as a hidden check reads it
        def value(self):
            return "a"

        def __repr__(self):
            return "answer_causal"

    question = checks_for("03_masks")["test_q_causal"]
    english = failure(question, {"answer_causal": Answer()})
    assert english.startswith("answer_causal = 'a' is not the right answer. Reread section 3")
    with use("es"):
        message = failure(question, {"answer_causal": Answer()})
    assert message.startswith("answer_causal = 'a' ") and message != english
    assert spanish("Reread section 3 (the causal mask): which queries may attend to key 2? An output can change only "
                   "if its query may attend to the changed token.") in message


def test_a_loss_mistake_names_its_fix_in_spanish(spanish):
    """Notebook 4's masked loss as a plain mean over every position: the fix of that mistake, in Spanish."""
    def plain_mean(labels, logits):
        return s.cross_entropy(labels, logits).mean()

    check = checks_for("04_seq2seq")["test_loss"]
    english = failure(check, {"masked_loss": plain_mean})
    assert s.LOSS_MISTAKES[0] in english
    with use("es"):
        message = failure(check, {"masked_loss": plain_mean})
    assert spanish(s.LOSS_MISTAKES[0]) in message and s.LOSS_MISTAKES[0] not in message
    assert "≠ 0" in message and "tokens reales" in message
