"""Hidden checks for notebook 7 (attention at scale: tiled attention, KV cache, GQA, RoPE, ALiBi)."""
from __future__ import annotations

import numpy as np

from attentionlab.checks import close, fail, shape
from grader.hidden import SetupError, fresh, hidden_check, questions
from grader.hidden.numpy_attention import reference_softmax
from grader.hidden.remote import Unmeasurable
from grader.i18n import N_, _

# The length of the memory check, drawn per run, in whole 64-key blocks (a dropped last block is test_flash's). Naive
# attention's (n, n) float64 scores alone take 275-490 MiB there, and the budget is half of that; the reference
# measured 49 MiB at n = 6912 (its blocks, the BLAS library's buffers, the call's own messages), in 2 s of a 30 s
# grading.
MEMORY_BLOCKS = (94, 126)  # n = 6016 to 8000

FIX_RESCALE = N_("When the running maximum m grows, multiply both the running sum l and the accumulator by "
                  "exp(m − m_new).")
FIX_CAUSAL = N_("A causal query t sees the keys j ≤ t, the diagonal included; compare each key's position in the "
                "whole sequence (start of the block + its index in the block) with the query's position.")


def attention(Q, K, V, causal=False):
    """Attention over the last two axes; causal: query t sees keys j ≤ t."""
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if causal:
        scores = np.where(np.arange(K.shape[-2]) <= np.arange(Q.shape[-2])[:, None], scores, -np.inf)
    return reference_softmax(scores) @ V


def tiled(Q, K, V, block, causal=False, rescale_sum=True, rescale_acc=True, global_cols=True):
    """The online-softmax loop over blocks of keys; the flags switch off one step each, as the common mistakes do."""
    T, S = Q.shape[0], K.shape[0]
    m, l, acc = np.full((T, 1), -np.inf), np.zeros((T, 1)), np.zeros((T, V.shape[-1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        for start in range(0, S, block):
            scores = Q @ K[start:start + block].T / np.sqrt(Q.shape[-1])
            if causal:
                cols = np.arange(scores.shape[1]) + (start if global_cols else 0)
                scores = np.where(cols <= np.arange(T)[:, None], scores, -np.inf)
            m_new = np.maximum(m, scores.max(axis=-1, keepdims=True))
            p, correction = np.exp(scores - m_new), np.exp(m - m_new)
            l = (l * correction if rescale_sum else l) + p.sum(axis=-1, keepdims=True)
            acc = (acc * correction if rescale_acc else acc) + p @ V[start:start + block]
            m = m_new
        return acc / l


def _flash_mistakes(Q, K, V, block, causal):
    """{fix: output} of the common mistakes of tiled attention on these inputs."""
    kept = K.shape[0] - K.shape[0] % block
    mistakes = {
        _("The running sum l is not rescaled: its terms were computed against the old maximum. When the maximum m "
          "grows, multiply both the running sum l and the accumulator by exp(m − m_new) before adding the new "
          "block."):
        tiled(Q, K, V, block, causal, rescale_sum=False),
        _("The accumulator is not rescaled: its terms were computed against the old maximum. When the maximum m "
          "grows, multiply both the running sum l and the accumulator by exp(m − m_new) before adding the new "
          "block."):
        tiled(Q, K, V, block, causal, rescale_acc=False),
    }
    if 0 < kept < K.shape[0]:
        dropped = _("The last, shorter block is dropped: when block does not divide S, loop until every key is "
                    "processed.")
        mistakes[dropped] = attention(Q, K[:kept], V[:kept], causal)
    if causal:
        mistakes[_("The causal mask compares the key's index inside its block with the query's position: use the "
                   "key's position in the whole sequence, start of the block + its index.")] = \
            tiled(Q, K, V, block, causal, global_cols=False)
    return mistakes


def _check_flash(flash_attention, Q, K, V, blocks, causal):
    reference = attention(Q, K, V, causal)
    for block in blocks:
        out = flash_attention(Q, K, V, block=block, causal=causal)
        name = (_("causal flash_attention with T = {T}, S = {S}, block = {block}", T=Q.shape[0], S=K.shape[0],
                  block=block) if causal else
                _("flash_attention with T = {T}, S = {S}, block = {block}", T=Q.shape[0], S=K.shape[0],
                  block=block))
        shape(out, reference.shape, name)
        hint = _(FIX_CAUSAL) if causal else _("{fix} Process every key, the last shorter block included.",
                                              fix=_(FIX_RESCALE))
        close(out, reference, name, hint, mistakes=_flash_mistakes(Q, K, V, block, causal))


@hidden_check("test_fit_exponent", "fit_exponent")
def fit_exponent_values(fit_exponent):
    """Exact power laws of random exponents and scales, then noisy ones against the least-squares slope."""
    rng = np.random.default_rng(fresh(71))
    n = np.geomspace(64, 8192, 8).round()
    for _law in range(3):
        p, c = rng.uniform(0.5, 3.0), rng.uniform(0.05, 50.0)
        close(fit_exponent(n, c * n**p), p, f"fit_exponent(n, {c:.3g}·n^{p:.3g})",
              _("Fit a straight line to the points (log n, log y): its slope is the exponent p."),
              mistakes={_("You returned log {scale:.3g}, the intercept of the line, not its slope: check in which "
                          "order your fitting function returns the coefficients.", scale=c): np.log(c)})
    y = 2.0 * n**1.7 * np.exp(rng.normal(0, 0.2, n.size))
    slope = np.polyfit(np.log(n), np.log(y), 1)[0]
    close(fit_exponent(n, y), slope, _("fit_exponent of noisy measurements"),
          _("Fit one least-squares line through all the points, not through two of them."))


@hidden_check("test_flash", "flash_attention")
def flash_values(flash_attention):
    """Non-causal, T != S, blocks that divide S, do not, exceed it; scores large enough that the maximum moves."""
    rng = np.random.default_rng(fresh(72))
    Q, K, V = rng.standard_normal((6, 8)) * 3, rng.standard_normal((23, 8)) * 3, rng.standard_normal((23, 5))
    _check_flash(flash_attention, Q, K, V, (23, 5, 7, 1, 32), causal=False)
    Q, K, V = rng.standard_normal((9, 4)) * 3, rng.standard_normal((24, 4)) * 3, rng.standard_normal((24, 3))
    _check_flash(flash_attention, Q, K, V, (6, 8), causal=False)


@hidden_check("test_flash_causal", "flash_attention")
def flash_causal(flash_attention):
    """Causal, T = S, blocks that divide S and blocks that do not."""
    rng = np.random.default_rng(fresh(73))
    Q, K, V = rng.standard_normal((13, 8)) * 3, rng.standard_normal((13, 8)) * 3, rng.standard_normal((13, 4))
    _check_flash(flash_attention, Q, K, V, (13, 4, 5, 1, 20), causal=True)
    Q, K, V = rng.standard_normal((3, 12, 4)) * 3
    _check_flash(flash_attention, Q, K, V, (3, 6), causal=True)


@hidden_check("test_flash_memory", "flash_attention")
def flash_memory(flash_attention):
    """At a length drawn anew, in 64-key blocks, the call needs less than half of one (n, n) float64 matrix.

    The grader reads the sandbox's memory from /proc (Remote.footprint): the growth of its peak resident memory
    during the call, or the memory the call touched (a buffer kept from before), whichever is larger.
    """
    rng = np.random.default_rng(fresh(74))
    n = 64 * int(rng.integers(*MEMORY_BLOCKS))
    Q, K, V = rng.standard_normal((n, 16)), rng.standard_normal((n, 16)), rng.standard_normal((n, 8))
    try:
        out, used = flash_attention.footprint(Q, K, V, block=64)
    except Unmeasurable as exc:
        raise SetupError(str(exc)) from None
    rows = np.sort(rng.choice(n, 64, replace=False))
    name = _("flash_attention with T = S = {n}, block = 64", n=n)
    shape(out, (n, 8), name)
    close(np.asarray(out)[rows], attention(Q[rows], K, V), _("{name} (64 rows drawn by the grader)", name=name),
          _(FIX_RESCALE))
    if used.ended:
        fail(_("flash_attention started processes that ended during the call: the grader cannot see what they "
               "held. Compute attention in your notebook's own process."))
    budget = 8 * n * n // 2
    if used.bytes > budget:
        fail(_("flash_attention used {used:.0f} MiB at T = S = {n}, more than half of the (T, S) scores "
               "({scores:.0f} MiB in float64), measured by the grader outside your kernel: process the keys `block` "
               "at a time, and never build a (T, S) array, nor keep one between calls.",
               used=used.bytes / 2**20, n=n, scores=8 * n * n / 2**20))
    return _("The grader measured your flash_attention at T = S = {n}: {used:.0f} MiB.", n=n, used=used.bytes / 2**20)


@hidden_check("test_q_flash", "answer_flash")
def q_flash(answer):
    """Tiling saves memory only when a block is smaller than S: with block = S the one block is the (T, S) scores."""
    questions.choice(answer, "d", _("Reread section 2: what does one block of scores hold, and how large is it "
                                    "when the block covers every key? Then run the cell after the test."))


@hidden_check("test_decode_step", "decode_step")
def decode_values(decode_step):
    """Decoding after a prompt of random length equals causal attention over the whole sequence, step by step."""
    rng = np.random.default_rng(fresh(75))
    X = rng.standard_normal((9, 7))
    W_q, W_k, W_v = rng.standard_normal((7, 5)), rng.standard_normal((7, 5)), rng.standard_normal((7, 3))
    full = attention(X @ W_q, X @ W_k, X @ W_v, causal=True)
    prompt = int(rng.integers(1, 4))
    cache = {"K": X[:prompt] @ W_k, "V": X[:prompt] @ W_v}
    for t in range(prompt, 9):
        result = decode_step(X[t], cache, W_q, W_k, W_v)
        if not (isinstance(result, tuple | list) and len(result) == 2 and isinstance(result[1], dict)
                and {"K", "V"} <= set(result[1])):
            fail(_("decode_step must return (output, cache), the cache a dict {'K': ..., 'V': ...}."))
        output, cache = result
        close(output, full[t], _("output of decoding step {step} after a prompt of {prompt} tokens", step=t,
                                 prompt=prompt),
              _("Attend from q_t over every cached key and value and over the token's own key and value."),
              mistakes={_("The token does not see itself: the cache is read before k_t and v_t are appended. Append "
                          "them first, then attend."): attention((X[t] @ W_q)[None], X[:t] @ W_k, X[:t] @ W_v)[0]})
        if np.shape(cache["K"])[0] != t + 1 or np.shape(cache["V"])[0] != t + 1:
            fail(_("After step {step} the cache holds {keys} keys and {values} values, not {expected}: return the "
                   "cache with this token's key and value appended as its last row.", step=t,
                   keys=np.shape(cache['K'])[0], values=np.shape(cache['V'])[0], expected=t + 1))
        close(cache["K"], X[:t + 1] @ W_k, _("cache['K'] after step {step}", step=t),
              _("Append k_t = x_t @ W_k as the last row."))
        close(cache["V"], X[:t + 1] @ W_v, _("cache['V'] after step {step}", step=t),
              _("Append v_t = x_t @ W_v as the last row."))


@hidden_check("test_gqa", "grouped_query_attention")
def gqa_values(grouped_query_attention):
    """H = 6 query heads over G = 6 (multi-head), 1 (multi-query), 3 and 2 key/value heads."""
    rng = np.random.default_rng(fresh(76))
    B, H, T, S = 2, 6, 3, 5
    Q = rng.standard_normal((B, H, T, 4))
    for G in (6, 1, 3, 2):
        K, V = rng.standard_normal((B, G, S, 4)), rng.standard_normal((B, G, S, 3))
        name = _("grouped_query_attention with H = {H}, G = {G}", H=H, G=G)
        out = grouped_query_attention(Q, K, V)
        shape(out, (B, H, T, 3), name)
        close(out, attention(Q, np.repeat(K, H // G, axis=1), np.repeat(V, H // G, axis=1)), name,
              _("Query head h uses key/value head h // (H / G)."),
              mistakes={_("Query head h used key/value head h % G: your copies of the key/value heads come in the "
                          "order 0, 1, ..., G − 1, 0, 1, ..., but consecutive query heads share a head: each "
                          "key/value head must serve H/G query heads in a row."):
                        attention(Q, np.tile(K, (1, H // G, 1, 1)), np.tile(V, (1, H // G, 1, 1)))})


LLAMA_7B = dict(layers=32, context=4096, kv_heads=32, width=128, dtype="float16")


def kv_cache_bytes(layers, context, kv_heads, width, dtype, batch=1):
    """Bytes of a KV cache: a key and a value of ``width`` numbers per position, key/value head and layer."""
    return 2 * batch * layers * context * kv_heads * width * np.dtype(dtype).itemsize


@hidden_check("test_q_kv_memory", "answer_kv_bytes")
def q_kv_memory(answer):
    """The KV cache of a 7B-class model, with 32 key/value heads."""
    questions.number(answer, kv_cache_bytes(**LLAMA_7B),
                     _("Reread section 3 (the KV cache) and section 4: what does the cache keep for every "
                       "position, head and layer (how many vectors, how many numbers each), and how many bytes is "
                       "one float16?"))


@hidden_check("test_q_kv_memory_gqa", "answer_kv_bytes_gqa")
def q_kv_memory_gqa(answer):
    """The same cache with 8 key/value heads."""
    questions.number(answer, kv_cache_bytes(**dict(LLAMA_7B, kv_heads=8)),
                     _("Reread section 4: with grouped-query attention, how many key/value heads does each layer "
                       "keep in its cache?"))


def reference_rope(x, positions, first=0, exponent=2.0, half=False):
    """Rotary embedding with θ_i = 10000^(-exponent·(i + first)/d); ``half``: the pairs (i, i + d/2)."""
    d = x.shape[-1]
    theta = 10000.0 ** (-exponent * (np.arange(d // 2) + first) / d)
    angles = np.asarray(positions)[:, None] * theta
    cos, sin = np.cos(angles), np.sin(angles)
    a, b = (x[..., :d // 2], x[..., d // 2:]) if half else (x[..., 0::2], x[..., 1::2])
    first_half, second_half = a * cos - b * sin, a * sin + b * cos
    if half:
        return np.concatenate([first_half, second_half], axis=-1)
    return np.stack([first_half, second_half], axis=-1).reshape(x.shape)


@hidden_check("test_rope", "rope")
def rope_values(rope):
    """Random positions up to 500, leading dims, two widths; names a wrong pairing or wrong frequencies."""
    rng = np.random.default_rng(fresh(77))
    for lead, n, d in (((3,), 6, 8), ((2, 2), 4, 16)):
        x, positions = rng.standard_normal((*lead, n, d)), rng.integers(0, 500, n)
        out = rope(x, positions)
        shape(out, x.shape, _("rope of a {shape} array", shape=x.shape))
        close(out, reference_rope(x, positions), _("rope of a {shape} array at positions {positions}",
                                                   shape=x.shape, positions=positions.tolist()),
              _("Pair i = (x_2i, x_2i+1) turns by position·θ_i, with θ_i = 10000^(-2i/d) for i = 0..d/2-1."),
              mistakes={_("You rotated the pairs (x_i, x_i+d/2) (the half-split layout); this notebook rotates the "
                          "consecutive pairs (x_2i, x_2i+1)."): reference_rope(x, positions, half=True),
                        _("Wrong frequencies: θ_i = 10000^(-2i/d), with 2i in the exponent."):
                        reference_rope(x, positions, exponent=1.0),
                        _("Wrong frequencies: θ_i = 10000^(-2i/d) counts i from 0, so the first pair turns by the "
                          "position itself."): reference_rope(x, positions, first=1)})


@hidden_check("test_rope_relative", "rope")
def rope_relative(rope):
    """Scores depend on the offset only (both positions shifted by a random constant); lengths are kept."""
    rng = np.random.default_rng(fresh(78))
    q, k = rng.standard_normal((2, 1, 16))
    t, j, shift = (int(v) for v in rng.integers(0, 300, 3))
    name = _("q·k at positions ({query_shifted}, {key_shifted}) against ({query}, {key})",
             query_shifted=t + shift, key_shifted=j + shift, query=t, key=j)
    close(rope(q, [t + shift]) @ rope(k, [j + shift]).T, rope(q, [t]) @ rope(k, [j]).T, name,
          _("After RoPE a score must depend on the offset t − j only: rotate each pair of queries and keys by "
            "position·θ_i, a rotation (x'_2i = x_2i cos − x_2i+1 sin, x'_2i+1 = x_2i sin + x_2i+1 cos)."))
    x, positions = rng.standard_normal((5, 16)) * 3, rng.integers(0, 1000, 5)
    close(np.linalg.norm(rope(x, positions), axis=-1), np.linalg.norm(x, axis=-1),
          _("the length of each row after rope"),
          _("A rotation keeps lengths: x'_2i = x_2i cos − x_2i+1 sin and x'_2i+1 = x_2i sin + x_2i+1 cos."))


def reference_alibi(num_heads, T, S, first=1, sign=-1.0, last=True):
    """ALiBi bias; ``first``: number of the first head; ``last``: queries are the last T positions (else 0..T-1)."""
    slopes = 2.0 ** (-8 * np.arange(first, first + num_heads) / num_heads)
    positions = np.arange(S - T, S) if last else np.arange(T)
    return sign * slopes[:, None, None] * np.maximum(positions[:, None] - np.arange(S), 0)


@hidden_check("test_alibi", "alibi_bias")
def alibi_values(alibi_bias):
    """Several head counts, T = S and T < S (queries at the end); names the sign, the slopes or the positions."""
    for H, T, S in ((8, 5, 5), (4, 2, 7), (12, 1, 9), (3, 6, 6)):
        name = f"alibi_bias({H}, {T}, {S})"
        out = alibi_bias(H, T, S)
        shape(out, (H, T, S), name)
        close(out, reference_alibi(H, T, S), name,
              _("Row r holds the query at position t = S − T + r; entry [h − 1, r, j] is −2^(-8h/H)·(t − j) for "
                "the keys j ≤ t, and 0 for later keys."),
              mistakes={_("The bias rewards far keys: its sign must be negative, −slope·(t − j)."):
                        reference_alibi(H, T, S, sign=1.0),
                        _("Number the heads from 1: head h = 1..H has slope 2^(-8h/H), so the first slope is "
                          "2^(-8/H), not 1."): reference_alibi(H, T, S, first=0),
                        _("Row r holds the query at position t = S − T + r: the queries are the last T of the S "
                          "positions."):
                        reference_alibi(H, T, S, last=False)})
