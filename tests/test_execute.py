"""Executing notebooks shows progress: each slow cell and each training epoch, with elapsed time and time left."""
import re

import nbformat
import pytest

from grader.delivery.execute import execute

pytestmark = pytest.mark.slow  # starts a kernel


def test_progress_names_slow_cells_and_epochs_with_time_left(tmp_path, capsys):
    cells = ["x = 1",  # quick: no line
             "import time\ntime.sleep(2.5)",
             "import sys, time\nfor e in (1, 2, 3):\n    print(f'Epoch {e}/3', flush=True)\n    time.sleep(0.6)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    execute(tmp_path / "probe.ipynb", notebook=nb, progress=True)
    err = capsys.readouterr().err
    assert re.search(r"probe cell 2/3 took \d+ s", err)
    assert "cell 1/3" not in err
    assert "training: epoch 1/3" in err
    assert re.search(r"training: epoch 3/3, \d+ s per epoch, about \d+ s left", err)


def test_no_progress_unless_asked(tmp_path, capsys):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time\ntime.sleep(2.5)\nprint('Epoch 1/1')")])
    execute(tmp_path / "probe.ipynb", notebook=nb)
    assert capsys.readouterr().err == ""
