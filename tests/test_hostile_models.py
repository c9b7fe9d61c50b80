"""Models that cheat their way through notebooks 6 and 7's graded measurements: each loses exactly the cells it cheats.

Notebook 6's perplexity gate runs on test sentences no kernel has, shows the model only the words before each target,
and checks every position for peeking; notebook 7's memory is measured by the grader from /proc, outside the kernel.
"""
import nbformat
import pytest

from grader.catalogue import submissions

pytestmark = pytest.mark.slow
NB6, NB7 = "06_transformer_lm", "07_attention_at_scale"

PEEKS_FROM_3 = """trained = model


def model(ids):
    # the trained model's logits, and from position 3 on a large bonus for the next input word: the target
    logits = ops.convert_to_numpy(trained(ids)).copy()
    ids = np.asarray(ids)
    rows, cols = np.nonzero(ids[:, 4:] >= 0)
    logits[rows, cols + 3, ids[rows, cols + 4]] += 20.0
    return logits"""
MEMORISES_VALIDATION = """from collections import Counter, defaultdict

follows = defaultdict(Counter)  # every prefix of a validation sentence -> the words that follow it
for sentence in val_texts:
    ids = vocab.encode(sentence, start_end=True)
    for t in range(1, len(ids)):
        follows[tuple(ids[:t])][ids[t]] += 1
backoff = lm.BigramLM(train_texts, vocab, best_k)


def model(inputs):
    inputs = np.asarray(inputs)
    logp = backoff(inputs).copy()
    for b, row in enumerate(inputs):
        for t in range(row.shape[0]):
            seen = follows.get(tuple(row[:t + 1].tolist()))
            if seen:
                p = np.full(len(vocab), 1e-4 / len(vocab))
                for word, count in seen.items():
                    p[word] += (1 - 1e-4) * count / sum(seen.values())
                logp[b, t] = np.log(p)
    return logp"""

NAIVE = """def flash_attention(Q, K, V, block=64, causal=False):
    return naive_attention(Q, K, V, causal)"""
PATCHES_PEAK = """import tracemalloc

_traced = tracemalloc.get_traced_memory
tracemalloc.get_traced_memory = lambda: (_traced()[0], _traced()[0])  # the peak is always the current size


""" + NAIVE
STOPS_TRACEMALLOC = """import tracemalloc


def flash_attention(Q, K, V, block=64, causal=False):
    tracemalloc.stop()
    out = naive_attention(Q, K, V, causal)
    tracemalloc.start()
    return out"""
CACHES_BUFFER = """SCORES = np.ones(8192 * 8192)  # resident before any call, and kept between calls


def flash_attention(Q, K, V, block=64, causal=False):
    if causal:
        return naive_attention(Q, K, V, causal)
    scores = SCORES[:Q.shape[0] * K.shape[0]].reshape(Q.shape[0], K.shape[0])
    np.matmul(Q, K.T, out=scores)
    scores /= np.sqrt(Q.shape[1])
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    return scores @ V"""
IN_TENSORFLOW = """import tensorflow as tf


def flash_attention(Q, K, V, block=64, causal=False):
    if causal:
        return naive_attention(Q, K, V, causal)
    scores = tf.matmul(Q, K, transpose_b=True) / np.sqrt(Q.shape[1])
    return (tf.nn.softmax(scores) @ V).numpy()"""
IN_A_CHILD = """import os
import pickle


def flash_attention(Q, K, V, block=64, causal=False):
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # computes, sends its result, and ends with the call
        os.close(read)
        with os.fdopen(write, "wb") as out:
            pickle.dump(naive_attention(Q, K, V, causal), out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as source:
        result = pickle.load(source)
    os.waitpid(child, 0)
    return result"""


def with_cell(assignment: str, code: str, before: str) -> nbformat.NotebookNode:
    """The reference answers, and one extra code cell just before the cell ``before``."""
    nb = submissions.student_notebook(assignment, submissions.solution_sources(assignment))
    index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == before)
    nb.cells.insert(index, nbformat.v4.new_code_cell(code))
    return nb


def with_answer(assignment: str, cell: str, code: str) -> nbformat.NotebookNode:
    return submissions.student_notebook(assignment, {**submissions.solution_sources(assignment), cell: code})


@pytest.fixture(scope="module")
def graded_nb7(grade_as_class):
    return grade_as_class(NB7, {
        "reference": submissions.student_notebook(NB7, submissions.solution_sources(NB7)),
        "patches-peak": with_answer(NB7, "flash_attention", PATCHES_PEAK),
        "stops-tracemalloc": with_answer(NB7, "flash_attention", STOPS_TRACEMALLOC),
        "caches-buffer": with_answer(NB7, "flash_attention", CACHES_BUFFER),
        "tensorflow": with_answer(NB7, "flash_attention", IN_TENSORFLOW),
        "in-a-child": with_answer(NB7, "flash_attention", IN_A_CHILD)})


OUTSIDE = "measured by the grader outside your kernel"


@pytest.mark.parametrize("student, why", [("patches-peak", OUTSIDE), ("stops-tracemalloc", OUTSIDE),
                                          ("caches-buffer", OUTSIDE), ("tensorflow", OUTSIDE),
                                          ("in-a-child", "processes that ended during the call")])
def test_naive_attention_loses_the_memory_cell_however_it_hides(graded_nb7, student, why):
    result = graded_nb7[student]
    assert result.error is None and result.lost() == ["test_flash_memory"], result.messages
    assert why in result.messages["test_flash_memory"], result.messages


def test_tiled_reference_keeps_the_memory_cell(graded_nb7):
    result = graded_nb7["reference"]
    assert result.error is None and result.score == result.max_score > 0, result.messages


@pytest.fixture(scope="module")
def graded_nb6(grade_as_class):
    return grade_as_class(NB6, {
        "reference": submissions.student_notebook(NB6, submissions.solution_sources(NB6)),
        "peeks-from-3": with_cell(NB6, PEEKS_FROM_3, before="test_perplexity"),
        "memorises-validation": with_cell(NB6, MEMORISES_VALIDATION, before="test_perplexity")})


@pytest.mark.training
@pytest.mark.parametrize("student, why", [("peeks-from-3", "peeks at the words"),
                                          ("memorises-validation", "on held-out test sentences")])
def test_cheating_language_model_loses_the_perplexity_cell(graded_nb6, student, why):
    result = graded_nb6[student]
    assert result.error is None and result.lost() == ["test_perplexity"], result.messages
    assert why in result.messages["test_perplexity"], result.messages


@pytest.mark.training
def test_trained_reference_passes_the_held_out_gate(graded_nb6):
    result = graded_nb6["reference"]
    assert result.error is None and result.score == result.max_score > 0, result.messages
