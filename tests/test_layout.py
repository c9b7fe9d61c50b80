"""The layout shows the architecture: each room of grader/ imports only the rooms below it, and no module imports
itself back through others (read from the source with ast, lazy imports in functions included)."""
import ast
from pathlib import Path

from grader.course import ROOT

GRADER = ROOT / "grader"
# room -> the rooms it may import (course.py is the room "course", i18n.py the room "i18n": the grader's messages;
# the top-level entry points may import anything)
ALLOWED = {"course": set(), "i18n": {"course"}, "hidden": {"course", "i18n"}, "grading": {"course", "i18n", "hidden"},
           "catalogue": {"course", "hidden"}, "delivery": {"course", "i18n", "hidden", "grading"},
           "measure": {"course", "i18n", "hidden", "grading", "delivery", "catalogue"}}


def module_of(path: Path) -> str:
    """grader.grading.sandbox for grader/grading/sandbox.py; grader.hidden for grader/hidden/__init__.py."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """The grader modules ``path`` imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("grader")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("grader"):
            subs = {f"{node.module}.{a.name}" for a in node.names}
            known = {m for m in subs if m in MODULES}
            found |= known | ({node.module} if subs - known else set())
    return found


MODULES = {module_of(p): p for p in GRADER.rglob("*.py")}
GRAPH = {m: imported(p) for m, p in MODULES.items()}


def room(module: str) -> str | None:
    """The room of a grader module (None: the package itself and its entry points)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else None


def test_every_module_lives_in_a_room():
    loose = [m for m in MODULES if room(m) is None and m not in (
        "grader", "grader.__main__", "grader.nbgrader_config", "grader.jupyter_server_config")]
    assert not loose, f"modules outside the rooms of grader/: {loose}"


def test_imports_point_down_the_rooms():
    wrong = [f"{m} imports {i}" for m, found in GRAPH.items() for i in found
             if room(m) and room(i) and room(i) != room(m) and room(i) not in ALLOWED[room(m)]]
    assert not wrong, "imports against the direction of the rooms:\n" + "\n".join(wrong)


def test_no_module_imports_itself_back():
    def reaches(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in GRAPH.get(todo.pop(), ()):
                if nxt in MODULES and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    circles = sorted(m for m in MODULES if m in reaches(m))
    assert not circles, f"import circles through: {circles}"


def test_the_check_reads_lazy_imports_and_sees_a_wrong_one(tmp_path):
    wrong = tmp_path / "wrong.py"
    wrong.write_text("def f():\n    from grader.delivery import exchange\n    from grader.grading.worker import x\n")
    assert imported(wrong) == {"grader.delivery.exchange", "grader.grading.worker"}
