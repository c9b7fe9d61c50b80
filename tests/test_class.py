"""Grading a class: parallel workers and a Dask cluster give the serial scores; an interrupted run resumes."""
import csv
import os
import signal
import subprocess
import sys
import time

import pytest

from grader.catalogue import mistakes, submissions
from grader.grading import autograde
from grader.measure.cluster import local_cluster
from grader.course import ROOT, THREADS, WORKDIR

pytestmark = pytest.mark.slow
NB1 = "01_attention_numpy"


@pytest.fixture(scope="module")
def class_of_six(grading_dir):
    """Six notebook-1 submissions: the reference, a blank one and four mistakes."""
    made = {"ref-1": submissions.student_notebook(NB1, submissions.solution_sources(NB1)),
            "blank-1": submissions.student_notebook(NB1, {})}
    wrong = [m for m in mistakes.MISTAKES if m.assignment == NB1][:4]
    made.update({m.student: submissions.with_edits(m) for m in wrong})
    for student, nb in made.items():
        submissions.submit(nb, NB1, student)
    serial = autograde.grade_class(NB1, list(made), regrade=True, progress=False)
    return list(made), {r.student: r.cells for r in serial}


def test_two_workers_give_the_serial_scores_cell_for_cell(class_of_six):
    students, serial = class_of_six
    parallel = autograde.grade_class(NB1, students, workers=2, regrade=True, progress=False)
    assert {r.student: r.cells for r in parallel} == serial
    assert len({r.score for r in parallel}) > 2, "the class has different scores"


def test_two_workers_give_each_kernel_its_share_of_the_cores(grading_dir, monkeypatch):
    import nbformat

    monkeypatch.setenv(THREADS, "4")  # this process's budget; two at a time: two threads per kernel
    nb = submissions.student_notebook(NB1, submissions.solution_sources(NB1))
    nb.cells.append(nbformat.v4.new_code_cell("import os; print('threads:', os.environ.get('TF_NUM_INTRAOP_THREADS'))"))
    job = (NB1, "threads", nbformat.writes(nb).encode())
    ((_, outcome, _),) = autograde.run_jobs([job], workers=2)
    assert "threads: 2" in outcome["notebook"]


def test_submissions_of_several_assignments_are_graded_together(grading_dir):
    made = {("07_attention_at_scale", "mixed-blank"): {}, (NB1, "mixed-ref"): submissions.solution_sources(NB1)}
    for (assignment, student), answers in made.items():
        submissions.submit(submissions.student_notebook(assignment, answers), assignment, student)
        autograde.ensure_in_gradebook(assignment)
    pending = {(NB1, "mixed-ref"): "", ("07_attention_at_scale", "mixed-blank"): ""}
    results = autograde.grade_submissions(pending, workers=2, progress=False)
    assert [(r.assignment, r.student, r.score) for r in results] == [(NB1, "mixed-ref", 14),
                                                                     ("07_attention_at_scale", "mixed-blank", 0)]


def test_only_new_or_changed_submissions_are_graded_again(grading_dir):
    submissions.submit(submissions.student_notebook(NB1, submissions.solution_sources(NB1)), NB1, "changes")
    assert [r.score for r in autograde.grade_class(NB1, ["changes"], progress=False)] == [14]
    assert autograde.grade_class(NB1, ["changes"], progress=False) == []
    submissions.submit(submissions.student_notebook(NB1, {}), NB1, "changes")  # resubmitted, blank this time
    assert [r.score for r in autograde.grade_class(NB1, ["changes"], progress=False)] == [0]


def test_an_interrupted_class_run_resumes_losing_and_repeating_nothing(grading_dir):
    students = [f"resume-{i}" for i in range(6)]
    for student in students:
        submissions.submit(submissions.student_notebook(NB1, submissions.solution_sources(NB1)), NB1, student)
    run = subprocess.Popen([sys.executable, "-m", "grader", "autograde", NB1, *students], cwd=ROOT,
                           env={**os.environ, WORKDIR: os.environ[WORKDIR]}, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(_rows(students)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(run.pid, signal.SIGKILL)  # the grader and its sandboxes, halfway
    run.wait()
    before = _rows(students)
    assert 2 <= len(before) < len(students)
    resumed = autograde.grade_class(NB1, students, progress=False)
    assert sorted(r.student for r in resumed) == sorted(set(students) - set(before))
    after = _rows(students)
    assert sorted(after) == students and all(row["score"] == "14" for row in after.values())
    assert {s: after[s]["sha256"] for s in before} == {s: before[s]["sha256"] for s in before}


def _rows(students):
    path = autograde.csv_path()
    if not path.is_file():
        return {}
    with path.open(newline="") as fh:
        return {r["student"]: r for r in csv.DictReader(fh) if r["student"] in students}


@pytest.fixture
def dask_cluster():
    """A real dask scheduler and two single-threaded workers on 127.0.0.1, started from the course checkout."""
    with local_cluster(2) as address:
        yield address


def test_a_dask_cluster_gives_the_serial_scores(class_of_six, dask_cluster):
    students, serial = class_of_six
    distributed = autograde.grade_class(NB1, students, scheduler=dask_cluster, regrade=True, progress=False)
    assert {r.student: r.cells for r in distributed} == serial


def test_throughput_figures_come_from_grading_a_class_on_every_setup(grading_dir):
    from grader.measure.throughput import SETUPS, report

    text = report({NB1: 2})
    rows = [line.split() for line in text.splitlines() if line.startswith(NB1)]
    assert len(rows) == len(SETUPS) and all(row[-1] == "0" and float(row[-3]) > 0 for row in rows), text
    assert "projection for 300 submissions" in text and "50 machine(s)" in text


def test_workers_keep_tensorflows_start_up_lines_off_the_terminal(grading_dir, capfd):
    nb2 = "02_keras_mha"  # its checks build Keras layers in the worker, which imports TensorFlow there
    submissions.submit(submissions.student_notebook(nb2, submissions.solution_sources(nb2)), nb2, "quiet")
    [result] = autograde.grade_class(nb2, ["quiet"], workers=2, regrade=True, progress=False)
    assert result.score == result.max_score > 0
    assert "oneDNN" not in capfd.readouterr().err


def test_local_workers_take_the_coordinators_environment_as_it_is_now(monkeypatch):
    from grader.grading.worker import local_pool

    with local_pool(2) as pool:  # the fork server now runs, with this environment
        assert pool.submit(os.getenv, "ATTENTIONLAB_PROBE").result() is None
    monkeypatch.setenv("ATTENTIONLAB_PROBE", "changed since")
    monkeypatch.setenv(THREADS, "4")  # this process's budget, set after the fork server started
    with local_pool(2) as pool:
        assert pool.submit(os.getenv, "ATTENTIONLAB_PROBE").result() == "changed since"
        assert pool.submit(os.getenv, THREADS).result() == "2"  # each worker's share of the budget
