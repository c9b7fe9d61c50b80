"""The walkthrough site, in English and in Spanish: the executed instructor notebooks (each edition executed in its
own language, cached by content), the guides of docs/ and the start page, rendered by Sphinx with MyST-NB into
book/_build/html/<language>/, every page with a link to the same page in the other language.

What each site is made of:

- its notebook pages: the edition of that language (English: solutions/; Spanish: translate.source_notebook, from
  locale/es/LC_MESSAGES/<assignment>.po), executed with $ATTENTIONLAB_LANG set to that language, so that printed
  labels, plot titles and check messages are in it too;
- the start page (book/index.md) and the guides (docs/*.md): English sources, translated by Sphinx's own i18n from
  book/locales/es/LC_MESSAGES/ (sphinx-intl's catalogues: :func:`update_catalogues`); an untranslated paragraph stays
  English;
- the start page's notation table: notebook 1's, in that language; the exercises page and the labels this module
  writes: grader.i18n's messages (locale/es/LC_MESSAGES/checks.po).
"""
from __future__ import annotations

import contextlib
import hashlib
import html
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

from attentionlab import i18n
from grader import course
from grader.delivery import translate
from grader.delivery.execute import execute
from grader.i18n import N_, _

BOOK = course.ROOT / "book"
BUILD = BOOK / "_build"
CACHE = BUILD / "executed"  # <edition>-<key>.ipynb: one executed copy per content of notebook and package
SOURCES = BUILD / "sources"  # <language>/: the pages Sphinx reads for that language's site (generated)
GUIDES = course.ROOT / "docs"  # the guides, MyST pages readable on their own
README = course.ROOT / "README.md"  # the start page includes its study path
INCLUDES = "_include"  # the files index.md includes, in each language's sources: notation.md and README.md
LOCALES = BOOK / "locales"  # Sphinx's catalogues of the start page and the guides (conf.py's locale_dirs)
CATALOGUES = BUILD / "gettext"  # their templates (.pot), extracted by Sphinx's gettext builder
HTML = BUILD / "html"  # <language>/: each site; index.html: where a reader chooses one
LANGUAGES = i18n.LANGUAGES  # English first: the source
NAMES = {"en": "English", "es": "Español"}  # each language in its own words, as the switch and the chooser show it
PACKAGE = course.ROOT / "attentionlab"
COMPLETE = ("index", "docs/without-make")  # the pages every student reads: translated in full, not in part
LINK = re.compile(r"\]\([^)\s]+\)")  # a link's target, copied exactly (as code spans and formulas are)
FOLD = "hide-input"  # MyST-NB's cell tag: the code behind a button (conf.py names it), the outputs shown

TITLE = N_("Attention Lab: the walkthrough")
SHOW = N_("Show the solution")  # the button of a folded solution
HIDE = N_("Hide the solution")


def edition(assignment: str, lang: str = LANGUAGES[0]) -> nbformat.NotebookNode:
    """The instructor notebook of ``assignment`` in ``lang``, not executed: the solution itself, or its translation
    (the same code cells, ids and points)."""
    if lang == LANGUAGES[0]:
        return nbformat.read(course.notebook_of(assignment), as_version=4)
    return translate.source_notebook(assignment, lang)


def depends_on(path: Path, lang: str) -> bool:
    """Whether the outputs of a notebook executed in ``lang`` depend on ``path``, a file of attentionlab/: its code
    and data (*.py, *.json), and its own catalogue of ``lang`` (a translation never executes the English again)."""
    if "__pycache__" in path.parts or not path.is_file():
        return False
    if path.is_relative_to(i18n.LOCALE):
        return lang != LANGUAGES[0] and path.is_relative_to(i18n.LOCALE / lang) and path.suffix == ".po"
    return path.suffix in (".py", ".json")


def cache_key(notebook: Path | bytes, lang: str = LANGUAGES[0]) -> str:
    """Hash of the notebook (a file, or its bytes) and of the files of attentionlab/ its outputs in ``lang`` depend
    on: changing any means executing again."""
    digest = hashlib.sha256(notebook.read_bytes() if isinstance(notebook, Path) else notebook)
    for source in sorted(PACKAGE.rglob("*")):
        if depends_on(source, lang):
            digest.update(source.relative_to(course.ROOT).as_posix().encode() + source.read_bytes())
    return digest.hexdigest()[:16]


def cached_copy(assignment: str, lang: str = LANGUAGES[0]) -> Path:
    """Where the executed edition of ``assignment`` in ``lang`` is kept (it may not be there yet)."""
    source = course.notebook_of(assignment)
    notebook = source if lang == LANGUAGES[0] else nbformat.writes(edition(assignment, lang)).encode()
    return CACHE / f"{course.edition(assignment, lang)}-{cache_key(notebook, lang)}.ipynb"


def cached(assignment: str) -> bool:
    """Whether every edition of ``assignment`` is executed already (a build would then execute nothing)."""
    return all(cached_copy(assignment, lang).exists() for lang in LANGUAGES)


@contextlib.contextmanager
def speaking(lang: str):
    """Kernels started inside the block speak ``lang``: they inherit $ATTENTIONLAB_LANG (attentionlab.i18n)."""
    before = os.environ.get(i18n.ENV)
    os.environ[i18n.ENV] = lang
    try:
        yield
    finally:
        if before is None:
            del os.environ[i18n.ENV]
        else:
            os.environ[i18n.ENV] = before


def executed(assignment: str, lang: str = LANGUAGES[0]) -> Path:
    """The executed edition of ``assignment`` in ``lang``, from the cache or executed now (with progress) in the
    folder of its instructor notebook."""
    cached = cached_copy(assignment, lang)
    if not cached.exists():
        name = course.edition(assignment, lang)
        with speaking(lang):
            nb, seconds = execute(course.notebook_of(assignment), notebook=edition(assignment, lang), progress=True)
        print(f"executed {name} in {seconds:.0f} s", file=sys.stderr, flush=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        for stale in CACHE.glob(f"{name}-*.ipynb"):
            stale.unlink()
        partial = cached.with_suffix(".partial")
        nbformat.write(nb, partial)
        partial.rename(cached)
    return cached


def exercises(nb) -> list[tuple[str, str, list[str]]]:
    """(label, solution grade_id, [test grade_ids]) of each exercise: a solution cell and the test cells after it
    (solution cells in a row, such as a declaration and the code that follows it, share the tests after the last)."""
    found = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            found.append((f"exercise-{meta['grade_id']}", meta["grade_id"], []))
        elif meta.get("grade") and found and cell.cell_type == "code":
            for _label, _grade_id, tests in found:
                if not tests or tests is found[-1][2]:
                    tests.append(meta["grade_id"])
    return found


def page(nb, lang: str = LANGUAGES[0]):
    """The book's page: the executed notebook with a link target before each exercise's solution, whose code is
    folded so that a reader tries first (its outputs and the visible tests stay shown).

    Progress bars (thousands of outputs redrawn with carriage returns) are merged into their final lines.
    """
    nb, _resources = CoalesceStreamsPreprocessor().preprocess(nb, {})
    labels = {grade_id: label for label, grade_id, _tests in exercises(nb)}
    cells = []
    with i18n.use(lang):
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in labels:
                heading = _("Exercise `{grade_id}`", grade_id=grade_id)
                target = nbformat.v4.new_markdown_cell(f"({labels[grade_id]})=\n**{heading}**")
                target.id = labels[grade_id][:64]  # not a random id: an unchanged page stays byte-identical
                cells.append(target)
                cell.metadata["tags"] = [*cell.metadata.get("tags", []), FOLD]
            cells.append(cell)
    nb.cells = cells
    return nb


def title(nb) -> str | None:
    """The notebook's title: its first top-level heading."""
    for cell in nb.cells:
        for line in cell.source.splitlines() if cell.cell_type == "markdown" else ():
            if line.startswith("# "):
                return line[2:].strip()
    return None


def exercise_index(notebooks: dict[str, nbformat.NotebookNode], lang: str = LANGUAGES[0]) -> str:
    """The exercises page: every exercise of every notebook, linked to where the walkthrough solves and explains it."""
    with i18n.use(lang):
        lines = ["# " + _("Exercises"), "",
                 _("Each exercise links to its place in the walkthrough: the text above it explains it, the test "
                   "cells below it check it, and its solution is folded until you ask for it."), ""]
        for assignment, nb in notebooks.items():
            lines += [f"## {title(nb) or assignment}", ""]
            for label, grade_id, tests in exercises(nb):
                tested = _("(tested by {tests})", tests=", ".join(f"`{t}`" for t in tests) or _("its own cell"))
                lines.append(f"- {{ref}}`{grade_id} <{label}>` {tested}")
            lines.append("")
    return "\n".join(lines)


def write_if_changed(path: Path, text: str) -> None:
    """Write only a changed page, so Sphinx rebuilds only what changed."""
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def sync(folder: Path, texts: dict[str, str]) -> list[Path]:
    """Make ``folder`` hold exactly the files ``texts`` names ({name: text}), rewriting only those that changed."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / name for name in texts]
    for path, text in zip(written, texts.values()):
        write_if_changed(path, text)
    for old in set(folder.iterdir()) - set(written):
        old.unlink()  # a notebook removed from solutions/ or left out, a guide removed from docs/
    return written


def pages(folder: Path, assignments: list[str] | None = None, lang: str = LANGUAGES[0]) -> list[Path]:
    """Write the notebook pages of ``lang`` into ``folder``: one per folder of solutions/ (or of ``assignments``),
    named after the English assignment in every language (the switch links a page to its namesake), and the
    exercises page."""
    notebooks = {a: nbformat.read(executed(a, lang), as_version=4) for a in assignments or course.assignments()}
    texts = {f"{a}.ipynb": nbformat.writes(page(nb, lang)) for a, nb in notebooks.items()}
    return sync(folder, {**texts, "exercises.md": exercise_index(notebooks, lang)})


def guides(folder: Path) -> list[Path]:
    """Copy the guides of docs/ into ``folder`` of a language's sources, where Sphinx can read them."""
    return sync(folder, {p.name: p.read_text() for p in sorted(GUIDES.glob("*.md"))})


def notation(lang: str = LANGUAGES[0]) -> str:
    """The course's notation table, as notebook 1 states it in ``lang`` (its one source), without the cell's
    heading."""
    first = course.assignments()[0]
    english = edition(first).cells
    (cell_id,) = [c.id for c in english if c.cell_type == "markdown" and c.source.startswith("## Notation")]
    (cell,) = [c for c in edition(first, lang).cells if c.id == cell_id]
    return cell.source.split("\n", 1)[1].strip() + "\n"


def sources(lang: str, assignments: list[str] | None = None, notebooks: bool = True) -> Path:
    """Write the sources of the site of ``lang`` (book/_build/sources/<lang>/): the start page, the files it includes,
    the guides and (with ``notebooks``) the notebook pages. Return their folder."""
    root = SOURCES / lang
    root.mkdir(parents=True, exist_ok=True)
    write_if_changed(root / "index.md", (BOOK / "index.md").read_text())
    sync(root / INCLUDES, {"README.md": README.read_text(), "notation.md": notation(lang) if notebooks else ""})
    guides(root / "docs")
    if notebooks:
        pages(root / "notebooks", assignments, lang)
    return root


def sphinx(builder: str, source: Path, out: Path, lang: str = LANGUAGES[0], quiet: str = "-q",
           wait: bool = True) -> subprocess.Popen:
    """Run Sphinx with the book's configuration, its labels in ``lang``; ``quiet``: -q (warnings shown) or -Q.
    Without ``wait``, return the running process (:func:`finished` waits for it)."""
    with i18n.use(lang):
        settings = {"language": lang, "html_title": _(TITLE), "nb_code_prompt_show": _(SHOW),
                    "nb_code_prompt_hide": _(HIDE)}
    process = subprocess.Popen([sys.executable, "-m", "sphinx", "-b", builder, quiet, "-c", str(BOOK),
                                *(f"-D{name}={value}" for name, value in settings.items()), str(source), str(out)])
    return finished(process) if wait else process


def finished(process: subprocess.Popen) -> subprocess.Popen:
    """Wait for ``process``; CalledProcessError if it failed."""
    if process.wait():
        raise subprocess.CalledProcessError(process.returncode, process.args)
    return process


def chooser() -> str:
    """The page at the top of the built sites: a link to the start page of each language."""
    links = []
    for lang in LANGUAGES:
        with i18n.use(lang):
            name = html.escape(f"{NAMES[lang]}: {_(TITLE)}")
        links.append(f'<li><a href="{lang}/index.html" hreflang="{lang}" lang="{lang}">{name}</a></li>')
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">', "<title>Attention Lab</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;line-height:1.6}"
        "li{font-size:1.25em;margin:.5em 0}</style>", "</head>", "<body>", "<h1>Attention Lab</h1>", "<ul>", *links,
        "</ul>", "</body>", "</html>", ""])


def build(assignments: list[str] | None = None, html: Path = HTML) -> Path:
    """Build the site of each language into ``html``/<language>/ (incrementally), of every assignment or of
    ``assignments``, and the chooser; return the chooser's path. Sphinx builds a site while the next language's
    notebooks execute."""
    building = None
    for lang in LANGUAGES:
        source = sources(lang, assignments)
        if building:
            finished(building)
        building = sphinx("html", source, html / lang, lang, wait=False)
    finished(building)
    write_if_changed(html / "index.html", chooser())
    return html / "index.html"


def extract_catalogues(out: Path = CATALOGUES) -> Path:
    """The templates (.pot) of the start page and the guides, one per page, extracted by Sphinx from their English
    sources. The notebook pages and the notation table are left out: their translation is the notebooks' catalogues."""
    sphinx("gettext", sources("gettext", notebooks=False), out, LANGUAGES[0], "-Q")  # no warning of notebooks/*
    return out


def update_catalogues() -> list[Path]:
    """Bring book/locales/<lang>/LC_MESSAGES/ in step with the English pages (sphinx-intl: new paragraphs added
    untranslated, changed ones marked fuzzy, removed ones dropped); return the catalogues."""
    templates = extract_catalogues()
    for lang in LANGUAGES[1:]:
        subprocess.run([sys.executable, "-m", "sphinx_intl", "update", "-p", str(templates), "-d", str(LOCALES),
                        "-l", lang, "-w", "79", "--no-obsolete"], check=True, stdout=subprocess.DEVNULL)
    return sorted(LOCALES.rglob("*.po"))


def catalogue_problems(templates: Path | None = None) -> list[str]:
    """What is wrong with book/locales/ against the English pages (their templates, extracted now if not given): a
    catalogue missing, stale or left over, an untranslated paragraph of a page of COMPLETE, and in a translation what
    the course's catalogues may not have either (translate.problems: a fuzzy entry, a placeholder, formula or code span
    dropped or added, a changed markdown structure; a word the glossary avoids), or a link to another target."""
    from babel.messages.pofile import read_po

    templates = templates or extract_catalogues()
    problems = []
    for lang in LANGUAGES[1:]:
        avoid = [(word, english) for english, _spanish, words in translate.glossary(lang) for word in words]
        folder = LOCALES / lang / "LC_MESSAGES"
        found = [{p.relative_to(top).with_suffix("").as_posix(): p for p in top.rglob(f"*.{suffix}")}
                 for top, suffix in ((templates, "pot"), (folder, "po"))]
        for name in sorted(found[0].keys() | found[1].keys()):
            po = f"{lang}/LC_MESSAGES/{name}.po"
            if name not in found[1] or name not in found[0]:
                problems.append(f"{po}: {'missing' if name in found[0] else 'no such page'}")
                continue
            with found[0][name].open("rb") as pot, found[1][name].open("rb") as file:
                template, catalogue = read_po(pot), read_po(file)
            if {m.id for m in template if m.id} != {m.id for m in catalogue if m.id}:
                problems.append(f"{po}: stale (update it: grader.delivery.book.update_catalogues())")
            for message in (m for m in catalogue if m.id):
                if not message.string and (name not in COMPLETE or message.fuzzy):
                    continue  # English until translated
                problems += translate.problems(message, po)
                problems += [f"{po}: {message.id[:60]!r}: a link's target is missing or added"
                             ] if message.string and sorted(LINK.findall(message.id)) != sorted(
                                 LINK.findall(message.string)) else []
                problems += [f"{po}: {message.id[:60]!r}: uses {word!r}; the glossary says {english!r} is not "
                             "translated so" for word, english in avoid
                             if re.search(rf"\b{re.escape(word)}\b", translate.prose(message.string), re.I)]
    return problems
