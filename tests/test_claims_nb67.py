"""The figures notebooks 6 and 7 state in their text, each held to what computes or measures it.

Notebook 7 trains nothing: its solution runs here, in this process, and each claim is checked against the
measurement of the cell it describes, or against the formula behind it. Notebook 6's trained model has no calibration
record; its text states no figure of it (the notebook prints its perplexities and training time), and the figures it
does state (data, model size, the untrained loss its question rests on) are computed here from the same code.
"""
import math
import re

import keras
import matplotlib
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest

from attentionlab import lm, scale
from grader.course import SOLUTIONS, notebook_of
from test_claims import claimed, text_of

NB6, NB7 = "06_transformer_lm", "07_attention_at_scale"
GiB, MiB = 2**30, 2**20


def cells(assignment: str) -> dict:
    """{cell id: cell} of the instructor's notebook."""
    return {c.id: c for c in nbformat.read(notebook_of(assignment, SOLUTIONS), as_version=4).cells}


def number(text: str) -> float:
    """A figure as the notebooks write it: 16,600, 100\\,000 or 32\\,768."""
    return float(text.replace("\\,", "").replace(",", ""))


# ---------------------------------------------------------------- notebook 7

@pytest.fixture(scope="module")
def nb7():
    """{cell id: the names defined once that cell ran}, for every code cell of notebook 7, run top to bottom."""
    matplotlib.use("Agg")
    namespace, after = {}, {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plt, "show", lambda *args, **kwargs: plt.close("all"))
        for cell in cells(NB7).values():
            if cell.cell_type == "code":
                exec(compile(cell.source, f"<notebook 7, cell {cell.id}>", "exec"), namespace)  # noqa: S102
                after[cell.id] = dict(namespace)
    return after


def test_notebook_7_states_the_size_of_long_scores():
    """The introduction's 10^10 scores, their float16 size and the share of an 80 GB GPU; section 1's 2 TiB."""
    text = text_of(NB7)
    n, scores, gib, gpu = claimed(r"At \$n = ([\d\\,]+)\$ the scores of one head of one layer are \$10\^\{(\d+)\}\$ "
                                  r"numbers: ([\d.]+) GiB in `float16`, a quarter of the memory of an (\d+) GB GPU", text)
    n = number(n)
    assert n**2 == 10 ** int(scores)
    assert round(2 * n**2 / GiB, 1) == float(gib)
    assert 2 * n**2 / (int(gpu) * 10**9) == pytest.approx(0.25, abs=0.01)
    layers, heads, n, tib = claimed(r"A model with (\d+) layers and (\d+) heads reading \$n = ([\d\\,]+)\$ tokens would "
                                    r"need .*? bytes \$= (\d+)\$ TiB of `float16` attention weights", text)
    assert int(layers) * int(heads) * number(n) ** 2 * 2 == int(tib) * 2**40


def test_notebook_7_states_the_a100s_memory_as_dao_et_al():
    """Dao et al. (2022, section 2.1): 192 KB of SRAM in each of 108 streaming multiprocessors, 40 or 80 GB of HBM."""
    per_unit, units, total = claimed(r"has (\d+) KB of SRAM in each of its (\d+) processors, about (\d+) MB in all",
                                     text_of(NB7))
    assert (int(per_unit), int(units)) == (192, 108)
    assert int(per_unit) * 1024 * int(units) / 10**6 == pytest.approx(int(total), rel=0.1)


def test_notebook_7_states_the_memory_budget_of_its_test():
    n, matrix, budget = claimed(r"peak memory of your `flash_attention` at \$n = (\d+)\$ with blocks of 64 keys, .*?"
                                r"such a matrix takes (\d+) MiB, so the budget is (\d+) MiB", text_of(NB7))
    assert 8 * int(n) ** 2 == int(matrix) * MiB and int(budget) == int(matrix) / 2
    test = cells(NB7)["1090b955"].source
    assert f"n, d = {n}, 64" in test and "8 * n * n / 2" in test


def test_notebook_7_states_the_alibi_slopes_of_eight_heads():
    heads, first, second, last = claimed(r"\(for \$H = (\d+)\$: \$\\frac1(\d), \\frac1(\d), \\dots, \\frac1\{(\d+)\}\$\)",
                                         text_of(NB7))
    H = int(heads)
    slopes = 2.0 ** (-8 * np.arange(1, H + 1) / H)
    assert [1 / slopes[0], 1 / slopes[1], 1 / slopes[-1]] == [int(first), int(second), int(last)]


@pytest.mark.slow
def test_notebook_7_measures_what_section_1_says(nb7):
    """Sizes and width as stated; the memory exponent a few hundredths from 2, the peak a few n x n matrices; the time
    exponent near 2 or above."""
    low, high = map(int, claimed(r"Here \$d = 64\$ and \$T = S = n\$ from (\d+) to (\d+)\.", text_of(NB7)))
    measured = nb7["117e693a"]
    assert measured["d"] == 64 and (measured["sizes"][0], measured["sizes"][-1]) == (low, high)
    assert "The memory exponent is within a few hundredths of 2" in text_of(NB7)
    assert abs(measured["p_memory"] - 2) <= 0.06
    assert 2 <= measured["peaks"][-1] / (8 * high**2) <= 4  # the scores, their exponentials, the weights
    # "near 2 or above, and it changes more from run to run": 1.70 measured while the other test worker trains
    assert measured["p_time"] >= 1.6


@pytest.mark.slow
def test_notebook_7_measures_what_section_2_says(nb7):
    """The tiled version's memory grows linearly; with one block of every key it holds about what naive attention
    holds (question 1's answer, d)."""
    assert "The tiled version's memory grows linearly" in text_of(NB7)
    growth = nb7["d0323877"]
    assert 0.8 <= growth["fit_exponent"](growth["sizes"], growth["flash_peaks"]) <= 1.2
    one_block = nb7["4fb88a29"]
    naive = scale.peak_bytes(one_block["naive_attention"], one_block["Q"], one_block["K"], one_block["V"])
    assert one_block["block"] == one_block["n"] and 0.7 <= one_block["peak"] / naive <= 1.3


@pytest.mark.slow
def test_notebook_7_measures_what_section_3_says(nb7):
    """At the longest length timed, generating with the KV cache is tens of times faster than recomputing."""
    n = int(claimed(r"at \$n = (\d+)\$ the cache is already tens of times faster", text_of(NB7))[0])
    timed = nb7["57f20aec"]
    assert timed["lengths"][-1] == n
    assert timed["recompute"][-1] / timed["cached"][-1] >= 10


# ---------------------------------------------------------------- notebook 6

@pytest.fixture(scope="module")
def nb6():
    """The names notebook 6 defines before training: corpus, vocabulary, the reference's encoding and block, and the
    constants of its training cell (not the training)."""
    found, namespace = cells(NB6), {}
    for cell_id in ("setup", "positional-encoding", "decoder-block"):
        exec(compile(found[cell_id].source, f"<notebook 6, cell {cell_id}>", "exec"), namespace)  # noqa: S102
    constants = [line for line in found["cell-15"].source.splitlines() if re.match(r"[A-Z_, ]+ = ", line)]
    exec("\n".join(constants), namespace)  # noqa: S102
    return namespace


def model_of(nb6):
    """The untrained model of notebook 6's training cell, seeded as it is."""
    keras.utils.set_random_seed(0)
    d_model = nb6["D_MODEL"]
    model = lm.TransformerLM(len(nb6["vocab"]), d_model, nb6["positional_encoding"](nb6["MAX_LEN"], d_model),
                             [nb6["DecoderBlock"](d_model, nb6["HEADS"], nb6["D_FF"]) for _ in range(nb6["BLOCKS"])])
    model(np.zeros((1, 4), "int32"))
    return model


def test_notebook_6_states_its_data_and_epochs(nb6):
    epochs, sentences = claimed(r"Training runs (\d+) epochs over the ([\d,]+) training sentences", text_of(NB6))
    assert int(epochs) == nb6["EPOCHS"]
    assert number(sentences) == round(len(nb6["train_texts"]), -2)


def test_notebook_6_states_its_model_size(nb6):
    """Two blocks of the stated width and heads; about the stated parameters, two thirds in the embedding and head."""
    width, heads, about = claimed(r"[Tt]wo blocks of width \$d_\{\\text\{model\}\} = (\d+)\$ with \$H = (\d+)\$ heads: "
                                  r"about ([\d,]+) parameters, two thirds of them in the embedding and the head",
                                  text_of(NB6))
    assert (nb6["BLOCKS"], nb6["D_MODEL"], nb6["HEADS"]) == (2, int(width), int(heads))
    model = model_of(nb6)
    assert model.count_params() == pytest.approx(number(about), rel=0.01)
    ends = model.embedding.count_params() + model.head.count_params()
    assert ends / model.count_params() == pytest.approx(2 / 3, abs=0.05)


def test_the_untrained_model_is_about_uniform_as_question_1_says(nb6):
    """Question 1 compares the uniform model's loss, log |V|, with the untrained loss: they must be close."""
    assert "Before training, the model's logits are nearly equal" in text_of(NB6)
    loss = math.log(lm.perplexity(model_of(nb6), nb6["val_texts"], nb6["vocab"]))
    assert loss == pytest.approx(math.log(len(nb6["vocab"])), abs=0.3)


def test_the_bigram_models_best_k_lies_inside_the_grid(nb6):
    """'we give it its best k on the validation sentences': the grid brackets the best k, which is not at its edge."""
    assert "we give it its best $k$ on the validation sentences" in text_of(NB6)
    namespace = dict(nb6)
    exec(cells(NB6)["cell-13"].source, namespace)  # noqa: S102
    runs = namespace["bigram_runs"]
    assert min(runs) < namespace["best_k"] < max(runs)


def test_the_wavelengths_of_the_encoding_grow_as_stated(nb6):
    """From 2π for the first pair of columns, by a constant ratio, towards (and below) 10000·2π."""
    assert "from $2\\pi$ (the first pair of columns) towards $10000 \\cdot 2\\pi$" in text_of(NB6)
    longest = {}
    for d_model in (nb6["D_MODEL"], 512):
        pe = nb6["positional_encoding"](2, d_model)
        frequencies = np.arctan2(pe[1, 0::2], pe[1, 1::2])  # the angle each pair turns by from position 0 to 1
        wavelengths = 2 * np.pi / frequencies
        assert wavelengths[0] == pytest.approx(2 * np.pi)
        assert np.allclose(wavelengths[1:] / wavelengths[:-1], wavelengths[1] / wavelengths[0])
        longest[d_model] = wavelengths[-1] / (10000 * 2 * np.pi)
    assert longest[nb6["D_MODEL"]] < longest[512] < 1 and longest[512] > 0.95  # towards 10000·2π as d_model grows
