"""Assertions used by the notebooks' tests; each failure says what to fix."""
from __future__ import annotations

import numpy as np

from attentionlab.i18n import N_, _

WEIGHTS = N_("attention weights")  # the name rows_sum_to_one gives the weights it checks, unless told another


def fail(message: str) -> None:
    """Raise an AssertionError whose text is the student-facing message."""
    raise AssertionError(message)


def shape(array, expected: tuple, name: str) -> None:
    """``array`` has exactly ``expected`` shape."""
    actual = tuple(np.shape(array))
    if actual != tuple(expected):
        fail(_("{name} has shape {actual}, expected {expected}.", name=name, actual=actual, expected=tuple(expected)))


def finite(array, name: str, hint: str = "") -> None:
    """No NaN or infinity in ``array``."""
    if not np.all(np.isfinite(array)):
        fail(_("{name} contains NaN or infinity. {hint}", name=name, hint=hint).strip())


def close(actual, expected, name: str, hint: str = "", atol: float = 1e-5, rtol: float = 1e-5,
          mistakes: dict | None = None) -> None:
    """``actual`` equals ``expected`` within ``atol + rtol * |expected|`` (shapes must match too).

    The default tolerance is float32's: a float32 number keeps about 7 significant digits, and a result that went
    through a few dozen float32 operations is good to about 1e-5 of its size, so a correct float32 answer passes.
    ``mistakes`` maps a fix to the value a common mistake produces; when ``actual`` matches one of them, the message
    names that fix.
    """
    shape(actual, np.shape(expected), name)
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    finite = np.isfinite(expected)  # an infinite expected value must be matched exactly, a finite one by a finite one
    agrees = np.all(np.isfinite(actual[finite])) and np.array_equal(actual[~finite], expected[~finite])
    if agrees and np.all(np.abs(actual - expected)[finite] <= atol + rtol * np.abs(expected[finite])):
        return
    for fix, wrong in (mistakes or {}).items():
        if np.shape(wrong) == actual.shape and np.allclose(actual, wrong, atol=atol, rtol=rtol):
            fail(_("{name} is wrong. {fix}", name=name, fix=fix))
    err = float(np.max(np.abs(actual - expected)[finite], initial=np.inf if not agrees else 0.0))
    fail(_("{name} differs from the expected values (largest difference {err:.3g}). {hint}", name=name, err=err,
           hint=hint).strip())


def rows_sum_to_one(weights, name: str = WEIGHTS) -> None:
    """Each query's weights over the keys (last axis) are non-negative and sum to 1."""
    name = _(name)
    weights = np.asarray(weights, float)
    if np.any(weights < -1e-9):
        fail(_("{name} has negative entries: weights must come out of a softmax.", name=name))
    sums = weights.sum(axis=-1)
    if not np.allclose(sums, 1.0, atol=1e-5):  # float32 sums of a few hundred weights
        fail(_("{name}: the rows do not sum to 1 over the keys (sums range from {low:.3g} to {high:.3g}). Each "
               "query's weights come from a softmax over the keys (the last axis of the scores), taken last: nothing "
               "may change the weights after it.", name=name, low=sums.min(), high=sums.max()))


def randomise_weights(layer, seed: int = 0, scale: float = 0.3) -> None:
    """Give every weight of a built Keras ``layer`` random normal values (std ``scale``).

    A freshly built layer has all-zero biases, so a test on it cannot tell
    whether the biases were used; after this, it can.
    """
    rng = np.random.default_rng(seed)
    layer.set_weights([(rng.standard_normal(w.shape) * scale).astype("float32") for w in layer.get_weights()])


def one_letter(answer, options: str, name: str) -> None:
    """``answer`` is one of the letters ``options`` (any case, spaces around allowed): the form of a choice."""
    if not isinstance(answer, str) or answer.strip().lower() not in set(options):
        fail(_("{name} must be one letter among {letters}, as a string (e.g. \"{first}\"), not {answer}.", name=name,
               letters=", ".join(options), first=options[0], answer=repr(answer)))


def positive_number(answer, name: str) -> None:
    """``answer`` is a positive, finite int or float: the form of a numeric answer."""
    numeric = isinstance(answer, (int, float, np.integer, np.floating)) and not isinstance(answer, bool)
    if not numeric or not np.isfinite(answer) or answer <= 0:
        fail(_("{name} must be a positive number (an int or a float), not {answer}.", name=name, answer=repr(answer)))
