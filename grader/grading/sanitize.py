"""Rebuild a submitted notebook from the release, keeping only the student's answers and own cells.

nbgrader trusts a submission's cell metadata: a changed ``grade_id``, grade flag or point value, a deleted or
duplicated graded cell, or a notebook format newer than its own, and it drops the whole submission. Here
every cell the release defines comes from the release; from the submission come only the sources of the
answer cells (found by grade_id, else by cell id) and the cells the student added. What was changed is
written in a note at the top of the notebook, which the feedback shows.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

from grader.i18n import _

MAX_BYTES = 50 << 20


class SubmissionError(ValueError):
    """The file is not a notebook that can be graded."""


def _nbgrader(cell: dict) -> dict:
    meta = cell.get("metadata")
    data = meta.get("nbgrader") if isinstance(meta, dict) else None
    return data if isinstance(data, dict) else {}


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(map(str, source)) if isinstance(source, list) else str(source)


def read_cells(path: Path) -> list[dict]:
    """The cells of a submitted file, whatever its nbformat version; SubmissionError if it is not a notebook."""
    if path.stat().st_size > MAX_BYTES:
        raise SubmissionError(_("the file is larger than {megabytes} MB", megabytes=MAX_BYTES >> 20))
    try:
        raw = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise SubmissionError(_("the file is not valid notebook JSON ({error})", error=exc)) from None
    cells = raw.get("cells") if isinstance(raw, dict) else None
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        raise SubmissionError(_("the file has no list of cells: it is not a Jupyter notebook (nbformat 4)"))
    return cells


def _match(release_cell, cells: list[dict], used: set[int]) -> int | None:
    """Index of the student's cell that stands for ``release_cell``: same grade_id, else same cell id."""
    grade_id = release_cell.metadata.get("nbgrader", {}).get("grade_id")
    for key, value in (("grade_id", grade_id), ("id", release_cell.get("id"))):
        for i, cell in enumerate(cells):
            found = _nbgrader(cell).get("grade_id") if key == "grade_id" else cell.get("id")
            if value and i not in used and found == value:
                return i
    return None


def _code(value) -> str:
    """``value`` (student-controlled) as a markdown code span, on one line and cut at 80 characters: markdown shows
    it as typed, never as HTML or markdown (a span is closed only by a run of backticks as long as its own)."""
    text = " ".join((value if isinstance(value, str) else repr(value)).split())[:80]
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if not text or text[0] == "`" or text[-1] == "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _shown(value) -> str:
    """A metadata value in a note: numbers, booleans and None as they are, anything else as code."""
    return repr(value) if value is None or isinstance(value, (bool, int, float)) else _code(repr(value))


def _changes(release_cell, cell: dict) -> list[str]:
    theirs, ours = _nbgrader(cell), release_cell.metadata.get("nbgrader", {})
    keys = ("grade_id", "grade", "solution", "locked", "points", "task")
    return [_("{key} {theirs} (release: {ours})", key=k, theirs=_shown(theirs.get(k)), ours=_shown(ours.get(k)))
            for k in keys if theirs.get(k) != ours.get(k)]


def rebuild(path: Path, release: Path) -> tuple[nbformat.NotebookNode, list[str]]:
    """(notebook to grade, notes for the student) from the submitted file at ``path`` and the released one."""
    cells, nb = read_cells(path), nbformat.read(release, as_version=4)
    matches, notes, used = {}, [], set()
    for r, release_cell in enumerate(nb.cells):
        i = _match(release_cell, cells, used)
        if i is not None:
            used.add(i)
            matches[i] = r
    placed = {}  # release index -> position in the rebuilt list
    out = []
    for i, cell in enumerate(cells):
        if i in matches:
            r = matches[i]
            release_cell = nb.cells[r].copy()
            name = release_cell.metadata.get("nbgrader", {}).get("grade_id") or _("cell {number}", number=r + 1)
            if release_cell.metadata.get("nbgrader", {}).get("solution"):
                release_cell.source = _source(cell)
            if "nbgrader" in release_cell.metadata and _changes(release_cell, cell):
                notes.append(_("The metadata of {cell} was changed ({changes}); it was restored from the release.",
                               cell=_code(name), changes="; ".join(_changes(release_cell, cell))))
            placed[r] = len(out)
            out.append(release_cell)
        elif cell.get("cell_type") in ("code", "markdown", "raw"):
            if _nbgrader(cell).get("grade_id"):
                notes.append(_("An extra copy of the graded cell {cell} was kept as ordinary code; the first copy is "
                               "graded.", cell=_code(_nbgrader(cell)["grade_id"])))
            maker = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
                     "raw": nbformat.v4.new_raw_cell}[cell["cell_type"]]
            out.append(maker(_source(cell)))
    for r, release_cell in enumerate(nb.cells):  # cells the student deleted come back where they were
        if r not in placed:
            before = [placed[k] for k in placed if k < r]
            position = max(before) + 1 if before else 0
            out.insert(position, release_cell)
            placed = {k: (v + 1 if v >= position else v) for k, v in placed.items()}
            placed[r] = position
            name = release_cell.metadata.get("nbgrader", {}).get("grade_id")
            if name:
                notes.append(_("The cell {cell} was missing; it was restored from the release with no answer.",
                               cell=_code(name)) if release_cell.metadata.nbgrader.get("solution") else
                             _("The cell {cell} was missing; it was restored from the release.", cell=_code(name)))
    nb.cells = out
    return nb, notes


def with_notes(nb: nbformat.NotebookNode, notes: list[str]) -> nbformat.NotebookNode:
    """``nb`` with a first cell listing the grading notes (if any)."""
    if notes:
        text = "**" + _("Grading notes") + "**\n\n" + "\n".join(f"- {n}" for n in notes)
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(text))
    return nb
