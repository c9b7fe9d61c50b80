"""The hidden checks themselves: right on reference code, and their references right."""
import numpy as np
import pytest

from grader.hidden import checks_for, verdict
from grader.hidden import numpy_attention as h


def test_mha_construction_matches_keras():
    x_q, x_kv, mask, params, ref, ref_w = h.keras_case()
    out, w = h._mha(x_q, x_kv, params, 3, h._attention, mask)
    np.testing.assert_allclose(w, ref_w, atol=1e-5)
    np.testing.assert_allclose(out, ref, atol=1e-4)


def split_heads(X, h):
    return np.swapaxes(X.reshape(*X.shape[:-1], h, -1), -2, -3)


def combine_heads(X):
    X = np.swapaxes(X, -2, -3)
    return X.reshape(*X.shape[:-2], -1)


def test_numpy_checks_pass_on_the_reference():
    for check in (h.sdpa_shapes, h.sdpa_weights, h.sdpa_values, h.sdpa_mask, h.sdpa_permutation):
        check(h._attention)
    h.softmax_values(h.reference_softmax)
    h.mha_values(lambda *a, num_heads, mask=None: h._mha(*a, num_heads, h._attention, mask), h._attention,
                 split_heads, combine_heads)


def test_every_graded_cell_of_every_assignment_has_a_hidden_check():
    import nbformat

    from grader.course import assignments, notebook_of
    from grader.preprocessors import is_test

    for assignment in assignments():
        nb = nbformat.read(notebook_of(assignment), as_version=4)
        tests = {c.metadata.nbgrader.grade_id for c in nb.cells if is_test(c)}
        assert tests and tests == set(checks_for(assignment)), assignment


def test_verdicts_give_messages_not_test_code():
    def broken(Q, K, V, mask=None):
        raise ValueError("shapes do not align")

    check = checks_for("01_attention_numpy")["test_sdpa_shapes"]
    passed, message = verdict(check, {"scaled_dot_product_attention": broken})
    assert not passed and "ValueError: shapes do not align" in message and "sdpa_shapes" not in message
    passed, message = verdict(checks_for("01_attention_numpy")["test_sdpa_values"],
                              {"scaled_dot_product_attention": lambda Q, K, V, mask=None: h._attention(Q, K, V, scale=1.0)})
    assert not passed and "√d" in message
    assert verdict(check, {"scaled_dot_product_attention": h._attention}) == (True, None)


def test_keras_mha_checks_pass_on_the_reference():
    from grader.hidden import keras_mha as k

    def reference(layer, query, value, mask=None):
        return k._numpy_mha(layer, query, value, mask)

    k.param_count(lambda **config: k._param_count(**config))
    for check in (k.numpy_mha_shapes, k.numpy_mha_values, k.numpy_mha_mask):
        check(reference)


def test_keras_mha_checks_name_the_mistake():
    import pytest

    from grader.hidden import keras_mha as k

    for switches, fix in [(dict(scale=1.0), "√d"), (dict(axis=-2), "axis=-1"),
                          (dict(qkv_bias=False), "biases"), (dict(out_bias=False), "output bias")]:
        with pytest.raises(AssertionError, match=fix):
            k.numpy_mha_values(lambda layer, q, v, mask=None: k._numpy_mha(layer, q, v, mask, **switches))
    with pytest.raises(AssertionError, match="output projection's bias"):
        k.param_count(lambda **config: k._param_count(**config, out_bias=False))


def test_masks_checks_pass_on_the_reference():
    from grader.hidden import masks as m

    def padding(ids):
        return (np.asarray(ids) != 0)[:, None, :]

    def causal(n):
        return np.tril(np.ones((n, n), bool))

    def masked(layer, x, ids, causal=True):
        mask = padding(ids) & np.tril(np.ones((ids.shape[1],) * 2, bool)) if causal else padding(ids)
        return layer(x, x, attention_mask=mask)

    m.padding_mask_values(padding)
    m.causal_mask_values(causal)
    m.combined_mask_values(lambda ids: padding(ids) & causal(np.shape(ids)[1]))
    m.no_future_leak(masked)
    m.pad_invariance(masked)


def test_masks_behaviour_checks_catch_the_keras3_trap():
    import pytest

    from grader.hidden import masks as m

    def positional(layer, x, ids, causal=True):
        mask = (ids != 0)[:, None, :] & (np.tril(np.ones((ids.shape[1],) * 2, bool)) if causal else True)
        return layer(x, x, x, mask)

    for check in (m.no_future_leak, m.pad_invariance):
        with pytest.raises(AssertionError, match="attention_mask="):
            check(positional)
