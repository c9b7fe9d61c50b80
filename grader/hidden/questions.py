"""Judging the notebooks' questions: reasonable forms are accepted, and a wrong answer gets guidance, not the answer."""
from __future__ import annotations

import numpy as np

from attentionlab.checks import fail, one_letter, positive_number
from grader.hidden.remote import StudentError
from grader.i18n import _


def read(answer):
    """The value of the student's answer variable; a clear failure when it is not set yet."""
    try:
        value = answer.value()
    except StudentError as exc:
        if str(exc).startswith("NameError"):
            fail(_("Not answered yet: set {variable} in the answer cell above the test.", variable=answer))
        raise
    return value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value


def choice(answer, correct: str, reread: str, options: str = "abcd") -> None:
    """A multiple-choice answer: one letter, any case, spaces around allowed.

    ``reread`` is shown as given: the caller translates it (``_("Reread section 3 ...")``), as every message here is.
    """
    value = read(answer)
    one_letter(value, options, str(answer))
    if value.strip().lower() != correct:
        fail(_("{variable} = {value!r} is not the right answer. {reread}", variable=answer, value=value, reread=reread))


def number(answer, expected: float, reread: str, rtol: float = 1e-3) -> None:
    """A numeric answer: int or float, within a relative tolerance ``rtol`` of ``expected`` (``reread``: as in
    :func:`choice`)."""
    value = read(answer)
    positive_number(value, str(answer))
    if not np.isclose(float(value), expected, rtol=rtol, atol=0.0):
        fail(_("{variable} = {value!r} is not the right number. {reread}", variable=answer, value=value, reread=reread))
