"""The walkthrough book: its pages follow the folders of solutions/, link every exercise, and reveal no hidden check."""
import ast
import html
import re

import nbformat
import pytest

from grader import course
from grader.delivery import book


def solution_notebook(assignment: str):
    return nbformat.read(course.notebook_of(assignment), as_version=4)


@pytest.mark.parametrize("assignment", course.assignments())
def test_every_solution_cell_is_an_exercise_with_its_tests(assignment):
    nb = solution_notebook(assignment)
    solutions = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    found = book.exercises(nb)
    assert [grade_id for _, grade_id, _ in found] == solutions
    assert all(tests for _, _, tests in found), "an exercise without a test cell after it"


def test_each_exercise_links_to_its_solution_on_the_page():
    assignment = course.assignments()[0]
    page = book.page(solution_notebook(assignment))
    index = book.exercise_index({assignment: solution_notebook(assignment)})
    for label, grade_id, _ in book.exercises(solution_notebook(assignment)):
        targets = [i for i, c in enumerate(page.cells) if c.source.startswith(f"({label})=")]
        assert len(targets) == 1
        assert page.cells[targets[0] + 1].metadata["nbgrader"]["grade_id"] == grade_id  # right above the solution
        assert f"{{ref}}`{grade_id} <{label}>`" in index


def test_progress_bars_show_their_last_state():
    bar = [nbformat.v4.new_output("stream", name="stdout", text=t)
           for t in ("Epoch 1/2\n", "\r 1/9 loss: 7.5", "\b\b\r 9/9 loss: 5.1", "\n")]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("fit()", outputs=bar)])
    (output,) = book.page(nb).cells[0].outputs
    assert output.text == "Epoch 1/2\n 9/9 loss: 5.1\n"


def test_pages_follow_the_folders_of_solutions(tmp_path, monkeypatch):
    monkeypatch.setattr(book, "PAGES", tmp_path)
    monkeypatch.setattr(book, "executed", course.notebook_of)  # the unexecuted notebooks will do here
    (tmp_path / "99_gone.ipynb").write_text("{}")  # a notebook removed from solutions/
    written = book.pages()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)
    assert [p.stem for p in written[:-1]] == course.assignments()
    mtime = written[0].stat().st_mtime_ns
    book.pages()
    assert written[0].stat().st_mtime_ns == mtime  # unchanged pages are not rewritten: Sphinx skips them


def test_cache_key_follows_the_notebook(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text("{}")
    key = book.cache_key(path)
    assert book.cache_key(path) == key
    path.write_text('{"cells": []}')
    assert book.cache_key(path) != key


def hidden_strings() -> set[str]:
    """Source lines and string constants (messages, hints) of the hidden checks that could only come from there."""
    found = set()
    for module in (course.ROOT / "grader" / "hidden").glob("*.py"):
        source = module.read_text()
        found |= {line.strip() for line in source.splitlines()
                  if len(line.strip()) >= 40 and not line.strip().startswith(("#", "from ", "import "))}
        found |= {node.value.strip() for node in ast.walk(ast.parse(source))
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value.strip()) >= 25}
    return found


@pytest.mark.slow
def test_built_book_reveals_no_hidden_check(built_book):
    site, chosen = built_book
    pages = list(site.rglob("*.html"))
    assert len(pages) > len(chosen)
    # Hidden checks may repeat a notebook's own visible tests; only what the notebooks do not show is secret.
    sources = " ".join(" ".join(c.source.split()) for a in course.assignments() for c in solution_notebook(a).cells)
    secrets = {s for s in hidden_strings() if " ".join(s.split()) not in sources}
    assert len(secrets) > 50
    for page in pages:
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", page.read_text())).split())
        leaked = [s for s in secrets if " ".join(s.split()) in text]
        assert not leaked, f"{page.name} shows hidden-check content: {leaked[:3]}"
