"""Judging the notebooks' questions: reasonable forms are accepted, and a wrong answer gets guidance, not the answer."""
from __future__ import annotations

import numpy as np

from attentionlab.checks import fail, one_letter, positive_number
from grader.hidden.remote import StudentError


def read(answer):
    """The value of the student's answer variable; a clear failure when it is not set yet."""
    try:
        value = answer.value()
    except StudentError as exc:
        if str(exc).startswith("NameError"):
            fail(f"Not answered yet: set {answer} in the answer cell above the test.")
        raise
    return value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value


def choice(answer, correct: str, reread: str, options: str = "abcd") -> None:
    """A multiple-choice answer: one letter, any case, spaces around allowed."""
    value = read(answer)
    one_letter(value, options, str(answer))
    if value.strip().lower() != correct:
        fail(f"{answer} = {value!r} is not the right answer. {reread}")


def number(answer, expected: float, reread: str, rtol: float = 1e-3) -> None:
    """A numeric answer: int or float, within a relative tolerance ``rtol`` of ``expected``."""
    value = read(answer)
    positive_number(value, str(answer))
    if not np.isclose(float(value), expected, rtol=rtol, atol=0.0):
        fail(f"{answer} = {value!r} is not the right number. {reread}")
