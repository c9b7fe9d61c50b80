"""Hidden checks: run by the grader, in its own process, never inside a notebook.

Each check is a function tagged with the test cell it grades and the names of the student's
functions it takes. While grading, it receives those functions as :class:`grader.hidden.remote.Remote`
calls into the student's sandboxed kernel; it draws the inputs, and it judges the outputs here,
so nothing a submission does to its own interpreter changes the verdict. remote.py is the grader's side of those
calls (the kernel's side is attentionlab/probe.py); forward.py decodes a handed-in translator in NumPy.
"""
from __future__ import annotations

import importlib
import os
import secrets
from dataclasses import dataclass
from typing import Callable

from grader.course import CHECK_SEED, base
from grader.hidden.remote import KernelGone, StudentError
from grader.i18n import N_, _

# The checks' inputs are drawn anew for every grading run (fix them with ATTENTIONLAB_CHECK_SEED to reproduce one):
# a submission cannot know them in advance, and feedback that shows one reveals nothing about the next run.
BASE_SEED = int(os.environ.get(CHECK_SEED) or secrets.randbits(30))
MODULES = {"01_attention_numpy": "numpy_attention", "02_keras_mha": "keras_mha", "03_masks": "masks",
           "04_seq2seq": "seq2seq", "05_cross_attention": "cross_attention",
           "06_transformer_lm": "transformer_lm", "07_attention_at_scale": "at_scale"}


NOT_ANSWERED = N_("Not answered yet: replace `raise NotImplementedError()` by your code.")  # shown as _(NOT_ANSWERED)


def fresh(salt: int) -> int:
    """The seed of one check's inputs in this grading run (``salt`` tells the checks apart)."""
    return (BASE_SEED + salt) % 2**31


class SetupError(RuntimeError):
    """The grader's own set-up is wrong (data, baseline): a grading error, never a score."""


@dataclass(frozen=True)
class Check:
    """A hidden check of the test cell ``grade_id``, taking the student's ``names``."""

    grade_id: str
    names: tuple[str, ...]
    run: Callable


def hidden_check(grade_id: str, *names: str):
    """Tag a check with the test cell it grades and the names of the student's functions it takes."""
    def tag(fn):
        fn.check = Check(grade_id, names, fn)
        return fn

    return tag


def checks_for(assignment: str) -> dict[str, Check]:
    """grade_id -> Check, for every hidden check of ``assignment``."""
    module = importlib.import_module(f"grader.hidden.{MODULES[base(assignment)]}")
    found = [fn.check for fn in vars(module).values() if isinstance(getattr(fn, "check", None), Check)]
    return {c.grade_id: c for c in found}


def verdict(check: Check, functions: dict) -> tuple[bool, str | None]:
    """Run ``check`` on the student's ``functions``: (passed, message for the student, if any).

    SetupError propagates: a broken grading set-up must not turn into a score.
    """
    try:
        return True, check.run(*(functions[name] for name in check.names))
    except SetupError:
        raise
    except AssertionError as exc:
        return False, str(exc) or _("A hidden test failed.")
    except StudentError as exc:
        if str(exc).startswith("NotImplementedError"):
            return False, _(NOT_ANSWERED)
        return False, _("Your code raised {error} in a hidden test.", error=exc)
    except KernelGone as exc:
        return False, _("Your notebook's kernel stopped during a hidden test: {reason}", reason=exc)
    except Exception as exc:  # what the student's function returned could not be checked
        return False, _("A hidden test could not use what your code returned ({error_type}: {error}).",
                         error_type=type(exc).__name__, error=exc)
