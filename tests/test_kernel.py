"""Kernels of the instructor's notebooks log their stderr; nbgrader's autograde runs the sandboxed steps."""
import uuid

import nbformat
from nbgrader.converters.autograde import Autograde

from grader.grading import kernel
from grader.course import config
from grader.delivery.execute import execute
from grader.grading.preprocessors import SandboxedExecute, SaveVerdicts


def test_kernel_stderr_goes_to_the_log_not_the_terminal(tmp_path, capfd):
    marker = f"stderr-probe-{uuid.uuid4().hex}"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"import os\nos.write(2, b'{marker}\\n')")])
    execute(tmp_path / "probe.ipynb", notebook=nb)
    assert marker not in capfd.readouterr().err
    assert marker in kernel.LOG.read_text()


def test_nbgrader_autograde_is_sandboxed_and_saves_the_graders_verdicts():
    """`nbgrader autograde` and the formgrader read the same config: no unsandboxed path is left."""
    steps = Autograde(config=config()).autograde_preprocessors
    assert SandboxedExecute in steps and SaveVerdicts in steps
    assert not [s for s in steps if s.__name__ in ("Execute", "SaveAutoGrades")]


def test_plain_nbgrader_autograde_runs_the_sandboxed_checks(grading_dir):
    """What the formgrader's button and `nbgrader autograde` run: the same sandbox and grader-side verdicts."""
    from grader.catalogue import submissions
    from grader.grading import autograde
    from grader.course import api

    nb1 = "01_attention_numpy"
    autograde.ensure_in_gradebook(nb1)
    garbage = {"sdpa": "def scaled_dot_product_attention(Q, K, V, mask=None):\n    return 0.0, 0.0"}
    for student, answers in (("plain-ref", submissions.solution_sources(nb1)),
                             ("plain-garbage", {**submissions.solution_sources(nb1), **garbage})):
        submissions.submit(submissions.student_notebook(nb1, answers), nb1, student)
        assert api().autograde(nb1, student)["success"]
    assert all(s == m > 0 for s, m in autograde.scores(nb1, "plain-ref").values())
    kept = {g for g, (s, m) in autograde.scores(nb1, "plain-garbage").items() if s == m}
    assert kept == {"test_softmax", "test_q_scaling", "test_q_memory"}  # what does not call the garbage
