"""Grade submissions one at a time, each isolated: nbgrader's autograde with sandboxed, grader-side checks.

For every submitted (student, assignment) there is exactly one outcome, written to the gradebook,
to grades.csv and to the student's feedback: a score, or an ERROR with its reason (a corrupt file,
a time-out, a dead kernel, missing data) that flags the submission for the instructor. Nothing a
submission does can stop the others from being graded. nbgrader's own exit status says nothing about
failing tests, so scores always come from the gradebook.
"""
from __future__ import annotations

import csv
import html
import logging
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from attentionlab.data import DataError
from grader import sanitize
from grader.course import NOTEBOOKS, ROOT, api, config, data_for, notebook_of
from grader.hidden import SetupError
from grader.preprocessors import is_test
from grader.sandbox import mode

log = logging.getLogger(__name__)
CSV_FIELDS = ("assignment", "student", "status", "score", "max_score", "lost", "mode", "seconds", "reason")


@dataclass
class Result:
    """One student's graded notebook: per-cell (score, max), failure messages, or the error that stopped it."""

    assignment: str
    student: str
    cells: dict[str, tuple[float, float]] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    mode: str = field(default_factory=mode)
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(s for s, _ in self.cells.values())

    @property
    def max_score(self) -> float:
        return sum(m for _, m in self.cells.values())

    def lost(self) -> list[str]:
        """Test cells that did not get full points."""
        return sorted(c for c, (s, m) in self.cells.items() if s < m)

    def row(self) -> dict:
        """The grades.csv row."""
        return {"assignment": self.assignment, "student": self.student, "status": "ERROR" if self.error else "graded",
                "score": f"{self.score:g}", "max_score": f"{self.max_score:g}", "lost": " ".join(self.lost()),
                "mode": self.mode, "seconds": f"{self.seconds:.1f}", "reason": self.error or ""}


def _dir(step: str) -> Path:
    return ROOT / getattr(config().CourseDirectory, f"{step}_directory")


def submitted_notebook(assignment: str, student: str) -> Path:
    return _dir("submitted") / student / assignment / notebook_of(assignment, NOTEBOOKS).name


def _autograded_notebook(assignment: str, student: str) -> Path:
    return _dir("autograded") / student / assignment / notebook_of(assignment, NOTEBOOKS).name


def csv_path() -> Path:
    """grades.csv, beside the gradebook."""
    return Path(config().CourseDirectory.db_url.removeprefix("sqlite:///")).parent / "grades.csv"


def failure_messages(nb) -> dict[str, str]:
    """grade_id -> the errors of every test cell that has some: the visible tests', then the hidden check's."""
    messages = {}
    for cell in nb.cells:
        errors = [f"{o.ename}: {o.evalue}" for o in cell.get("outputs", []) if o.output_type == "error"]
        if is_test(cell) and errors:
            messages[cell.metadata.nbgrader.grade_id] = "\n".join(errors)
    return messages


def scores(assignment: str, student: str) -> dict[str, tuple[float, float]]:
    """grade_id -> (score, max score) of the test cells, from the gradebook."""
    notebook = notebook_of(assignment, NOTEBOOKS).stem
    with Gradebook(config().CourseDirectory.db_url) as gb:
        sub = gb.find_submission_notebook(notebook, assignment, student)
        return {g.name: (g.score, g.max_score) for g in sub.grades if g.max_score > 0}


def ensure_in_gradebook(assignment: str) -> None:
    """nbgrader grades only assignments it generated: generate this one (into a scratch folder) if needed."""
    with Gradebook(config().CourseDirectory.db_url) as gb:
        try:
            gb.find_assignment(assignment)
            return
        except MissingEntry:
            pass
    with tempfile.TemporaryDirectory() as scratch:
        outcome = api(release_directory=scratch).generate_assignment(assignment)
    if not outcome.get("success"):
        raise SetupError(f"nbgrader could not generate {assignment}: {outcome.get('error', '')}")


def _run_nbgrader(assignment: str, student: str, nb, staging: Path) -> None:
    """Write the rebuilt notebook where nbgrader reads submissions, and autograde it."""
    folder = staging / student / assignment
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / notebook_of(assignment, NOTEBOOKS).name)
    stamp = submitted_notebook(assignment, student).with_name("timestamp.txt")
    if stamp.is_file():
        shutil.copy(stamp, folder / stamp.name)
    outcome = api(submitted_directory=str(staging)).autograde(assignment, student)
    if not outcome.get("success"):
        lines = (outcome.get("error") or outcome.get("log") or "nbgrader failed").strip().splitlines()
        raise SetupError(lines[-1] if lines else "nbgrader failed")


def _read_outcome(result: Result) -> None:
    nb = nbformat.read(_autograded_notebook(result.assignment, result.student), as_version=4)
    state = nb.metadata.get("attentionlab", {})
    result.mode = state.get("mode", result.mode)
    result.cells = scores(result.assignment, result.student)
    result.messages = failure_messages(nb)
    if state.get("stopped"):
        result.error = f"{state['stopped']} (scores kept for the cells before; review it)"


def record_error(result: Result) -> None:
    """Give an ungradable submission its gradebook row: zero auto-scores, flagged for manual grading."""
    with Gradebook(config().CourseDirectory.db_url) as gb:
        gb.update_or_create_student(result.student)
        submission = gb.update_or_create_submission(result.assignment, result.student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0.0 if grade.auto_score is None or not result.cells else grade.auto_score
                grade.needs_manual_grade = True
        gb.db.commit()
    if not result.cells:
        result.cells = {g: (0.0, m) for g, (_, m) in scores(result.assignment, result.student).items()}


def write_feedback(result: Result) -> None:
    """nbgrader's HTML feedback; for a submission that could not be run, a page giving the reason."""
    if _autograded_notebook(result.assignment, result.student).is_file() and result.cells and not (
            result.error and not result.messages):
        if api().generate_feedback(result.assignment, result.student).get("success"):
            return
    page = _dir("feedback") / result.student / result.assignment / f"{notebook_of(result.assignment, NOTEBOOKS).stem}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f"<html><body><h1>{html.escape(result.assignment)}</h1><p>Your submission could not be graded: "
                    f"{html.escape(result.error or '')}</p><p>Your instructor has been told.</p></body></html>")


def grade(assignment: str, student: str, feedback: bool = True) -> Result:
    """Autograde one submission in its sandbox; never raises for anything the submission contains or does."""
    ensure_in_gradebook(assignment)
    start = time.monotonic()
    result = Result(assignment, student)
    shutil.rmtree(_autograded_notebook(assignment, student).parent, ignore_errors=True)
    try:
        data_for(assignment)
        nb, result.notes = sanitize.rebuild(submitted_notebook(assignment, student), notebook_of(assignment, NOTEBOOKS))
        with tempfile.TemporaryDirectory(prefix="attentionlab-submitted-") as staging:
            _run_nbgrader(assignment, student, sanitize.with_notes(nb, result.notes), Path(staging))
        _read_outcome(result)
    except FileNotFoundError:
        result.error = f"no notebook submitted (expected {submitted_notebook(assignment, student).name})"
    except (sanitize.SubmissionError, DataError, SetupError) as exc:
        result.error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, DataError):
            result.error = f"the corpus is unavailable: {exc}".replace("\n", " ")
    except Exception as exc:  # a grader bug must still leave a row, and a trace in the log
        log.error("grading %s/%s failed:\n%s", assignment, student, traceback.format_exc())
        result.error = f"grading failed: {type(exc).__name__}: {exc}"
    if result.error:
        record_error(result)
    result.seconds = time.monotonic() - start
    update_csv([result])
    if feedback:
        write_feedback(result)
    return result


def update_csv(results: list[Result]) -> None:
    """Replace the rows of these (assignment, student) pairs in grades.csv, keeping the others."""
    path = csv_path()
    rows = {}
    if path.is_file():
        with path.open(newline="") as fh:
            rows = {(r["assignment"], r["student"]): r for r in csv.DictReader(fh)}
    rows.update({(r.assignment, r.student): r.row() for r in results})
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows[k] for k in sorted(rows))
    tmp.replace(path)


def submitted_students(assignment: str) -> list[str]:
    """Students with a folder for ``assignment`` in the submissions."""
    return sorted(p.parent.name for p in _dir("submitted").glob(f"*/{assignment}") if p.is_dir())


def grade_class(assignment: str, students: list[str] | None = None, progress=print) -> list[Result]:
    """Grade every submission of ``assignment`` (or those of ``students``), one sandbox each."""
    students = students or submitted_students(assignment)
    results = []
    for i, student in enumerate(students, 1):
        results.append(grade(assignment, student))
        r = results[-1]
        progress(f"[{i}/{len(students)}] {assignment} / {student}: "
                 f"{'ERROR' if r.error else f'{r.score:g}/{r.max_score:g}'} in {r.seconds:.0f} s")
    return results


def table(results: list[Result]) -> str:
    """A plain-text grade table, with the mode each submission was graded in."""
    width = max([len("student"), *(len(r.student) for r in results)])
    rows = [f"{'assignment':<22} {'student':<{width}} {'score':>7}  {'mode':<11} lost points in"]
    for r in results:
        score = "ERROR" if r.error else f"{r.score:g}/{r.max_score:g}"
        lost = r.error[:70] if r.error else ", ".join(r.lost()) or "-"
        rows.append(f"{r.assignment:<22} {r.student:<{width}} {score:>7}  {r.mode:<11} {lost}")
    return "\n".join(rows)
