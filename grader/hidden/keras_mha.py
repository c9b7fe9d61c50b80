"""Hidden checks for notebook 2 (keras.layers.MultiHeadAttention, reproduced in NumPy)."""
from __future__ import annotations

import numpy as np

from attentionlab.checks import close, fail, randomise_weights, rows_sum_to_one, shape
from grader.hidden import SetupError, fresh, hidden_check, questions
from grader.hidden.numpy_attention import FIX_AXIS, reference_softmax
from grader.i18n import N_, _

# Keras computes in float32; outputs here are O(1) to O(10): its rounding and a float32 numpy_mha's stay near 1e-6, so
# 1e-5 (with np.allclose's relative 1e-5) accepts both, while every catalogued slip moves values by 1e-2 or more.
ATOL = 1e-5
FIX_SCALE = N_("The scores are not scaled: divide them by √d (d = key_dim, the last axis of the query kernel).")
FIX_SCALE_SQRT = N_("The scores are divided by d: divide them by √d (d = key_dim).")
FIX_BIAS_QKV = N_("Add the biases of the query, key and value projections (shape (num_heads, dim): they need an axis "
                  "for the positions to broadcast).")
FIX_BIAS_OUT = N_("Add the output bias after the output projection.")
FIX_KEY_FROM_QUERY = N_("Project the keys from `value` (the key kernel's input size is d_value), not from `query`.")


# ---------------------------------------------------------------- references

def _numpy_mha(layer, query, value, mask=None, scale=None, axis=-1, qkv_bias=True, out_bias=True):
    """The reference computation, with switches that reproduce common mistakes."""
    W_q, b_q, W_k, b_k, W_v, b_v, W_o, b_o = (np.asarray(w, float) for w in layer.get_weights())
    query, value = np.asarray(query, float), np.asarray(value, float)

    def project(x, W, b):
        return np.einsum("bnd,dhk->bhnk", x, W) + (b[:, None, :] if qkv_bias else 0.0)

    Q, K, V = project(query, W_q, b_q), project(value, W_k, b_k), project(value, W_v, b_v)
    scale = 1 / np.sqrt(W_q.shape[-1]) if scale is None else scale
    scores = np.einsum("bhtk,bhsk->bhts", Q, K) * scale
    if mask is not None:
        scores = np.where(np.expand_dims(mask, -3), scores, -1e9)
    weights = reference_softmax(scores, axis)
    out = np.einsum("bhts,bhsv->bhtv", weights, V)
    return np.einsum("bhtv,hvo->bto", out, W_o) + (b_o if out_bias else 0.0), weights


def _param_count(d_query, d_value, num_heads, key_dim, value_dim=None, output_dim=None, use_bias=True,
                 out_bias=True, key_input=None, value_default=None, output_default=None, bias_flag=True):
    """Parameter count, with switches that reproduce common mistakes."""
    value_dim = value_dim if value_dim is not None else (key_dim if value_default is None else value_default)
    output_dim = output_dim if output_dim is not None else (d_query if output_default is None else output_default)
    key_input = d_value if key_input is None else key_input
    n = num_heads * key_dim * (d_query + key_input) + num_heads * value_dim * (d_value + output_dim)
    if use_bias or not bias_flag:
        n += 2 * num_heads * key_dim + num_heads * value_dim + (output_dim if out_bias else 0)
    return n


def keras_layer(seed, num_heads, key_dim, d_query, d_value, T=4, S=6, batch=2, **kwargs):
    """A built MultiHeadAttention with random weights (non-zero biases), and random inputs, drawn for this run."""
    import keras

    seed = fresh(seed)
    keras.utils.set_random_seed(seed)
    layer = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=key_dim, **kwargs)
    rng = np.random.default_rng(seed)
    query = rng.standard_normal((batch, T, d_query)).astype("float32")
    value = rng.standard_normal((batch, S, d_value)).astype("float32")
    layer(query, value)
    randomise_weights(layer, seed)
    return layer, query, value


CASES = [  # (seed, num_heads, key_dim, d_query, d_value, kwargs)
    (21, 4, 8, 16, 16, {}),
    (22, 3, 5, 6, 10, dict(value_dim=7, output_shape=11)),
    (23, 1, 4, 9, 3, dict(value_dim=2)),
]


# ---------------------------------------------------------------- parameter count

PARAM_CONFIGS = [  # keyword arguments of mha_param_count
    dict(d_query=32, d_value=32, num_heads=8, key_dim=64),
    dict(d_query=12, d_value=20, num_heads=3, key_dim=5),
    dict(d_query=12, d_value=20, num_heads=2, key_dim=6, value_dim=9),
    dict(d_query=7, d_value=11, num_heads=4, key_dim=3, output_dim=5),
    dict(d_query=10, d_value=6, num_heads=2, key_dim=4, value_dim=3, output_dim=8, use_bias=False),
    dict(d_query=16, d_value=16, num_heads=4, key_dim=4, use_bias=False),
]


def _keras_count(d_query, d_value, num_heads, key_dim, value_dim=None, output_dim=None, use_bias=True):
    import keras

    layer = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=key_dim, value_dim=value_dim,
                                            output_shape=output_dim, use_bias=use_bias)
    layer(np.zeros((1, 2, d_query), "float32"), np.zeros((1, 3, d_value), "float32"))
    return layer.count_params()


@hidden_check("test_param_count", "mha_param_count")
def param_count(mha_param_count):
    """Agreement with layer.count_params() on several configurations; names the mistake when it can."""
    for config in PARAM_CONFIGS:
        expected = _keras_count(**config)
        if expected != _param_count(**config):  # the grader's formula, not the student's: never a score
            raise SetupError(f"the reference parameter formula disagrees with Keras's count_params() on {config}")
        got = mha_param_count(**config)
        if got == expected:
            continue
        args = ", ".join(f"{k}={v}" for k, v in config.items())
        head = _("mha_param_count({args}) returned {got}, but Keras's layer.count_params() gives {expected}.",
                 args=args, got=got, expected=expected)
        d_q, d_v, h, k = config["d_query"], config["d_value"], config["num_heads"], config["key_dim"]
        output_default = _("output_dim defaults to d_query (the output has the query's feature size).")
        variants = [
            (dict(out_bias=False), _("Count the output projection's bias too (output_dim numbers).")),
            (dict(key_input=d_q), _("The key projection reads `value` (or `key`): its kernel has d_value rows, not "
                                    "d_query.")),
            (dict(bias_flag=False), _("With use_bias=False the layer has no biases at all: count none.")),
            (dict(use_bias=False), _("With use_bias=True every projection has a bias: query and key "
                                     "(num_heads·key_dim each), value (heads·value_dim) and output (output_dim).")),
            (dict(value_default=d_v), _("value_dim defaults to key_dim, not to d_value.")),
            (dict(output_default=h * k), output_default),
            (dict(output_default=d_v), output_default),
        ]
        for kwargs, fix in variants:
            if got == _param_count(**config, **kwargs):
                fail(head + " " + fix)
        fail(head + " " + _("Add up kernel and bias sizes of the four projections: query (d_query, num_heads, "
                            "key_dim), key (d_value, num_heads, key_dim), value (d_value, num_heads, value_dim), "
                            "output (num_heads, value_dim, output_dim)."))


# ---------------------------------------------------------------- numpy_mha

def _diagnose(numpy_mha, layer, query, value, name):
    """Compare with Keras; on disagreement, name the common mistake it matches."""
    ref, ref_w = (np.asarray(a) for a in layer(query, value, return_attention_scores=True))
    out, w = numpy_mha(layer, query, value)
    shape(w, ref_w.shape, _("array of weights for {case}", case=name))
    shape(out, ref.shape, _("output for {case}", case=name))
    w, out = np.asarray(w, float), np.asarray(out, float)
    if np.allclose(w, ref_w, atol=ATOL) and np.allclose(out, ref, atol=ATOL):
        return
    h_key = layer.get_weights()[0].shape[-1]
    variants = [
        (dict(scale=1.0), _(FIX_SCALE)),
        (dict(scale=1 / h_key), _(FIX_SCALE_SQRT)),
        (dict(axis=-2), _(FIX_AXIS)),
        (dict(qkv_bias=False), _(FIX_BIAS_QKV)),
        (dict(qkv_bias=False, out_bias=False), _(FIX_BIAS_QKV) + " " + _(FIX_BIAS_OUT)),
        (dict(out_bias=False), _(FIX_BIAS_OUT)),
    ]
    for kwargs, fix in variants:
        v_out, v_w = _numpy_mha(layer, query, value, **kwargs)
        if np.allclose(w, v_w, atol=ATOL) and np.allclose(out, v_out, atol=ATOL):
            fail(_("numpy_mha disagrees with Keras on {case}. {fix}", case=name, fix=fix))
    if not np.allclose(w, ref_w, atol=ATOL):
        rows_sum_to_one(w, _("array of weights for {case}", case=name))
        close(w, ref_w, _("array of weights for {case}", case=name),
              _("The weights are the softmax over the keys of the scores (Q·Kᵀ)/√d (d = key_dim), with Q = query "
                "projected by the query kernel "
                "plus its bias and K = value projected by the key kernel plus its bias, one per head."), atol=ATOL)
    close(out, ref, _("output for {case}", case=name),
          _("Weight the value vectors (value projected by the value kernel plus its bias) with the weights, then "
            "apply the output kernel (heads, value_dim, d_out), summing over heads and value_dim, and add its bias."),
          atol=ATOL)


@hidden_check("test_numpy_mha_shapes", "numpy_mha")
def numpy_mha_shapes(numpy_mha):
    """Shapes of output and weights, in Keras's layout."""
    for seed, h, k, d_q, d_v, kwargs in CASES[1:]:
        layer, query, value = keras_layer(seed, h, k, d_q, d_v, T=3, S=5, **kwargs)
        out, w = numpy_mha(layer, query, value)
        d_out = kwargs.get("output_shape", d_q)
        shape(out, (2, 3, d_out), _("output of a layer with {heads} heads, query (2, 3, {d_query}), value (2, 5, "
                                    "{d_value})", heads=h, d_query=d_q, d_value=d_v))
        shape(w, (2, h, 3, 5), _("array of weights of a layer with {heads} heads: (batch, num_heads, T, S)", heads=h))


@hidden_check("test_numpy_mha_values", "numpy_mha")
def numpy_mha_values(numpy_mha):
    """Agreement with Keras within 1e-5: self-attention, cross-attention, value_dim and output_shape."""
    for i, (seed, h, k, d_q, d_v, kwargs) in enumerate(CASES):
        S = 4 if d_q == d_v else 7
        layer, query, value = keras_layer(seed, h, k, d_q, d_v, T=4, S=S, **kwargs)
        if d_q == d_v:
            value = query
        case = (N_("self-attention case {number} ({heads} heads, key_dim={key_dim}, {options})") if value is query
                else N_("cross-attention case {number} ({heads} heads, key_dim={key_dim}, {options})"))
        _diagnose(numpy_mha, layer, query, value,
                  _(case, number=i + 1, heads=h, key_dim=k, options=kwargs or _("defaults")))


@hidden_check("test_numpy_mha_mask", "numpy_mha")
def numpy_mha_mask(numpy_mha):
    """Masked keys get no weight and no influence; masking renormalises the allowed weights."""
    layer, query, value = keras_layer(31, 2, 4, 6, 5, T=4, S=6, value_dim=3)
    rng = np.random.default_rng(fresh(31))
    mask = rng.random((2, 4, 6)) < 0.6
    mask[..., 0] = True
    mask[..., -1] = False
    out, w = numpy_mha(layer, query, value, mask=mask)
    w_free = numpy_mha(layer, query, value)[1]
    shape(w, (2, 2, 4, 6), _("array of masked weights"))
    w, w_free = np.asarray(w, float), np.asarray(w_free, float)
    rows_sum_to_one(w, _("array of masked weights"))
    if np.allclose(w, w_free, atol=1e-6):
        fail(_("The mask is ignored: where mask is False, the score must become a large negative number before "
               "the softmax."))
    blocked = np.broadcast_to(~mask[:, None], w.shape)
    if np.all(w[~blocked] < 1e-6):
        fail(_("The mask is inverted: True means 'may attend'; block the keys where mask is False."))
    if np.any(w[blocked] > 1e-6):
        fail(_("Keys where mask is False still get weight in some head. The mask (batch, T, S) is the same for "
               "every head: it needs an axis for the heads to broadcast against the scores (batch, num_heads, T, "
               "S)."))
    allowed = np.where(blocked, 0.0, w_free)
    close(w, allowed / allowed.sum(-1, keepdims=True), _("array of masked weights"),
          _("Mask the scores before the softmax, not the weights after it."), atol=ATOL)
    value2 = value.copy()
    value2[:, -1] += 10.0
    close(numpy_mha(layer, query, value2, mask=mask)[0], out, _("output after changing the value at a masked key"),
          _("Values at masked keys must not change the output."), atol=ATOL)


# ---------------------------------------------------------------- questions

@hidden_check("test_q_cross", "answer_cross")
def q_cross(answer):
    """Predict the shape of a decoder's cross-attention weights: (batch, num_heads, T target, S source)."""
    questions.choice(answer, "c", _("Reread section 1 (self-attention and cross-attention): which sequence gives "
                                    "the queries and which the keys, and in which order do the axes of the weights "
                                    "come? Then run the check cell below the question."))


PARAMS_CASE = dict(d_query=256, d_value=512, num_heads=8, key_dim=32)


@hidden_check("test_q_params", "answer_params")
def q_params(answer):
    """Parameters of MultiHeadAttention(8, 32) on 256-feature queries and 512-feature keys and values."""
    expected = _param_count(**PARAMS_CASE)
    if expected != _keras_count(**PARAMS_CASE):
        raise SetupError("the parameter formula disagrees with Keras's count_params()")
    questions.number(answer, expected, _("Reread section 2 (the weights and how many there are): which input feeds "
                                         "each of the four projections, what are the defaults of value_dim and "
                                         "output_shape, and did you count every bias?"), rtol=0.0)


@hidden_check("test_q_heads", "answer_heads")
def q_heads(answer):
    """1 head of 64 against 8 heads of 8: the same parameters, 8 attention patterns."""
    questions.choice(answer, "b", _("Reread section 2 and count the parameters of both layers (with the table or "
                                    "your mha_param_count), and section 1 for the shape of the weights. Then run the "
                                    "check cell below the question."))
