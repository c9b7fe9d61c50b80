"""Hints guide without dictating: no message holds the code an exercise asks for, and no question is answered by its
own wording or by the text before it (data: grader.catalogue.exercises)."""
import ast
import importlib
import re
import statistics
from pathlib import Path

import nbformat
import pytest

from attentionlab import checks
from grader.catalogue.exercises import ANSWER_CODE, QUESTIONS
from grader.course import SOLUTIONS, assignments, notebook_of
from grader.grading.preprocessors import is_test
from grader.hidden import MODULES, questions

OPTION = re.compile(r"^- \*\*([a-z])\.\*\* (.*(?:\n(?!- \*\*|\n).*)*)", re.M)


def cells(assignment):
    return nbformat.read(notebook_of(assignment, SOLUTIONS), as_version=4).cells


def grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def messages(path: Path) -> list[str]:
    """The string literals of a module that are not docstrings: its messages."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def shared_messages():
    return [m for module in (checks, questions) for m in messages(Path(module.__file__))]


@pytest.mark.parametrize("assignment", assignments())
def test_every_exercise_and_question_is_described(assignment):
    solution_cells = {grade_id(c) for c in cells(assignment) if c.metadata.get("nbgrader", {}).get("solution")}
    assert {c for c in solution_cells if c.startswith("q_")} == set(QUESTIONS[assignment])
    assert {c for c in solution_cells if not c.startswith("q_")} == set(ANSWER_CODE[assignment])


@pytest.mark.parametrize("assignment", assignments())
def test_no_message_holds_the_code_the_exercise_asks_for(assignment):
    hidden = importlib.import_module(f"grader.hidden.{MODULES[assignment]}")
    texts = {f"visible test {grade_id(c)}": c.source for c in cells(assignment) if is_test(c)}
    texts |= {f"{hidden.__name__}: {m!r}": m for m in messages(Path(hidden.__file__))}
    texts |= {f"shared message {m!r}": m for m in shared_messages()}
    given = [(where, code) for codes in ANSWER_CODE[assignment].values() for code in codes
             for where, text in texts.items() if code in text]
    assert not given, given


def questions_of(assignment):
    """(grade_id, text before the question, options {letter: text}) of every question cell."""
    before, found = [], []
    for cell in cells(assignment):
        if cell.cell_type == "markdown":
            before.append(cell.source)
        elif grade_id(cell) in QUESTIONS[assignment]:
            asked = next(i for i in range(len(before) - 1, -1, -1) if "**Question" in before[i])
            head, _, question = before[asked].partition("**Question")
            found.append((grade_id(cell), "\n".join(before[:asked] + [head]), dict(OPTION.findall(question))))
    return found


@pytest.mark.parametrize("assignment", assignments())
def test_no_option_stands_out_by_its_length(assignment):
    for name, _, options in questions_of(assignment):
        if options:
            lengths = {letter: len(" ".join(text.split())) for letter, text in options.items()}
            median = statistics.median(lengths.values())
            assert max(lengths.values()) <= 1.5 * median, (name, lengths)


@pytest.mark.parametrize("assignment", assignments())
def test_the_text_before_a_question_does_not_state_its_answer(assignment):
    asked = questions_of(assignment)
    assert {name for name, _, _ in asked} == set(QUESTIONS[assignment])
    for name, before, _ in asked:
        key = QUESTIONS[assignment][name]
        assert key and key.lower() not in " ".join(before.lower().split()), (name, key)
