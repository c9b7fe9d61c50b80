"""The worker's half of grading: rebuild one submission, run it in its sandbox, judge it. Data in, data out.

It writes nothing outside its sandbox and touches no gradebook, so it can run in another process or on
another machine (a Dask worker); the coordinator records what it returns (grader.autograde).
"""
from __future__ import annotations

import tempfile
import traceback
from pathlib import Path

import nbformat

from attentionlab.data import DataError
from grader import sanitize
from grader.course import NOTEBOOKS, config, data_for, notebook_of
from grader.hidden import SetupError
from grader.preprocessors import VERDICTS, SandboxedExecute


def run_submission(assignment: str, student: str, submitted: bytes) -> dict:
    """Outcome of one submission: the executed notebook, its verdicts and notes; or the error that stopped it.

    ``retry`` marks errors of the grading set-up (data, baseline, a grader fault), which a later run retries.
    """
    try:
        data_for(assignment)
        release = notebook_of(assignment, NOTEBOOKS)
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / release.name
            path.write_bytes(submitted)
            nb, notes = sanitize.rebuild(path, release)
        resources = {"nbgrader": {"assignment": assignment, "student": student, "notebook": release.stem},
                     "metadata": {"path": str(release.parent)}}
        nb, resources = SandboxedExecute(config=config()).preprocess(sanitize.with_notes(nb, notes), resources)
        state = resources[VERDICTS]
        return {"notebook": nbformat.writes(nb), "notes": notes, "mode": state["mode"], "stopped": state["stopped"],
                "verdicts": {k: list(v) for k, v in state["verdicts"].items()}}
    except sanitize.SubmissionError as exc:
        return {"error": str(exc), "retry": False}
    except DataError as exc:
        return {"error": f"the corpus is unavailable: {exc}".replace("\n", " "), "retry": True}
    except SetupError as exc:
        return {"error": str(exc), "retry": True}
    except Exception as exc:  # a grader fault must still give this submission a row, and leave a trace
        return {"error": f"grading failed: {type(exc).__name__}: {exc}", "retry": True,
                "trace": traceback.format_exc()}
