"""nbgrader's exchange for the course: the shared folder releases, submissions and feedback pass through.

The instructor publishes an assignment, students fetch and submit it (Assignments panel or `nbgrader
fetch_assignment` / `submit`), the instructor collects and grades it in the sandbox, then returns the feedback,
which each student fetches (`nbgrader fetch_feedback`). nbgrader has every step but the sandboxed grading and a
check of the exchange itself; this module adds those two and runs the rest through nbgrader's API.
"""
from __future__ import annotations

import stat
from pathlib import Path

from grader.course import api, config
from grader.release import GradingError, checked

ENV = "ATTENTIONLAB_EXCHANGE"  # where the exchange is (grader/nbgrader_config.py); on a hub, where every user reaches
MODE = 0o777  # every student writes to the inbound folder; nbgrader's own release makes it so too


def root() -> Path:
    """The exchange of the course's config."""
    return Path(config().Exchange.root)


def create(path: Path | None = None) -> Path:
    """Make the exchange (and its parents) and give it the mode nbgrader documents."""
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
        return f"The exchange {path} has mode {mode:o}, so students cannot write to it: {fix}."
    for parent in path.parents:
        if not stat.S_IMODE(parent.stat().st_mode) & stat.S_IXOTH:
            return (f"Students cannot reach the exchange {path}: {parent} is closed to other users. Run "
                    f"`chmod o+x {parent}`, or set {ENV} to a shared folder such as /srv/nbgrader/exchange.")
    return None


def ready() -> Path:
    """The exchange, or GradingError naming the fix."""
    message = problem()
    if message:
        raise GradingError(message)
    return root()


def publish(assignment: str) -> None:
    """Release the student version of ``assignment`` (notebooks/) to the exchange, replacing an earlier release."""
    from grader.autograde import ensure_in_gradebook

    ready()
    ensure_in_gradebook(assignment)  # the formgrader grades only what its gradebook knows
    cfg = config()
    cfg.ReleaseAssignment.force = True
    checked(api(cfg).release_assignment(assignment), f"release_assignment {assignment}")


def published() -> set[str]:
    """Assignments in the exchange now."""
    outbound = root() / config().CourseDirectory.course_id / "outbound"
    return {p.name for p in outbound.iterdir() if p.is_dir()} if outbound.is_dir() else set()


def collect(assignment: str) -> list[str]:
    """Copy the newest submission of every student from the exchange into the submitted folder.

    Returns the students whose submission is new or changed.
    """
    from grader.autograde import fingerprint, submitted_students

    ready()
    before = {s: fingerprint(assignment, s) for s in submitted_students(assignment)}
    checked(api().collect(assignment), f"collect {assignment}")
    return [s for s in submitted_students(assignment) if before.get(s) != fingerprint(assignment, s)]


def return_feedback(assignment: str) -> None:
    """Put every graded student's feedback in the exchange, where only that student can find it."""
    ready()
    checked(api().release_feedback(assignment), f"release_feedback {assignment}")

