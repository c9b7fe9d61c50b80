"""Kernels whose stderr goes to a log file, not the terminal (instructor notebooks, calibration).

TensorFlow's start-up lines and ipykernel's warnings are written by the kernel to
stderr, where they would bury the output of a command; grader/kernel.log keeps them.
Students' kernels are started by grader.grading.sandbox instead.
"""
from __future__ import annotations

from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

LOG = Path(__file__).resolve().parents[1] / "kernel.log"  # grader/kernel.log


class QuietKernelManager(AsyncKernelManager):
    """An AsyncKernelManager that appends the kernel's stderr to grader/kernel.log."""

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        with LOG.open("ab") as log:
            kw.setdefault("stderr", log)
            await super()._async_launch_kernel(kernel_cmd, **kw)
