"""The walkthrough book: its pages follow the folders of solutions/, link every exercise, fold every solution (and
no test), hold the guides of docs/, and reveal no hidden check."""
import ast
import html
import re

import nbformat
import pytest
from bs4 import BeautifulSoup

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


def role(cell) -> str:
    """"solution", "test" (a graded cell that is not a solution) or "" for the rest of a notebook."""
    meta = cell.metadata.get("nbgrader", {})
    return "solution" if meta.get("solution") else "test" if meta.get("grade") else ""


@pytest.mark.parametrize("assignment", course.assignments())
def test_solutions_are_folded_and_nothing_else(assignment):
    cells = book.page(solution_notebook(assignment)).cells
    folded = [c for c in cells if book.FOLD in c.metadata.get("tags", [])]
    assert folded and folded == [c for c in cells if role(c) == "solution"]


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


def test_guides_are_copied_into_the_books_sources(tmp_path, monkeypatch):
    guides, copies = tmp_path / "docs", tmp_path / "book-docs"
    monkeypatch.setattr(book, "GUIDES", guides)
    monkeypatch.setattr(book, "GUIDE_PAGES", copies)
    guides.mkdir()
    (guides / "a.md").write_text("# A\n")
    (guides / "notes.txt").write_text("not a page")
    copies.mkdir()
    (copies / "gone.md").write_text("# a guide removed from docs/\n")
    assert [p.name for p in book.guides()] == ["a.md"]
    assert [p.name for p in copies.iterdir()] == ["a.md"] and (copies / "a.md").read_text() == "# A\n"
    mtime = (copies / "a.md").stat().st_mtime_ns
    book.guides()
    assert (copies / "a.md").stat().st_mtime_ns == mtime
    (guides / "a.md").write_text("# A, changed\n")
    book.guides()
    assert (copies / "a.md").read_text() == "# A, changed\n"


def guides_in_the_table_of_contents() -> list[str]:
    """The guides the start page lists, in its toctree "Guides"."""
    index = (book.BOOK / "index.md").read_text()
    toctree = index[index.index(":caption: Guides"):].split("```")[0]
    return [line.removeprefix("docs/") for line in toctree.splitlines()[1:] if line.startswith("docs/")]


def test_every_guide_is_in_the_books_table_of_contents():
    listed = guides_in_the_table_of_contents()
    assert len(listed) == len(set(listed))
    assert {p.stem for p in book.GUIDES.glob("*.md")} <= set(listed)


def test_the_start_page_shows_notebook_1s_notation_table():
    table = book.notation()
    first = solution_notebook(course.assignments()[0])
    assert not table.startswith("#") and table.strip() in " ".join(c.source for c in first.cells)
    assert "| $T$ | number of queries (target positions) | `T` |" in table
    assert f"{{include}} {book.NOTATION.relative_to(book.BOOK).as_posix()}" in (book.BOOK / "index.md").read_text()


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


def code_of(cell) -> str:
    """The source code a built page shows for a cell: its highlighted input, as text."""
    return cell.select_one(".cell_input pre").get_text().strip()


@pytest.mark.slow
def test_built_book_folds_every_solution_and_shows_every_test(built_book):
    site, chosen = built_book
    for assignment in chosen:
        page = BeautifulSoup((site / "notebooks" / f"{assignment}.html").read_text(), "html.parser")
        cells = page.select("div.cell")
        folded = {code_of(c) for c in cells if c.select_one("details:not([open]) .cell_input")}
        shown = {code_of(c) for c in cells if c.select_one(".cell_input") and not c.select_one("details .cell_input")}
        nb = solution_notebook(assignment)
        assert folded == {c.source.strip() for c in nb.cells if role(c) == "solution"}, assignment
        assert {c.source.strip() for c in nb.cells if role(c) == "test"} <= shown, assignment
        assert "Show the solution" in page.select_one("details summary").get_text()


@pytest.mark.slow
def test_built_book_holds_the_guides_and_the_notation(built_book):
    site, _ = built_book
    start = BeautifulSoup((site / "index.html").read_text(), "html.parser")
    links = {a["href"] for a in start.select("a[href]")}
    for guide in book.GUIDES.glob("*.md"):
        assert (site / "docs" / f"{guide.stem}.html").exists() and f"docs/{guide.stem}.html" in links, guide.name
    assert "number of queries (target positions)" in start.select_one("main").get_text()
