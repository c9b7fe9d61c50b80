"""The self-check: a learner's notebook graded with the instructor's checks, in the sandbox, no gradebook; what it
says while it runs, and its one-line errors."""
import os
import subprocess
import sys

import nbformat
import pytest

from grader.catalogue import mistakes, submissions
from grader.course import ROOT
from grader.grading import check as self_check
from grader.grading import sanitize
from grader.grading.check import Progress, check, report

pytestmark = pytest.mark.slow


def grader_check(path, **env) -> subprocess.CompletedProcess:
    """`python -m grader check PATH` as a student runs it, from the course's folder."""
    return subprocess.run([sys.executable, "-m", "grader", "check", str(path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=900, env={**os.environ, **env})


def test_self_check_gives_points_and_the_fix_also_to_a_jupyterlab_copy(tmp_path):
    mistake = next(m for m in mistakes.MISTAKES if m.name == "no-scaling")
    path = tmp_path / "01_attention_numpy-Copy1.ipynb"  # JupyterLab's "Duplicate"
    nbformat.write(submissions.with_edits(mistake), path)
    result = check(path, progress=False)
    assert (result.score, result.max_score, result.lost(), result.error) == (12, 14, ["test_sdpa_values"], None)
    text = report(result)
    assert "test_sdpa_values           0/2" in text and "√d" in text and "bwrap" in text
    assert f"{path} was checked as 01_attention_numpy." in text


def test_blank_notebook_is_told_what_is_not_done(tmp_path):
    path = tmp_path / "03_masks.ipynb"
    nbformat.write(submissions.student_notebook("03_masks", {}), path)
    assert "Not answered yet" in report(check(path, progress=False))


@pytest.mark.parametrize("name, content, said", [
    ("nowhere/01_attention_numpy.ipynb", None, "no notebook at "),
    ("homework.ipynb", "{}", "is not a notebook of this course"),
    ("01_attention_numpy/Untitled.ipynb", '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
     "holds none of the exercises of 01_attention_numpy"),
    ("02_keras_mha.ipynb", "not json", "not valid notebook JSON"),
    ("01_attention_numpy.py", "print(1)", "is not a Jupyter notebook"),
])
def test_a_wrong_path_or_file_is_refused_in_one_line(tmp_path, name, content, said):
    path = tmp_path / name
    if content is not None:
        path.parent.mkdir(exist_ok=True)
        path.write_text(content)
    with pytest.raises(sanitize.SubmissionError, match=said):
        check(path)


def test_the_command_says_a_wrong_path_in_one_line_without_a_traceback(tmp_path):
    done = grader_check(tmp_path / "01_attention_numpy.ipynb")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: no notebook at ")
    assert "notebooks/01_attention_numpy/01_attention_numpy.ipynb" in done.stderr


@pytest.mark.parametrize("name, assignment", [("03_masks/Untitled1.ipynb", "03_masks"),
                                              ("Copy of 02_keras_mha.ipynb", "02_keras_mha"),  # Colab's copy
                                              ("03_masks/07_attention_at_scale-Copy2.ipynb", "07_attention_at_scale")])
def test_a_copy_is_checked_as_its_name_or_else_its_folder_says(tmp_path, name, assignment):
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_text("{}")
    assert self_check.assignment_of(path) == assignment


def test_progress_names_the_cell_and_the_epochs_left(capsys, monkeypatch):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## 6. Training"),
                                         nbformat.v4.new_code_cell("run = train()")])
    clock = iter([100.0, 110.0, 122.0])
    monkeypatch.setattr(self_check.time, "monotonic", lambda: next(clock))
    progress = Progress(nb, "04_seq2seq")
    progress.cell_started(nb.cells[1], 1)
    for epoch in (1, 2, 3):
        progress.text(f"Epoch {epoch}/20\n137/137 - 6s - loss: 2.1\n")
    progress.bar.refresh()
    shown = capsys.readouterr().err
    assert "checking 04_seq2seq: cell 1/1" in shown and "6. Training: training, epoch 1/20" in shown
    assert "epoch 3/20, 11 s each, at most 03:18 left" in shown  # (10 + 12) / 2 s, 18 epochs at most
    progress.close()


@pytest.mark.training
def test_the_command_shows_progress_on_stderr_and_nothing_else(tmp_path):
    """A training notebook, its training cut to two batches (one epoch: Keras prints no epoch line for a single
    epoch; the epochs are tested above)."""
    path = tmp_path / "04_seq2seq.ipynb"
    nbformat.write(submissions.student_notebook("04_seq2seq", submissions.solution_sources("04_seq2seq")), path)
    done = grader_check(path, ATTENTIONLAB_TRAIN_BATCHES="2")
    assert done.returncode == 0 and done.stdout.startswith("04_seq2seq: "), done.stderr[-2000:]
    frames = [f.strip() for f in done.stderr.replace("\n", "\r").split("\r") if f.strip()]
    assert "checking 04_seq2seq: cell 10/19" in done.stderr and "`train`" in done.stderr
    assert all(f.startswith("checking 04_seq2seq: cell ") for f in frames), [
        f for f in frames if not f.startswith("checking")][:5]  # no TensorFlow start-up lines, no warnings
