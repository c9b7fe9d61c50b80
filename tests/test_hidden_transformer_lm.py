"""Notebook 6's hidden checks: their NumPy references agree with Keras, the reference passes, mistakes are named."""
import numpy as np
import pytest

from grader import submissions
from grader.hidden import transformer_lm as h

ASSIGNMENT = "06_transformer_lm"


@pytest.fixture(scope="module")
def reference():
    """The namespace of the notebook's reference answers (the setup cell's imports, without the corpus)."""
    import keras
    from keras import layers, ops

    namespace = {"np": np, "keras": keras, "layers": layers, "ops": ops}
    for grade_id in ("positional_encoding", "decoder_block", "temperature", "filters", "sample"):
        exec(submissions.solution_sources(ASSIGNMENT)[grade_id], namespace)
    return namespace


def test_block_reference_is_keras_pre_ln(reference):
    """The grader's NumPy block equals the Keras reference block, layer by layer, on random weights."""
    from attentionlab.checks import randomise_weights

    block = reference["DecoderBlock"](8, 2, 16)
    x = np.random.default_rng(0).standard_normal((2, 5, 8)).astype("float32")
    block(x)
    randomise_weights(block, seed=1)
    weights = [np.asarray(w, "float64") for w in block.get_weights()]
    np.testing.assert_allclose(np.asarray(block(x)), h.reference_block(x.astype("float64"), weights), atol=1e-4)


def test_checks_pass_on_the_reference(reference):
    h.positional_encoding(reference["positional_encoding"])
    h.decoder_block(reference["DecoderBlock"])
    h.temperature(reference["greedy"], reference["softmax_with_temperature"])
    h.top_k(reference["top_k_filter"])
    h.top_p(reference["top_p_filter"])
    h.sample(reference["sample"], reference["top_k_filter"], reference["top_p_filter"])


@pytest.mark.parametrize("mistake, fix", [(dict(sine_even=False), "swapped"), (dict(exponent="j"), "column index"),
                                          (dict(exponent="i"), "not i/d")])
def test_positional_encoding_mistakes_are_named(mistake, fix):
    with pytest.raises(AssertionError, match=fix):
        h.positional_encoding(lambda n, d: h.reference_pe(n, d, **mistake))


@pytest.mark.parametrize("extra, fix", [(-1, "drops the token"), (1, "one token more")])
def test_top_p_off_by_ones_are_named(extra, fix):
    with pytest.raises(AssertionError, match=fix):
        h.top_p(lambda z, p: np.where(h.nucleus(np.atleast_2d(z), p, extra=extra).reshape(np.shape(z)), z, -np.inf))


def test_sample_from_the_wrong_distribution_fails(reference):
    def untempered(logits, seed=0, temperature=1.0, top_k=None, top_p=None):
        return reference["sample"](logits, seed=seed, top_k=top_k, top_p=top_p)

    with pytest.raises(AssertionError, match="temperature"):
        h.sample(untempered, reference["top_k_filter"], reference["top_p_filter"])


def test_nucleus_is_the_smallest_set_reaching_p():
    z = np.log(np.array([[0.1, 0.4, 0.2, 0.3]]))
    assert h.nucleus(z, 0.65).tolist() == [[False, True, False, True]]  # 0.4 + 0.3 reaches 0.65
    assert h.nucleus(z, 0.7).tolist() == [[False, True, False, True]]  # exactly 0.7 reaches 0.7
    assert h.nucleus(z, 0.35).tolist() == [[False, True, False, False]]
