"""Hidden checks for notebook 3 (padding and causal masks in Keras).

The behavioural checks run the student's ``masked_self_attention`` on an
Embedding + MultiHeadAttention built here (no ``mask_zero``, so Keras does not
mask anything by itself) and test what the outputs depend on.
"""
from __future__ import annotations

import numpy as np

from attentionlab.checks import close, fail, randomise_weights, shape
from grader.hidden import SetupError, fresh, hidden_check, questions
from grader.i18n import N_, _

# The outputs come from the student's float32 Keras layer and are compared with the same layer's: rounding differs
# by ~1e-7, a dependence that should not exist moves them by 1e-3 or more.
ATOL = 1e-5
VOCAB = 30
MASK_IGNORED = N_("The mask has no effect: the output is the output without any mask. Give the mask to the layer by "
                  "keyword: in Keras 3 the 4th positional argument of MultiHeadAttention is a query mask, which the "
                  "layer ignores (section 5).")
CAUSAL_FIX = N_("Query t may attend to keys 0..t: the lower triangle, diagonal included (section 3).")
KEYS_FIX = N_("Mask the keys, not the queries: the padding mask has shape (batch, 1, n), with the new axis in the "
              "middle, so that it broadcasts over the queries (section 2).")


def _as_bool(mask, name):
    mask = np.asarray(mask)
    if mask.dtype != bool and not np.all(np.isin(mask, (0, 1))):
        fail(_("{name} must hold True/False (or 1/0), with True meaning 'may attend'.", name=name))
    return mask.astype(bool)


def _padded_ids(rng, lengths, n):
    ids = rng.integers(1, VOCAB, (len(lengths), n))
    for row, length in enumerate(lengths):
        ids[row, length:] = 0
    return ids


# ---------------------------------------------------------------- mask functions

@hidden_check("test_padding_mask", "padding_mask")
def padding_mask_values(padding_mask):
    """Shape (batch, 1, n), True exactly at the real tokens."""
    rng = np.random.default_rng(fresh(51))
    for lengths, n in [([6, 1, 3, 5], 6), ([2], 4), ([7, 7], 7)]:
        ids = _padded_ids(rng, lengths, n)
        mask = padding_mask(ids)
        b = len(lengths)
        if np.shape(mask) == (b, n, 1) and n != 1:
            fail(_("padding_mask has shape (batch, n, 1) = {shape}: that masks queries. {fix}", shape=(b, n, 1),
                   fix=_(KEYS_FIX)))
        if np.shape(mask) == (b, n):
            fail(_("padding_mask has shape (batch, n) = {shape}; Keras's attention_mask needs a query axis. {fix}",
                   shape=(b, n), fix=_(KEYS_FIX)))
        shape(mask, (b, 1, n), _("padding_mask of token ids of shape {shape}", shape=(b, n)))
        mask, expected = _as_bool(mask, "padding_mask"), (ids != 0)[:, None, :]
        if np.array_equal(mask, ~expected):
            fail(_("padding_mask is inverted: True means 'may attend', so real tokens are True and padding (id 0) is "
                   "False."))
        close(mask, expected, "padding_mask", _("True where the token id is not 0 (real tokens), False at padding."))


@hidden_check("test_causal_mask", "causal_mask")
def causal_mask_values(causal_mask):
    """Lower-triangular (n, n), diagonal included."""
    for n in (1, 4, 7):
        mask = causal_mask(n)
        shape(mask, (n, n), f"causal_mask({n})")
        mask, expected = _as_bool(mask, f"causal_mask({n})"), np.tril(np.ones((n, n), bool))
        if np.array_equal(mask, expected):
            continue
        if np.array_equal(mask, expected.T):
            fail(_("causal_mask is reversed: it lets each position attend to the future (upper triangle). {fix}",
                   fix=_(CAUSAL_FIX)))
        if np.array_equal(mask, np.tril(expected, -1)):
            fail(_("causal_mask blocks the diagonal: each position may attend to itself. {fix}", fix=_(CAUSAL_FIX)))
        if np.array_equal(mask, ~expected):
            fail(_("causal_mask is inverted: True means 'may attend'. {fix}", fix=_(CAUSAL_FIX)))
        if np.array_equal(mask, np.eye(n, dtype=bool)):
            fail(_("causal_mask only keeps the diagonal: each position may attend to all earlier ones too. {fix}",
                   fix=_(CAUSAL_FIX)))
        close(mask, expected, f"causal_mask({n})", _(CAUSAL_FIX))


@hidden_check("test_combined_mask", "combined_mask")
def combined_mask_values(combined_mask):
    """padding & causal, shape (batch, n, n)."""
    rng = np.random.default_rng(fresh(52))
    ids = _padded_ids(rng, [5, 2, 4], 5)
    mask = combined_mask(ids)
    pad_keys, pad_queries = (ids != 0)[:, None, :], (ids != 0)[:, :, None]
    causal = np.tril(np.ones((5, 5), bool))
    if np.shape(mask) != (3, 5, 5):
        fail(_("combined_mask of token ids of shape (3, 5) has shape {shape}, expected (batch, n, n) = (3, 5, 5): "
               "a (batch, 1, n) padding mask and an (n, n) causal mask broadcast to (batch, n, n) (section 4).",
               shape=np.shape(mask)))
    mask = _as_bool(mask, "combined_mask")
    expected = pad_keys & causal
    if np.array_equal(mask, expected):
        return
    variants = [
        (pad_queries & causal, _("It masks the padding queries instead of the padding keys. {fix}", fix=_(KEYS_FIX))),
        (np.broadcast_to(causal, (3, 5, 5)),
         _("The padding is not masked: padding keys must be False for every query.")),
        (np.broadcast_to(pad_keys, (3, 5, 5)),
         _("The causal part is missing: query t may not attend to the future keys.")),
        (pad_keys | causal, _("A key passes when either mask allows it: it must pass only when both allow it, a real "
                              "token that is not in the future.")),
        (pad_keys & causal.T, _("The causal part is reversed: it lets positions attend to the future. {fix}",
                                fix=_(CAUSAL_FIX))),
        (pad_keys & np.tril(causal, -1), _("The causal part blocks the diagonal: each position may attend to itself. "
                                           "{fix}", fix=_(CAUSAL_FIX))),
    ]
    for wrong, fix in variants:
        if np.array_equal(mask, wrong):
            fail(_("combined_mask is wrong. {fix}", fix=fix))
    close(mask, expected, "combined_mask",
          _("Query t may attend to key j only if j is a real token and j ≤ t (section 4)."))


# ---------------------------------------------------------------- behaviour

def model(seed):
    """An Embedding and a MultiHeadAttention with random weights (biases included), drawn for this run."""
    import keras

    seed = fresh(seed)
    keras.utils.set_random_seed(seed)
    embed = keras.layers.Embedding(VOCAB, 12)
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=6)
    x = embed(np.ones((1, 3), "int32"))
    layer(x, x)
    randomise_weights(embed, seed, scale=1.0)
    randomise_weights(layer, seed + 1)
    return embed, layer


def _run(msa, embed, layer, ids, causal):
    x = np.asarray(embed(ids))
    out = np.asarray(msa(layer, x, ids, causal=causal), float)
    shape(out, (*ids.shape, 12), _("masked_self_attention output for token ids of shape {shape}", shape=ids.shape))
    return out


@hidden_check("test_no_future_leak", "masked_self_attention")
def no_future_leak(masked_self_attention):
    """causal=True: outputs at positions <= t do not depend on tokens after t, but do depend on tokens before."""
    embed, layer = model(61)
    rng = np.random.default_rng(fresh(61))
    ids = rng.integers(1, VOCAB, (3, 7))
    out = _run(masked_self_attention, embed, layer, ids, causal=True)
    x = np.asarray(embed(ids))
    if np.allclose(out, np.asarray(layer(x, x)), atol=ATOL):
        fail(_(MASK_IGNORED))
    for t in range(6):
        changed = ids.copy()
        changed[:, t + 1:] = (ids[:, t + 1:] + rng.integers(1, VOCAB - 2, (3, 6 - t))) % (VOCAB - 1) + 1
        out2 = _run(masked_self_attention, embed, layer, changed, causal=True)
        if not np.allclose(out2[:, :t + 1], out[:, :t + 1], atol=ATOL):
            if t == 0 and np.allclose(out2[:, 1], out[:, 1], atol=ATOL):
                fail(_("Changing the tokens after position 0 changed the output at position 0: position 0 may attend "
                       "to no key at all, and then Keras spreads its weight over every key, future included. Each "
                       "position may attend to itself. {fix}", fix=_(CAUSAL_FIX)))
            where = _("positions 0..{last}", last=t) if t else _("position 0")
            fail(_("Changing the tokens after position {position} changed the output at {where}: the model sees "
                   "the future. {fix}", position=t, where=where, fix=_(CAUSAL_FIX)))
    changed = ids.copy()
    changed[:, 0] = ids[:, 0] % (VOCAB - 1) + 1
    out3 = _run(masked_self_attention, embed, layer, changed, causal=True)
    for t in range(1, 7):
        if np.allclose(out3[:, t], out[:, t], atol=ATOL):
            fail(_("The output at position {position} does not depend on the token at position 0: the mask blocks "
                   "too much. {fix}", position=t, fix=_(CAUSAL_FIX)))


@hidden_check("test_pad_invariance", "masked_self_attention")
def pad_invariance(masked_self_attention):
    """Appending padding leaves the real tokens' outputs unchanged (causal=False), and real tokens see each other."""
    embed, layer = model(62)
    rng = np.random.default_rng(fresh(62))
    ids = _padded_ids(rng, [5, 3, 4], 5)
    longer = np.concatenate([ids, np.zeros((3, 3), ids.dtype)], axis=1)
    real = ids != 0
    out = _run(masked_self_attention, embed, layer, ids, causal=False)
    out_long = _run(masked_self_attention, embed, layer, longer, causal=False)
    if not np.allclose(out_long[:, :5][real], out[real], atol=ATOL):
        x = np.asarray(embed(longer))
        free = np.asarray(layer(x, x))
        causal_out = _run(masked_self_attention, embed, layer, longer, causal=True)
        if np.allclose(out_long, free, atol=ATOL) and np.allclose(causal_out, free, atol=ATOL):
            fail(_(MASK_IGNORED))
        if np.allclose(out_long, np.asarray(layer(x, x, attention_mask=(longer != 0)[:, :, None])), atol=ATOL):
            fail(_("Appending padding changed the real tokens' outputs: the mask blocks the padding queries, not the "
                   "padding keys. {fix}", fix=_(KEYS_FIX)))
        if np.allclose(out_long, free, atol=ATOL):
            fail(_("Appending padding changed the real tokens' outputs: with causal=False nothing is masked, and the "
                   "real tokens still see the padding keys. Block them with a padding mask of shape (batch, 1, n) "
                   "(section 2)."))
        fail(_("Appending padding changed the real tokens' outputs. The padding keys (token id 0) must be blocked "
               "for every query: a mask of shape (batch, 1, n), True at real tokens (section 2)."))
    changed = ids.copy()
    changed[:, 0] = ids[:, 0] % (VOCAB - 1) + 1
    out2 = _run(masked_self_attention, embed, layer, changed, causal=False)
    last = real.sum(axis=1) - 1
    rows = np.arange(3)
    if np.allclose(out2[rows, last], out[rows, last], atol=ATOL):
        fail(_("With causal=False every real token may attend to every real token, but the last real token's output "
               "does not depend on the first token: the mask blocks too much. With causal=False, only the padding "
               "is masked."))


# ---------------------------------------------------------------- questions

@hidden_check("test_q_causal", "answer_causal")
def q_causal(answer):
    """Which outputs a change at position 2 can reach under a causal mask: those whose query may attend to key 2."""
    questions.choice(answer, "c", _("Reread section 3 (the causal mask): which queries may attend to key 2? An "
                                    "output can change only if its query may attend to the changed token."))


PAIRS_LENGTH = 10


def causal_pairs(n: int) -> int:
    """Number of (query, key) pairs a causal mask over n positions lets attend: the lower triangle with its diagonal."""
    count = int(np.tril(np.ones((n, n), bool)).sum())
    if count != n * (n + 1) // 2:
        raise SetupError("the causal mask's pair count disagrees with n(n+1)/2")
    return count


@hidden_check("test_q_pairs", "answer_pairs")
def q_pairs(answer):
    """Non-zero attention weights per head under a causal mask of 10 positions."""
    questions.number(answer, causal_pairs(PAIRS_LENGTH),
                     _("Reread section 3 (the causal mask): count the entries that are True in each row of the "
                       "mask, and remember the diagonal."), rtol=0.0)


@hidden_check("test_q_trap", "answer_trap")
def q_trap(answer):
    """What Keras 3 does with a mask passed as the fourth positional argument."""
    questions.choice(answer, "b", _("Reread section 5 (a trap: the mask passed by position): what is the fourth "
                                    "parameter of MultiHeadAttention.call in Keras 3? Then run the check cell below "
                                    "the question and compare the outputs with and without a mask."))
