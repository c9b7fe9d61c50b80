"""Jupyter server settings of `make lab` (JUPYTER_CONFIG_PATH=grader, like nbgrader_config.py beside it)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the grader package is not installed

c = get_config()  # noqa: F821 (provided by traitlets)

# The formgrader's submission views get a Content-Security-Policy forbidding student scripts (grader/grading/csp.py).
c.ServerApp.jpserver_extensions.update({"grader.grading.csp": True})  # added to those enabled, e.g. a hub's single-user
