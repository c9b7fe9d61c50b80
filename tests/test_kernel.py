"""Kernels of the instructor's notebooks log their stderr; nbgrader's autograde runs the sandboxed steps."""
import uuid

import nbformat
from nbgrader.converters.autograde import Autograde

from grader import kernel
from grader.course import config
from grader.execute import execute
from grader.preprocessors import SandboxedExecute, SaveVerdicts


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
