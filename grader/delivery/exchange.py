"""nbgrader's exchange for the course: the shared folder releases, submissions and feedback pass through.

The instructor publishes an assignment, students fetch and submit it (Assignments panel or `nbgrader
fetch_assignment` / `submit`), the instructor collects and grades it in the sandbox, then returns the feedback,
which each student fetches (`nbgrader fetch_feedback`). nbgrader has every step but the sandboxed grading and a
check of the exchange itself; this module adds those two and runs the rest through nbgrader's API, except two steps
it does itself: collect, which trusts nothing a student can write in the inbound (grader/delivery/inbound.py), and the
return of feedback, one student at a time so that a broken submission holds back no one else.
"""
from __future__ import annotations

import shutil
import stat
import tempfile
from pathlib import Path

from nbgrader.exchange.default import ExchangeCollect, ExchangeReleaseFeedback

from grader.delivery import inbound
from grader.grading import records
from grader.course import EXCHANGE, NOTEBOOKS, ROOT, api, config, folder, notebook_of
from grader.delivery.inbound import Refusal, Submission
from grader.delivery.release import GradingError, checked

MODE = 0o1777  # every student writes to it (as nbgrader documents); sticky, as /tmp: no one moves another's folder
REFUSED_FIELDS = ("assignment", "folder", "student", "reason", "first_refused")


def root() -> Path:
    """The exchange of the course's config."""
    return Path(config().Exchange.root)


def create(path: Path | None = None) -> Path:
    """Make the exchange (and its parents) and give it the mode nbgrader documents, sticky."""
    path = path or root()
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(MODE)
    return path


def problem(path: Path | None = None) -> str | None:
    """Why students could not use the exchange, with the fix; None if they can."""
    path = path or root()
    fix = f"run `make exchange` (python -m grader exchange), or `chmod {MODE:o} {path}` as its owner"
    if not path.is_dir():
        return f"The exchange {path} does not exist: {fix}."
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & MODE != MODE:
        return (f"The exchange {path} has mode {mode:o}, not {MODE:o}: students cannot all write to it, or can "
                f"move the course's folders out of the way: {fix}.")
    for parent in path.parents:
        if not stat.S_IMODE(parent.stat().st_mode) & stat.S_IXOTH:
            return (f"Students cannot reach the exchange {path}: {parent} is closed to other users. Run "
                    f"`chmod o+x {parent}`, or set {EXCHANGE} to a shared folder such as /srv/nbgrader/exchange.")
    return None


def ready() -> Path:
    """The exchange, or GradingError naming the fix."""
    message = problem()
    if message:
        raise GradingError(message)
    return root()


def publish(assignment: str) -> None:
    """Release the student version of ``assignment`` (notebooks/) to the exchange, replacing an earlier release."""
    from grader.grading.autograde import ensure_in_gradebook

    ready()
    ensure_in_gradebook(assignment)  # the formgrader grades only what its gradebook knows
    cfg = config()
    cfg.ReleaseAssignment.force = True
    checked(api(cfg).release_assignment(assignment), f"release_assignment {assignment}")


def published() -> set[str]:
    """Assignments in the exchange now."""
    outbound = root() / config().CourseDirectory.course_id / "outbound"
    return {p.name for p in outbound.iterdir() if p.is_dir()} if outbound.is_dir() else set()


def collect(assignment: str) -> tuple[list[str], list[Refusal]]:
    """Copy each student's newest acceptable submission from the inbound into the submitted folder (grader/delivery/inbound.py
    says what is acceptable); returns the students whose submission is new or changed, and the folders refused."""
    ready()
    return gather(assignment, inbound_path(), lambda student: folder("submitted") / student / assignment)


def gather(assignment: str, inbound_dir: Path, dest_of) -> tuple[list[str], list[Refusal]]:
    """Store each student's newest acceptable submission in ``inbound_dir`` at ``dest_of(student)`` and record the
    refused folders; returns the students whose submission changed, and the refusals."""
    try:
        found, refused = inbound.newest(str(inbound_dir), assignment, notebook_of(assignment, NOTEBOOKS).name)
    except FileNotFoundError:
        raise GradingError(f"{inbound_dir} does not exist: publish the assignment first (python -m grader publish "
                           f"{assignment}).") from None
    except OSError as exc:
        raise GradingError(f"Cannot collect from {inbound_dir}: {exc}.") from None
    record_refused(assignment, refused)
    return [s for s, sub in sorted(found.items()) if store(dest_of(s), sub)], refused


class Collect(ExchangeCollect):
    """nbgrader's collect step as the formgrader and `nbgrader collect` run it (grader/nbgrader_config.py): the
    course's own, so that no way into the gradebook trusts the inbound."""

    def init_src(self):
        """The inbound folder (nbgrader's globs it and believes every name it finds)."""
        self.inbound_path = Path(self.root) / self.coursedir.course_id / "inbound"

    def copy_files(self):
        """Collect as `python -m grader collect` does; each refusal goes to the log."""
        assignment = self.coursedir.assignment_id
        changed, refused = gather(assignment, self.inbound_path, lambda student: Path(
            self.coursedir.format_path(self.coursedir.submitted_directory, student, assignment)))
        self.log.info("Collected %d new or changed submission(s) of %s", len(changed), assignment)
        for r in refused:
            self.log.warning("Refused %s: %s (not collected; see %s)", inbound.shown(r.folder), r.reason,
                             refused_path())


def inbound_path() -> Path:
    """The exchange's folder students submit to."""
    return root() / config().CourseDirectory.course_id / "inbound"


def store(dest: Path, sub: Submission) -> bool:
    """Make ``sub`` the student's submitted folder ``dest`` (unless it is already); whether it changed."""
    if dest.is_dir() and {p.name: p.read_bytes() for p in dest.iterdir() if p.is_file()} == sub.files:
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".collecting-", dir=dest.parent))
    for name, content in sub.files.items():
        (staging / name).write_bytes(content)
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)
    return True


def refused_path() -> Path:
    """refused.csv, beside grades.csv: the inbound's folders collect refused, for the instructor."""
    from grader.grading.autograde import csv_path

    return csv_path().with_name("refused.csv")


def cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text, never as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def record_refused(assignment: str, refused: list[Refusal]) -> None:
    """Add this collect's refusals to refused.csv (one row per folder, with when collect first refused it)."""
    path = refused_path()
    rows = records.read(path, "assignment", "folder")
    moment = f"{inbound.now():%Y-%m-%d %H:%M:%S} UTC"
    for r in refused:
        key = (assignment, cell(inbound.shown(r.folder)))
        rows[key] = {"assignment": assignment, "folder": key[1], "student": cell(inbound.shown(r.student)),
                     "reason": cell(r.reason), "first_refused": rows.get(key, {}).get("first_refused", moment)}
    records.write(path, REFUSED_FIELDS, rows)


def return_feedback(assignment: str) -> tuple[list[str], dict[str, str]]:
    """Put each graded student's feedback in the exchange, where only that student can find it, one student at a
    time (nbgrader's step stops at the first broken one). Returns the students served and {student: why skipped}."""
    from grader.grading.autograde import csv_path

    ready()
    rows = {s: r for (a, s), r in records.read(csv_path(), "assignment", "student").items() if a == assignment}
    course, released, skipped = api(), [], {}
    for student in students_of(assignment, rows):
        why = unreturnable(assignment, student, rows.get(student))
        if why is None:
            done = course.release_feedback(assignment, student)
            why = None if done.get("success") else f"nbgrader failed: {last_line(done)}"
        if why:
            skipped[student] = why
        else:
            released.append(student)
    return released, skipped


class ReleaseFeedback(ExchangeReleaseFeedback):
    """nbgrader's release_feedback step as the formgrader and `nbgrader release_feedback` run it
    (grader/nbgrader_config.py): for the whole class, the course's, student by student."""

    def copy_files(self):
        """One student: nbgrader's own step; the class: :func:`return_feedback`, each skip in the log."""
        if self.coursedir.student_id not in ("", "*"):
            return super().copy_files()
        released, skipped = return_feedback(self.coursedir.assignment_id)
        self.log.info("Released the feedback of %d student(s)", len(released))
        for student, why in skipped.items():
            self.log.warning("Skipped %s: %s", student, why)


def feedback_folder(assignment: str, student: str) -> Path:
    """Where the student's feedback page of ``assignment`` is."""
    return ROOT / config().CourseDirectory.feedback_directory / student / assignment


def students_of(assignment: str, rows: dict) -> list[str]:
    """Students with a submission, a grade or a feedback page of ``assignment``."""
    from grader.grading.autograde import submitted_students

    pages = (ROOT / config().CourseDirectory.feedback_directory).glob(f"*/{assignment}")
    return sorted({*submitted_students(assignment), *rows, *(p.parent.name for p in pages)})


def unreturnable(assignment: str, student: str, row: dict | None) -> str | None:
    """Why the student's feedback cannot be returned now, naming the fix; None if it can. ``row`` is the student's
    grades.csv row (None when graded from the formgrader, which writes none)."""
    feedback = feedback_folder(assignment, student)
    regrade = f"python -m grader autograde {assignment} {student} --regrade"
    if not any(feedback.glob("*.html")):
        return f"it has no feedback yet: run `{regrade}`, then return again"
    if row and row["status"] == "ERROR":
        return f"its grading ended in an ERROR ({row['reason']}): review it, run `{regrade}`, then return again"
    missing = [name for name in inbound.KEPT if not (feedback / name).is_file()]
    if missing:
        return (f"its feedback has no {' or '.join(missing)}: it did not come through the exchange, so no student "
                f"can fetch it")
    submitted = folder("submitted") / student / assignment / "timestamp.txt"
    if submitted.is_file() and submitted.read_bytes() != (feedback / "timestamp.txt").read_bytes():
        return f"it was collected again since its feedback was made: run `{regrade}`, then return again"
    return None


def last_line(result: dict) -> str:
    """The last line of an NbGraderAPI result's error or log."""
    lines = (result.get("error") or result.get("log") or "no message").strip().splitlines()
    return lines[-1] if lines else "no message"
