"""The course layout and an nbgrader API configured from grader/nbgrader_config.py."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "grader" / "nbgrader_config.py"
SOLUTIONS = ROOT / "solutions"
NOTEBOOKS = ROOT / "notebooks"
KERNEL = "attentionlab"
QUIET = "ATTENTIONLAB_QUIET"  # set while grading: notebooks keep their output small
WORKDIR = "ATTENTIONLAB_GRADER_DIR"  # if set, the gradebook and submissions live there (tests)


def assignments() -> list[str]:
    """Assignment ids (folders of solutions/), in course order."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and not p.name.startswith("."))


def notebook_of(assignment: str, folder: Path = SOLUTIONS) -> Path:
    """The single notebook of an assignment."""
    (path,) = (folder / assignment).glob("*.ipynb")
    return path


def config(**overrides):
    """The course's nbgrader Config, with CourseDirectory overrides (e.g. release_directory)."""
    loader = PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent))
    cfg = loader.load_config()
    workdir = os.environ.get(WORKDIR)
    if workdir:
        for step in ("submitted", "autograded", "feedback"):
            cfg.CourseDirectory[f"{step}_directory"] = str(Path(workdir) / step)
        cfg.CourseDirectory.db_url = f"sqlite:///{Path(workdir) / 'gradebook.db'}"
    for key, value in overrides.items():
        cfg.CourseDirectory[key] = value
    return cfg


def api(**overrides):
    """An NbGraderAPI on the course (overrides as for :func:`config`)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    bindir = str(Path(sys.executable).parent)  # nbgrader runs `alembic` from PATH
    if bindir not in os.environ["PATH"].split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ["PATH"]
    cfg = config(**overrides)
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
