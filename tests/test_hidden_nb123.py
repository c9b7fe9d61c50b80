"""Hidden checks of notebooks 1-3: a fault of the grader's own reference is a SetupError, never a student's failure;
the visible tests' diagnoses of a mistake agree with the hidden checks'."""
import pytest

from grader.hidden import SetupError, checks_for, verdict
from grader.hidden import keras_mha as k


def test_a_parameter_formula_that_disagrees_with_keras_is_a_setup_error(monkeypatch):
    right = {"mha_param_count": lambda **config: k._param_count(**config)}
    check = checks_for("02_keras_mha")["test_param_count"]
    assert verdict(check, right) == (True, None)
    monkeypatch.setattr(k, "_keras_count", lambda **config: k._param_count(**config) + 1)
    with pytest.raises(SetupError, match="disagrees with Keras"):
        verdict(check, right)


def test_the_question_on_parameters_raises_a_setup_error_too(monkeypatch):
    class Answer:  # a notebook variable as a hidden check sees it
        def value(self):
            return 394240

    monkeypatch.setattr(k, "_keras_count", lambda **config: k._param_count(**config) + 1)
    with pytest.raises(SetupError):
        verdict(checks_for("02_keras_mha")["test_q_params"], {"answer_params": Answer()})
