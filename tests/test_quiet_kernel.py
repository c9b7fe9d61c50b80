"""The course's kernel (attentionlab.kernel): TensorFlow's start-up lines stay out of the notebook, nothing else does."""
import subprocess
import sys
import textwrap

import pytest
from jupyter_client.kernelspec import KernelSpecManager

from grader.course import KERNEL


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300)


def test_tensorflow_loads_without_a_line_on_stderr_and_warnings_still_show():
    done = run("""
        import warnings
        from attentionlab.kernel import quiet_tensorflow
        quiet_tensorflow()
        import keras
        print(float(keras.ops.sum(keras.ops.ones(3))))
        warnings.warn("a warning of the student's code")
    """)
    assert done.stdout == "3.0\n"
    assert done.stderr.strip().endswith("UserWarning: a warning of the student's code"), done.stderr
    assert "oneDNN" not in done.stderr and "absl" not in done.stderr


def test_without_it_tensorflow_writes_its_start_up_lines():
    """What the kernel removes (if TensorFlow stops writing them, this test says the kernel may go)."""
    assert "oneDNN custom operations are on" in run("import tensorflow").stderr


@pytest.mark.parametrize("fails", [False, True])
def test_only_a_failing_import_shows_what_it_wrote(tmp_path, fails):
    (tmp_path / "noisy.py").write_text("import os\nos.write(2, b'native noise\\n')\n"
                                       + ("raise ImportError('broken')\n" if fails else ""))
    done = run(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from attentionlab import kernel
        kernel.QUIET_MODULES = ("noisy",)
        kernel.quiet_tensorflow()
        try:
            import noisy
        except ImportError as exc:
            print("failed:", exc)
        import os
        os.write(2, b"after\\n")
    """)
    assert done.stderr == ("native noise\nafter\n" if fails else "after\n")
    assert done.stdout == ("failed: broken\n" if fails else "")


def test_the_installed_kernelspec_starts_the_course_kernel():
    argv = KernelSpecManager().get_kernel_spec(KERNEL).argv
    assert argv[argv.index("-m") + 1] == "attentionlab.kernel", f"{argv}: run `make install`"
