"""A class on the course's JupyterHub, in the browser: release, fetch, submit, collect, autograde, feedback.

`make hub` as it starts (accounts, shared environment, exchange), on a free port; the instructor works in the
formgrader, each student in JupyterLab's Assignments panel, each in their own browser session. Screenshots go to
tests/artifacts/hub/.
"""
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from grader.catalogue import submissions
from grader.delivery import hub
from grader.measure.cluster import free_port
from grader.course import ROOT
from servers import ARTIFACTS, stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]
NB1 = "01_attention_numpy"
SHOTS = ARTIFACTS / "hub"


def fresh_class() -> None:
    """Forget an earlier run's class: students' copies and caches, the instructor's gradebook and submissions."""
    for student in hub.STUDENTS:
        home = Path(f"~{student}").expanduser()
        for path in (home / NB1, home / ".local" / "share" / "jupyter" / "nbgrader_cache"):
            shutil.rmtree(path, ignore_errors=True)
    course = hub.course_copy()
    for name in ("gradebook.db", "grades.csv", "submitted", "autograded", "feedback"):
        path = course / "grader" / name
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def hub_url():
    """The URL of the course's hub, started as `make hub` starts it, with its own state and exchange."""
    if os.geteuid() != 0:
        pytest.skip("the hub creates system accounts and starts servers as them: it needs root")
    state = Path(tempfile.mkdtemp(prefix="attentionlab-hub-"))
    state.chmod(0o755)
    url = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "ATTENTIONLAB_HUB_STATE": str(state), "ATTENTIONLAB_HUB_URL": url, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "grader", "hub", "--prepare-only"], env=env, cwd=ROOT, check=True)
    fresh_class()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with (SHOTS / "hub.log").open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "grader", "hub"], env=env, cwd=ROOT, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(int(url.rsplit(':', 1)[1]), "/hub/api", process, seconds=120)
            yield url
        finally:
            stop(process)
            subprocess.run(["pkill", "-u", ",".join((hub.INSTRUCTOR, *hub.STUDENTS)), "-f", "jupyterhub-singleuser"])
            shutil.rmtree(state, ignore_errors=True)


def log_in(browser, url, user):
    """A fresh browser session of ``user``, logged in, JupyterLab loaded."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.PASSWORD)
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/lab**", timeout=180_000)
    page.get_by_text("Nbgrader", exact=True).wait_for(timeout=120_000)
    return page


def assignments_panel(page):
    """Open nbgrader's Assignments panel from the menu."""
    page.get_by_text("Nbgrader", exact=True).click()
    page.get_by_text("Assignment List").click()
    page.get_by_text("Released assignments").wait_for()
    return page


def formgrader_action(page, icon, row_text):
    """Click the formgrader's ``icon`` in the row holding ``row_text``; the text of the dialog it opens."""
    page.locator("tr", has=page.get_by_text(row_text, exact=True)).locator(f".glyphicon-{icon}").click(timeout=120_000)
    page.locator("#success-modal, #error-modal").wait_for(timeout=300_000)
    text = page.locator(".modal-body").first.inner_text()
    assert page.locator("#success-modal").count(), text
    page.locator(".modal-footer button").first.click()
    page.locator(".modal").wait_for(state="detached")
    return text


def test_a_class_round_trip_on_the_hub(hub_url, browser):
    a, b = hub.STUDENTS
    times, start = {}, time.monotonic()

    def lap(step):
        times[step] = time.monotonic() - start - sum(times.values())

    teacher = log_in(browser, hub_url, hub.INSTRUCTOR)
    teacher.goto(f"{hub_url}/user/{hub.INSTRUCTOR}/formgrader")
    formgrader_action(teacher, "education", NB1)  # generate: the gradebook learns the assignment
    formgrader_action(teacher, "cloud-upload", NB1)  # release
    lap("release")

    students = {s: assignments_panel(log_in(browser, hub_url, s)) for s in (a, b)}
    for page in students.values():
        page.get_by_role("button", name="Fetch", exact=True).click()
        page.get_by_role("button", name="Submit", exact=True).wait_for(timeout=60_000)
    lap("fetch")
    fetched = Path(f"~{a}").expanduser() / NB1 / f"{NB1}.ipynb"  # A completes the notebook; B leaves it blank
    nbformat.write(submissions.student_notebook(NB1, submissions.solution_sources(NB1)), fetched)
    shutil.chown(fetched, a, a)
    for page in students.values():
        page.get_by_role("button", name="Submit", exact=True).click()
        page.get_by_role("button", name="Fetch Feedback").wait_for(timeout=60_000)
    lap("submit")

    teacher.goto(f"{hub_url}/user/{hub.INSTRUCTOR}/formgrader")
    formgrader_action(teacher, "cloud-download", NB1)  # collect
    lap("collect")
    teacher.goto(f"{hub_url}/user/{hub.INSTRUCTOR}/formgrader/manage_submissions/{NB1}")
    for student in (a, b):
        formgrader_action(teacher, "flash", student)  # autograde, sandboxed
    teacher.reload()
    teacher.get_by_text("14 / 14").wait_for()
    teacher.screenshot(path=SHOTS / "formgrader-scores.png")
    lap("autograde")
    teacher.goto(f"{hub_url}/user/{hub.INSTRUCTOR}/formgrader")
    formgrader_action(teacher, "comment", NB1)  # generate feedback
    formgrader_action(teacher, "envelope", NB1)  # release feedback
    lap("feedback")

    for student, score in ((a, "14.0 / 14.0"), (b, "0.0 / 14.0")):
        page = students[student]
        page.get_by_role("button", name="Fetch Feedback").click()
        page.get_by_text("(view feedback)").wait_for(timeout=60_000)
        (fetched,) = (Path(f"~{student}").expanduser() / NB1 / "feedback").glob(f"*/{NB1}.html")
        page.goto(f"{hub_url}/user/{student}/files/{fetched.relative_to(Path(f'~{student}').expanduser())}")
        text = page.content()
        page.screenshot(path=SHOTS / f"feedback-{student}.png")
        assert f"Score: {score}" in text, text[:2000]
        assert (b if student == a else a) not in text
    lap("fetch feedback")
    print("round trip, seconds per step:", {k: round(v, 1) for k, v in times.items()})

    peek = students[b].request.get(f"{hub_url}/user/{a}/api/contents/{NB1}")
    assert peek.status in (403, 404) or "login" in peek.url, "a student reached another student's server"


@pytest.mark.parametrize("private", ["solutions/01_attention_numpy", "grader/hidden", "tests", ".git", "~al-instructor"])
def test_students_cannot_read_the_instructors_files(hub_url, private):
    path = Path(private).expanduser() if private.startswith("~") else ROOT / private
    student = pwd.getpwnam(hub.STUDENTS[0])
    peek = subprocess.run(["ls", str(path)], user=student.pw_uid, group=student.pw_gid, extra_groups=[],
                          capture_output=True, text=True)
    assert peek.returncode and "Permission denied" in peek.stderr, f"a student lists {path}"
