"""Hidden checks for notebook 1 (attention by hand in NumPy)."""
from __future__ import annotations

import numpy as np

from attentionlab.checks import close, fail, rows_sum_to_one, shape
from grader.hidden import fresh, hidden_check, questions
from grader.i18n import N_, _

FIX_SCALE = N_("The scores are not scaled: divide Q·Kᵀ by √d, where d is the width of the queries and keys, "
                "before the softmax (section 3 says why).")
FIX_AXIS = N_("The softmax runs over the wrong axis: each query's weights must sum to 1 over the keys, the last axis "
               "of the scores.")
FIX_MASK_IGNORED = N_("The mask is ignored: where mask is False, the score must become a large negative number "
                       "before the softmax, so that its weight is zero.")
FIX_MASK_INVERTED = N_("The mask is inverted: True/1 means 'may attend'; block the keys where mask is False.")


def reference_softmax(x, axis=-1):
    """Stable softmax, the graders' reference."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _attention(Q, K, V, mask=None, scale=None, axis=-1):
    scale = 1 / np.sqrt(Q.shape[-1]) if scale is None else scale
    scores = Q @ np.swapaxes(K, -1, -2) * scale
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    weights = reference_softmax(scores, axis)
    return weights @ V, weights


def _qkv(rng, lead=(2, 3), T=4, S=6, d=8, d_v=5):
    return (rng.standard_normal((*lead, T, d)) * 2, rng.standard_normal((*lead, S, d)) * 2,
            rng.standard_normal((*lead, S, d_v)))


@hidden_check("test_softmax", "softmax")
def softmax_values(softmax):
    """Random inputs, any axis, shift invariance and huge inputs."""
    rng = np.random.default_rng(fresh(11))
    x = rng.standard_normal((3, 4, 5)) * 5
    for axis in (-1, 0, 1):
        close(softmax(x, axis=axis), reference_softmax(x, axis), f"softmax(x, axis={axis})",
              _("Normalise over the axis given by the `axis` argument."))
    # On a grid of 1/64, x + 10000 is exact in float32 too (its spacing there is 1/1024): a float32 softmax then
    # differs from the reference by rounding only (~1e-7), and an unshifted one overflows to NaN.
    x = np.round(x * 64) / 64
    close(softmax(x + 1e4), reference_softmax(x), "softmax(x + 10000)",
          _("Subtract the maximum along the axis before the exponential, so that large inputs do not overflow."))


@hidden_check("test_sdpa_shapes", "scaled_dot_product_attention")
def sdpa_shapes(attention):
    """Shapes for several leading dims, T != S and d_v != d."""
    rng = np.random.default_rng(fresh(1))
    for lead in [(), (3,), (2, 4, 1)]:
        Q, K, V = _qkv(rng, lead, T=3, S=7, d=4, d_v=9)
        out, w = attention(Q, K, V)
        shape(out, (*lead, 3, 9), _("output for leading dims {lead}", lead=lead))
        shape(w, (*lead, 3, 7), _("array of weights for leading dims {lead}", lead=lead))


@hidden_check("test_sdpa_weights", "scaled_dot_product_attention")
def sdpa_weights(attention):
    """Rows of the weights sum to 1 over the keys."""
    Q, K, V = _qkv(np.random.default_rng(fresh(2)), (2,), T=5, S=3)
    rows_sum_to_one(attention(Q, K, V)[1])


@hidden_check("test_sdpa_values", "scaled_dot_product_attention")
def sdpa_values(attention):
    """Agreement with a reference; names the common mistake when there is one."""
    Q, K, V = _qkv(np.random.default_rng(fresh(3)))
    out, w = attention(Q, K, V)
    shape(w, (2, 3, 4, 6), _("array of weights"))
    variants = [
        (dict(scale=1.0), _(FIX_SCALE)),
        (dict(scale=1 / Q.shape[-1]), _("The scores are divided by d: divide them by √d (section 3 says why).")),
        (dict(axis=-2), _(FIX_AXIS)),
    ]
    ref_out, ref_w = _attention(Q, K, V)
    # Weights lie in [0, 1] and outputs are O(1): a float32 implementation is off by about 1e-7, far inside 1e-5,
    # while every variant below moves them by more than 1e-2.
    if np.allclose(w, ref_w, atol=1e-5):
        close(out, ref_out, _("output"),
              _("The output is the weighted average of the value vectors, with each query's weights."))
        return
    for kwargs, fix in variants:
        if np.allclose(w, _attention(Q, K, V, **kwargs)[1], atol=1e-5):
            fail(_("The attention weights are wrong. {fix}", fix=fix))
    close(w, ref_w, _("array of weights"), _("The weights are softmax(Q·Kᵀ/√d) over the keys."))


@hidden_check("test_sdpa_mask", "scaled_dot_product_attention")
def sdpa_mask(attention):
    """Masked keys get zero weight and do not influence the output."""
    rng = np.random.default_rng(fresh(4))
    Q, K, V = _qkv(rng, (2,), T=4, S=6)
    mask = rng.random((2, 4, 6)) < 0.6
    mask[..., 0] = True  # every query may attend to at least one key
    mask[..., -1] = False  # no query may attend to the last key
    out, w = attention(Q, K, V, mask=mask)
    rows_sum_to_one(w, _("masked attention weights"))
    if np.allclose(w, attention(Q, K, V)[1], atol=1e-6):
        fail(_(FIX_MASK_IGNORED))
    if np.all(w[mask] < 1e-6):
        fail(_(FIX_MASK_INVERTED))
    if np.any(w[~mask] > 1e-6):
        fail(_("Keys where mask is False still get weight. {fix}", fix=_(FIX_MASK_IGNORED)))
    V2 = V.copy()
    V2[:, -1] += 100.0
    close(attention(Q, K, V2, mask=mask)[0], out, _("output after changing the value of a masked key"),
          _("Values at masked keys must not change the output."))
    causal = np.tril(np.ones((4, 6), bool))
    close(attention(Q, K, V, mask=causal)[1], attention(Q, K, V, mask=np.broadcast_to(causal, (2, 4, 6)))[1],
          _("weights with a 2-D mask"), _("A mask of shape (T, S) must act on every leading dimension: it must "
                                          "broadcast against the scores (..., T, S) and give the same weights as the "
                                          "same mask repeated over the batch."))


@hidden_check("test_sdpa_permutation", "scaled_dot_product_attention")
def sdpa_permutation(attention):
    """Permuting the key–value pairs leaves the output unchanged (invariance); permuting queries permutes it."""
    rng = np.random.default_rng(fresh(5))
    Q, K, V = _qkv(rng, (2,), T=5, S=7)
    out = attention(Q, K, V)[0]
    perm_k, perm_q = rng.permutation(7), rng.permutation(5)
    close(attention(Q, K[:, perm_k], V[:, perm_k])[0], out, _("output after permuting the key–value pairs"),
          _("Attention is a weighted sum over keys: their order must not matter."))
    close(attention(Q[:, perm_q], K, V)[0], out[:, perm_q], _("output after permuting queries"),
          _("Each query is answered independently: permuting the queries must permute the output rows."))


def _keras_params(mha):
    """NumPy parameters in the notebook-1 layout from a built keras MultiHeadAttention."""
    names = ["W_q", "b_q", "W_k", "b_k", "W_v", "b_v"]
    weights = mha.get_weights()
    params = {}
    for name, w in zip(names, weights[:6]):
        params[name] = w.reshape(w.shape[0], -1) if name.startswith("W") else w.reshape(-1)
    params["W_o"] = weights[6].reshape(-1, weights[6].shape[-1])
    params["b_o"] = weights[7]
    return params


def _mha(x_q, x_kv, params, num_heads, attention, mask=None):
    """Multi-head attention around a given scaled dot-product ``attention``."""
    def split(x):
        return np.swapaxes(x.reshape(*x.shape[:-1], num_heads, -1), -2, -3)

    q, k, v = (split(x @ params[f"W_{n}"] + params[f"b_{n}"]) for n, x in (("q", x_q), ("k", x_kv), ("v", x_kv)))
    out, w = attention(q, k, v, mask if mask is None else mask[..., None, :, :])
    out = np.swapaxes(out, -2, -3)
    return out.reshape(*out.shape[:-2], -1) @ params["W_o"] + params["b_o"], w


def keras_case(seed: int = 6):
    """Random inputs, a causal mask and a keras MultiHeadAttention with its output and weights."""
    import keras

    rng = np.random.default_rng(seed)
    x_q = rng.standard_normal((2, 4, 6)).astype("float32")
    x_kv = rng.standard_normal((2, 5, 10)).astype("float32")
    mask = np.tril(np.ones((4, 5), bool))[None].repeat(2, 0)
    keras.utils.set_random_seed(seed)
    mha = keras.layers.MultiHeadAttention(num_heads=3, key_dim=4, value_dim=2, output_shape=7)
    ref, ref_w = mha(x_q, x_kv, attention_mask=mask, return_attention_scores=True)
    return x_q, x_kv, mask, _keras_params(mha), np.asarray(ref), np.asarray(ref_w)


@hidden_check("test_mha", "multi_head_attention", "scaled_dot_product_attention", "split_heads", "combine_heads")
def mha_values(multi_head_attention, attention, split_heads, combine_heads):
    """split_heads/combine_heads, and agreement with the multi-head computation built on the student's ``attention``.

    Mistakes inside ``attention`` are graded by the sdpa tests, not here; that
    this construction equals keras.layers.MultiHeadAttention is checked by the
    repository's tests.
    """
    rng = np.random.default_rng(fresh(7))
    X = rng.standard_normal((2, 5, 12))
    shape(split_heads(X, 3), (2, 3, 5, 4), _("split_heads of (2, 5, 12) into 3 heads"))
    close(split_heads(X, 3)[:, 1], X[..., 4:8], _("head 1 of split_heads"),
          _("At every position, head h must hold the columns h*d..(h+1)*d-1 of X. Here head 1 holds columns 4..7. "
            "The heads' axis comes before the positions' axis, and each head keeps its own d columns together."))
    close(combine_heads(split_heads(X, 3)), X, "combine_heads(split_heads(X))",
          _("combine_heads must undo split_heads."))
    x_q, x_kv = rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 5, 10))
    mask = np.tril(np.ones((4, 5), bool))[None].repeat(2, 0)
    sizes = {"q": (6, 12), "k": (10, 12), "v": (10, 6), "o": (6, 7)}
    params = {f"W_{n}": rng.standard_normal(s) for n, s in sizes.items()}
    params.update({f"b_{n}": rng.standard_normal(s[1]) for n, s in sizes.items()})
    ref, ref_w = _mha(x_q, x_kv, params, 3, attention, mask)
    # Outputs are sums of about 100 products of standard normal numbers (size ~10-50): float32 rounding leaves
    # ~1e-5 there, so 1e-4 (plus the default 1e-5 relative) accepts float32 and still sees any wrong head layout.
    out, w = multi_head_attention(x_q, x_kv, params, num_heads=3, mask=mask)
    shape(w, (2, 3, 4, 5), _("array of weights (batch, num_heads, T, S)"))
    close(w, ref_w, _("array of per-head weights"),
          _("Project, then split Q, K and V into heads (head h = columns h*d..(h+1)*d-1), "
            "and give the mask a head axis."), atol=1e-4)
    close(out, ref, _("multi-head output"), _("Combine the heads back (combine_heads), then apply W_o and b_o."),
          atol=1e-4)


@hidden_check("test_q_scaling", "answer_scaling")
def q_scaling(answer):
    """Predict: scores divided by d have variance 1/d, so for a large d the weights over 10 keys are nearly uniform."""
    questions.choice(answer, "d", _("Reread section 3 (why divide by √d): the variance of q·k is d, and dividing a "
                                    "number by c divides its variance by c². What variance does the division by d "
                                    "leave for d = 1024, and how far apart are 10 scores with that variance?"))


MEMORY_CASE = dict(batch=16, num_heads=8, T=1024, S=1024, dtype="float32")


def attention_weights_bytes(batch, num_heads, T, S, dtype):
    """Bytes of the attention weights of one layer: one T×S matrix per sequence and per head."""
    return batch * num_heads * T * S * np.dtype(dtype).itemsize


@hidden_check("test_q_memory", "answer_memory")
def q_memory(answer):
    """Bytes of the (batch, num_heads, T, S) float32 attention weights."""
    questions.number(answer, attention_weights_bytes(**MEMORY_CASE),
                     _("Reread section 5 (multi-head attention): what is the shape of the attention weights "
                       "multi_head_attention returns, how many numbers is that for this batch, and how many bytes "
                       "does one float32 number take?"))
