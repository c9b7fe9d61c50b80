"""Kernels whose stderr goes to a log file, not the terminal.

TensorFlow's start-up lines and ipykernel's warnings are written by the kernel to
stderr, where they would bury the grade table; grader/kernel.log keeps them.
"""
from __future__ import annotations

from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbgrader.converters.autograde import Autograde
from nbgrader.preprocessors import Execute

LOG = Path(__file__).resolve().parent / "kernel.log"


class QuietKernelManager(AsyncKernelManager):
    """An AsyncKernelManager that appends the kernel's stderr to grader/kernel.log."""

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        with LOG.open("ab") as log:
            kw.setdefault("stderr", log)
            await super()._async_launch_kernel(kernel_cmd, **kw)


class QuietExecute(Execute):
    """nbgrader's Execute with a QuietKernelManager (nbgrader sets the manager class itself, ignoring config)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", QuietKernelManager)
        super().__init__(*args, **kwargs)


def autograde_preprocessors() -> list[type]:
    """nbgrader's autograde pipeline, with QuietExecute in place of Execute."""
    default = Autograde.class_traits()["autograde_preprocessors"].make_dynamic_default()
    return [QuietExecute if step is Execute else step for step in default]
