"""Shared fixtures: a private grading workspace with a fresh gradebook; how pytest-xdist may split the suite."""
import os
import re

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", 1)) > 1:  # test workers grade side by side: share the cores
    from grader.grading.sandbox import share_cores

    share_cores(int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
PER_ASSIGNMENT = {"test_grading.py", "test_fast_mistakes.py", "test_editions.py"}  # their class gradings are cached per assignment
SHARING = {"test_hub.py": "accounts", "test_exchange.py": "accounts",  # the hub's system accounts
           "test_book.py": "book", "test_browser.py": "book"}  # book/_build/sources/, the built book


def pytest_configure(config):
    """nbgrader's source folder (build/source, ignored by git), written once before any test worker starts: tests
    grade through the course's functions, not through `python -m grader`, which writes it."""
    if not hasattr(config, "workerinput"):
        from grader.delivery.translate import write_sources

        write_sources()


def group_of(nodeid: str) -> str:
    """The worker group of a test: its module, its module and assignment, or the system resource it shares."""
    module = nodeid.split("::")[0].rsplit("/", 1)[-1]
    assignment = re.search(r"\[(\d\d_\w+)", nodeid) if module in PER_ASSIGNMENT else None
    return f"{module}:{assignment[1]}" if assignment else SHARING.get(module, module)


def pytest_xdist_make_scheduler(config, log):
    """`pytest -n N`: tests of one group run in one worker, so fixtures and resources are never set up twice
    (pytest-xdist's own --dist loadgroup ignores its marks under pytest 9)."""
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    config.option.loadscopereorder = False  # groups in collection order (by default: the most tests first)
    return ByGroup(config, log)


def pytest_collection_modifyitems(items):
    """The longest groups first under `pytest -n N`: full trainings (graded references), then the other tests that
    train (for a few batches), then the rest."""
    items.sort(key=lambda item: (item.get_closest_marker("training") is None, item.path.name != "test_grading.py"))


@pytest.fixture
def running():
    """A function listing the command lines of the processes running now that start with a prefix."""
    def matching(prefix: str) -> list[str]:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    line = fh.read().replace(b"\0", b" ").decode().strip()
            except OSError:
                continue
            if line.startswith(prefix):
                found.append(line)
        return found

    return matching


@pytest.fixture(scope="session")
def grading_dir(tmp_path_factory):
    """A temporary gradebook and submission tree, with every assignment generated into it."""
    from grader.course import WORKDIR
    from grader.delivery.release import release

    workdir = tmp_path_factory.mktemp("grading")
    old = os.environ.get(WORKDIR)
    os.environ[WORKDIR] = str(workdir)
    released = release(dest=workdir / "release")
    yield workdir, released
    if old is None:
        os.environ.pop(WORKDIR)
    else:
        os.environ[WORKDIR] = old


@pytest.fixture(scope="session")
def grade_as_class(grading_dir):
    """Submit {student: notebook} for an assignment and grade them as one class on two workers."""
    from grader.catalogue import submissions
    from grader.grading import autograde

    def grade(assignment: str, notebooks: dict) -> dict:
        for student, nb in notebooks.items():
            submissions.submit(nb, assignment, student)
        results = autograde.grade_class(assignment, list(notebooks), workers=2, regrade=True, progress=False)
        return {r.student: r for r in results}

    return grade


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The walkthrough built into a temporary folder (its sites html/en/ and html/es/); returns (html folder, its
    assignments). Its notebooks: those `make book` has executed already in both languages, and those that execute in
    seconds (a cold `make book` trains 4 and 5 for 15 minutes in each language)."""
    from grader import course
    from grader.delivery import book

    html = tmp_path_factory.mktemp("book")
    chosen = [a for a in course.assignments() if a not in course.NEEDS_DATA or book.cached(a)]
    book.build(chosen, html)
    return html, chosen


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium under Playwright (which cannot download its own browsers here)."""
    from pathlib import Path

    from servers import ARTIFACTS, CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (or `sudo apt-get install chromium`)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()
