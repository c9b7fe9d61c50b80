"""The course's Jupyter kernel: IPython's kernel, with TensorFlow's start-up lines kept out of the notebook.

TensorFlow's native libraries log "oneDNN custom operations are on" through absl while they load, before absl's
logging is set up, so TF_CPP_MIN_LOG_LEVEL does not apply to it; the kernel forwards the process's stderr (file
descriptor 2) into the cell's output, where a beginner reads it as an error. This kernel points descriptor 2 at a
scratch file while TensorFlow loads, and only then: every other message, and Python's warnings, still show. If the
import fails, what it wrote is shown. The numerics are TensorFlow's defaults (oneDNN stays on).

``python -m attentionlab.kernel -f CONNECTION_FILE`` starts the kernel (the course's kernelspec, installed by
``pip install``: share/jupyter/kernels/attentionlab/kernel.json).
"""
from __future__ import annotations

import contextlib
import importlib.abc
import os
import sys
import tempfile

QUIET_MODULES = ("tensorflow",)  # imported with descriptor 2 on a scratch file
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's own logging: errors only


@contextlib.contextmanager
def native_stderr_caught():
    """Descriptor 2 on a scratch file for the duration; what was written there goes to stderr if the body raises."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            caught.seek(0)
            os.write(2, caught.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class QuietLoader(importlib.abc.Loader):
    """A module's own loader, run with native stderr caught (Python's sys.stderr is untouched)."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        with native_stderr_caught():
            self.loader.exec_module(module)

    def __getattr__(self, name):
        return getattr(self.loader, name)


class QuietImport(importlib.abc.MetaPathFinder):
    """Finds QUIET_MODULES with the finders after it, and loads them through a QuietLoader."""

    def find_spec(self, name, path=None, target=None):
        if name not in QUIET_MODULES:
            return None
        for finder in sys.meta_path[sys.meta_path.index(self) + 1:]:
            spec = finder.find_spec(name, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None and spec.loader is not None:
                spec.loader = QuietLoader(spec.loader)
                return spec
        return None


def quiet_tensorflow() -> None:
    """From now on in this process, TensorFlow's first import writes nothing to descriptor 2 (unless it fails)."""
    if not any(isinstance(finder, QuietImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, QuietImport())


def main() -> None:
    """Start IPython's kernel (as ipykernel_launcher does) with TensorFlow's import made quiet."""
    if sys.path and sys.path[0] in ("", os.getcwd()):  # the notebook's folder comes back once the kernel starts
        del sys.path[0]
    quiet_tensorflow()
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
