"""The walkthrough book: its pages follow the folders of solutions/, link every exercise, fold every solution (and
no test), hold the guides of docs/, and reveal no hidden check."""
import ast
import html
import os
import re

import nbformat
import pytest
from bs4 import BeautifulSoup

from attentionlab import i18n
from grader import course
from grader.delivery import book, translate


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
    monkeypatch.setattr(book, "executed", lambda a, lang: course.notebook_of(a))  # unexecuted notebooks will do
    (tmp_path / "99_gone.ipynb").write_text("{}")  # a notebook removed from solutions/
    written = book.pages(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)
    assert [p.stem for p in written[:-1]] == course.assignments()
    mtime = written[0].stat().st_mtime_ns
    book.pages(tmp_path)
    assert written[0].stat().st_mtime_ns == mtime  # unchanged pages are not rewritten: Sphinx skips them


def test_guides_are_copied_into_the_books_sources(tmp_path, monkeypatch):
    guides, copies = tmp_path / "docs", tmp_path / "book-docs"
    monkeypatch.setattr(book, "GUIDES", guides)
    guides.mkdir()
    (guides / "a.md").write_text("# A\n")
    (guides / "notes.txt").write_text("not a page")
    copies.mkdir()
    (copies / "gone.md").write_text("# a guide removed from docs/\n")
    assert [p.name for p in book.guides(copies)] == ["a.md"]
    assert [p.name for p in copies.iterdir()] == ["a.md"] and (copies / "a.md").read_text() == "# A\n"
    mtime = (copies / "a.md").stat().st_mtime_ns
    book.guides(copies)
    assert (copies / "a.md").stat().st_mtime_ns == mtime
    (guides / "a.md").write_text("# A, changed\n")
    book.guides(copies)
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
    assert f"{{include}} {book.INCLUDES}/notation.md" in (book.BOOK / "index.md").read_text()


def test_the_spanish_start_page_shows_notebook_1s_spanish_notation_table():
    first = course.assignments()[0]
    table = book.notation("es")
    assert table.strip() in " ".join(c.source for c in translate.source_notebook(first, "es").cells)
    assert table != book.notation() and "| $T$ |" in table  # translated, its formulas kept


def test_cache_key_follows_the_notebook(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text("{}")
    key = book.cache_key(path)
    assert book.cache_key(path) == key
    path.write_text('{"cells": []}')
    assert book.cache_key(path) != key


def test_a_translation_of_the_package_executes_only_its_own_language_again(tmp_path, monkeypatch):
    """attentionlab's Spanish catalogue changes Spanish outputs (its printed labels, plot titles), never English."""
    package = tmp_path / "attentionlab"
    (package / "locale" / "es" / "LC_MESSAGES").mkdir(parents=True)
    (package / "checks.py").write_text("")
    monkeypatch.setattr(book, "PACKAGE", package)
    monkeypatch.setattr(book.course, "ROOT", tmp_path)
    monkeypatch.setattr(book.i18n, "LOCALE", package / "locale")
    keys = {lang: book.cache_key(b"{}", lang) for lang in book.LANGUAGES}
    (package / "locale" / "es" / "LC_MESSAGES" / "attentionlab.po").write_text('msgid "a"\nmsgstr "b"\n')
    assert book.cache_key(b"{}", "en") == keys["en"] and book.cache_key(b"{}", "es") != keys["es"]
    (package / "checks.py").write_text("# changed")
    assert all(book.cache_key(b"{}", lang) != keys[lang] for lang in book.LANGUAGES)


def test_each_edition_executes_in_its_own_language(tmp_path, monkeypatch):
    """The Spanish edition is translated, executed in the instructor notebook's folder with $ATTENTIONLAB_LANG=es,
    and cached apart from the English one."""
    seen = {}

    def execute(path, notebook, progress):
        seen[os.environ[i18n.ENV]] = path, notebook
        return notebook, 0.0

    monkeypatch.setattr(book, "execute", execute)
    monkeypatch.setattr(book, "CACHE", tmp_path)
    monkeypatch.setenv(i18n.ENV, "somewhere")
    first = course.assignments()[0]
    copies = {lang: book.executed(first, lang) for lang in book.LANGUAGES}
    assert os.environ[i18n.ENV] == "somewhere"
    assert copies["es"].name.startswith(f"{first}_es-") and copies["en"].name.startswith(f"{first}-")
    assert {lang: path for lang, (path, _) in seen.items()} == {lang: course.notebook_of(first) for lang in seen}
    english, spanish = seen["en"][1], seen["es"][1]
    assert [c.id for c in english.cells] == [c.id for c in spanish.cells]
    assert [c.source for c in english.cells if role(c) == "solution"] == \
        [c.source for c in spanish.cells if role(c) == "solution"]
    assert book.title(english) != book.title(spanish) and spanish.metadata["language"] == "es"
    assert all(book.cached_copy(first, lang) == copies[lang] for lang in book.LANGUAGES)


def test_the_exercises_page_speaks_the_language_of_its_site():
    first = course.assignments()[0]
    pages = {lang: book.exercise_index({first: solution_notebook(first)}, lang) for lang in book.LANGUAGES}
    with i18n.use("es"):
        assert pages["es"].startswith(f"# {book._('Exercises')}\n") and pages["es"] != pages["en"]
    assert pages["en"].startswith("# Exercises\n")


def test_the_books_catalogues_are_in_step_with_its_pages(tmp_path):
    """Every paragraph of the start page and the guides is in book/locales/es/ (those of book.COMPLETE translated),
    with its code, formulas and links; no fuzzy entry, no catalogue of a page that is gone."""
    assert book.catalogue_problems(book.extract_catalogues(tmp_path)) == []


def test_a_stale_or_unfaithful_catalogue_is_caught(tmp_path, monkeypatch):
    templates, locales = tmp_path / "pot", tmp_path / "locales"
    (locales / "es" / "LC_MESSAGES" / "docs").mkdir(parents=True)
    (templates / "docs").mkdir(parents=True)
    monkeypatch.setattr(book, "LOCALES", locales)
    (templates / "index.pot").write_text('msgid "Run `make lab` for $x$."\nmsgstr ""\n\nmsgid "Go."\nmsgstr ""\n\n'
                                         'msgid "See [the guide](docs/a.md)."\nmsgstr ""\n\nmsgid "Attention."\n'
                                         'msgstr ""\n')
    (templates / "docs" / "gone.pot").write_text('msgid "Gone."\nmsgstr ""\n')
    (templates / "docs" / "b.pot").write_text('msgid "Later."\nmsgstr ""\n')
    (locales / "es" / "LC_MESSAGES" / "index.po").write_text(
        'msgid "Run `make lab` for $x$."\nmsgstr "Ejecuta `make lab`."\n\nmsgid "Go."\nmsgstr ""\n\n'
        'msgid "See [the guide](docs/a.md)."\nmsgstr "Mira [la guía](docs/b.md)."\n\n'
        'msgid "Attention."\nmsgstr "Usted presta atención."\n\n#, fuzzy\nmsgid "Old."\nmsgstr "Viejo."\n')
    (locales / "es" / "LC_MESSAGES" / "docs" / "b.po").write_text('msgid "Later."\nmsgstr ""\n')  # not in COMPLETE
    (locales / "es" / "LC_MESSAGES" / "docs" / "extra.po").write_text("")
    po = "es/LC_MESSAGES/index.po"
    assert book.catalogue_problems(templates) == [
        "es/LC_MESSAGES/docs/extra.po: no such page", "es/LC_MESSAGES/docs/gone.po: missing",
        f"{po}: stale (update it: grader.delivery.book.update_catalogues())",
        f"{po}: 'Run `make lab` for $x$.': a formula of the source is missing or added",
        f"{po}: 'Go.': not translated",
        f"{po}: 'See [the guide](docs/a.md).': a link's target is missing or added",
        f"{po}: 'Attention.': uses 'usted'; the glossary says 'you' is not translated so",
        f"{po}: 'Old.': fuzzy (check it, then remove the fuzzy flag)"]


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


def spanish(strings: set[str]) -> set[str]:
    """The Spanish of those of ``strings`` that checks.po translates: their text between placeholders (25+ chars)."""
    catalogue = i18n.translations(i18n.Messages("checks", course.ROOT / "locale").po("es"))
    found = set()
    for text in strings:
        translated = catalogue.gettext(text)
        if translated != text:
            found |= {part.strip() for part in re.split(r"\{[^{}]*\}", translated) if len(part.strip()) >= 25}
    return found


def shown_text(page) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page.read_text())).split())


def heading(page) -> str:
    """The text of a built page's title (its h1, without the anchor link)."""
    h1 = BeautifulSoup(page.read_text(), "html.parser").select_one("main h1")
    for anchor in h1.select("a.headerlink"):
        anchor.decompose()
    return " ".join(h1.get_text().split())


@pytest.mark.slow
def test_built_book_reveals_no_hidden_check(built_book):
    site, chosen = built_book
    pages = list(site.rglob("*.html"))
    assert len(pages) > 2 * len(chosen)
    # Hidden checks may repeat a notebook's own visible tests; only what the notebooks do not show is secret.
    editions = [book.edition(a, lang) for a in course.assignments() for lang in book.LANGUAGES]
    sources = " ".join(" ".join(c.source.split()) for nb in editions for c in nb.cells)
    secrets = {s for s in hidden_strings() if " ".join(s.split()) not in sources}
    assert len(secrets) > 50
    secrets |= {s for s in spanish(secrets) if " ".join(s.split()) not in sources}
    for page in pages:
        text = shown_text(page)
        leaked = [s for s in secrets if " ".join(s.split()) in text]
        assert not leaked, f"{page.relative_to(site)} shows hidden-check content: {leaked[:3]}"


def code_of(cell) -> str:
    """The source code a built page shows for a cell: its highlighted input, as text."""
    return cell.select_one(".cell_input pre").get_text().strip()


@pytest.mark.slow
@pytest.mark.parametrize("lang", book.LANGUAGES)
def test_built_book_folds_every_solution_and_shows_every_test(built_book, lang):
    site, chosen = built_book
    with i18n.use(lang):
        button = book._(book.SHOW)
    for assignment in chosen:
        page = BeautifulSoup((site / lang / "notebooks" / f"{assignment}.html").read_text(), "html.parser")
        cells = page.select("div.cell")
        folded = {code_of(c) for c in cells if c.select_one("details:not([open]) .cell_input")}
        shown = {code_of(c) for c in cells if c.select_one(".cell_input") and not c.select_one("details .cell_input")}
        nb = book.edition(assignment, lang)  # in Spanish, the test cells' messages are translated too
        assert folded == {c.source.strip() for c in nb.cells if role(c) == "solution"}, assignment
        assert {c.source.strip() for c in nb.cells if role(c) == "test"} <= shown, assignment
        assert button in page.select_one("details summary").get_text()


@pytest.mark.slow
@pytest.mark.parametrize("lang", book.LANGUAGES)
def test_built_book_holds_the_notebooks_the_guides_and_the_notation(built_book, lang):
    site, chosen = built_book
    start = BeautifulSoup((site / lang / "index.html").read_text(), "html.parser")
    assert start.html["lang"] == lang
    links = {a["href"] for a in start.select("a[href]")}
    for guide in book.GUIDES.glob("*.md"):
        assert (site / lang / "docs" / f"{guide.stem}.html").exists() and f"docs/{guide.stem}.html" in links, guide.name
    for assignment in chosen:
        assert f"notebooks/{assignment}.html" in links, assignment
    meaning = re.search(r"^\| \$T\$ \| ([^|]+) \|", book.notation(lang), re.M)[1].strip()  # of $T$, in ``lang``
    assert meaning in " ".join(start.select_one("main").get_text().split())


@pytest.mark.slow
def test_every_page_links_to_itself_in_the_other_language(built_book):
    site, _ = built_book
    for lang in book.LANGUAGES:
        (other,) = set(book.LANGUAGES) - {lang}
        pages = sorted(p for p in (site / lang).rglob("*.html") if "_static" not in p.parts)  # not the theme's
        assert len(pages) > 10
        for path in pages:
            (switch,) = BeautifulSoup(path.read_text(), "html.parser").select("a.language-switch")
            target = (path.parent / switch["href"]).resolve()
            assert target == (site / other / path.relative_to(site / lang)).resolve(), path
            assert target.is_file() and switch["hreflang"] == other and book.NAMES[other] in switch.get_text()


@pytest.mark.slow
def test_the_start_page_leads_to_both_sites(built_book):
    site, _ = built_book
    chooser = BeautifulSoup((site / "index.html").read_text(), "html.parser")
    assert [a["href"] for a in chooser.select("a[href]")] == [f"{lang}/index.html" for lang in book.LANGUAGES]


@pytest.mark.slow
def test_spanish_pages_are_the_spanish_editions(built_book):
    """A notebook page of the Spanish site shows its notebook's catalogue (its title), its start page and its
    guides Sphinx's catalogues; the English site shows neither."""
    site, chosen = built_book
    for assignment in chosen:
        titles = {lang: book.title(book.edition(assignment, lang)) for lang in book.LANGUAGES}
        assert titles["es"] != titles["en"], f"{assignment}: its title has no translation"
        for lang in book.LANGUAGES:
            assert heading(site / lang / "notebooks" / f"{assignment}.html") == titles[lang]
    for name in ("index", "docs/without-make"):
        catalogue = i18n.translations(book.LOCALES / "es" / "LC_MESSAGES" / f"{name}.po")
        title = heading(site / "en" / f"{name}.html")
        assert catalogue.gettext(title) != title and heading(site / "es" / f"{name}.html") == catalogue.gettext(title)
