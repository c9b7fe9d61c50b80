"""The grader's side of calls into a student's sandboxed kernel (the format is in attentionlab.probe).

A hidden check receives :class:`Remote` functions in place of the student's: calling one sends the
arguments to the kernel, runs the student's function there, and returns its outputs as NumPy data.
Whatever the kernel does, the grader only reads data back and judges it itself. What a call costs in memory the
grader reads from /proc, outside the kernel: :meth:`Remote.footprint`.
"""
from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from attentionlab import probe
from grader.i18n import _

REPLY_BYTES = 256 << 20


class StudentError(Exception):
    """The student's code raised an exception in the kernel (the message is the kernel's)."""


class KernelGone(Exception):
    """The kernel died, or did not answer in time."""


class Unmeasurable(RuntimeError):
    """The grader cannot read the memory of the kernel's processes (its own set-up, never the student's doing)."""


@dataclass(frozen=True)
class Footprint:
    """The memory a call used, read by the grader from /proc: nothing the kernel does to itself changes it."""

    bytes: int  # over the sandbox's processes: the growth of each one's peak resident memory during the call, or the
    # resident memory the call touched (a buffer kept from an earlier call), whichever is larger
    ended: bool  # processes ended during the call: what they used is beyond measure


class Kernel:
    """Calls into one kernel, through request files in the sandbox's in/ and replies in its out/."""

    def __init__(self, sandbox, run_code, pid: int | None = None):
        self.sandbox, self.run_code = sandbox, run_code  # run_code(code) executes code in the kernel
        self.pid = pid  # the process that started the kernel (bubblewrap's): the sandbox's processes descend from it
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
            raise probe.MessageError(_("malformed reply"))
        if "error" in tree:
            raise StudentError(str(tree["error"]))
        return probe.decode(tree["value"], arrays, resolve=lambda n: RemoteObject(self, n))

    def measured_call(self, target: dict, args: tuple, kwargs: dict):
        """Call ``target`` in the kernel; return its result and the :class:`Footprint` of the call."""
        if self.pid is None:
            raise Unmeasurable("the kernel's process is unknown: its memory cannot be measured")
        before = {pid: _start_measuring(pid) for pid in descendants(self.pid)}
        result = self.call(target, args, kwargs)
        after = {pid: _usage(pid) for pid in descendants(self.pid)}
        used = sum(max(peak - before.get(pid, (0, 0))[0], touched) for pid, (peak, touched, _) in after.items())
        ended = (set(before) - set(after) or any(zombie for *_, zombie in after.values())
                 or sum(ticks for _, ticks in before.values()) < sum(_reaped_ticks(pid) for pid in after))
        return result, Footprint(used, bool(ended))


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

    def footprint(self, *args, **kwargs):
        """(result, :class:`Footprint`): the function called, and the memory it used, measured outside the kernel."""
        return self.kernel.measured_call({"name": self.name}, args, kwargs)

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


# ---------------------------------------------------------------- memory of the sandbox's processes, from /proc

def descendants(root: int) -> list[int]:
    """``root`` and every process under it (in the sandbox's PID namespace, orphans stay under its init)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        stat = _read(Path(entry.path, "stat")) if entry.name.isdigit() else ""
        if stat:
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    found = [root]
    for pid in found:
        found += children.get(pid, [])
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:  # the process has ended
        return ""


def _kib(text: str, field: str) -> int:
    """A ``field: N kB`` line of a /proc file, in bytes (0 if absent: the process ended, or holds no memory)."""
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(found[1]) * 1024 if found else 0


def _start_measuring(pid: int) -> tuple[int, int]:
    """Reset the process's peak resident memory and its pages' accessed bits; return (resident bytes, reaped ticks)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("1")  # clear the accessed bits: "Referenced" counts from now
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
    except (FileNotFoundError, ProcessLookupError):  # the process has ended
        pass
    except OSError as exc:
        raise Unmeasurable(f"cannot reset the memory counters of the kernel's process {pid}: {exc}") from None
    return _kib(_read(Path(f"/proc/{pid}/status")), "VmRSS"), _reaped_ticks(pid)


def _usage(pid: int) -> tuple[int, int, bool]:
    """(peak resident bytes since the reset, bytes of resident memory accessed since the reset, ended unreaped)."""
    status = _read(Path(f"/proc/{pid}/status"))
    zombie = bool(re.search(r"^State:\s+Z", status, re.M))
    return _kib(status, "VmHWM"), _kib(_read(Path(f"/proc/{pid}/smaps_rollup")), "Referenced"), zombie


def _reaped_ticks(pid: int) -> int:
    """CPU ticks of the ended children the process has reaped (cutime + cstime)."""
    fields = _read(Path(f"/proc/{pid}/stat")).rsplit(")", 1)[-1].split()
    return int(fields[13]) + int(fields[14]) if len(fields) > 14 else 0
