"""Parallel test workers (`pytest -n`): tests that share a class grading or a system resource share a worker."""
from conftest import group_of

from grader import mistakes


def ids(test, edits):
    return [f"tests/{test}[{e.assignment}:{e.name}]" for e in edits]


def test_an_assignments_class_grading_stays_in_one_worker():
    for assignment in {e.assignment for e in mistakes.MISTAKES}:
        graded = ids("test_grading.py::test_mistake_loses_matching_points_with_a_fix", mistakes.for_assignment(assignment))
        graded.append(f"tests/test_grading.py::test_reference_gets_full_marks[{assignment}]")
        assert {group_of(i) for i in graded} == {f"test_grading.py:{assignment}"}


def test_assignments_and_modules_may_go_to_different_workers():
    reference = "tests/test_grading.py::test_reference_gets_full_marks[{}]"
    assert group_of(reference.format("01_attention_numpy")) != group_of(reference.format("07_attention_at_scale"))
    assert group_of("tests/test_checks.py::test_finite") != group_of("tests/test_table.py::test_columns")


def test_untrained_gradings_stay_together_per_assignment():
    untrained = ids("test_fast_mistakes.py::test_training_notebook_mistake_fails_its_cell_with_a_fix",
                    [m for m in mistakes.FAST_MISTAKES if m.assignment == "05_cross_attention"])
    untrained.append("tests/test_fast_mistakes.py::test_untrained_reference_loses_only_the_bleu_cells[05_cross_attention]")
    assert {group_of(i) for i in untrained} == {"test_fast_mistakes.py:05_cross_attention"}


def test_the_hub_and_the_exchange_share_the_system_accounts():
    assert group_of("tests/test_hub.py::test_a_class_round_trip_on_the_hub") == group_of(
        "tests/test_exchange.py::test_a_class_round_trip_from_release_to_feedback")
