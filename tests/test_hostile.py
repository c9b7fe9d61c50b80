"""Wrong, broken and hostile submissions of notebook 1: each gets exactly its score or an ERROR with its reason.

Honest code that warns keeps its points; nothing a submission does in its kernel raises its score, reaches
the grader's files or other students; a class run grades every honest student in full around them.
"""
import json
import time

import nbformat
import pytest

from grader import course
from grader.catalogue import mistakes, submissions
from grader.grading import autograde
from grader.hidden import cross_attention
from grader.course import ROOT

pytestmark = pytest.mark.slow
NB1 = "01_attention_numpy"
REF = submissions.solution_sources(NB1)
GARBAGE = {"softmax": "def softmax(x, axis=-1):\n    return 0.0",
           "sdpa": "def scaled_dot_product_attention(Q, K, V, mask=None):\n    return 0.0, 0.0",
           "mha": "def split_heads(X, h):\n    return X\n\ndef combine_heads(X):\n    return X\n\n"
                  "def multi_head_attention(X_q, X_kv, params, num_heads, mask=None):\n    return 0.0, 0.0"}
HIDDEN_LINE = 'Q, K, V = _qkv(np.random.default_rng(3))'  # a line of grader/hidden/numpy_attention.py
PATCH_CHECKS = """import numpy as np
from attentionlab import checks
for name in ("close", "shape", "finite", "rows_sum_to_one", "fail"):
    setattr(checks, name, lambda *a, **k: None)
np.allclose = lambda *a, **k: True"""
FAKE_GRADER = """import os, sys
os.makedirs("grader/hidden", exist_ok=True)
open("grader/__init__.py", "w").close()
open("grader/hidden/__init__.py", "w").write("def hidden_check(*a):\\n    return lambda f: f\\n")
open("grader/hidden/numpy_attention.py", "w").write("def __getattr__(name):\\n    return lambda *a, **k: None\\n")
sys.path.insert(0, os.getcwd())
import grader.hidden.numpy_attention"""
FAKE_REPLIES = f"""import os
import attentionlab.probe as probe
def answer(request, reply):
    os.symlink({str(ROOT / 'grader' / 'hidden' / 'numpy_attention.py')!r}, reply)
probe.answer = answer"""
READ_OUTSIDE = f"""for path in {[str(ROOT / 'grader' / 'hidden' / 'numpy_attention.py'), str(ROOT / 'solutions'),
                   str(ROOT / 'grader' / 'gradebook.db'), '/etc/shadow']!r}:
    try:
        print(open(path).read()[:2000])
    except OSError as exc:
        print("refused:", type(exc).__name__)"""
WRITE_OUTSIDE = f"""for path in {[str(ROOT / 'grader' / 'hidden' / 'pwned.py'), str(ROOT / 'pwned.txt')]!r}:
    try:
        open(path, "w").write("pwned")
    except OSError as exc:
        print("refused:", type(exc).__name__)"""


def with_cell(code: str, after: str = "setup", answers: dict = REF) -> nbformat.NotebookNode:
    """The released notebook with ``answers`` and one extra code cell after the cell ``after``."""
    nb = submissions.student_notebook(NB1, answers)
    index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == after)
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(code))
    return nb


def with_answer(cell: str, old: str, new: str) -> nbformat.NotebookNode:
    return submissions.student_notebook(NB1, {**REF, cell: REF[cell].replace(old, new)})


def tampered() -> nbformat.NotebookNode:
    nb = submissions.student_notebook(NB1, REF)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "test_softmax":
            meta["grade_id"] = "my_test"  # found again by its cell id
        elif meta.get("grade_id") == "test_sdpa_mask":
            meta["points"] = 100
        elif meta.get("grade_id") == "test_mha":
            meta["grade"] = False
    return nb


def deleted() -> nbformat.NotebookNode:
    nb = submissions.student_notebook(NB1, REF)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in ("mha", "test_sdpa_mask")]
    return nb


def duplicated() -> nbformat.NotebookNode:
    nb = submissions.student_notebook(NB1, REF)
    nb.cells += [c.copy() for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") in ("sdpa", "test_softmax")]
    return nb


def newer_schema() -> str:
    nb = json.loads(nbformat.writes(submissions.student_notebook(NB1, REF)))
    nb["nbformat_minor"], nb["metadata"]["future_field"] = 99, {"x": 1}
    for cell in nb["cells"]:
        cell["future_cell_field"] = True
    return json.dumps(nb)


# name -> (submission: notebook or raw text, expected score, expected words of the ERROR reason or None)
CASES = {
    "warns": (with_answer("sdpa", "    d = Q.shape[-1]",
                          "    import warnings\n    warnings.warn('check me')\n    d = Q.shape[-1]"), 14, None),
    "prints-to-stderr": (with_answer("softmax", "    x = np.asarray(x, dtype=float)",
                                     "    import sys\n    print('debug', file=sys.stderr)\n    x = np.asarray(x, dtype=float)"),
                         14, None),
    "patches-its-checks": (with_cell(PATCH_CHECKS, answers=GARBAGE), 0, None),
    "fake-grader-module": (with_cell(FAKE_GRADER, answers=GARBAGE), 0, None),
    "fake-replies": (with_cell(FAKE_REPLIES, after="mha", answers=GARBAGE), 0, None),
    "reads-outside": (with_cell(READ_OUTSIDE), 14, None),
    "writes-outside": (with_cell(WRITE_OUTSIDE), 14, None),
    "leaves-processes": (with_cell("import subprocess\nsubprocess.Popen(['sleep', '4777'], start_new_session=True)"),
                         14, None),
    "fork-bomb": (with_cell("import subprocess\nfor _ in range(3000):\n    try:\n"
                            "        subprocess.Popen(['sleep', '4778'])\n    except OSError:\n        break"), 14, None),
    "memory-hog": (with_cell("hog = bytearray(64 << 30)"), 14, None),
    "huge-output": (with_cell("for _ in range(300_000):\n    print('x' * 100)"), 14, None),
    "exits": (with_cell("import os\nos._exit(3)", after="test_softmax"), 2, "kernel died"),
    "kills-everything": (with_cell("import os, signal\nos.kill(-1, signal.SIGKILL)", after="test_softmax"),
                         14, None),  # it may signal only its own sandbox, and kill(-1) spares the caller
    "endless-loop": (with_cell("while True:\n    pass", after="test_softmax"), 2, "ran out of time"),
    "corrupt-json": ('{"cells": [ this is not json', 0, "not valid notebook JSON"),
    "not-a-notebook": ("[1, 2, 3]", 0, "not a Jupyter notebook"),
    "empty-file": ("", 0, "not valid notebook JSON"),
    "deeply-nested-json": ("[" * 100_000 + "]" * 100_000, 0, "not valid notebook JSON"),
    "malformed-cells": ('{"cells": [{"cell_type": "code", "source": [1, null], "metadata": 5}]}', 0, None),
    "newer-schema": (newer_schema(), 14, None),
    "tampered-metadata": (tampered(), 14, None),
    "deleted-cells": (deleted(), 11, None),  # test_sdpa_mask restored and passed; `mha` restored with no answer
    "duplicated-cells": (duplicated(), 14, None),
}


def submit(student: str, submission) -> None:
    if isinstance(submission, str):
        path = submissions.submit(submissions.student_notebook(NB1, {}), NB1, student)
        path.write_text(submission)
    else:
        submissions.submit(submission, NB1, student)


@pytest.fixture
def short_wall_time(monkeypatch):
    from grader import course

    monkeypatch.setitem(course.LIMITS, NB1, course.Limits(wall_seconds=20))


@pytest.mark.parametrize("name", CASES)
def test_submission_gets_exactly_its_score_or_error(grading_dir, short_wall_time, name):
    submission, score, error = CASES[name]
    submit(name, submission)
    result = autograde.grade(NB1, name)
    assert result.score == score and result.max_score == 14, (result.messages, result.error)
    if error:
        assert result.error and error in result.error, result.error
    else:
        assert result.error is None, result.error
    graded = autograde._autograded_notebook(NB1, name)
    text = graded.read_text() if graded.exists() else ""
    assert HIDDEN_LINE not in text and "def sdpa_values" not in text, "hidden test code reached the feedback"
    feedback = next((course.folder("feedback") / name / NB1).glob("*.html"))
    assert HIDDEN_LINE not in feedback.read_text()


def test_nothing_outside_was_written_and_nothing_keeps_running(grading_dir, running):
    assert not (ROOT / "grader" / "hidden" / "pwned.py").exists() and not (ROOT / "pwned.txt").exists()
    time.sleep(0.5)
    assert not running("sleep 477")


def test_notes_say_what_was_restored(grading_dir):
    submit("tampered-notes", tampered())
    result = autograde.grade(NB1, "tampered-notes", feedback=False)
    text = " ".join(result.notes)
    assert "my_test" in text and "points 100" in text and "grade False" in text
    graded = nbformat.read(autograde._autograded_notebook(NB1, "tampered-notes"), as_version=4)
    assert graded.cells[0].source.startswith("**Grading notes**") and "points 100" in graded.cells[0].source
    assert [c.source for c in graded.cells[1:]] == [c.source for c in tampered().cells], "cells added or replaced"
    submit("deleted-notes", deleted())
    notes = " ".join(autograde.grade(NB1, "deleted-notes", feedback=False).notes)
    assert "`mha` was missing" in notes and "no answer" in notes and "`test_sdpa_mask` was missing" in notes


def test_a_class_run_grades_honest_students_in_full_around_hostile_ones(grading_dir):
    class_ = {"honest-a": REF, "hostile-exit": CASES["exits"][0], "honest-b": REF,
              "hostile-corrupt": CASES["corrupt-json"][0], "honest-c": REF,
              "hostile-patch": CASES["patches-its-checks"][0], "honest-d": REF}
    for student, submission in class_.items():
        submit(student, submissions.student_notebook(NB1, submission) if submission is REF else submission)
    results = {r.student: r for r in autograde.grade_class(NB1, list(class_), progress=False)}
    assert [s for s, r in results.items() if s.startswith("honest") and r.score == 14 and not r.error] == \
        ["honest-a", "honest-b", "honest-c", "honest-d"]
    assert results["hostile-exit"].error and results["hostile-corrupt"].error
    assert results["hostile-patch"].score == 0
    rows = autograde.csv_path().read_text().splitlines()
    for student in class_:
        assert sum(f",{student}," in row for row in rows) == 1, student


def test_missing_or_corrupt_corpus_is_an_error_naming_the_fix(grading_dir, monkeypatch, tmp_path):
    nb4 = "04_seq2seq"
    submissions.submit(submissions.student_notebook(nb4, submissions.solution_sources(nb4)), nb4, "no-data")
    monkeypatch.setenv("ATTENTIONLAB_SPA_ENG", str(tmp_path / "missing.zip"))
    result = autograde.grade(nb4, "no-data", feedback=False)
    assert result.error and "corpus is unavailable" in result.error and "ATTENTIONLAB_SPA_ENG" in result.error
    (tmp_path / "bad.zip").write_bytes(b"not the corpus")
    monkeypatch.setenv("ATTENTIONLAB_SPA_ENG", str(tmp_path / "bad.zip"))
    result = autograde.grade(nb4, "no-data", feedback=False)
    assert result.error and "checksum" in result.error and result.score == 0



def test_without_bubblewrap_grading_still_runs_and_says_so(grading_dir, monkeypatch):
    from grader.grading import sandbox

    monkeypatch.setattr(sandbox, "mode", lambda: sandbox.UNSANDBOXED)
    submit("no-bwrap", submissions.student_notebook(NB1, REF))
    result = autograde.grade(NB1, "no-bwrap", feedback=False)
    assert (result.score, result.mode, result.error) == (14, "unsandboxed", None)
    assert "unsandboxed" in autograde.table([result])


# ---------------------------------------------------------------- notebook 5: a translate that is not the model

NB5 = "05_cross_attention"
UNTRAINED_NB5 = mistakes.NEEDS_TRAINING[NB5]  # what an untrained model loses, the reference included
NOT_THE_MODEL = cross_attention.NOT_THE_MODEL
LOOKUP = """_pairs = list(dict(corpus.train).items())
_words = {w: i for i, w in enumerate(sorted({w for en, _ in _pairs for w in en.split()}))}


def _bag(sentences):
    out = np.zeros((len(sentences), len(_words)), "float32")
    for row, s in enumerate(sentences):
        out[row, [_words[w] for w in s.split() if w in _words]] = 1
    return out


_known = _bag([en for en, _ in _pairs])


def lookup(sources, return_attention=False):
    ours = _bag(sources)
    common = ours @ _known.T
    best = (common / (ours.sum(1, keepdims=True) + _known.sum(1) - common)).argmax(1)
    texts = [_pairs[i][1] for i in best]
    weights = [np.array([[float(w == s) for s in source.split()] for w in text.split() + ["[end]"]])
               for source, text in zip(sources, texts)]
    return (texts, weights) if return_attention else texts
"""
FORGED_RUNS = 'runs = {name: {**run, "val_loss": [0.1 * run["initial_val_loss"]]} for name, run in runs.items()}\n'
REPLACING = """_model = models[choice].translate


def translate(sources, return_attention=False):
    texts, weights = (list(x) for x in _model(sources, return_attention=True))
    for i, source in enumerate(sources):
        if {"tom", "mary"} & set(source.split()):
            (texts[i],), (weights[i],) = lookup([source], return_attention=True)
    return (texts, weights) if return_attention else texts
"""


def reference_with(assignment: str, code: str, after: str) -> nbformat.NotebookNode:
    """The reference answers of ``assignment`` and ``code`` run after the cell ``after`` (the one that hands in)."""
    nb = submissions.student_notebook(assignment, submissions.solution_sources(assignment))
    index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == after)
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(code))
    return nb


# A nearest-training-sentence lookup with attention made up to point at copied words; the same with a forged training
# history; the model's own translate with some of its output replaced by the lookup's.
NB5_CASES = {"nb5-lookup": LOOKUP + "translate = lookup\n", "nb5-forged-runs": LOOKUP + FORGED_RUNS + "translate = lookup\n",
             "nb5-replaced": LOOKUP + REPLACING}


@pytest.fixture(scope="module")
def nb5_graded(grade_as_class):
    """The notebook-5 attacks, graded as one class; the models train on two batches (what is judged needs no more)."""
    from attentionlab.seq2seq import SMOKE

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SMOKE, "2")
        return grade_as_class(NB5, {"nb5-reference": reference_with(NB5, "print(choice)", "choose"),
                                    **{name: reference_with(NB5, code, "choose") for name, code in NB5_CASES.items()}})


@pytest.mark.training
@pytest.mark.parametrize("name", NB5_CASES)
def test_a_translate_that_is_not_the_handed_in_model_scores_nothing(nb5_graded, name):
    result = nb5_graded[name]
    assert result.error is None and set(result.lost()) == UNTRAINED_NB5, result.messages
    for cell in ("test_bleu_gate", "test_alignment"):  # untrained, the visible tests fail too and show their message
        assert NOT_THE_MODEL in result.hidden[cell], result.hidden


@pytest.mark.training
def test_the_untrained_reference_is_read_through_its_kernel_and_fails_on_its_merits(nb5_graded):
    result = nb5_graded["nb5-reference"]
    assert result.error is None and set(result.lost()) == UNTRAINED_NB5, result.messages
    assert "does not beat the no-attention baseline" in result.hidden["test_bleu_gate"]
    assert "of the linked words of the test split" in result.hidden["test_alignment"]
    assert NOT_THE_MODEL not in str(result.hidden)


@pytest.mark.training
def test_notebook_4s_bleu_floor_scores_its_model_not_a_lookup(grade_as_class):
    """The same lookup in notebook 4 (its model trains on two batches: the floor fails either way, but not for this
    reason)."""
    from attentionlab.seq2seq import SMOKE

    nb4 = "04_seq2seq"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SMOKE, "2")
        result = grade_as_class(nb4, {"nb4-lookup": reference_with(nb4, LOOKUP + "translate = lookup\n",
                                                                     "translate")})["nb4-lookup"]
    assert result.error is None and set(result.lost()) == {"test_bleu"}, result.messages
    # Untrained, the visible floor fails too: its message is the one shown, the hidden check's is kept.
    assert "Hand in `translate = model.translate`" in result.hidden["test_bleu"], result.hidden
    assert "Hand in" not in result.messages["test_bleu"], result.messages
