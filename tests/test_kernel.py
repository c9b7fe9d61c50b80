"""Kernel stderr (TensorFlow start-up lines) goes to grader/kernel.log, not the terminal."""
import uuid

import nbformat
from nbgrader.converters.autograde import Autograde

from grader import kernel
from grader.course import config
from grader.execute import execute


def test_kernel_stderr_goes_to_the_log_not_the_terminal(tmp_path, capfd):
    marker = f"stderr-probe-{uuid.uuid4().hex}"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"import os\nos.write(2, b'{marker}\\n')")])
    execute(tmp_path / "probe.ipynb", notebook=nb)
    assert marker not in capfd.readouterr().err
    assert marker in kernel.LOG.read_text()


def test_nbgrader_autograde_uses_the_quiet_kernel_manager():
    execute_step = Autograde(config=config()).autograde_preprocessors[0]
    assert execute_step(config=config()).kernel_manager_class is kernel.QuietKernelManager
