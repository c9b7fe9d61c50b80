"""The course in the browser it is used in: JupyterLab as `make lab` starts it, nbgrader's Validate button and
formgrader, and the walkthrough book, driven with Playwright in Debian's headless Chromium (`make chromium`).

Screenshots are kept in tests/artifacts/.
"""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from grader import course
from grader.cluster import free_port
from grader.submissions import solution_sources, student_notebook
from servers import ARTIFACTS, stop, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ASSIGNMENT = "01_attention_numpy"
TOKEN = "attentionlab-browser-test"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab` on a free port with a token; returns its URL and the folder (under the server's root, the project,
    as the formgrader requires) of the notebooks the tests open: copies, never the tracked notebooks."""
    folder = ARTIFACTS / "lab"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "student").mkdir(parents=True)
    shutil.copy(course.notebook_of(ASSIGNMENT, course.NOTEBOOKS), folder / "student" / f"{ASSIGNMENT}.ipynb")
    (folder / "completed").mkdir()
    nbformat.write(student_notebook(ASSIGNMENT, solution_sources(ASSIGNMENT)),
                   folder / "completed" / f"{ASSIGNMENT}.ipynb")
    port = free_port()
    workspaces = tmp_path_factory.mktemp("workspaces")  # a fresh layout, not the last session's open tabs
    args = f"--no-browser --port={port} --IdentityProvider.token={TOKEN} --LabApp.workspaces_dir={workspaces}"
    with (ARTIFACTS / "lab.log").open("w") as log:
        exchange = Path(tempfile.mkdtemp(prefix="attentionlab-exchange-"))  # make lab publishes the course here
        exchange.chmod(0o755)  # reachable by students, as make lab checks (pytest's tmp_path is not)
        process = subprocess.Popen(["make", "-s", "-C", str(course.ROOT), "lab", f"LAB_ARGS={args}"],
                                   env={**os.environ, "ATTENTIONLAB_EXCHANGE": str(exchange)},
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(port, f"/api/status?token={TOKEN}", process)
            yield f"http://127.0.0.1:{port}", folder.relative_to(course.ROOT).as_posix()
        finally:
            stop(process)
            shutil.rmtree(exchange, ignore_errors=True)


def kernel_connected(lab: str, path: str) -> bool:
    """Whether the notebook's kernel is idle with the page connected (a Run All before that is lost)."""
    host, port = lab.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("GET", f"/api/sessions?token={TOKEN}")
    sessions = json.loads(conn.getresponse().read())
    return any(s["path"] == path and s["kernel"]["execution_state"] == "idle" and s["kernel"]["connections"] > 0
               for s in sessions)


def open_notebook(browser, lab: str, path: str):
    """A page with the notebook at ``path`` open in JupyterLab, its kernel idle and connected."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{lab}/lab/tree/{path}?token={TOKEN}")
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=60_000)
    deadline = time.monotonic() + 60
    while not kernel_connected(lab, path):
        assert time.monotonic() < deadline, "the notebook's kernel did not start within 60 s"
        time.sleep(0.5)
    return page


def run_all(page, finished: str, name: str) -> None:
    """Run > Run All Cells, and wait for the locator ``finished`` (Run All scrolls to the last cell it ran)."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    try:
        page.locator(finished).first.wait_for(timeout=60_000)
    finally:
        page.screenshot(path=ARTIFACTS / f"run-all-{name}.png")


def validate(page, name: str):
    """Click nbgrader's Validate button; return the dialog once it shows the result, after a screenshot."""
    page.locator("jp-button.validate-button:visible").first.click()  # the toolbar may also hold a hidden copy
    dialog = page.locator(".jp-Dialog-content")  # the results, or an error ("Cannot validate") as soon as it fails
    dialog.wait_for(timeout=90_000)
    page.screenshot(path=ARTIFACTS / f"validate-{name}.png")
    return dialog


def test_validate_reports_the_unfinished_exercises_of_the_student_notebook(browser, lab):
    url, folder = lab
    page = open_notebook(browser, url, f"{folder}/student/{ASSIGNMENT}.ipynb")
    run_all(page, ".jp-OutputArea-output:has-text('NotImplementedError')", "student")  # the first exercise to do
    dialog = validate(page, "student")
    text = dialog.inner_text()
    graded = [c for c in nbformat.read(course.notebook_of(ASSIGNMENT, course.NOTEBOOKS), 4).cells
              if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    assert "Success!" not in text
    assert text.count("The following cell failed:") == len(graded)  # every exercise is still to do
    assert "NotImplementedError" in text
    page.close()


def test_validate_passes_a_completed_notebook(browser, lab):
    url, folder = lab
    page = open_notebook(browser, url, f"{folder}/completed/{ASSIGNMENT}.ipynb")
    last = len([c for c in nbformat.read(course.notebook_of(ASSIGNMENT), 4).cells if c.cell_type == "code"])
    # Run All stops at the first error: the last code cell runs only if every cell before it passed.
    run_all(page, f".jp-CodeCell .jp-InputPrompt:text-is('[{last}]:')", "completed")
    text = validate(page, "completed").inner_text()
    assert "Success! Your notebook passes all the tests." in text
    page.close()


def test_formgrader_lists_the_assignments(browser, lab):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{lab[0]}/formgrader?token={TOKEN}")
    try:
        for assignment in course.assignments():  # every folder of solutions/, each a row of Manage Assignments
            page.get_by_role("row").filter(has=page.get_by_role("link", name=assignment, exact=True)).wait_for(
                timeout=30_000)
    finally:
        page.screenshot(path=ARTIFACTS / "formgrader.png", full_page=True)
    assert "the formgrader encountered an error" not in page.inner_text("body")
    page.close()


@pytest.fixture(scope="module")
def book_site(built_book):
    """The built book served over HTTP: its URL and assignments."""
    html, chosen = built_book
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                "--directory", str(html)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        wait_for(port, "/index.html", process)
        yield f"http://127.0.0.1:{port}", chosen
    finally:
        stop(process)


def test_book_pages_render_with_their_images(browser, book_site):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{book_site[0]}/index.html")
    assert "Notation" in page.inner_text("main")
    page.locator("mjx-container").first.wait_for(timeout=30_000)  # the notation table's formulas, typeset offline
    page.screenshot(path=ARTIFACTS / "book-index.png")
    for assignment in book_site[1]:
        page.goto(f"{book_site[0]}/notebooks/{assignment}.html")
        page.wait_for_load_state("load")
        sizes = page.eval_on_selector_all("main img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
        assert sizes and all(width > 0 for width in sizes), f"{assignment}: images {sizes}"
        page.screenshot(path=ARTIFACTS / f"book-{assignment}.png")
    page.close()
