"""Grade submissions one at a time, each isolated: nbgrader's autograde with sandboxed, grader-side checks.

For every submitted (student, assignment) there is exactly one outcome, written to the gradebook,
to grades.csv and to the student's feedback: a score, or an ERROR with its reason (a corrupt file,
a time-out, a dead kernel, missing data) that flags the submission for the instructor. Nothing a
submission does can stop the others from being graded. nbgrader's own exit status says nothing about
failing tests, so scores always come from the gradebook.
"""
from __future__ import annotations

import hashlib
import html
import json
import logging
import shutil
import sys
import tempfile
import time
import traceback
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from tqdm.auto import tqdm

from grader.grading import records
from attentionlab.i18n import use
from grader.course import NOTEBOOKS, api, config, folder, language, limits_for, notebook_of
from grader.grading.csp import protect_feedback
from grader.grading.feedback import FeedbackExporter, with_summary
from grader.hidden import SetupError
from grader.grading.preprocessors import OUTCOME, ReplayExecute, autograde_preprocessors, is_test
from grader.grading.sandbox import mode
from grader.grading.worker import local_pool, run_submission, timed
from grader.i18n import _

log = logging.getLogger(__name__)
SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")  # written by nbgrader's collect beside the notebook
CSV_FIELDS = ("assignment", "student", "status", "score", "max_score", "lost", "mode", "seconds", "reason", "sha256",
              "tries")
# Runs of one submission that may end in a grader fault (an unexpected exception) before its ERROR is final: the
# fault may be the submission's doing, and grading it again on every run would cost every run its time.
MAX_FAULTS = 2


@dataclass
class Result:
    """One student's graded notebook: per-cell (score, max), failure messages, or the error that stopped it."""

    assignment: str
    student: str
    cells: dict[str, tuple[float, float]] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    hidden: dict[str, str] = field(default_factory=dict)  # what the hidden check said of a cell that lost points, shown
    # or not (a failing visible test shows its own message only)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    mode: str = field(default_factory=mode)
    seconds: float = 0.0
    retry: bool = False  # the next run grades it again (an error of the grading set-up, or an early grader fault)
    fault: bool = False  # the error is an unexpected exception of the grader's (retried at most MAX_FAULTS times)
    tries: int = 0  # runs of this submission that ended in an error the next run retries
    fingerprint: str = ""  # of the submission this row grades

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
                "mode": self.mode, "seconds": f"{self.seconds:.1f}", "reason": self.error or "", "sha256": self.fingerprint,
                "tries": str(self.tries) if self.retry else ""}


def submitted_notebook(assignment: str, student: str) -> Path:
    return folder("submitted") / student / assignment / notebook_of(assignment, NOTEBOOKS).name


def _autograded_notebook(assignment: str, student: str) -> Path:
    return folder("autograded") / student / assignment / notebook_of(assignment, NOTEBOOKS).name


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
    with tempfile.TemporaryDirectory() as scratch:  # from nbgrader's source folder, which `python -m grader` writes
        outcome = api(release_directory=scratch).generate_assignment(assignment)
    if not outcome.get("success"):
        raise SetupError(f"nbgrader could not generate {assignment}: {outcome.get('error', '')}")


def _record(result: Result, outcome: dict) -> None:
    """Stage the notebook the worker ran and let nbgrader record it, replaying the worker's outputs and verdicts."""
    assignment, student = result.assignment, result.student
    with tempfile.TemporaryDirectory(prefix="attentionlab-submitted-") as staging:
        folder = Path(staging) / student / assignment
        folder.mkdir(parents=True)
        (folder / notebook_of(assignment, NOTEBOOKS).name).write_text(outcome["notebook"])
        (folder / OUTCOME).write_text(json.dumps(outcome))
        for kept in SUBMISSION_FILES:  # the feedback's name in the exchange derives from them
            path = submitted_notebook(assignment, student).with_name(kept)
            if path.is_file():
                shutil.copy(path, folder / kept)
        cfg = config(submitted_directory=staging)
        cfg.Autograde.autograde_preprocessors = autograde_preprocessors(ReplayExecute)
        cfg.ReplayExecute.outcome_dir = staging
        done = api(cfg).autograde(assignment, student)
    if not done.get("success"):
        lines = (done.get("error") or done.get("log") or "nbgrader failed").strip().splitlines()
        raise SetupError(lines[-1] if lines else "nbgrader failed")
    nb = nbformat.read(_autograded_notebook(assignment, student), as_version=4)
    result.cells, result.messages = scores(assignment, student), failure_messages(nb)
    if outcome["stopped"]:
        result.error = _("{reason} (scores kept for the cells before; review it)", reason=outcome["stopped"])


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
    """nbgrader's HTML feedback, with what to fix at the top and formulas in MathML (grader.grading.feedback); for a
    submission that could not be run, a page giving the reason. Either carries a Content-Security-Policy that lets
    no script run (grader.grading.csp)."""
    page = folder("feedback") / result.student / result.assignment / f"{notebook_of(result.assignment, NOTEBOOKS).stem}.html"
    graded = _autograded_notebook(result.assignment, result.student)
    if graded.is_file() and result.cells and not (result.error and not result.messages):
        cfg = config()
        cfg.GenerateFeedback.exporter_class = FeedbackExporter
        if api(cfg).generate_feedback(result.assignment, result.student).get("success"):
            told = with_summary(page.read_text(encoding="utf-8"), nbformat.read(graded, as_version=4), result.cells)
            page.write_text(protect_feedback(told), encoding="utf-8")
            return
    page.parent.mkdir(parents=True, exist_ok=True)
    said = _("Your submission could not be graded: {reason}", reason=html.escape(result.error or ""))
    told = _("Your instructor has been told.")
    page.write_text(protect_feedback(f"<html><head></head><body><h1>{html.escape(result.assignment)}</h1><p>{said}</p>"
                                     f"<p>{told}</p></body></html>"), encoding="utf-8")


def submission(assignment: str, student: str) -> bytes | None:
    """The submitted notebook's bytes (None if there is none)."""
    path = submitted_notebook(assignment, student)
    return path.read_bytes() if path.is_file() else None


def fingerprint(assignment: str, student: str) -> str:
    """SHA-256 of the submission and its timestamp: a submission whose fingerprint has a row is graded."""
    digest = hashlib.sha256(submission(assignment, student) or b"")
    stamp = submitted_notebook(assignment, student).with_name("timestamp.txt")
    digest.update(stamp.read_bytes() if stamp.is_file() else b"")
    return digest.hexdigest()


def said_in_secret(outcome: dict) -> dict[str, str]:
    """grade_id -> the hidden check's message, for every test cell of a worker's outcome that lost its points."""
    return {grade_id: message for grade_id, (passed, message) in outcome.get("verdicts", {}).items()
            if not passed and message}


def record(assignment: str, student: str, outcome: dict, seconds: float = 0.0, feedback: bool = True,
           sha256: str = "") -> Result:
    """Coordinator side: write a worker's outcome to the gradebook, grades.csv and the feedback (in the edition's
    language). ``sha256`` is the fingerprint of the submission the worker ran (taken when it was sent).
    """
    with use(language(assignment)):
        return _recorded(assignment, student, outcome, seconds, feedback, sha256)


def _recorded(assignment: str, student: str, outcome: dict, seconds: float, feedback: bool, sha256: str) -> Result:
    result = Result(assignment, student, notes=outcome.get("notes", []), mode=outcome.get("mode", mode()),
                    seconds=seconds, hidden=said_in_secret(outcome))
    shutil.rmtree(_autograded_notebook(assignment, student).parent, ignore_errors=True)
    try:
        if "error" in outcome:
            result.error, result.retry = outcome["error"], outcome.get("retry", True)
            result.fault = outcome.get("fault", False)
            if outcome.get("trace"):
                log.error("grading %s/%s failed:\n%s", assignment, student, outcome["trace"])
        else:
            _record(result, outcome)
    except Exception as exc:  # recording failed: still one row, retried next run
        log.error("recording %s/%s failed:\n%s", assignment, student, traceback.format_exc())
        result.error, result.retry = _("recording failed: {error}: {message}", error=type(exc).__name__,
                                       message=exc), True
        result.fault = not isinstance(exc, OSError)  # a full disk is the set-up's; the rest may be the content's
    if result.error:
        record_error(result)
    result.fingerprint = sha256
    count_tries(result)
    update_csv([result])
    if feedback:
        write_feedback(result)
    return result


def count_tries(result: Result) -> None:
    """Count this run among the tries of its submission; a grader fault of the MAX_FAULTS-th run is final."""
    if not result.retry:
        return
    before = rows().get((result.assignment, result.student), {})
    same = before.get("sha256") == result.fingerprint and before.get("tries")
    result.tries = (int(before["tries"]) if same else 0) + 1
    if result.fault and result.tries >= MAX_FAULTS:
        result.retry = False
        result.error += " " + _("(failed on {tries} runs: final; see grader/kernel.log, fix the cause, then autograde "
                                "--regrade)", tries=result.tries)


def not_submitted(assignment: str, student: str) -> str:
    """The ERROR reason of a student with a folder but no notebook, in the edition's language."""
    with use(language(assignment)):
        return _("no notebook submitted (expected {name})", name=submitted_notebook(assignment, student).name)


def grade(assignment: str, student: str, feedback: bool = True) -> Result:
    """Autograde one submission in this process (worker, then coordinator); never raises for a bad submission."""
    ensure_in_gradebook(assignment)
    start, sha256 = time.monotonic(), fingerprint(assignment, student)
    submitted = submission(assignment, student)
    outcome = (run_submission(assignment, student, submitted) if submitted is not None else
               {"error": not_submitted(assignment, student), "retry": False})
    return record(assignment, student, outcome, time.monotonic() - start, feedback, sha256)


def rows() -> dict[tuple[str, str], dict]:
    """(assignment, student) -> its row of grades.csv."""
    return records.read(csv_path(), "assignment", "student")


def update_csv(results: list[Result]) -> None:
    """Replace the rows of these (assignment, student) pairs in grades.csv, keeping the others."""
    rows_now = rows()
    rows_now.update({(r.assignment, r.student): r.row() for r in results})
    records.write(csv_path(), CSV_FIELDS, rows_now)


def submitted_students(assignment: str) -> list[str]:
    """Students with a folder for ``assignment`` in the submissions."""
    return sorted(p.parent.name for p in folder("submitted").glob(f"*/{assignment}") if p.is_dir())


def finished(assignment: str) -> dict[str, str]:
    """student -> fingerprint of the submission that grades.csv holds a final row for (no tries pending)."""
    return {s: r["sha256"] for (a, s), r in rows().items() if a == assignment and r.get("sha256") and not r.get("tries")}


def to_grade(assignment: str, students: list[str] | None = None, regrade: bool = False) -> dict[str, str]:
    """student -> fingerprint, for the submissions that are new, changed or unfinished (all with ``regrade``)."""
    prints = {s: fingerprint(assignment, s) for s in students or submitted_students(assignment)}
    done = {} if regrade else finished(assignment)
    return {s: p for s, p in prints.items() if done.get(s) != p}


def grade_class(assignment: str, students: list[str] | None = None, workers: int = 1, scheduler: str | None = None,
                regrade: bool = False, progress=True) -> list[Result]:
    """Grade the submissions of ``assignment`` not graded yet, each in its own sandbox, on ``workers`` local
    processes or on the Dask cluster at ``scheduler``. This process alone writes the gradebook."""
    ensure_in_gradebook(assignment)
    pending = to_grade(assignment, students, regrade)
    return grade_submissions({(assignment, s): p for s, p in pending.items()}, workers, scheduler, progress)


def grade_submissions(pending: dict[tuple[str, str], str], workers: int = 1, scheduler: str | None = None,
                      progress=True) -> list[Result]:
    """Grade {(assignment, student): fingerprint} of any assignments, the slowest assignments first (so that two
    long ones share the machine, not one long one at the end); results in the order of ``pending``."""
    order = sorted(pending, key=lambda job: limits_for(job[0]).wall_seconds, reverse=True)
    results = {}
    with tqdm(total=len(pending), desc="grading", unit="submission", disable=not (progress and pending),
              file=sys.stderr) as bar:
        for (assignment, student), outcome, seconds in run_all(order, workers, scheduler):
            r = results[assignment, student] = record(assignment, student, outcome, seconds,
                                                      sha256=pending[assignment, student])
            bar.update()
            bar.write(f"{assignment} / {student}: {'ERROR' if r.error else f'{r.score:g}/{r.max_score:g}'} "
                      f"in {seconds:.0f} s", file=sys.stderr)
    return [results[job] for job in pending]


def run_all(pairs: list[tuple[str, str]], workers: int, scheduler: str | None):
    """((assignment, student), outcome, seconds) for every pair, as the workers finish them."""
    jobs = [(a, s, submission(a, s)) for a, s in pairs]
    for assignment, student, _submitted in (j for j in jobs if j[2] is None):
        yield (assignment, student), {"error": not_submitted(assignment, student), "retry": False}, 0.0
    sent = [j for j in jobs if j[2] is not None]
    for (assignment, student, _submitted), outcome, seconds in run_jobs(sent, workers, scheduler):
        yield (assignment, student), outcome, seconds


def run_jobs(jobs: list[tuple[str, str, bytes]], workers: int = 1, scheduler: str | None = None):
    """(job, outcome, seconds) for every (assignment, student, submitted bytes), as the workers finish them."""
    if scheduler:
        yield from _on_dask(jobs, scheduler)
    elif workers > 1:
        with local_pool(workers) as pool:
            futures = {pool.submit(timed, *job): job for job in jobs}
            for future in as_completed(futures):
                yield futures[future], *future.result()
    else:
        for job in jobs:
            yield job, *timed(*job)


def _on_dask(jobs, scheduler: str):
    from distributed import Client
    from distributed import as_completed as completed

    with Client(scheduler) as client:
        futures = {client.submit(timed, *job, key=f"grade-{job[0]}-{job[1]}-{time.time_ns()}", pure=False): job
                   for job in jobs}
        for future in completed(futures):
            yield futures[future], *future.result()


def table(results: list[Result]) -> str:
    """A plain-text grade table, with the mode each submission was graded in."""
    width = max([len("student"), *(len(r.student) for r in results)])
    rows = [f"{'assignment':<22} {'student':<{width}} {'score':>7}  {'mode':<11} lost points in"]
    for r in results:
        score = "ERROR" if r.error else f"{r.score:g}/{r.max_score:g}"
        lost = r.error[:70] if r.error else ", ".join(r.lost()) or "-"
        rows.append(f"{r.assignment:<22} {r.student:<{width}} {score:>7}  {r.mode:<11} {lost}")
    return "\n".join(rows)
