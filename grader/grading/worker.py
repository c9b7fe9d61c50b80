"""The worker's half of grading: rebuild one submission, run it in its sandbox, judge it. Data in, data out.

run_submission writes nothing outside its sandbox and touches no gradebook, so it can run in another process or on
another machine (a Dask worker); the coordinator records what it returns (grader.grading.autograde). Local worker
processes (local_pool) are forked from a server that has this module imported.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

from attentionlab.data import DataError
from attentionlab.i18n import use
from grader.grading import sanitize
from grader.course import NOTEBOOKS, config, data_for, language, notebook_of
from grader.hidden import SetupError
from grader.grading.kernel import LOG as KERNEL_LOG
from grader.grading.preprocessors import VERDICTS, SandboxedExecute
from grader.grading.sandbox import share_cores
from grader.i18n import _

# Local workers are forked from a server that has imported this module once (3 s a worker otherwise), and nothing
# else: the coordinator may have started TensorFlow's threads, which a fork would copy half-alive.
FORKSERVER = multiprocessing.get_context("forkserver")
FORKSERVER.set_forkserver_preload([__name__])


def run_submission(assignment: str, student: str, submitted: bytes, execute: type = SandboxedExecute) -> dict:
    """:func:`outcome`, with every message in the edition's language."""
    with use(language(assignment)):
        return outcome(assignment, student, submitted, execute)


def outcome(assignment: str, student: str, submitted: bytes, execute: type) -> dict:
    """Outcome of one submission: the executed notebook, its verdicts and notes; or the error that stopped it.
    ``execute``: the step that runs it (a SandboxedExecute; the self-check's also shows its progress).

    ``retry`` marks errors a later run grades again: of the grading set-up (data, baseline), always; a ``fault``
    (an unexpected exception, whose cause may be the submission) a bounded number of times (autograde.MAX_FAULTS).
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
        nb, resources = execute(config=config()).preprocess(sanitize.with_notes(nb, notes), resources)
        state = resources[VERDICTS]
        return {"notebook": nbformat.writes(nb), "notes": notes, "mode": state["mode"], "stopped": state["stopped"],
                "verdicts": {k: list(v) for k, v in state["verdicts"].items()}}
    except sanitize.SubmissionError as exc:
        return {"error": str(exc), "retry": False}
    except DataError as exc:
        return {"error": _("the corpus is unavailable: {reason}", reason=exc).replace("\n", " "), "retry": True}
    except SetupError as exc:
        return {"error": str(exc), "retry": True}
    except Exception as exc:  # a grader fault must still give this submission a row, and leave a trace
        return {"error": _("grading failed: {error}: {message}", error=type(exc).__name__, message=exc),
                "retry": True, "fault": True, "trace": traceback.format_exc()}


def timed(assignment: str, student: str, submitted: bytes) -> tuple[dict, float]:
    """run_submission with its wall time (what a local worker process or a Dask worker runs)."""
    start = time.monotonic()
    return run_submission(assignment, student, submitted), time.monotonic() - start


def local_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` local worker processes, each started by start_worker with this process's environment as it is now."""
    return ProcessPoolExecutor(workers, mp_context=FORKSERVER, initializer=start_worker,
                               initargs=(workers, dict(os.environ)))


def start_worker(workers: int, environ: dict[str, str]) -> None:
    """In one of ``workers`` local worker processes: the coordinator's environment as it is now (the fork server
    keeps the one it started with), its share of the cores (sandbox.share_cores), and stderr (TensorFlow's start-up
    lines, when a check imports Keras) to grader/kernel.log. The worker reports every error in its outcome, which
    the coordinator logs."""
    os.environ.clear()
    os.environ.update(environ)
    share_cores(workers)
    log = os.open(KERNEL_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log, sys.stderr.fileno())
    os.close(log)
