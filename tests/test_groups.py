"""Parallel test workers (`pytest -n`): tests that share a class grading or a system resource share a worker.

The ids are collected by pytest itself, so a change to how a test names its cases cannot slip past these checks.
"""
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import PER_ASSIGNMENT, SHARING, group_of

from grader.course import assignments

TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def collected():
    """The node ids pytest collects from the modules whose tests are grouped, by module."""
    modules = sorted(PER_ASSIGNMENT | set(SHARING))
    listing = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                              *(str(TESTS / m) for m in modules)], capture_output=True, text=True, cwd=TESTS.parent)
    assert listing.returncode == 0, listing.stdout + listing.stderr
    by_module = defaultdict(list)
    for line in listing.stdout.splitlines():
        if "::" in line:
            by_module[line.split("::")[0].rsplit("/", 1)[-1]].append(line)
    assert set(by_module) == set(modules), by_module.keys()
    return by_module


def named_assignment(nodeid: str) -> str:
    """The one assignment whose name appears in a test id (found without group_of's pattern)."""
    names = [a for a in assignments() if a in nodeid]
    assert len(names) == 1, nodeid
    return names[0]


@pytest.mark.parametrize("module", sorted(PER_ASSIGNMENT))
def test_each_assignments_class_grading_stays_in_one_worker(collected, module):
    groups = {nodeid: group_of(nodeid) for nodeid in collected[module]}
    assert all(group == f"{module}:{named_assignment(nodeid)}" for nodeid, group in groups.items()), groups
    assert len(set(groups.values())) > 1  # assignments may go to different workers


def test_the_hub_and_the_exchange_share_the_system_accounts_and_the_book_its_folder(collected):
    for module, resource in SHARING.items():
        assert {group_of(nodeid) for nodeid in collected[module]} == {resource}


def test_other_modules_are_one_group_each():
    assert group_of("tests/test_checks.py::test_finite") != group_of("tests/test_table.py::test_columns")
    assert group_of("tests/test_checks.py::test_finite") == group_of("tests/test_checks.py::test_close[a]")
