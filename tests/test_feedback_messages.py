"""One message per failure, and a failure caused by an earlier cell says which cell to fix first."""
from nbformat.v4 import new_output

from grader.grading.preprocessors import Failed, cause, fix_first, missing_name


def name_error(name):
    return new_output("error", ename="NameError", evalue=f"name '{name}' is not defined", traceback=[])


def test_the_undefined_name_is_read_from_either_side():
    assert missing_name(None, name_error("translate")) == "translate"
    assert missing_name("Your code raised NameError: name 'model' is not defined in a hidden test.", None) == "model"
    assert missing_name("weights on masked keys differs from the expected values.", None) is None
    error = new_output("error", ename="AssertionError", evalue="name 'x' is not defined, says the student", traceback=[])
    assert missing_name(None, error) is None


def test_the_cause_is_the_failed_cell_that_names_it_else_the_latest():
    training = Failed('the cell of section "5. Training"', "NotImplementedError", "model = train()\ntranslate = model.translate")
    answer = Failed("your cell `q_memory`", "NotImplementedError", "raise NotImplementedError()")
    assert cause("translate", [training, answer]) is training
    assert cause("answer_memory", [training, answer]) is answer
    assert cause("anything", []) is None


def test_the_cause_is_followed_back_to_the_cell_that_started_it():
    training = Failed('the cell of section "5. Training"', "NotImplementedError", "model = train(Encoder())")
    handed_in = Failed('the cell of section "6. BLEU"', "NameError", "translate = model.translate", missing="model")
    plotted = Failed('the cell of section "7. Plots"', "NameError", "plot(results)", missing="results")
    assert cause("translate", [training, handed_in, plotted]) is training
    assert cause("results", [plotted]) is plotted


def test_the_message_names_the_cell_to_fix_first():
    assert fix_first(Failed("your cell `q_memory`", "NotImplementedError", "")).startswith(
        "Not answered yet: your cell `q_memory` is still empty.")
    message = fix_first(Failed('the cell of section "5. Training"', "NotImplementedError", ""))
    assert 'section "5. Training"' in message and "exercises above it" in message
    message = fix_first(Failed("your cell `encoder`", "TypeError", ""))
    assert "your cell `encoder` stopped with TypeError" in message and "Fix that cell first" in message
