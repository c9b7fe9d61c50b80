"""A class through nbgrader's exchange, from the command line: release, fetch, submit, collect, grade, feedback.

Students are real system accounts with private homes, as on a hub; they use nbgrader's own commands, the
instructor uses `python -m grader`. A broken exchange stops the instructor with a message naming the fix.
"""
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from grader import exchange, submissions
from grader.course import ROOT, WORKDIR
from grader.release import GradingError

pytestmark = pytest.mark.slow
NB1 = "01_attention_numpy"
COURSE = "attentionlab"
STUDENTS = ("al-student-a", "al-student-b")
NBGRADER = str(Path(sys.executable).with_name("nbgrader"))


@pytest.fixture(scope="module")
def classroom():
    """(exchange, {student: home}): a shared exchange and a private home per student account."""
    if os.geteuid() != 0:
        pytest.skip("creating the students' system accounts (useradd) needs root")
    for student in STUDENTS:
        if subprocess.run(["id", student], capture_output=True).returncode:
            subprocess.run(["useradd", "--system", "--shell", "/usr/sbin/nologin", student], check=True)
    base = Path(tempfile.mkdtemp(prefix="attentionlab-class-"))
    base.chmod(0o755)
    homes = {}
    for student in STUDENTS:
        homes[student] = base / student
        homes[student].mkdir(mode=0o700)
        shutil.chown(homes[student], student, student)
    path = exchange.create(base / "exchange")
    (base / "course").mkdir()
    with pytest.MonkeyPatch.context() as patch:  # this class's own exchange and gradebook
        patch.setenv(exchange.ENV, str(path))
        patch.setenv(WORKDIR, str(base / "course"))
        yield path, homes
    shutil.rmtree(base)


def closed_parent(path: Path) -> Path | None:
    """The outermost folder above ``path`` that other users cannot enter (a Python under /root, say)."""
    closed = [p for p in Path(path).resolve().parents if not stat.S_IMODE(p.stat().st_mode) & stat.S_IXOTH]
    return closed[-1] if closed else None


def as_student(student, home, *args, check=True):
    """Run a command as ``student`` in their home.

    A hub installs the course's Python where every user reaches it; when this machine's Python lives in a
    private folder, the command sees that folder (only it) as a read-only copy, like a student's container.
    """
    user = pwd.getpwnam(student)
    command = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", *args]
    hidden = closed_parent(Path(sys.base_prefix))
    if hidden:
        prefix = str(Path(sys.base_prefix).resolve())
        command = ["bwrap", "--dev-bind", "/", "/", "--tmpfs", str(hidden), "--ro-bind", prefix, prefix,
                   "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--chdir", str(home), "--", *command]
    return subprocess.run(command, cwd=home, capture_output=True, text=True, check=check,
                          env={"HOME": str(home), "PATH": os.environ["PATH"], "LANG": "C.UTF-8"})


def nbgrader(student, home, exchange_root, command):
    """A student's nbgrader command on notebook 1 of the course."""
    return as_student(student, home, NBGRADER, command, NB1, "--course", COURSE, f"--Exchange.root={exchange_root}")


def instructor(command):
    """`python -m grader COMMAND 01_attention_numpy`, as the instructor runs it."""
    done = subprocess.run([sys.executable, "-m", "grader", command, NB1], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_class_round_trip_from_release_to_feedback(classroom):
    root, homes = classroom
    a, b = STUDENTS
    assert "released" in instructor("publish")
    for student in STUDENTS:
        nbgrader(student, homes[student], root, "fetch_assignment")
    fetched = homes[a] / NB1 / f"{NB1}.ipynb"
    nbformat.write(submissions.student_notebook(NB1, submissions.solution_sources(NB1)), fetched)
    shutil.chown(fetched, a, a)
    for student in STUDENTS:  # B hands in the notebook as fetched
        nbgrader(student, homes[student], root, "submit")

    assert "collected 2 new or changed submission(s)" in instructor("collect")
    assert "feedback" in instructor("return")

    pages = {}
    for student in STUDENTS:
        nbgrader(student, homes[student], root, "fetch_feedback")
        (page,) = (homes[student] / NB1 / "feedback").glob(f"*/{NB1}.html")
        pages[student] = page.read_text()
    assert "Score: 14.0 / 14.0" in pages[a] and "Score: 0.0 / 14.0" in pages[b]
    assert b not in pages[a] and a not in pages[b]

    peek = as_student(b, homes[b], "cat", str(fetched), check=False)
    assert peek.returncode and "Permission denied" in peek.stderr, "students read each other's homes"
    listing = as_student(b, homes[b], "ls", str(root / COURSE / "inbound"), check=False)
    assert listing.returncode, "students list each other's submissions"


def test_a_broken_exchange_stops_the_instructor_with_the_fix(classroom):
    root, _ = classroom
    root.chmod(0o755)
    try:
        with pytest.raises(GradingError, match="make exchange"):
            exchange.publish(NB1)
    finally:
        root.chmod(exchange.MODE)
