"""A class through nbgrader's exchange, from the command line: release, fetch, submit, collect, grade, feedback.

Students are real system accounts with private homes, as on a hub; they use nbgrader's own commands, the
instructor uses `python -m grader`. A broken exchange stops the instructor with a message naming the fix.
"""
import csv
import datetime
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from grader import course
from grader.catalogue import submissions
from grader.delivery import exchange
from grader.grading import autograde
from grader.course import ROOT, SOLUTIONS, WORKDIR, api
from grader.delivery.release import GradingError

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
        patch.setenv(course.EXCHANGE, str(path))
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


def nbgrader(student, home, exchange_root, command, *options):
    """A student's nbgrader command on notebook 1 of the course."""
    return as_student(student, home, NBGRADER, command, NB1, "--course", COURSE, f"--Exchange.root={exchange_root}",
                      *options)


def instructor(command, *students):
    """`python -m grader COMMAND 01_attention_numpy [STUDENT...]`, as the instructor runs it."""
    done = subprocess.run([sys.executable, "-m", "grader", command, NB1, *students], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def handed_in(classroom):
    """(exchange, homes): notebook 1 published and fetched; A handed in the reference answers, B the blank notebook."""
    root, homes = classroom
    a, _ = STUDENTS
    assert "released" in instructor("publish")
    for student in STUDENTS:
        nbgrader(student, homes[student], root, "fetch_assignment")
    fetched = homes[a] / NB1 / f"{NB1}.ipynb"
    nbformat.write(submissions.student_notebook(NB1, submissions.solution_sources(NB1)), fetched)
    shutil.chown(fetched, a, a)
    for student in STUDENTS:  # B hands in the notebook as fetched
        nbgrader(student, homes[student], root, "submit")
    return root, homes


def feedback_pages(root, homes):
    """{student: their newest feedback page}, after `python -m grader return` and each student's fetch_feedback."""
    assert "feedback" in instructor("return")
    pages = {}
    for student in STUDENTS:
        nbgrader(student, homes[student], root, "fetch_feedback")
        page = sorted((homes[student] / NB1 / "feedback").glob(f"*/{NB1}.html"))[-1]
        pages[student] = page.read_text()
    return pages


def test_a_class_round_trip_from_release_to_feedback(handed_in):
    root, homes = handed_in
    a, b = STUDENTS
    fetched = homes[a] / NB1 / f"{NB1}.ipynb"
    assert "collected 2 new or changed submission(s)" in instructor("collect")
    pages = feedback_pages(root, homes)
    assert "Score: 14.0 / 14.0" in pages[a] and "Score: 0.0 / 14.0" in pages[b]
    assert b not in pages[a] and a not in pages[b]

    peek = as_student(b, homes[b], "cat", str(fetched), check=False)
    assert peek.returncode and "Permission denied" in peek.stderr, "students read each other's homes"
    listing = as_student(b, homes[b], "ls", str(root / COURSE / "inbound"), check=False)
    assert listing.returncode, "students list each other's submissions"


def test_students_cannot_move_the_course_out_of_the_exchange(handed_in):
    root, homes = handed_in
    _, b = STUDENTS
    moved = as_student(b, homes[b], "mv", str(root / COURSE), str(root / "moved"), check=False)
    if not moved.returncode:
        (root / "moved").rename(root / COURSE)
    assert moved.returncode and "Operation not permitted" in moved.stderr, "a student can swap the course's folders"


def test_a_broken_exchange_stops_the_instructor_with_the_fix(classroom):
    root, _ = classroom
    root.chmod(0o755)
    try:
        with pytest.raises(GradingError, match="make exchange"):
            exchange.publish(NB1)
    finally:
        root.chmod(exchange.MODE)


def stamp(moment: datetime.datetime) -> str:
    """A date as nbgrader's submit writes it, in folder names and timestamp.txt."""
    return f"{moment:%Y-%m-%d %H:%M:%S.%f} UTC"


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def plant(root, homes, owner, student, moment, *commands) -> Path:
    """As ``owner``, by hand: a folder in the inbound under ``student``'s name dated ``moment``, holding the
    released (blank) notebook, timestamp.txt and a secret; then the shell ``commands`` run in it."""
    folder = root / COURSE / "inbound" / f"{student}+{NB1}+{stamp(moment)}+planted"
    released = root / COURSE / "outbound" / NB1 / f"{NB1}.ipynb"
    script = [f"mkdir {shlex.quote(str(folder))}", f"cd {shlex.quote(str(folder))}", f"cp {released} .",
              f"printf %s {shlex.quote(stamp(moment))} > timestamp.txt", "printf planted > submission_secret.txt",
              *commands]
    as_student(owner, homes[owner], "sh", "-c", " && ".join(script))
    return folder


def collected() -> dict[str, bytes]:
    """Every file of the submitted folder (relative path -> content)."""
    top = course.folder("submitted")
    return {str(p.relative_to(top)): p.read_bytes() for p in sorted(top.rglob("*")) if p.is_file()}


def grades() -> dict[str, tuple[str, str, str]]:
    """student -> (status, score, max score) of notebook 1 in grades.csv."""
    with autograde.csv_path().open(newline="") as fh:
        return {r["student"]: (r["status"], r["score"], r["max_score"]) for r in csv.DictReader(fh)
                if r["assignment"] == NB1}


@pytest.fixture
def graded(handed_in):
    """(exchange, homes) once the honest submissions are collected and graded; folders a test plants in the
    inbound are removed after it."""
    root, homes = handed_in
    instructor("collect")
    inbound = root / COURSE / "inbound"
    before = set(os.listdir(inbound))
    yield root, homes
    for name in set(os.listdir(inbound)) - before:
        path = inbound / name
        path.unlink() if path.is_symlink() or not path.is_dir() else shutil.rmtree(path)


def assert_refused(root, homes, attack, prefix: str, reason: str) -> str:
    """Collect after ``attack`` (a function planting something): the folder whose name starts with ``prefix`` is
    refused for ``reason`` (printed and in refused.csv), nothing of it is copied or graded, and each honest
    student keeps their grade and gets their feedback: A 14/14 for the reference answers, B 0/14 for the blank
    notebook. Returns collect's output."""
    a, b = STUDENTS
    before = collected()
    attack()
    out = instructor("collect")
    assert any(line.strip().startswith(prefix) and reason in line for line in out.splitlines()), out
    with exchange.refused_path().open(newline="") as fh:
        assert any(r["folder"].startswith(prefix) and reason in r["reason"] for r in csv.DictReader(fh))
    assert collected() == before, "the refused folder was copied"
    assert grades() == {a: ("graded", "14", "14"), b: ("graded", "0", "14")}
    for step in ("submitted", "autograded", "feedback"):
        for path in (Path(os.environ[WORKDIR]) / step).rglob("*"):
            assert not path.is_file() or b"### BEGIN SOLUTION" not in path.read_bytes(), path
    pages = feedback_pages(root, homes)
    assert "Score: 14.0 / 14.0" in pages[a] and "Score: 0.0 / 14.0" in pages[b]
    return out


def test_submitting_in_a_classmates_name_is_refused(graded):
    root, homes = graded
    a, b = STUDENTS
    assert_refused(root, homes, lambda: nbgrader(b, homes[b], root, "submit", f"--student={a}"), f"{a}+{NB1}+",
                   f"belongs to {b}, not to {a}")


def test_a_folder_planted_under_a_classmates_name_with_a_later_date_is_refused(graded):
    root, homes = graded
    a, b = STUDENTS
    later = utc_now()
    assert_refused(root, homes, lambda: plant(root, homes, b, a, later), f"{a}+{NB1}+{stamp(later)}",
                   f"belongs to {b}, not to {a}")


def test_a_link_to_the_instructors_solutions_is_refused(graded):
    root, homes = graded
    _, b = STUDENTS
    name = f"{b}+{NB1}+{stamp(utc_now())}+link"
    link = lambda: as_student(b, homes[b], "ln", "-s", str(SOLUTIONS / NB1), str(root / COURSE / "inbound" / name))
    assert_refused(root, homes, link, name, "it is a symbolic link")


def test_a_link_inside_an_otherwise_normal_submission_is_refused(graded):
    root, homes = graded
    _, b = STUDENTS
    moment, solution = utc_now(), shlex.quote(str(SOLUTIONS / NB1 / f"{NB1}.ipynb"))
    attack = lambda: plant(root, homes, b, b, moment, f"ln -sf {solution} {NB1}.ipynb")
    assert_refused(root, homes, attack, f"{b}+{NB1}+{stamp(moment)}", f"{NB1}.ipynb is a symbolic link")


def test_a_fifo_in_a_submission_is_refused(graded):
    root, homes = graded
    _, b = STUDENTS
    moment = utc_now()
    assert_refused(root, homes, lambda: plant(root, homes, b, b, moment, "mkfifo pipe"), f"{b}+{NB1}+{stamp(moment)}",
                   "pipe is a FIFO")


def test_a_gigabyte_submission_is_refused_unread(graded):
    root, homes = graded
    _, b = STUDENTS
    moment = utc_now()
    attack = lambda: plant(root, homes, b, b, moment, "truncate -s 1G data.bin")  # sparse: fast to make
    assert_refused(root, homes, attack, f"{b}+{NB1}+{stamp(moment)}", "it holds more than 100 MiB")


def test_a_submission_dated_in_the_future_is_refused(graded):
    root, homes = graded
    a, _ = STUDENTS
    tomorrow = utc_now() + datetime.timedelta(days=1)
    assert_refused(root, homes, lambda: plant(root, homes, a, a, tomorrow), f"{a}+{NB1}+{stamp(tomorrow)}",
                   "in the future")


def test_return_serves_the_class_past_broken_submissions(graded):
    root, homes = graded
    a, b = STUDENTS
    broken, untimed = "al-ghost-broken", "al-ghost-untimed"  # handed in outside the exchange: no timestamp.txt
    (course.folder("submitted") / broken / NB1).mkdir(parents=True)
    (course.folder("submitted") / broken / NB1 / f"{NB1}.ipynb").write_text("not a notebook")
    submissions.submit(submissions.student_notebook(NB1, {}), NB1, untimed)
    try:
        instructor("autograde", broken, untimed)
        assert grades()[broken][0] == "ERROR" and grades()[untimed] == ("graded", "0", "14")
        pages = feedback_pages(root, homes)
        assert "Score: 14.0 / 14.0" in pages[a] and "Score: 0.0 / 14.0" in pages[b]
        out = instructor("return")
        assert "for 2 student(s)" in out and "skipped 2 student(s)" in out
        assert f"{broken}: its grading ended in an ERROR" in out
        assert f"{untimed}: its feedback has no timestamp.txt" in out
        done = api().release_feedback(NB1)  # the formgrader's button
        assert done["success"] and f"Skipped {broken}: its grading ended in an ERROR" in done["log"], done
    finally:
        for step in ("submitted", "autograded", "feedback"):
            for ghost in (broken, untimed):
                shutil.rmtree(Path(os.environ[WORKDIR]) / step / ghost, ignore_errors=True)


def test_the_formgraders_collect_refuses_a_link_too(graded):
    root, homes = graded
    _, b = STUDENTS
    before, name = collected(), f"{b}+{NB1}+{stamp(utc_now())}+link"
    as_student(b, homes[b], "ln", "-s", str(SOLUTIONS / NB1), str(root / COURSE / "inbound" / name))
    done = api().collect(NB1)  # what the formgrader's collect button runs
    assert done["success"], done
    assert f"Refused {name}: it is a symbolic link" in done["log"]
    assert collected() == before
