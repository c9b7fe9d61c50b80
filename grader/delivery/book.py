"""The walkthrough site: the executed instructor notebooks, cached by content, rendered by Sphinx with MyST-NB."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

from grader import course
from grader.delivery.execute import execute

BOOK = course.ROOT / "book"
BUILD = BOOK / "_build"
CACHE = BUILD / "executed"  # <assignment>-<key>.ipynb: one executed copy per content of notebook and package
PAGES = BOOK / "notebooks"  # generated, git-ignored: the pages Sphinx reads
GUIDES = course.ROOT / "docs"  # the guides, MyST pages readable on their own
GUIDE_PAGES = BOOK / "docs"  # their copy in the book's sources (git-ignored): Sphinx reads only under book/
NOTATION = BUILD / "notation.md"  # notebook 1's notation table, which the start page includes
HTML = BUILD / "html"
FOLD = "hide-input"  # MyST-NB's cell tag: the code behind a button (conf.py names it), the outputs shown


def cache_key(path: Path) -> str:
    """Hash of the notebook and of attentionlab's sources: either changing means executing again."""
    digest = hashlib.sha256(path.read_bytes())
    for source in sorted((course.ROOT / "attentionlab").rglob("*")):
        if source.is_file() and "__pycache__" not in source.parts:
            digest.update(source.relative_to(course.ROOT).as_posix().encode() + source.read_bytes())
    return digest.hexdigest()[:16]


def cached_copy(assignment: str) -> Path:
    """Where the executed notebook of ``assignment`` is kept (it may not be there yet)."""
    source = course.notebook_of(assignment)
    return CACHE / f"{assignment}-{cache_key(source)}.ipynb"


def executed(assignment: str) -> Path:
    """The executed instructor notebook of ``assignment``, from the cache or executed now (with progress)."""
    cached = cached_copy(assignment)
    if not cached.exists():
        nb, seconds = execute(course.notebook_of(assignment), progress=True)
        print(f"executed {assignment} in {seconds:.0f} s", file=sys.stderr, flush=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        for stale in CACHE.glob(f"{assignment}-*.ipynb"):
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
            for _, _, tests in found:
                if not tests or tests is found[-1][2]:
                    tests.append(meta["grade_id"])
    return found


def page(nb):
    """The book's page: the executed notebook with a link target before each exercise's solution, whose code is
    folded so that a reader tries first (its outputs and the visible tests stay shown).

    Progress bars (thousands of outputs redrawn with carriage returns) are merged into their final lines.
    """
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    labels = {grade_id: label for label, grade_id, _ in exercises(nb)}
    cells = []
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in labels:
            target = nbformat.v4.new_markdown_cell(f"({labels[grade_id]})=\n**Exercise `{grade_id}`**")
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


def exercise_index(notebooks: dict[str, nbformat.NotebookNode]) -> str:
    """The exercises page: every exercise of every notebook, linked to where the walkthrough solves and explains it."""
    lines = ["# Exercises", "", "Each exercise links to its place in the walkthrough: the text above it explains it, "
             "the test cells below it check it, and its solution is folded until you ask for it.", ""]
    for assignment, nb in notebooks.items():
        lines += [f"## {title(nb) or assignment}", ""]
        lines += [f"- {{ref}}`{grade_id} <{label}>` (tested by {', '.join(f'`{t}`' for t in tests) or 'its own cell'})"
                  for label, grade_id, tests in exercises(nb)]
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


def pages(assignments: list[str] | None = None) -> list[Path]:
    """Write the book's pages: one per folder of solutions/ (or of ``assignments``), and the exercises page."""
    notebooks = {a: nbformat.read(executed(a), as_version=4) for a in assignments or course.assignments()}
    texts = {f"{a}.ipynb": nbformat.writes(page(nb)) for a, nb in notebooks.items()}
    return sync(PAGES, {**texts, "exercises.md": exercise_index(notebooks)})


def guides() -> list[Path]:
    """Copy the guides of docs/ into the book's sources, where Sphinx can read them."""
    return sync(GUIDE_PAGES, {p.name: p.read_text() for p in sorted(GUIDES.glob("*.md"))})


def notation() -> str:
    """The course's notation table, as notebook 1 states it (its one source), without the cell's heading."""
    nb = nbformat.read(course.notebook_of(course.assignments()[0]), as_version=4)
    (cell,) = [c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## Notation")]
    return cell.source.split("\n", 1)[1].strip() + "\n"


def build(assignments: list[str] | None = None, html: Path = HTML) -> Path:
    """Build the site into ``html`` (incrementally), of every assignment or of ``assignments``; return its start page."""
    pages(assignments)
    guides()
    BUILD.mkdir(exist_ok=True)
    write_if_changed(NOTATION, notation())
    subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q",
                    str(BOOK), str(html)], check=True)
    return html / "index.html"
