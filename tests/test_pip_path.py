"""The path without make (docs/without-make.md): a fresh virtual environment, one `pip install` of the project, then
the self-check of notebook 1's reference answers, with no `make` on the PATH. With pip's cache warm (after
`make install`) the install takes a minute or two; the check about half a minute."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from grader.catalogue import submissions
from grader.course import ROOT

pytestmark = pytest.mark.slow
INSTALL = ["-m", "pip", "install", "--quiet", "-r", "requirements.txt", "."]  # the command docs/without-make.md gives
NB1 = "01_attention_numpy"
OUR_SETTINGS = ("PYTHONPATH", "JUPYTER_PATH", "VIRTUAL_ENV", "PYTHONHOME", "MAKEFLAGS", "MAKELEVEL")


def path_without_make(folder: Path) -> str:
    """A folder of links to the system's commands, every one but make."""
    folder.mkdir()
    for system in ("/usr/local/bin", "/usr/bin", "/bin"):
        for tool in Path(system).iterdir() if Path(system).is_dir() else []:
            if tool.name not in ("make", "gmake") and not (folder / tool.name).exists():
                (folder / tool.name).symlink_to(tool)
    return str(folder)


def test_pip_install_then_self_check_without_make(tmp_path):
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in OUR_SETTINGS}
    env["PATH"] = f"{venv / 'bin'}:{path_without_make(tmp_path / 'bin')}"
    assert shutil.which("make", path=env["PATH"]) is None
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
    python = str(venv / "bin" / "python")
    done = subprocess.run([python, *INSTALL], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    installed = time.monotonic() - start
    kernels = subprocess.run([python, "-m", "jupyter", "kernelspec", "list"], env=env, capture_output=True, text=True)
    assert f"attentionlab    {venv}" in kernels.stdout, kernels.stdout  # the course's kernel, in the new environment
    notebook = tmp_path / f"{NB1}.ipynb"
    nbformat.write(submissions.student_notebook(NB1, submissions.solution_sources(NB1)), notebook)
    done = subprocess.run([python, "-m", "grader", "check", str(notebook)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    print(f"pip install: {installed:.0f} s; grader check: {time.monotonic() - start - installed:.0f} s")
    assert done.returncode == 0 and done.stdout.startswith(f"{NB1}: 14/14"), done.stdout + done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "oneDNN" not in done.stderr
