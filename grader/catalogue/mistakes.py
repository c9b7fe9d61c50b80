"""Other correct answers and common mistakes, as edits of the reference solution.

The tests autograde every edit: an alternative answer must score full marks; a mistake must lose
exactly the listed cells, with feedback that names the fix (``hint``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from grader.catalogue import cells, submissions
from grader.catalogue.submissions import Edit


@dataclass(frozen=True)
class Mistake(Edit):
    """An edit that must fail the test cells ``fails``, each with ``hint`` (the fix of this cause) in its message, except
    the cells in ``blind``, which cannot tell this cause from others and so name no fix."""

    fails: tuple[str, ...]
    hint: str
    blind: tuple[str, ...] = ()

    @property
    def student(self) -> str:
        return f"mistake-{self.name}"

    @property
    def hinted(self) -> tuple[str, ...]:
        """The failing cells whose message must name this mistake's fix."""
        return tuple(cell for cell in self.fails if cell not in self.blind)

    def unhinted(self, messages: dict[str, str]) -> list[str]:
        """The cells of ``hinted`` whose message (in ``messages``, grade_id -> text) lacks the hint."""
        return [cell for cell in self.hinted if self.hint not in messages.get(cell, "")]


NB1 = "01_attention_numpy"
NB2 = "02_keras_mha"
NB3 = "03_masks"
NB4 = "04_seq2seq"
NB5 = "05_cross_attention"
NB6 = "06_transformer_lm"
NB7 = "07_attention_at_scale"

# Correct answers that differ from the reference (another formula, another decision): full marks each.
ALTERNATIVES = [
    Edit(NB1, "sdpa-einsum", "sdpa", "Q @ np.swapaxes(K, -1, -2) / np.sqrt(d)",
         'np.einsum("...td,...sd->...ts", Q, K) / d**0.5'),
    Edit(NB1, "softmax-logsumexp", "softmax", "e = np.exp(shifted)\n    return e / np.sum(e, axis=axis, keepdims=True)",
         "return np.exp(shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True)))"),
    Edit(NB1, "sdpa-additive-mask", "sdpa", "scores = np.where(mask, scores, -1e9)",
         "scores = scores + np.where(mask, 0.0, -1e9)"),
    Edit(NB1, "split-heads-moveaxis", "mha", "return np.swapaxes(X, -2, -3)", "return np.moveaxis(X, -2, -3)"),
    Edit(NB1, "memory-float", "q_memory", "answer_memory = 16 * 8 * 1024 * 1024 * 4", "answer_memory = 5.36870912e8"),
    Edit(NB1, "scaling-upper-case", "q_scaling", 'answer_scaling = "d"', 'answer_scaling = " D "'),
    Edit(NB2, "mha-scores-matmul", "numpy_mha", 'np.einsum("bhtk,bhsk->bhts", Q, K)', "Q @ np.swapaxes(K, -1, -2)"),
    Edit(NB2, "mha-mask-new-axis", "numpy_mha", "np.expand_dims(mask, -3)", "mask[:, None]"),
    Edit(NB2, "params-closed-form", "param_count",
         "    query = d_query * num_heads * key_dim\n    key = d_value * num_heads * key_dim\n"
         "    value = d_value * num_heads * value_dim\n    output = num_heads * value_dim * output_dim\n"
         "    if use_bias:\n        query += num_heads * key_dim\n        key += num_heads * key_dim\n"
         "        value += num_heads * value_dim\n        output += output_dim\n"
         "    return query + key + value + output",
         "    kernels = num_heads * (key_dim * (d_query + d_value) + value_dim * (d_value + output_dim))\n"
         "    biases = num_heads * (2 * key_dim + value_dim) + output_dim if use_bias else 0\n"
         "    return kernels + biases"),
    Edit(NB2, "params-as-float", "q_params", "kernels + biases", "394240.0"),
    Edit(NB2, "cross-spaces-upper-case", "q_cross", 'answer_cross = "c"', "answer_cross = ' C'"),
    Edit(NB2, "heads-upper-case", "q_heads", 'answer_heads = "b"', 'answer_heads = "B"'),
    Edit(NB3, "causal-triu-transposed", "causal_mask", "np.tril(np.ones((n, n), dtype=bool))",
         "np.triu(np.ones((n, n), dtype=bool)).T"),
    Edit(NB3, "padding-expand-dims", "padding_mask", "(token_ids != 0)[:, None, :]",
         "np.expand_dims(token_ids != 0, axis=1)"),
    Edit(NB3, "keras-causal-flag", "masked_attention",
         "    mask = combined_mask(token_ids) if causal else padding_mask(token_ids)\n"
         "    return layer(embeddings, embeddings, attention_mask=mask)",
         "    return layer(embeddings, embeddings, attention_mask=padding_mask(token_ids), use_causal_mask=causal)"),
    Edit(NB3, "pairs-as-float", "q_pairs", "10 * 11 // 2", "55.0"),
    Edit(NB3, "causal-upper-case", "q_causal", 'answer_causal = "c"', 'answer_causal = "C"'),
    Edit(NB3, "trap-spaces", "q_trap", 'answer_trap = "b"', 'answer_trap = " b "'),
    Edit(NB7, "fit-log10", "fit_exponent", "np.polyfit(np.log(n), np.log(y), 1)",
         "np.polyfit(np.log10(n), np.log10(y), 1)"),
    Edit(NB7, "flash-normalised-accumulator", "flash_attention",
         "l = l * correction + p.sum(axis=-1, keepdims=True)\n        acc = acc * correction + p @ V[start:start + block]\n"
         "        m = m_new\n    return acc / l",
         "l_new = l * correction + p.sum(axis=-1, keepdims=True)\n"
         "        acc = (acc * l * correction + p @ V[start:start + block]) / l_new  # the normalised output so far\n"
         "        l, m = l_new, m_new\n    return acc"),
    Edit(NB7, "decode-own-softmax", "decode_step", 'output = naive_attention(q[None], cache["K"], cache["V"])[0]',
         'scores = cache["K"] @ q / np.sqrt(q.size)\n    weights = np.exp(scores - scores.max())\n'
         '    output = weights @ cache["V"] / weights.sum()'),
    Edit(NB7, "gqa-reshape-broadcast", "gqa",
         "    group = Q.shape[1] // K.shape[1]  # query heads per key/value head, H / G\n"
         "    K = np.repeat(K, group, axis=1)  # (B, H, S, d)\n    V = np.repeat(V, group, axis=1)  # (B, H, S, d_v)\n"
         "    return naive_attention(Q, K, V)",
         "    B, H, T, d = Q.shape\n    G = K.shape[1]\n"
         "    out = naive_attention(Q.reshape(B, G, H // G, T, d), K[:, :, None], V[:, :, None])  # (B, G, H/G, T, d_v)\n"
         "    return out.reshape(B, H, T, -1)"),
    Edit(NB7, "kv-bytes-gib", "q_kv_memory", "answer_kv_bytes = 2 * 32 * 4096 * 32 * 128 * 2",
         "answer_kv_bytes = 2.0 * 2**30"),
    Edit(NB7, "flash-upper-case", "q_flash", 'answer_flash = "d"', 'answer_flash = " D"'),
    Edit(NB7, "kv-bytes-gqa-mib", "q_kv_memory_gqa", "answer_kv_bytes_gqa = 2 * 32 * 4096 * 8 * 128 * 2",
         "answer_kv_bytes_gqa = 512 * 2**20"),
    Edit(NB7, "rope-complex", "rope",
         "    theta = 10000.0 ** (-np.arange(0, d, 2) / d)  # (d/2,)\n"
         "    angles = np.asarray(positions)[:, None] * theta  # (n, d/2)\n"
         "    cos, sin = np.cos(angles), np.sin(angles)\n    even, odd = x[..., 0::2], x[..., 1::2]\n"
         "    out = np.empty(x.shape)\n    out[..., 0::2] = even * cos - odd * sin\n"
         "    out[..., 1::2] = even * sin + odd * cos\n    return out",
         "    theta = 10000.0 ** (-2 * np.arange(d // 2) / d)\n"
         "    z = (x[..., 0::2] + 1j * x[..., 1::2]) * np.exp(1j * np.outer(positions, theta))  # pairs as complex numbers\n"
         "    return np.stack([z.real, z.imag], axis=-1).reshape(x.shape)"),
    Edit(NB7, "alibi-tril", "alibi", "np.maximum(np.arange(S - T, S)[:, None] - np.arange(S), 0)",
         "np.tril(np.arange(S - T, S)[:, None] - np.arange(S), k=S - T)"),
]

MISTAKES = [
    Mistake(NB1, "no-scaling", "sdpa", "/ np.sqrt(d)", "",
            ("test_sdpa_values",), "√d"),
    Mistake(NB1, "softmax-wrong-axis", "sdpa", "softmax(scores, axis=-1)", "softmax(scores, axis=-2)",
            ("test_sdpa_weights", "test_sdpa_values", "test_sdpa_mask"), "over the keys"),
    Mistake(NB1, "mask-ignored", "sdpa", "scores = np.where(mask, scores, -1e9)", "pass",
            ("test_sdpa_mask",), "mask is ignored"),
    Mistake(NB1, "mask-inverted", "sdpa", "np.where(mask, scores, -1e9)", "np.where(mask, -1e9, scores)",
            ("test_sdpa_mask",), "inverted"),
    Mistake(NB1, "softmax-unstable", "softmax", "x - np.max(x, axis=axis, keepdims=True)", "x",
            ("test_softmax",), "Subtract the maximum"),
    Mistake(NB1, "scaling-by-d-is-the-same", "q_scaling", 'answer_scaling = "d"', 'answer_scaling = "c"',
            ("test_q_scaling",), "Reread section 3"),
    Mistake(NB1, "scaling-by-d-saturates", "q_scaling", 'answer_scaling = "d"', 'answer_scaling = "a"',
            ("test_q_scaling",), "Reread section 3"),
    Mistake(NB1, "memory-one-head", "q_memory", "16 * 8 * 1024", "16 * 1024",
            ("test_q_memory",), "Reread section 5"),
    Mistake(NB2, "mha-no-scaling", "numpy_mha", " / np.sqrt(d)", "",
            ("test_numpy_mha_values",), "√d"),
    Mistake(NB2, "mha-softmax-wrong-axis", "numpy_mha", "softmax(scores, axis=-1)", "softmax(scores, axis=-2)",
            ("test_numpy_mha_values", "test_numpy_mha_mask"), "over the keys"),
    Mistake(NB2, "mha-no-projection-biases", "numpy_mha", " + bias[:, None, :]", "",
            ("test_numpy_mha_values",), "Add the biases"),
    Mistake(NB2, "mha-no-output-bias", "numpy_mha", ", W_o) + b_o", ", W_o)",
            ("test_numpy_mha_values",), "output bias"),
    Mistake(NB2, "params-no-output-bias", "param_count", "\n        output += output_dim", "",
            ("test_param_count",), "output projection's bias"),
    Mistake(NB2, "params-key-from-query", "param_count", "key = d_value * num_heads", "key = d_query * num_heads",
            ("test_param_count",), "d_value rows"),
    Mistake(NB2, "cross-swapped", "q_cross", 'answer_cross = "c"', 'answer_cross = "a"',
            ("test_q_cross",), "Reread section 1"),
    Mistake(NB2, "cross-no-heads", "q_cross", 'answer_cross = "c"', 'answer_cross = "b"',
            ("test_q_cross",), "Reread section 1"),
    Mistake(NB2, "params-without-biases", "q_params", "kernels + biases", "kernels",
            ("test_q_params",), "Reread section 2"),
    Mistake(NB2, "heads-add-parameters", "q_heads", 'answer_heads = "b"', 'answer_heads = "a"',
            ("test_q_heads",), "Reread section 2"),
    Mistake(NB2, "heads-one-pattern", "q_heads", 'answer_heads = "b"', 'answer_heads = "c"',
            ("test_q_heads",), "Reread section 2"),
    Mistake(NB3, "causal-reversed", "causal_mask", "np.tril(", "np.triu(",
            ("test_causal_mask", "test_combined_mask", "test_no_future_leak"), "future"),
    Mistake(NB3, "causal-without-diagonal", "causal_mask", "dtype=bool))", "dtype=bool), k=-1)",
            ("test_causal_mask", "test_combined_mask", "test_no_future_leak"), "itself"),
    Mistake(NB3, "mask-positional", "masked_attention", "layer(embeddings, embeddings, attention_mask=mask)",
            "layer(embeddings, embeddings, embeddings, mask)",
            ("test_no_future_leak", "test_pad_invariance"), "by keyword"),
    Mistake(NB3, "padding-not-masked", "masked_attention", "combined_mask(token_ids) if causal else padding_mask(token_ids)",
            "causal_mask(token_ids.shape[1]) if causal else None",
            ("test_pad_invariance",), "padding"),
    Mistake(NB3, "padding-mask-wrong-axis", "padding_mask", "[:, None, :]", "[:, :, None]",
            ("test_padding_mask", "test_combined_mask", "test_pad_invariance"), "(batch, 1, n)"),
    Mistake(NB3, "causal-sees-everything", "q_causal", 'answer_causal = "c"', 'answer_causal = "d"',
            ("test_q_causal",), "Reread section 3"),
    Mistake(NB3, "causal-change-reaches-the-past", "q_causal", 'answer_causal = "c"', 'answer_causal = "b"',
            ("test_q_causal",), "Reread section 3"),
    Mistake(NB3, "pairs-without-diagonal", "q_pairs", "10 * 11 // 2", "10 * 9 // 2",
            ("test_q_pairs",), "remember the diagonal"),
    Mistake(NB3, "trap-raises", "q_trap", 'answer_trap = "b"', 'answer_trap = "c"',
            ("test_q_trap",), "Reread section 5"),
    Mistake(NB3, "trap-as-keras-2", "q_trap", 'answer_trap = "b"', 'answer_trap = "a"',
            ("test_q_trap",), "Reread section 5"),
    Mistake(NB7, "fit-intercept", "fit_exponent", "slope, _ = np.polyfit", "_, slope = np.polyfit",
            ("test_fit_exponent",), "the intercept of the line, not its slope"),
    Mistake(NB7, "fit-semilog", "fit_exponent", "np.polyfit(np.log(n), np.log(y), 1)", "np.polyfit(n, np.log(y), 1)",
            ("test_fit_exponent",), "log n"),
    Mistake(NB7, "flash-sum-not-rescaled", "flash_attention", "l = l * correction + p.sum", "l = l + p.sum",
            ("test_flash", "test_flash_causal", "test_flash_memory"),
            "multiply both the running sum l and the accumulator"),
    Mistake(NB7, "flash-accumulator-not-rescaled", "flash_attention", "acc = acc * correction + p @", "acc = acc + p @",
            ("test_flash", "test_flash_causal", "test_flash_memory"),
            "multiply both the running sum l and the accumulator"),
    Mistake(NB7, "flash-causal-block-offset", "flash_attention", "cols = np.arange(start, min(start + block, S))",
            "cols = np.arange(min(block, S - start))", ("test_flash_causal",), "inside its block"),
    Mistake(NB7, "flash-causal-without-diagonal", "flash_attention", "cols <= rows", "cols < rows",
            ("test_flash_causal",), "diagonal included"),
    Mistake(NB7, "flash-drops-last-block", "flash_attention", "range(0, S, block)", "range(0, S - block + 1, block)",
            ("test_flash", "test_flash_causal"), "last, shorter block"),
    Mistake(NB7, "flash-one-block", "flash_attention", "    T, d = Q.shape\n",
            "    T, d = Q.shape\n    block = K.shape[0]  # all the keys at once\n",
            ("test_flash_memory",), "never build a (T, S) array"),
    Mistake(NB7, "flash-one-block-saves-exponentials", "q_flash", 'answer_flash = "d"', 'answer_flash = "a"',
            ("test_q_flash",), "Reread section 2"),
    Mistake(NB7, "flash-one-block-twice", "q_flash", 'answer_flash = "d"', 'answer_flash = "c"',
            ("test_q_flash",), "Reread section 2"),
    Mistake(NB7, "cache-appends-after-reading", "decode_step",
            '    cache = {"K": np.concatenate([cache["K"], k[None]]), "V": np.concatenate([cache["V"], v[None]])}\n'
            '    output = naive_attention(q[None], cache["K"], cache["V"])[0]  # (d_v,)',
            '    output = naive_attention(q[None], cache["K"], cache["V"])[0]  # (d_v,)\n'
            '    cache = {"K": np.concatenate([cache["K"], k[None]]), "V": np.concatenate([cache["V"], v[None]])}',
            ("test_decode_step",), "does not see itself"),
    Mistake(NB7, "cache-not-appended", "decode_step",
            '    cache = {"K": np.concatenate([cache["K"], k[None]]), "V": np.concatenate([cache["V"], v[None]])}\n'
            '    output = naive_attention(q[None], cache["K"], cache["V"])[0]  # (d_v,)',
            '    K, V = np.concatenate([cache["K"], k[None]]), np.concatenate([cache["V"], v[None]])\n'
            '    output = naive_attention(q[None], K, V)[0]  # (d_v,)',
            ("test_decode_step",), "appended as its last row"),
    Mistake(NB7, "gqa-tile", "gqa", "K = np.repeat(K, group, axis=1)  # (B, H, S, d)\n    V = np.repeat(V, group, axis=1)",
            "K = np.tile(K, (1, group, 1, 1))  # (B, H, S, d)\n    V = np.tile(V, (1, group, 1, 1))",
            ("test_gqa",), "consecutive query heads share a head"),
    Mistake(NB7, "kv-bytes-keys-only", "q_kv_memory", "answer_kv_bytes = 2 * 32", "answer_kv_bytes = 32",
            ("test_q_kv_memory",), "Reread section 3"),
    Mistake(NB7, "kv-bytes-gqa-unchanged", "q_kv_memory_gqa", "4096 * 8 * 128", "4096 * 32 * 128",
            ("test_q_kv_memory_gqa",), "how many key/value heads"),
    Mistake(NB7, "rope-half-split", "rope",
            "    even, odd = x[..., 0::2], x[..., 1::2]\n    out = np.empty(x.shape)\n"
            "    out[..., 0::2] = even * cos - odd * sin\n    out[..., 1::2] = even * sin + odd * cos\n    return out",
            "    first, second = x[..., :d // 2], x[..., d // 2:]\n"
            "    return np.concatenate([first * cos - second * sin, first * sin + second * cos], axis=-1)",
            ("test_rope",), "(x_i, x_i+d/2)"),
    Mistake(NB7, "rope-frequency-exponent", "rope", "np.arange(0, d, 2) / d", "np.arange(d // 2) / d",
            ("test_rope",), "2i in the exponent"),
    Mistake(NB7, "alibi-sign", "alibi", "return -slopes", "return slopes", ("test_alibi",), "rewards far keys"),
    Mistake(NB7, "alibi-heads-from-zero", "alibi", "np.arange(1, num_heads + 1)", "np.arange(num_heads)",
            ("test_alibi",), "Number the heads from 1"),
]


# The test cells that need a trained model: graded untrained, every submission fails them.
NEEDS_TRAINING = {NB4: {"test_bleu"}, NB5: {"test_bleu_gate", "test_alignment", "test_q_choice", "test_q_length",
                                             "test_own_reading"},
                  NB6: {"test_perplexity"}}
# test_q_choice, test_q_length: answers read from the trained models' figures; test_own_reading: a map of an untrained
# model has no word to read (it writes nothing, or nonsense with uniform weights)

# Mistakes in the notebooks that train, graded without training (tests/test_fast_mistakes.py): each fails
# its own cell, and the untrained model fails the NEEDS_TRAINING cells as the untrained reference does.

FAST_MISTAKES = [
    Mistake(NB4, "encoder-no-sequences", "encoder", "layers.LSTM(units, return_sequences=True, return_state=True)",
            "layers.LSTM(units, return_state=True)", ("test_encoder",), "one at every source position"),
    Mistake(NB4, "encoder-no-state", "encoder", "layers.LSTM(units, return_sequences=True, return_state=True)",
            "layers.LSTM(units, return_sequences=True)", ("test_encoder",),
            "The encoder's LSTM returns only its outputs: it must also return its final state"),
    Mistake(NB4, "decoder-no-sequences", "decoder", "layers.LSTM(units, return_sequences=True, return_state=True)",
            "layers.LSTM(units, return_state=True)", ("test_decoder",), "one at every target position"),
    Mistake(NB4, "decoder-no-state", "decoder", "layers.LSTM(units, return_sequences=True, return_state=True)",
            "layers.LSTM(units, return_sequences=True)", ("test_decoder",),
            "The decoder's LSTM returns only its outputs: it must also return its final state"),
    Mistake(NB4, "state-size-h-only", "q_state_size", "2 * 96", "96", ("test_q_state_size",),
            "Reread sections 3 and 4"),
    Mistake(NB4, "state-size-all-outputs", "q_state_size", "2 * 96", "9 * 96", ("test_q_state_size",),
            "Reread sections 3 and 4"),
    Mistake(NB4, "bottleneck-overall-bleu", "q_bottleneck", 'answer_bottleneck = "c"', 'answer_bottleneck = "a"',
            ("test_q_bottleneck",), "Reread section 9"),
    Mistake(NB4, "bottleneck-more-epochs", "q_bottleneck", 'answer_bottleneck = "c"', 'answer_bottleneck = "b"',
            ("test_q_bottleneck",), "Reread section 9"),
    Mistake(NB4, "bottleneck-training-split", "q_bottleneck", 'answer_bottleneck = "c"', 'answer_bottleneck = "d"',
            ("test_q_bottleneck",), "Reread section 9"),
    Mistake(NB4, "encoder-no-mask", "encoder", "self.embedding(source_ids), mask=mask)",
            "self.embedding(source_ids))", ("test_encoder",), "the LSTM must skip padded positions"),
    Mistake(NB4, "decoder-ignores-state", "decoder", ", initial_state=state)", ")",
            ("test_decoder",), "the decoder must start from the state it is given"),
    Mistake(NB4, "decoder-returns-input-state", "decoder", "return self.logits(self.combine(x)), [h, c], None",
            "return self.logits(self.combine(x)), state, None", ("test_decoder",),
            "its LSTM's state after the last target word"),
    Mistake(NB4, "loss-counts-padding", "loss", "ops.sum(per_token * mask)", "ops.sum(per_token)",
            ("test_loss",), "Padded positions count in the sum"),
    Mistake(NB4, "loss-mean-over-positions", "loss", "ops.maximum(ops.sum(mask), 1.0)",
            "ops.cast(ops.size(mask), per_token.dtype)", ("test_loss",), "the mean is over real tokens"),
    Mistake(NB4, "loss-plain-mean", "loss", "ops.sum(per_token * mask) / ops.maximum(ops.sum(mask), 1.0)",
            "ops.mean(per_token)", ("test_loss",), "it is over the real tokens (label ≠ 0) only"),
    Mistake(NB5, "general-transposed", "scores", '"btd,de,bse->bts"', '"btd,ed,bse->bts"',
            ("test_scores",), "wrong side"),
    Mistake(NB5, "additive-swapped", "scores", "ops.matmul(keys, W1)", "ops.matmul(keys, W2)",
            ("test_scores",), "W1 goes with the keys"),
    # The layer against its own declaration (SCALED = dot and general True, additive False): scaling only the dot
    # score leaves general unscaled; scaling every score scales the additive one.
    Mistake(NB5, "scaling-not-as-declared", "cross_attention", "if SCALED[self.score]:", 'if self.score == "dot":',
            ("test_cross_attention",), "must scale exactly the scores your declaration names"),
    Mistake(NB5, "scaling-additive-undeclared", "cross_attention", "if SCALED[self.score]:", "if True:",
            ("test_cross_attention",), "must scale exactly the scores your declaration names"),
    Mistake(NB5, "mean-context", "cross_attention", 'return ops.einsum("bts,bsd->btd", weights, keys), weights',
            "return ops.repeat(ops.mean(keys, axis=1, keepdims=True), ops.shape(query)[1], axis=1), weights",
            ("test_cross_attention",), "plain mean of the keys"),
    Mistake(NB5, "no-softmax", "cross_attention", "weights = ops.softmax(scores, axis=-1)",
            "weights = scores", ("test_cross_attention",), "softmax"),
    Mistake(NB5, "padding-not-masked", "cross_attention", "scores = ops.where(ops.expand_dims(mask, 1), scores, -1e9)",
            "pass", ("test_cross_attention",), "must get zero weight"),
    Mistake(NB5, "position-only", "cross_attention", "scores = ops.where(ops.expand_dims(mask, 1), scores, -1e9)",
            "scores = -ops.abs(ops.expand_dims(ops.arange(ops.shape(query)[1]), 1) - ops.arange(ops.shape(keys)[1]))\n"
            "        scores = ops.where(ops.expand_dims(mask, 1), ops.cast(scores, query.dtype), -1e9)",
            ("test_cross_attention",), "score on this layer's"),
    # A context that ignores the encoder: the decoders built on it are judged on the student's own layer.
    Mistake(NB5, "no-attention", "cross_attention", 'return ops.einsum("bts,bsd->btd", weights, keys), weights',
            "return ops.zeros_like(query), weights", ("test_cross_attention",), "weighted sum of the encoder outputs"),
    Mistake(NB5, "luong-no-context", "luong_decoder", "self.W_c(ops.concatenate([context, s], axis=-1))",
            "self.W_c(s)", ("test_luong_decoder",), "W_c must take [c_t; s_t]"),
    Mistake(NB5, "luong-no-initial-state", "luong_decoder", ", initial_state=state)", ")",
            ("test_luong_decoder",), "must start from the encoder's state"),
    Mistake(NB5, "bahdanau-luong-state", "bahdanau_decoder", """context, weights = self.attention(ops.expand_dims(state[0], 1), encoder_outputs, source_mask)
        context = context[:, 0]
        s, state = self.cell(ops.concatenate([y, context], axis=-1), state)""",
            """s, state = self.cell(ops.concatenate([y, ops.zeros_like(state[0])], axis=-1), state)
        context, weights = self.attention(ops.expand_dims(s, 1), encoder_outputs, source_mask)
        context = context[:, 0]""", ("test_bahdanau_step",), "previous state"),
    Mistake(NB5, "bahdanau-context-ignored", "bahdanau_decoder", "ops.concatenate([y, context], axis=-1), state)",
            "ops.concatenate([y, ops.zeros_like(context)], axis=-1), state)", ("test_bahdanau_step",), "[y; c_t]"),
    Mistake(NB5, "scaling-all-grow", "q_scaling", '"c"', '"a"', ("test_q_scaling",),
            "Run the measurement cell of section 2 with d = 512"),
    Mistake(NB5, "step-by-step-query", "q_step_by_step", '"a"', '"b"', ("test_q_step_by_step",),
            "Reread sections 3 and 4"),
    Mistake(NB5, "position-peaked-row", "q_position", '"a"', '"b"', ("test_q_position",), "Reread section 8"),
    Mistake(NB6, "pe-sin-cos-swapped", "positional_encoding", "np.sin(angles), np.cos(angles)",
            "np.cos(angles), np.sin(angles)", ("test_positional_encoding",), "swapped"),
    Mistake(NB6, "pe-column-exponent", "positional_encoding", "10000 ** (2 * pair / d_model)",
            "10000 ** (np.arange(d_model)[None, :] / d_model)", ("test_positional_encoding",), "not the column index"),
    Mistake(NB6, "block-post-ln", "decoder_block",
            "        h = self.norm1(x)\n        x = x + self.attention(h, h, use_causal_mask=True)\n"
            "        return x + self.ffn(self.norm2(x))",
            "        x = self.norm1(x + self.attention(x, x, use_causal_mask=True))\n"
            "        return self.norm2(x + self.ffn(x))", ("test_decoder_block",), "post-LN"),
    Mistake(NB6, "block-no-causal-mask", "decoder_block", "self.attention(h, h, use_causal_mask=True)",
            "self.attention(h, h)", ("test_decoder_block",), "Position t sees the words after it"),
    Mistake(NB6, "block-no-attention-residual", "decoder_block", "x = x + self.attention(", "x = self.attention(",
            ("test_decoder_block",), "residual connection is missing"),
    Mistake(NB6, "temperature-multiplies", "temperature", "dtype=float) / temperature", "dtype=float) * temperature",
            ("test_temperature",), "do not multiply"),
    Mistake(NB6, "top-p-drops-crossing-token", "filters", "np.sum(cumulative < p, axis=-1, keepdims=True) + 1",
            "np.sum(cumulative < p, axis=-1, keepdims=True)", ("test_top_p",), "drops the token"),
    Mistake(NB6, "top-p-keeps-one-more", "filters", "np.sum(cumulative < p, axis=-1, keepdims=True) + 1",
            "np.sum(cumulative < p, axis=-1, keepdims=True) + 2", ("test_top_p",), "one token more"),
    Mistake(NB6, "sample-ignores-temperature", "sample", "np.asarray(logits, dtype=float) / temperature",
            "np.asarray(logits, dtype=float)", ("test_sample",), "temperature"),
    Mistake(NB6, "uniform-perplexity", "q_uniform", "np.log(len(vocab))", "len(vocab)", ("test_q_uniform",),
            "the question asks for its loss"),
    Mistake(NB6, "uniform-log10", "q_uniform", "np.log(len(vocab))", "np.log10(len(vocab))", ("test_q_uniform",),
            "natural logarithm"),
    Mistake(NB6, "uniform-probability", "q_uniform", "np.log(len(vocab))", "1 / len(vocab)", ("test_q_uniform",),
            "Reread section 3"),
    Mistake(NB6, "post-ln-identity", "q_pre_ln", '"c"', '"a"', ("test_q_pre_ln",), "Reread section 2"),
    # notebook 5, section 8: the student's own sentences; a word the models never saw fails both of their cells (the
    # reading's hidden check names it; untrained, the reading's visible test fails first, on the empty map)
    Mistake(NB5, "own-unknown-word", "own_sentences", "a big house.", "a big castle.",
            ("test_own_sentences", "test_own_reading"), "is not in the source vocabulary", blind=("test_own_reading",)),
    Mistake(NB5, "own-sentences-too-short", "own_sentences", '"Mary lives in a big house."', '"Mary lives here."',
            ("test_own_sentences", "test_own_reading"), "punctuation not counted", blind=("test_own_reading",)),
]


# Correct answers that differ from the reference in the notebooks that train, graded without training
# (tests/test_fast_mistakes.py): each loses only the cells that need a trained model, as the untrained
# reference does.
FAST_ALTERNATIVES = [
    Edit(NB4, "encoder-mask-greater", "encoder", "ops.not_equal(source_ids, text.PAD_ID)",
         "ops.greater(source_ids, 0)"),
    Edit(NB4, "decoder-state-list", "decoder",
         "x, h, c = self.lstm(self.embedding(target_ids), initial_state=state)\n"
         "        return self.logits(self.combine(x)), [h, c], None",
         "x, *state = self.lstm(self.embedding(target_ids), initial_state=state)\n"
         "        return self.logits(self.combine(x)), state, None"),
    Edit(NB4, "loss-divide-no-nan", "loss", "ops.sum(per_token * mask) / ops.maximum(ops.sum(mask), 1.0)",
         "ops.divide_no_nan(ops.sum(per_token * mask), ops.sum(mask))"),
    Edit(NB4, "state-size-literal", "q_state_size", "2 * 96", "192.0"),
    Edit(NB4, "bottleneck-upper-case", "q_bottleneck", 'answer_bottleneck = "c"', 'answer_bottleneck = "C "'),
    Edit(NB5, "additive-broadcast", "scores", "ops.expand_dims(ops.matmul(keys, W1), 1)",
         "ops.matmul(keys, W1)[:, None, :, :]"),
    Edit(NB5, "luong-state-first", "luong_decoder", "ops.concatenate([context, s], axis=-1)",
         "ops.concatenate([s, context], axis=-1)"),
    Edit(NB5, "bahdanau-context-first", "bahdanau_decoder", "ops.concatenate([y, context], axis=-1), state)",
         "ops.concatenate([context, y], axis=-1), state)"),
    Edit(NB5, "scaling-upper-case", "q_scaling", '"c"', '" C "'),
    # Other decisions on the factor 1/√d, declared: Luong et al.'s unscaled general score, a scaled additive score.
    Edit(NB5, "general-unscaled-declared", "scaling", '"general": True', '"general": False'),
    Edit(NB5, "additive-scaled-declared", "scaling", '"additive": False', '"additive": True'),
    # The hand-in is the student's decision: the choose cell accepts Bahdanau's model (the trained criteria then
    # judge it: TRAINED_MISTAKES).
    Edit(NB5, "hand-in-bahdanau", "choose", 'choice = "Luong"', 'choice = "Bahdanau"'),
    Edit(NB6, "pe-even-odd-slices", "positional_encoding",
         "    positions = np.arange(n)[:, None]                       # (n, 1)\n"
         "    pair = np.arange(d_model)[None, :] // 2                 # (1, d_model): i of columns 2i and 2i + 1\n"
         "    angles = positions / 10000 ** (2 * pair / d_model)      # (n, d_model)\n"
         "    return np.where(np.arange(d_model) % 2 == 0, np.sin(angles), np.cos(angles))",
         "    pe = np.zeros((n, d_model))\n"
         "    frequencies = 1 / 10000 ** (np.arange(0, d_model, 2) / d_model)\n"
         "    pe[:, 0::2] = np.sin(np.arange(n)[:, None] * frequencies)\n"
         "    pe[:, 1::2] = np.cos(np.arange(n)[:, None] * frequencies[:d_model // 2])\n"
         "    return pe"),
    Edit(NB6, "pe-float32", "positional_encoding",
         "    positions = np.arange(n)[:, None]                       # (n, 1)\n"
         "    pair = np.arange(d_model)[None, :] // 2                 # (1, d_model): i of columns 2i and 2i + 1\n"
         "    angles = positions / 10000 ** (2 * pair / d_model)      # (n, d_model)\n",
         "    positions = np.arange(n, dtype=np.float32)[:, None]\n"
         "    pair = (np.arange(d_model) // 2).astype(np.float32)[None, :]\n"
         "    frequencies = np.exp(-np.log(np.float32(10000)) * 2 * pair / d_model).astype(np.float32)  # keras-hub\n"
         "    angles = (positions * frequencies).astype(np.float32)\n"),
    Edit(NB6, "block-attention-mask-keyword", "decoder_block", "self.attention(h, h, use_causal_mask=True)",
         'self.attention(h, h, attention_mask=ops.cast(ops.tril(ops.ones((1, ops.shape(h)[1], ops.shape(h)[1]))), "bool"))'),
    Edit(NB6, "top-k-partition", "filters",
         "np.take_along_axis(np.sort(logits, axis=-1), np.full(logits.shape[:-1] + (1,), logits.shape[-1] - k), axis=-1)",
         "np.partition(logits, -k, axis=-1)[..., [-k]]"),
    Edit(NB6, "sample-inverse-cdf", "sample",
         "    draws = [rng.choice(len(row), p=row) for row in probs]\n"
         "    return np.array(draws).reshape(z.shape[:-1])",
         "    u = rng.random((len(probs), 1))\n"
         "    return np.minimum((np.cumsum(probs, axis=-1) < u).sum(axis=-1), probs.shape[-1] - 1).reshape(z.shape[:-1])"),
    Edit(NB6, "pre-ln-upper-case", "q_pre_ln", 'answer_pre_ln = "c"', 'answer_pre_ln = " C"'),
    Edit(NB6, "uniform-minus-log-probability", "q_uniform", "np.log(len(vocab))", "-np.log(1 / len(vocab))"),
]


# Mistakes only a fully trained model shows. `make examples` (and `make demo`) grades them and checks the outcome; the
# suite, where each would cost another full training, checks their premise in the calibration record
# (tests/test_baseline.py) and their message on the hidden check (tests/test_hidden.py).
TRAINED_MISTAKES = [
    # Bahdanau's model clears the BLEU gate, but its strongest weight is on the word IBM Model 2 links no more often
    # than the diagonal's, and often on a later word: handing it in misses the alignment bar.
    Mistake(NB5, "choose-bahdanau", "choose", 'choice = "Luong"', 'choice = "Bahdanau"',
            ("test_alignment",), "Look at your model's heatmap"),
    # Question 4 is judged on the student's own figures: with the trained models, only Luong's clears both criteria.
    Mistake(NB5, "choice-figures-misread", "q_choice", 'answer_choice = "b"', 'answer_choice = "a"',
            ("test_q_choice",), "Reread sections 6 and 8"),
    # The question of section 7 is judged on the student's own figures: with trained models, only "b" fits them.
    Mistake(NB5, "length-figures-misread", "q_length", 'answer_length = "b"', 'answer_length = "a"',
            ("test_q_length",), "Reread your figure of section 7"),
    # The trained Luong model looks at one word at a time: the row's weakest cell is far from its strongest.
    Mistake(NB5, "own-reading-weakest", "own_reading", "np.argmax(w[row])", "np.argmin(w[row])",
            ("test_own_reading",), "does not put its strongest weight"),
]


def for_assignment(assignment: str, trained: bool = True) -> list[Edit]:
    """The alternative answers and mistakes catalogued for one assignment (graded by `make examples`); without
    ``trained``, not the TRAINED_MISTAKES."""
    return [e for e in ALTERNATIVES + MISTAKES + (TRAINED_MISTAKES if trained else []) if e.assignment == assignment]


def surprises(results) -> list[str]:
    """What graded examples (``python -m grader examples``) did that the catalogue does not say they do: the reference
    and the alternatives lose nothing, a blank notebook every test cell, a mistake its cells, with its hint."""
    edits = {(e.assignment, e.student): e for e in ALTERNATIVES + MISTAKES + TRAINED_MISTAKES}
    found = []
    for r in (r for r in results if r.error is None):
        edit = edits.get((r.assignment, r.student))
        expected = sorted(r.cells) if r.student == "blank" else sorted(getattr(edit, "fails", ()))
        if r.lost() != expected:
            found.append(f"{r.assignment} {r.student} lost {' '.join(r.lost()) or 'nothing'}, "
                         f"not {' '.join(expected) or 'nothing'}")
        elif isinstance(edit, Mistake) and edit.unhinted(r.messages):
            found.append(f"{r.assignment} {r.student}: the feedback of {' '.join(edit.unhinted(r.messages))} "
                         f"lacks {edit.hint!r}")
    return found


@dataclass(frozen=True)
class Bundle:
    """Edits of one assignment graded as one submission, each in a cell of its own: it must lose exactly ``fails``."""

    edits: tuple[Edit, ...]

    @property
    def student(self) -> str:
        first = self.edits[0].student
        return first if len(self.edits) == 1 else f"{first}-and-{len(self.edits) - 1}-more"

    @property
    def fails(self) -> tuple[str, ...]:
        return tuple(sorted({cell for e in self.edits if isinstance(e, Mistake) for cell in e.fails}))


def bundles(edits: list[Edit], settled: frozenset[str] = frozenset()) -> list[Bundle]:
    """The edits in as few submissions as still judge each one apart: see _bundles."""
    return list(_bundles(tuple(edits), frozenset(settled)))


@cache
def _bundles(edits: tuple[Edit, ...], settled: frozenset[str]) -> tuple[Bundle, ...]:
    """The edits in as few submissions as still judge each one apart (a grading costs a kernel, and for the training
    notebooks a corpus and two models). A mistake joins a submission when no test cell that another of its edits
    can reach is one its own cell reaches (grader.catalogue.cells), except ``settled`` cells, which fail for every submission
    of the run (the BLEU cells of untrained models). Alternatives go together, one per cell: none may lose a point."""
    groups: list[list[Edit]] = []
    alternatives: list[list[Edit]] = []
    for edit in edits:
        if isinstance(edit, Mistake):
            _place(edit, groups, lambda group: apart(group, settled))
        else:
            _place(edit, alternatives, lambda group: True)
    return tuple(Bundle(tuple(group)) for group in groups + alternatives)


def apart(edits: list[Edit], settled: frozenset[str] = frozenset()) -> bool:
    """Whether no test cell outside ``settled`` can be reached from the cells of two of these edits.

    A cell reaches what its edited code reaches and what its reference code reaches: an edit that stops using a
    name (another edit's cell) still changes the tests that name's cell reaches through the reference."""
    changed = {e.cell for e in edits}
    answers = submissions.answers_with(*edits)
    edited = cells.reach(edits[0].assignment, {cell: answers[cell] for cell in changed})
    reference = cells.reach(edits[0].assignment)
    reach = {cell: edited[cell] | reference[cell] for cell in changed}
    seen: set[str] = set()
    for cell in changed:
        if (reach[cell] - settled) & seen:
            return False
        seen |= reach[cell] - settled
    return True


def _place(edit: Edit, groups: list[list[Edit]], fits) -> None:
    """Add ``edit`` to the first group of its assignment without an edit of its cell that still ``fits`` with it,
    or to a new group."""
    for group in groups:
        if all(e.assignment == edit.assignment and e.cell != edit.cell for e in group) and fits(group + [edit]):
            group.append(edit)
            return
    groups.append([edit])


def bundle_of(edit: Edit, edits: list[Edit], settled: frozenset[str] = frozenset()) -> Bundle:
    """The bundle of ``bundles(edits, settled)`` that holds ``edit``."""
    return next(b for b in bundles(edits, settled) if edit in b.edits)
