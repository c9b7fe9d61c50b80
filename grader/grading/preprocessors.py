"""nbgrader autograde steps that make grades trustworthy.

:class:`SandboxedExecute` replaces nbgrader's Execute: the student's kernel runs in a :class:`Sandbox`,
and after each test cell the grader runs that cell's hidden check in its own process. The verdict
goes into ``resources`` (which the kernel cannot touch), a failure also into the cell's outputs for the
feedback. :class:`SaveVerdicts` replaces SaveAutoGrades: a test cell scores its points when its hidden
check passed and the visible tests raised no error; output to stderr (warnings) costs nothing, and
nothing the kernel prints can add points.
"""
from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import zmq
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_code_cell, new_output
from nbgrader import utils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor, SaveAutoGrades
from traitlets import Unicode

from attentionlab.i18n import ENV as LANGUAGE_ENV
from attentionlab.i18n import use
from grader import hidden
from grader.course import KERNEL, data_for, language, limits_for
from grader.grading.inert import Inert
from grader.grading.kernel import LOG
from grader.hidden.remote import Kernel, KernelGone, Remote
from grader.i18n import N_, _
from grader.grading.sandbox import Sandbox, SandboxKernelManager

VERDICTS = "attentionlab"  # resources key: {"verdicts": {grade_id: (passed, message)}, "stopped": reason, "mode": ...}
MAX_MESSAGE_BYTES = 64 << 20
OUTCOME = "outcome.json"  # what a worker returned, staged for ReplayExecute
TOP = N_("at the top")  # where the student is before the notebook's first heading


def error_output(message: str, ename: str = "AssertionError"):
    """An error output as a failing assertion shows it."""
    return new_output("error", ename=ename, evalue=message, traceback=[f"{ename}: {message}"])


def is_test(cell) -> bool:
    """A graded code cell that is not a solution: a test cell."""
    return utils.is_grade(cell) and not utils.is_solution(cell) and cell.cell_type == "code"


def first_error(cell):
    """The error output of a code cell, or None."""
    return next((o for o in cell.get("outputs", []) if o.output_type == "error"), None)


def heading(cell) -> str | None:
    """The last heading of a markdown cell, without its #s: where the student is in the notebook."""
    titles = [line.lstrip("#").strip() for line in cell.source.splitlines() if line.startswith("#")]
    return titles[-1] if titles else None


@dataclass(frozen=True)
class Failed:
    """A cell that is not a test and stopped with an error: where it is, the error's name, its code, the name it
    found undefined, if that was its error, and whether it is one of the student's answer cells (None: when ``where``
    is "your cell ...", in English)."""

    where: str
    ename: str
    source: str
    missing: str | None = None
    answer: bool | None = None

    @property
    def is_answer(self) -> bool:
        return self.where.startswith("your cell") if self.answer is None else self.answer


def missing_name(message: str | None, error) -> str | None:
    """The name a failure found undefined (in the visible tests' error or the hidden check's message), if any."""
    text = f"{error.ename}: {error.evalue}" if error is not None else message or ""
    found = re.search(r"NameError: name '(\w+)' is not defined", text)
    return found.group(1) if found else None


def cause(name: str, failed: list[Failed]) -> Failed | None:
    """The failed cell at the root of an undefined ``name``: the latest that names it (else the latest), followed back
    while that cell itself stopped on an undefined name."""
    if not failed:
        return None
    index = next((i for i in reversed(range(len(failed))) if re.search(rf"\b{name}\b", failed[i].source)),
                 len(failed) - 1)
    found = failed[index]
    return (cause(found.missing, failed[:index]) if found.missing else None) or found


def fix_first(earlier: Failed) -> str:
    """The message of a test that failed because an earlier cell did: which cell to fix first."""
    if earlier.ename == "NotImplementedError" and earlier.is_answer:
        return _("Not answered yet: {cell} is still empty. Answer it, then run the notebook again from the top.",
                 cell=earlier.where)
    if earlier.ename == "NotImplementedError":
        return _("This test could not run: {cell} uses an exercise you have not answered yet. Answer the exercises "
                 "above it, then run the notebook again from the top.", cell=earlier.where)
    return _("This test could not run: {cell} stopped with {error}, so what it defines does not exist. Fix that cell "
             "first, then run the notebook again from the top.", cell=earlier.where, error=earlier.ename)


class SandboxedExecute(Execute):
    """Execute in a sandboxed kernel; run each test cell's hidden check in the grader's process."""

    def preprocess(self, nb, resources, km=None):
        """Grade in the edition's language: the kernel's messages and the hidden checks' (scores never differ)."""
        lang = language(resources["nbgrader"]["assignment"])
        with use(lang):
            return self._preprocess(nb, resources, lang)

    def _preprocess(self, nb, resources, lang: str):
        assignment = resources["nbgrader"]["assignment"]
        self.checks, self.limits = hidden.checks_for(assignment), limits_for(assignment)
        self.sandbox = Sandbox(self.limits, data=data_for(assignment), env={LANGUAGE_ENV: lang})
        self.state = resources[VERDICTS] = {"verdicts": {}, "stopped": None, "mode": self.sandbox.mode}
        self.output_bytes, self.deadline = 0, time.monotonic() + self.limits.wall_seconds
        self.section, self.failed = _(TOP), []  # where the student is; the cells (not tests) that failed
        folder, manager = Path(resources["metadata"]["path"]), None
        try:
            for path in folder.iterdir():  # the student's folder, minus the notebooks: a private copy
                if path.is_file() and path.suffix != ".ipynb":
                    shutil.copy(path, self.sandbox.home / path.name)
            resources["metadata"]["path"] = str(self.sandbox.home)
            self.interrupt_on_timeout = False
            manager = SandboxKernelManager(self.sandbox, kernel_name=KERNEL)
            manager.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
            nb, resources = super().preprocess(nb, resources, km=manager)
            nb.metadata["attentionlab"] = {k: self.state.get(k) for k in ("mode", "stopped", "truncated")}
            return nb, resources
        finally:
            if manager is not None and manager.has_kernel:  # nbclient leaves a kernel it did not start: end it
                run_sync(manager.shutdown_kernel)(now=True)
            resources["metadata"]["path"] = str(folder)
            self._keep_log(resources["nbgrader"])
            self.sandbox.cleanup()

    def _keep_log(self, who: dict) -> None:
        """The end of the kernel's stderr, appended to grader/kernel.log under the student's name."""
        tail = self.sandbox.log.read_bytes()[-20000:] if self.sandbox.log.is_file() else b""
        with LOG.open("ab") as log:
            log.write(f"\n== {who['student']} / {who['assignment']} ==\n".encode() + tail)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            self.section = heading(cell) or self.section
        if cell.cell_type == "code":
            self._execute(cell, index)
        if is_test(cell):
            self._judge(cell)
        elif first_error(cell) is not None:
            answer = utils.is_solution(cell)
            where = (_("your cell `{grade_id}`", grade_id=cell.metadata.nbgrader.grade_id) if answer
                     else _("the cell of section \"{section}\"", section=self.section))
            error = first_error(cell)
            self.failed.append(Failed(where, error.ename, cell.source, missing_name(None, error), answer))
        return cell, self.resources

    def _execute(self, cell, index) -> None:
        """Run one cell within what is left of the wall time; a time-out or a dead kernel stops the notebook."""
        if self.state["stopped"]:
            return
        self.timeout = max(1, int(self.deadline - time.monotonic()))
        try:
            self.execute_cell(cell, index, store_history=True)
        except CellTimeoutError:
            self._stop(cell, _("the notebook ran out of time (limit {seconds:.0f} s)",
                               seconds=self.limits.wall_seconds))
        except DeadKernelError:
            self._stop(cell, _("the kernel died (the code ended its process, or used too much memory)"))

    def _stop(self, cell, reason: str) -> None:
        self.state["stopped"] = reason
        cell.outputs.append(error_output(_("Grading stopped here: {reason}.", reason=reason), "GradingStopped"))
        run_sync(self.km.shutdown_kernel)(now=True)

    def _judge(self, cell) -> None:
        """Run the hidden check of a test cell; record the verdict, and show a failure or a note in the cell."""
        grade_id = cell.metadata.nbgrader.grade_id
        check = self.checks.get(grade_id)
        if self.state["stopped"]:
            passed, message = False, _("Not graded: {reason}.", reason=self.state["stopped"])
        elif check is None:
            raise hidden.SetupError(f"no hidden check for {grade_id}")
        else:
            kernel = Kernel(self.sandbox, self._run_code, self.km.provisioner.pid)
            passed, message = hidden.verdict(check, {name: Remote(kernel, name) for name in check.names})
        visible_error = first_error(cell)
        self.state["verdicts"][grade_id] = (passed and visible_error is None, message)
        name = missing_name(message, visible_error) if not passed or visible_error else None
        if name and cause(name, self.failed):
            cell.outputs = [o for o in cell.outputs if o is not visible_error]  # the name was never defined: say why
            cell.outputs.append(error_output(fix_first(cause(name, self.failed)), "NotRun"))
        elif visible_error is not None and visible_error.ename == "NotImplementedError":  # a bare, empty error
            cell.outputs = [o for o in cell.outputs if o is not visible_error]
            cell.outputs.append(error_output(_(hidden.NOT_ANSWERED), "NotAnswered"))
        elif visible_error is None and message:  # one message per failure: a visible test's says what is wrong
            cell.outputs.append(new_output("stream", name="stdout", text=message + "\n") if passed
                                else error_output(message))

    def _run_code(self, code: str) -> None:
        """Execute grader code (one call into attentionlab.probe) in the kernel; its outputs are dropped.

        Not through execute_cell, which would put the code in the notebook in place of one of its cells.
        """
        self.timeout = max(1, int(self.deadline - time.monotonic()))
        try:
            msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
            self.wait_for_reply(msg_id, new_code_cell(code))
        except CellTimeoutError:
            self.state["stopped"] = _("a hidden test ran out of time (limit {seconds:.0f} s)",
                                      seconds=self.limits.wall_seconds)
            run_sync(self.km.shutdown_kernel)(now=True)
            raise KernelGone(self.state["stopped"]) from None
        except DeadKernelError:
            self.state["stopped"] = _("the kernel died during a hidden test")
            raise KernelGone(self.state["stopped"]) from None

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most limits.output_bytes of outputs per notebook; say so once when cutting."""
        self.output_bytes += len(json.dumps(msg.get("content", {}), default=str))
        if self.output_bytes <= self.limits.output_bytes:
            return super().output(outs, msg, display_id, cell_index)
        if not self.state.get("truncated"):
            self.state["truncated"] = True
            cut = _("[output cut: the notebook printed too much]")
            outs.append(new_output("stream", name="stdout", text=f"\n{cut}\n"))
        return None


class ReplayExecute(NbGraderPreprocessor):
    """Put in the outputs and verdicts of a run a worker made (grader.grading.worker): the coordinator executes nothing."""

    outcome_dir = Unicode(help="folder of <student>/<assignment>/outcome.json files").tag(config=True)

    def preprocess(self, nb, resources):
        who = resources["nbgrader"]
        outcome = json.loads((Path(self.outcome_dir) / who["student"] / who["assignment"] / OUTCOME).read_text())
        ran = nbformat.reads(outcome["notebook"], as_version=4)
        if [c.source for c in ran.cells] != [c.source for c in nb.cells]:
            raise hidden.SetupError("the notebook the worker ran is not the one being recorded")
        for cell, done in zip(nb.cells, ran.cells):
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = done.outputs, done.execution_count
        nb.metadata["attentionlab"] = ran.metadata.get("attentionlab", {})
        resources[VERDICTS] = {"verdicts": {k: tuple(v) for k, v in outcome["verdicts"].items()}}
        return nb, resources


class SaveVerdicts(SaveAutoGrades):
    """Save the grader's verdicts (not what the cells printed) as the autograded scores."""

    def preprocess(self, nb, resources):
        self.verdicts = resources[VERDICTS]["verdicts"]
        return super().preprocess(nb, resources)

    def _add_score(self, cell, resources) -> None:
        if not is_test(cell):  # a written answer: nbgrader's own rule (it waits for manual grading)
            return super()._add_score(cell, resources)
        grade = self.gradebook.find_grade(cell.metadata.nbgrader.grade_id, self.notebook_id, self.assignment_id,
                                          self.student_id)
        passed = self.verdicts.get(grade.name, (False, None))[0]
        grade.auto_score = float(cell.metadata.nbgrader.points) if passed else 0.0
        grade.needs_manual_grade = grade.manual_score is not None
        self.gradebook.db.commit()


def autograde_preprocessors(execute: type = None) -> list[type]:
    """nbgrader's autograde pipeline with SandboxedExecute (or ``execute``) and SaveVerdicts in place of Execute
    and SaveAutoGrades, and Inert right after the execution: the stored notebook runs nothing in a browser."""
    from nbgrader.converters.autograde import Autograde

    swap = {Execute: [execute or SandboxedExecute, Inert], SaveAutoGrades: [SaveVerdicts]}
    default = Autograde.class_traits()["autograde_preprocessors"].make_dynamic_default()
    return [kept for step in default for kept in swap.get(step, [step])]
