"""Real failures speak the language in use: the student package's checks and the grader's own messages, in Spanish
under ``use("es")`` (the catalogue's translation), in English otherwise (unchanged)."""
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from babel.messages.pofile import read_po

from attentionlab import checks, data
from attentionlab.i18n import use
from grader.grading.feedback import summary
from grader.grading.preprocessors import Failed, fix_first

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "attentionlab" / "locale" / "es" / "LC_MESSAGES" / "attentionlab.po"
GRADER = ROOT / "locale" / "es" / "LC_MESSAGES" / "checks.po"


def translation(po: Path, msgid: str) -> str:
    """The Spanish of ``msgid`` in the catalogue ``po``: it must be there, translated and not fuzzy."""
    with po.open("rb") as file:
        message = read_po(file).get(msgid)
    assert message is not None and message.string and not message.fuzzy, f"no Spanish for {msgid!r} in {po.name}"
    return message.string


def failure(check, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as raised:
        check(*args, **kwargs)
    return str(raised.value)


def test_a_wrong_shape_is_told_in_spanish():
    english = failure(checks.shape, np.zeros((2, 3)), (3, 2), "scores")
    with use("es"):
        spanish = failure(checks.shape, np.zeros((2, 3)), (3, 2), "scores")
    template = translation(PACKAGE, "{name} has shape {actual}, expected {expected}.")
    assert english == "scores has shape (2, 3), expected (3, 2)."
    assert spanish == template.format(name="scores", actual=(2, 3), expected=(3, 2)) != english
    assert "forma" in spanish


def test_weights_that_do_not_sum_to_one_are_told_in_spanish():
    english = failure(checks.rows_sum_to_one, np.full((2, 4), 0.5))
    with use("es"):
        spanish = failure(checks.rows_sum_to_one, np.full((2, 4), 0.5))
        negative = failure(checks.rows_sum_to_one, np.array([[1.5, -0.5]]))
    assert english.startswith("attention weights: the rows do not sum to 1 over the keys (sums range from 2 to 2).")
    assert spanish.startswith(translation(PACKAGE, "attention weights") + ":") and "softmax" in spanish
    assert spanish != english and "pesos de atención" in spanish
    assert negative.startswith("pesos de atención") and "softmax" in negative


def test_a_mistake_named_by_close_keeps_its_fix_and_speaks_spanish():
    with use("es"):
        spanish = failure(checks.close, [3.0], [1.0], "w", hint="Divide por √d.")
    template = translation(PACKAGE, "{name} differs from the expected values (largest difference {err:.3g}). {hint}")
    assert spanish == template.format(name="w", err=2.0, hint="Divide por √d.")
    assert "largest difference" not in spanish and "2" in spanish and spanish.endswith("Divide por √d.")


def test_a_missing_corpus_is_told_in_spanish(tmp_path):
    missing = tmp_path / "nowhere.zip"
    with pytest.raises(data.DataError) as english:
        data.fetch(missing)
    with use("es"), pytest.raises(data.DataError) as spanish:
        data.fetch(missing)
    assert str(english.value) == f"No file at {missing} (given by argument or $ATTENTIONLAB_SPA_ENG)."
    assert str(spanish.value) != str(english.value) and str(missing) in str(spanish.value)
    assert "$ATTENTIONLAB_SPA_ENG" in str(spanish.value)


def test_a_plot_is_labelled_in_spanish():
    from attentionlab import plots

    with use("es"):
        ax = plots.attention_heatmap(np.eye(2), ["a", "b"], ["c", "d"])
    assert ax.get_xlabel() == translation(PACKAGE, "attended to (keys)") != "attended to (keys)"
    assert "keys" in ax.get_xlabel()  # the glossary keeps key and query in English
    assert plots.attention_heatmap(np.eye(2), ["a", "b"], ["c", "d"]).get_xlabel() == "attended to (keys)"


def test_the_grader_says_which_cell_to_fix_first_in_spanish():
    english = fix_first(Failed("your cell `q_memory`", "NotImplementedError", "", answer=True))
    with use("es"):
        spanish = fix_first(Failed("tu celda `q_memory`", "NotImplementedError", "", answer=True))
    template = translation(GRADER, "Not answered yet: {cell} is still empty. Answer it, then run the notebook again "
                                   "from the top.")
    assert english.startswith("Not answered yet: your cell `q_memory` is still empty.")
    assert spanish == template.format(cell="tu celda `q_memory`") != english


def test_the_feedback_summary_is_in_spanish():
    from nbformat.v4 import new_code_cell, new_notebook

    cell = new_code_cell("assert True")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "test_softmax", "points": 2}
    nb = new_notebook(cells=[cell])
    english = summary(nb, {"test_softmax": (0.0, 2.0)})
    with use("es"):
        spanish = summary(nb, {"test_softmax": (0.0, 2.0)})
    assert "<th>What to fix</th>" in english and "This test did not pass" in english
    assert f"<th>{translation(GRADER, 'What to fix')}</th>" in spanish
    assert translation(GRADER, "This test did not pass: see its cell below.") in spanish
    assert "What to fix" not in spanish
