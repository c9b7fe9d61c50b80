"""The README and the guides of docs/ say what the repository does: their links lead somewhere, their commands,
paths, limits and layout are the code's own. (Their measured figures are held to the record in test_claims.py.)"""
import re
import subprocess
from pathlib import Path

import nbformat
import pytest

from grader import course
from grader.delivery import inbound
from grader.grading import sandbox

README = course.ROOT / "README.md"
DOCS = course.ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]


def text(path: Path) -> str:
    return path.read_text()


def prose(path: Path) -> str:
    """The page with its line breaks and indentation folded into single spaces."""
    return " ".join(text(path).split())


def slug(heading: str) -> str:
    """The anchor GitHub and MyST (myst_heading_anchors) give a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(h) for h in re.findall(r"^#+ (.+)$", text(path), re.M)}


def test_the_readme_fits_on_two_screens():
    assert len(text(README).splitlines()) <= 150


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_of_a_page_leads_somewhere(page):
    for target in re.findall(r"\]\(([^)\s]+)\)", text(page)):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        file, _, anchor = target.partition("#")
        found = (page.parent / file).resolve() if file else page
        assert found.is_file(), f"{page.name} links to {target}, which is not a file"
        assert not anchor or anchor in anchors(found), f"{page.name} links to {target}: no such section"


def test_a_link_to_a_missing_section_is_caught(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A page\n\n## Grading a class\n")
    assert anchors(page) == {"a-page", "grading-a-class"} and "grading-a-class-2" not in anchors(page)


def test_the_readme_lists_the_notebooks_in_course_order():
    listed = re.findall(r"^\| \d \| `(\w+)` \|", text(README), re.M)
    assert listed == course.assignments()


def test_the_readmes_first_section_leads_to_notebook_1s_first_exercise():
    """A student follows "For students" only: the notebook it opens exists, and the first exercise is where it says."""
    students = text(README).split("## For students")[1].split("\n## ")[0]
    first = course.notebook_of(course.assignments()[0], course.NOTEBOOKS)
    relative = first.relative_to(course.ROOT).as_posix()
    assert f"open `{relative}`" in " ".join(students.split())
    assert f"make check NB={relative}" in students
    section, title = re.search(r'The first one is in section (\d+), "([^"]+)"', students).groups()
    heading = None
    for cell in nbformat.read(first, as_version=4).cells:
        heading = next((line for line in cell.source.splitlines() if line.startswith("## ")), heading)
        if cell.metadata.get("nbgrader", {}).get("solution"):
            break
    assert heading == f"## {section}. {title}"
    assert "# YOUR CODE HERE" in cell.source and "raise NotImplementedError()" in cell.source
    assert "# YOUR CODE HERE" in students and "`raise NotImplementedError()`" in students


def makefile_targets() -> list[str]:
    """The Makefile's targets that say what they do (a `## ` comment): those a person runs."""
    return re.findall(r"^([\w-]+):[^\n]*##", text(course.ROOT / "Makefile"), re.M)


def test_the_instructors_guide_names_every_make_target():
    guide = text(DOCS / "instructors.md")
    targets = makefile_targets()
    assert len(targets) > 10
    missing = [t for t in targets if not re.search(rf"`make {re.escape(t)}[ `]", guide)]
    assert not missing, f"docs/instructors.md does not say what these do: {missing}"


def test_the_security_page_states_the_limits_of_the_code():
    page = prose(DOCS / "security.md")
    for assignment in course.assignments():
        limits = course.limits_for(assignment)
        row = f"| `{assignment}` | {limits.wall_seconds / 60:g} min | {limits.cpu_seconds / 60:g} min |"
        assert row in page, f"docs/security.md should hold the row {row}"
    common = {(lim.memory_bytes, lim.processes, lim.file_bytes, lim.disk_bytes, lim.output_bytes)
              for lim in map(course.limits_for, course.assignments())}
    ((memory, processes, file_bytes, disk, output),) = common
    assert (f"{memory // course.GiB} GiB of address space, {processes} processes, {file_bytes >> 20} MiB per file "
            f"and {output >> 20} MiB of notebook output kept") in page
    assert f"memory file system of {disk // course.GiB} GiB of its own" in page
    assert f"user ids {sandbox.SANDBOX_UID}–{sandbox.SANDBOX_UID + sandbox.SANDBOX_USERS - 1}" in page
    assert (f"at most {inbound.MAX_BYTES >> 20} MiB and {inbound.MAX_ENTRIES:,} entries" in page
            and f"{inbound.SKEW.seconds // 60} minutes of clock skew" in page)


def tracked_folders() -> set[str]:
    """The repository's top-level folders, as git tracks them."""
    files = subprocess.run(["git", "ls-files"], cwd=course.ROOT, capture_output=True, text=True, check=True).stdout
    return {line.split("/")[0] for line in files.splitlines() if "/" in line and not line.startswith(".")}


def test_the_layout_page_names_every_folder_room_and_module():
    page = text(DOCS / "layout.md")
    folders = tracked_folders()
    assert {"attentionlab", "grader", "tests"} <= folders
    named = set(re.findall(r"^(\w+)/ ", page, re.M))
    assert folders <= named, f"docs/layout.md does not describe: {sorted(folders - named)}"
    rooms = {p.name for p in (course.ROOT / "grader").iterdir() if (p / "__init__.py").exists()}
    assert rooms and all(re.search(rf"^  {room}/ ", page, re.M) for room in rooms), rooms
    modules = {p.stem for p in (course.ROOT / "attentionlab").glob("*.py")} - {"__init__"}
    missing = [m for m in modules if not re.search(rf"^  {m} ", page, re.M)]
    assert not missing, f"docs/layout.md does not describe attentionlab's {missing}"
