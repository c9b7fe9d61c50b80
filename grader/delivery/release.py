"""Generate the student notebooks (notebooks/) from the instructor sources (solutions/)."""
from __future__ import annotations

from pathlib import Path

from grader.course import NOTEBOOKS, api, editions


class GradingError(RuntimeError):
    """An nbgrader step failed; the message holds nbgrader's log."""


def checked(result: dict, what: str) -> dict:
    """Raise GradingError unless an NbGraderAPI result reports success."""
    if not result.get("success"):
        raise GradingError(f"{what} failed:\n{result.get('error', '')}\n{result.get('log', '')}")
    return result


def release(dest: Path = NOTEBOOKS, db_url: str | None = None) -> list[Path]:
    """Run nbgrader generate_assignment for every edition of every assignment into ``dest``; return the notebooks."""
    from grader.delivery.translate import write_sources

    write_sources()
    overrides = {"release_directory": str(dest)}
    if db_url:
        overrides["db_url"] = db_url
    course = api(**overrides)
    for assignment in editions():
        checked(course.generate_assignment(assignment), f"generate_assignment {assignment}")
    return sorted(Path(dest).glob("*/*.ipynb"))
