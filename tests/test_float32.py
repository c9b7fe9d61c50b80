"""Fair tolerances: a correct answer that computes in float32 passes every hidden check of a NumPy exercise, whatever
inputs the check draws (200 grading seeds). Keras computes in float32 already."""
import inspect

import keras
import nbformat
import numpy as np
import pytest
from keras import layers, ops

import grader.hidden
from grader.catalogue import submissions
from grader.course import NEEDS_DATA, SOLUTIONS, notebook_of
from grader.hidden import checks_for, verdict

NUMPY_EXERCISES = ("01_attention_numpy", "02_keras_mha", "06_transformer_lm", "07_attention_at_scale")
SEEDS = range(200)
MEASURED = {"test_flash_memory"}  # reads the kernel's memory from /proc: tests/test_hostile_models.py


def takes_functions(check) -> bool:
    """Whether a check takes only the student's functions (not an answer, a class or a trained model)."""
    return not any(name.startswith("answer_") or name[0].isupper() or name == "model" for name in check.names)


def float32(value):
    """``value`` with every float64 array in it (in tuples, lists and dicts too) rounded to float32."""
    if isinstance(value, np.ndarray) and value.dtype == np.float64:
        return value.astype(np.float32)
    if isinstance(value, (tuple, list)):
        return type(value)(float32(v) for v in value)
    if isinstance(value, dict):
        return {k: float32(v) for k, v in value.items()}
    return value


def in_float32(fn):
    """``fn`` fed float32 arrays, its results rounded to float32: what a float32 implementation returns."""
    def run(*args, **kwargs):
        return float32(fn(*float32(list(args)), **float32(kwargs)))
    return run


def reference_functions(assignment):
    """The functions the reference answers of ``assignment`` define, by name."""
    found = {"np": np, "keras": keras, "layers": layers, "ops": ops}
    nb = nbformat.read(notebook_of(assignment, SOLUTIONS), as_version=4)
    setup = next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    if assignment not in NEEDS_DATA:
        exec(setup, found)
    for source in submissions.solution_sources(assignment).values():
        try:
            exec(source, found)
        except NameError:  # a cell that uses the corpus (notebook 6 builds its model there): not a NumPy exercise
            continue
    return {name: fn for name, fn in found.items() if inspect.isfunction(fn)}


def numpy_checks():
    for assignment in NUMPY_EXERCISES:
        for grade_id, check in sorted(checks_for(assignment).items()):
            if grade_id not in MEASURED and takes_functions(check):
                yield pytest.param(assignment, check, id=grade_id)


@pytest.mark.parametrize("assignment, check", numpy_checks())
def test_a_float32_answer_passes_on_any_seed(monkeypatch, assignment, check):
    functions = reference_functions(assignment)
    assert set(check.names) <= set(functions), f"the reference defines no {set(check.names) - set(functions)}"
    given = {name: in_float32(functions[name]) for name in check.names}
    failed = {}
    for seed in SEEDS:
        monkeypatch.setattr(grader.hidden, "BASE_SEED", seed)
        passed, message = verdict(check, given)
        if not passed:
            failed[seed] = message
    assert not failed, f"{len(failed)} of {len(SEEDS)} seeds fail, e.g. {next(iter(failed.items()))}"
