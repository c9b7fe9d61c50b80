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
from grader.measure.cluster import free_port
from grader.catalogue.submissions import solution_sources, student_notebook
from servers import ARTIFACTS, stop, wait_for
from test_inert import FORMULA, HOSTILE_SVG, PAYLOADS, PWN, TABLE

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ASSIGNMENT = "01_attention_numpy"
TOKEN = "attentionlab-browser-test"


@pytest.fixture(scope="module")
def lab_grades(tmp_path_factory):
    """The gradebook, submissions and feedback of the lab's formgrader (course.WORKDIR): not the instructor's."""
    return tmp_path_factory.mktemp("lab-grades")


@pytest.fixture(scope="module")
def lab(tmp_path_factory, lab_grades):
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
                                   env={**os.environ, "ATTENTIONLAB_EXCHANGE": str(exchange),
                                        course.WORKDIR: str(lab_grades)},
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
        for assignment in course.editions():  # every assignment in each language, each a row of Manage Assignments
            page.get_by_role("row").filter(has=page.get_by_role("link", name=assignment, exact=True)).wait_for(
                timeout=30_000)
    finally:
        page.screenshot(path=ARTIFACTS / "formgrader.png", full_page=True)
    assert "the formgrader encountered an error" not in page.inner_text("body")
    page.close()


def hostile_submission() -> nbformat.NotebookNode:
    """Notebook 1 answered with the reference, plus every payload in a markdown cell and in HTML, markdown, SVG and
    script outputs, an honest table, plot and formula, and a copy of a graded cell under a hostile grade_id."""
    nb = student_notebook(ASSIGNMENT, solution_sources(ASSIGNMENT))
    copy = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")).copy()
    copy.metadata = {"nbgrader": {**copy.metadata.nbgrader, "grade_id": f"x`<img src=x onerror=\"{PWN}\">`"}}
    copy.id = "forged-copy"
    payloads = "\n\n".join(PAYLOADS.values())
    shows = ("import io\nimport matplotlib.pyplot as plt\n"
             "from IPython.display import HTML, SVG, Image, Javascript, Markdown, display\n"
             f"P = {payloads!r}\ndisplay(HTML(P), Markdown(P), SVG({HOSTILE_SVG!r}), Javascript({PWN!r}))\n"
             f"display(HTML({TABLE!r}))\nplt.plot([0, 1], [1, 0])\npng = io.BytesIO()\n"
             "plt.savefig(png, format='png')\ndisplay(Image(png.getvalue()))")  # graded kernels plot with Agg
    nb.cells += [copy, nbformat.v4.new_markdown_cell(f"{FORMULA}\n\n{payloads}"), nbformat.v4.new_code_cell(shows)]
    return nb


@pytest.fixture(scope="module")
def graded_hostile(lab, lab_grades):
    """The hostile submission graded into the lab's gradebook: (feedback page, formgrader URL of the submission)."""
    from nbgrader.api import Gradebook

    from grader.catalogue import submissions
    from grader.grading import autograde

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(course.WORKDIR, str(lab_grades))
        submissions.submit(hostile_submission(), ASSIGNMENT, "mallory")
        result = autograde.grade(ASSIGNMENT, "mallory")
        assert not result.error and result.score == result.max_score, (result.error, result.lost())
        with Gradebook(course.config().CourseDirectory.db_url) as gb:
            sid = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "mallory").id
    feedback = lab_grades / "feedback" / "mallory" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    return feedback, f"{lab[0]}/formgrader/submissions/{sid}/"


WATCH_POLICY = ("window.__refused = []; document.addEventListener('securitypolicyviolation', "
                "e => window.__refused.push(e.violatedDirective + ' ' + e.blockedURI))")
MISSED = f'<script>{PWN}</script><img src="x" onerror="{PWN}">'  # as if the sanitiser had let it through


def visit_as_instructor(browser, lab: str, url: str, name: str, page_html: str | None = None,
                        injected: str = "") -> dict:
    """Open ``url`` logged in to the lab (``page_html`` served there, if given; ``injected`` at the end of its body),
    as the instructor's browser would; return what ran: dialogs, window.__pwned, a navigation away, scripts the
    Content-Security-Policy refused, and the honest outputs seen."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    seen = {"dialogs": []}
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.add_init_script(WATCH_POLICY)
    page.route("https://cdnjs.cloudflare.com/**", lambda route: route.fulfill(  # MathJax's loader, as a probe
        content_type="text/javascript", body="window.__mathjax = JSON.stringify(window.MathJax || null);"))
    page.goto(f"{lab}/formgrader?token={TOKEN}")  # logs in: the page holds the instructor's cookies and _xsrf

    def serve(route):
        real = None if page_html is not None else route.fetch()  # the server's page, with its headers
        body = (page_html if real is None else real.text()).replace("</body>", f"{injected}</body>", 1)
        route.fulfill(response=real, body=body, content_type="text/html; charset=utf-8")

    if page_html is not None or injected:
        page.route(url, serve)
    (course.ROOT / "pwned.txt").unlink(missing_ok=True)
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(3000)  # time for a script to act
    page.screenshot(path=ARTIFACTS / f"inert-{name}.png", full_page=True)
    seen["moved"] = page.url != url  # a meta refresh navigates away
    seen["pwned"] = page.evaluate("window.__pwned")
    seen["refused"] = [v for v in page.evaluate("window.__refused") if v.startswith("script-src")]
    seen["mathjax"] = page.evaluate("window.__mathjax")
    seen["math"] = page.locator("math").count()  # formulas as MathML
    seen["plots"] = page.eval_on_selector_all('img[src^="data:image/png"]', "imgs => imgs.map(i => i.naturalWidth)")
    seen["table"] = page.locator("table.dataframe td", has_text="0.25").count()
    seen["scores"] = page.eval_on_selector_all("input.score", "inputs => inputs.map(i => i.placeholder)")  # formgrader
    seen["text"] = page.inner_text("body")
    context.close()
    return seen


def assert_inert(seen: dict, mathjax: bool = True) -> None:
    """Nothing of the student's ran, nothing was written through the API, and the honest outputs are shown
    (``mathjax``: the page's formulas are typeset by MathJax; else they are MathML, and nothing loads MathJax)."""
    assert not (course.ROOT / "pwned.txt").exists()
    assert seen["dialogs"] == [] and seen["pwned"] is None and not seen["moved"]
    assert seen["plots"] and all(width > 0 for width in seen["plots"]) and seen["table"] == 1
    assert "Session expired" in seen["text"]
    if mathjax:
        assert "tex2jax" in (seen["mathjax"] or "") and "\\sqrt{d}" in seen["text"]  # MathJax loads, for $…$
    else:
        assert seen["mathjax"] is None and seen["math"] > 0  # (TeX inside a student's raw HTML stays TeX)


def test_a_hostile_submission_runs_nothing_in_its_feedback(browser, lab, graded_hostile):
    feedback, _ = graded_hostile
    seen = visit_as_instructor(browser, lab[0], f"{lab[0]}/feedback-mallory.html", "feedback",
                               feedback.read_text(encoding="utf-8"))
    assert_inert(seen, mathjax=False)
    assert seen["refused"] == []  # the page has no script of its own


def test_a_hostile_submission_runs_nothing_in_the_formgrader(browser, lab, graded_hostile):
    seen = visit_as_instructor(browser, lab[0], graded_hostile[1], "formgrader")
    assert_inert(seen)
    assert seen["refused"] == [] and "Student's answer" in seen["text"]
    assert seen["scores"] and all(seen["scores"]), seen["scores"]  # nbgrader's scripts ran: they show the scores


def test_the_feedback_policy_stops_a_script_the_sanitiser_missed(browser, lab, graded_hostile):
    seen = visit_as_instructor(browser, lab[0], f"{lab[0]}/feedback-mallory.html", "feedback-csp",
                               graded_hostile[0].read_text(encoding="utf-8"), MISSED)
    assert_inert(seen, mathjax=False)
    assert len(seen["refused"]) == 2  # the script and the handler


def test_the_formgrader_policy_stops_a_script_the_sanitiser_missed(browser, lab, graded_hostile):
    seen = visit_as_instructor(browser, lab[0], graded_hostile[1], "formgrader-csp", injected=MISSED)
    assert_inert(seen)
    assert len(seen["refused"]) == 2


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
