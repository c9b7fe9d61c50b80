"""Nothing a submission leaves for the grader stalls, fills or breaks the grading of the others.

The kernel writes its replies in out/; the grader opens them. A named pipe in place of a reply, a folder tree too deep
to remove with recursion, or out/ filled to the brim must cost the submission that did it its own points at most:
the class run ends in bounded time and grades every honest student in full.
"""
import threading
import time

import nbformat
import pytest

from attentionlab import probe
from grader.catalogue import submissions
from grader.grading import autograde

pytestmark = pytest.mark.slow
NB1 = "01_attention_numpy"
REF = submissions.solution_sources(NB1)
PIPE_REPLIES = """import os
import attentionlab.probe as probe
def answer(request, reply):
    os.mkfifo(reply)
probe.answer = answer"""
DEEP_TREE = """import os
import attentionlab.probe as probe
real = probe.answer
def answer(request, reply):
    if not os.path.exists(os.path.join(os.path.dirname(reply), "d")):
        here = os.getcwd()
        os.chdir(os.path.dirname(reply))
        for _ in range(3000):
            os.mkdir("d")
            os.chdir("d")
        os.chdir(here)
    real(request, reply)
probe.answer = answer"""


def with_cell(code: str) -> nbformat.NotebookNode:
    """The reference answers of notebook 1 with one extra code cell after its set-up cell."""
    nb = submissions.student_notebook(NB1, REF)
    index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(code))
    return nb


def test_a_named_pipe_for_a_reply_is_refused_at_once(tmp_path):
    import os

    os.mkfifo(tmp_path / "reply.npz")
    outcome = []
    reader = threading.Thread(target=lambda: outcome.append(_read(tmp_path / "reply.npz")), daemon=True)
    reader.start()
    reader.join(5)
    assert outcome == ["not a regular file"], "the grader waits for a writer on a named pipe"


def _read(path) -> str:
    try:
        probe.read(path, 1 << 20)
    except probe.MessageError as exc:
        return "not a regular file" if "not a regular file" in str(exc) else str(exc)
    return "read"


@pytest.fixture
def sandboxes_here(monkeypatch):
    """Sandboxes made in a private temporary folder, to see what they leave behind (a short path: the kernel's
    sockets live in it, and a socket's path has at most 107 bytes)."""
    import shutil
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="al-", dir="/tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    shutil.rmtree(folder)


def test_a_class_run_ends_and_grades_honest_students_around_pipes_and_deep_trees(grading_dir, sandboxes_here,
                                                                                  monkeypatch):
    from grader import course

    monkeypatch.setitem(course.LIMITS, NB1, course.Limits(wall_seconds=60))
    class_ = {"honest-a": with_cell("pass"), "pipes": with_cell(PIPE_REPLIES), "deep-tree": with_cell(DEEP_TREE),
              "honest-b": with_cell("pass")}
    for student, nb in class_.items():
        submissions.submit(nb, NB1, student)
    start = time.monotonic()
    results = {r.student: r for r in autograde.grade_class(NB1, list(class_), regrade=True, progress=False)}
    assert time.monotonic() - start < 180
    assert {s: (r.score, r.error) for s, r in results.items()} == {
        "honest-a": (14, None), "pipes": (0, None), "deep-tree": (14, None), "honest-b": (14, None)}
    assert "could not use what your code returned" in results["pipes"].messages["test_softmax"]
    assert not list(sandboxes_here.glob("attentionlab-sandbox-*")), "a sandbox folder was left behind"


@pytest.mark.parametrize("fault, runs", [(True, 2), (False, 3)])
def test_a_grader_fault_is_retried_a_bounded_number_of_times_a_setup_error_always(grading_dir, monkeypatch, fault,
                                                                                  runs):
    student = f"faulty-{fault}"
    submissions.submit(with_cell("pass"), NB1, student)
    outcome, graded = {"error": "grading failed: RecursionError: deep", "retry": True, "fault": fault}, []
    monkeypatch.setattr(autograde, "timed", lambda *job: (graded.append(job[1]) or dict(outcome), 0.0))
    for _ in range(3):  # three class runs
        autograde.grade_class(NB1, [student], progress=False)
    assert len(graded) == runs
    row = autograde.rows()[NB1, student]
    assert row["status"] == "ERROR" and row["reason"].startswith("grading failed: RecursionError")
    assert ("final" in row["reason"]) == fault and (student in autograde.to_grade(NB1, [student])) != fault
