"""The grader's side of calls into a student's sandboxed kernel (the format is in attentionlab.probe).

A hidden check receives :class:`Remote` functions in place of the student's: calling one sends the
arguments to the kernel, runs the student's function there, and returns its outputs as NumPy data.
Whatever the kernel does, the grader only reads data back and judges it itself.
"""
from __future__ import annotations

import itertools
import os

from attentionlab import probe

REPLY_BYTES = 256 << 20


class StudentError(Exception):
    """The student's code raised an exception in the kernel (the message is the kernel's)."""


class KernelGone(Exception):
    """The kernel died, or did not answer in time."""


class Kernel:
    """Calls into one kernel, through request files in the sandbox's in/ and replies in its out/."""

    def __init__(self, sandbox, run_code):
        self.sandbox, self.run_code = sandbox, run_code  # run_code(code) executes code in the kernel
        self.numbers = itertools.count(1)

    def call(self, target: dict, args: tuple, kwargs: dict):
        """Call ``target`` in the kernel; return its result, decoded."""
        number, arrays = next(self.numbers), {}
        request = self.sandbox.inbox / f"call-{number}.npz"
        reply = self.sandbox.outbox / f"reply-{number}.npz"
        tree = {"target": target, "args": probe.encode(list(args), arrays), "kwargs": probe.encode(kwargs, arrays)}
        probe.write(request, tree, arrays)
        os.chmod(request, 0o644)
        self.run_code(f"__import__('attentionlab.probe').probe.answer({str(request)!r}, {str(reply)!r})")
        tree, arrays = probe.read(reply, REPLY_BYTES)
        if not isinstance(tree, dict) or not ({"error", "value"} & set(tree)):
            raise probe.MessageError("malformed reply")
        if "error" in tree:
            raise StudentError(str(tree["error"]))
        return probe.decode(tree["value"], arrays, resolve=lambda n: RemoteObject(self, n))


class Remote:
    """A function (or class) of the student's notebook, called in the kernel."""

    def __init__(self, kernel: Kernel, name: str):
        self.kernel, self.name = kernel, name

    def __call__(self, *args, **kwargs):
        return self.kernel.call({"name": self.name}, args, kwargs)

    def value(self, handles: bool = False):
        """The variable's value, sent as data (answers to questions: numbers, strings, lists); with ``handles``, what
        cannot be sent (a model) stays in the kernel and comes back as a :class:`RemoteObject`."""
        return self.kernel.call({"name": self.name, "read": True, "handles": handles}, (), {})

    def __repr__(self):
        return self.name


class RemoteObject(probe.Handle):
    """An object the student's code made in the kernel (e.g. a layer): call it, or call its methods."""

    def __init__(self, kernel: Kernel, number: int):
        super().__init__(number)
        self.kernel = kernel

    def __call__(self, *args, **kwargs):
        return self.kernel.call({"handle": self.number}, args, kwargs)

    def __getattr__(self, method: str):
        if method.startswith("_"):
            raise AttributeError(method)
        return lambda *args, **kwargs: self.kernel.call({"handle": self.number, "method": method}, args, kwargs)
