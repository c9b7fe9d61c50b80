"""What each exercise asks the student to find and what each question's answer rests on: data for the tests that keep
the hints honest (tests/test_exercises.py).

A message (a visible test's, a hidden check's) may say what is wrong and why; it never holds the code the exercise
asks for. A question's options are alike in length and register, and its key idea is not stated in the text before it.
"""
from __future__ import annotations

NB1, NB2, NB3, NB4 = "01_attention_numpy", "02_keras_mha", "03_masks", "04_seq2seq"
NB5, NB6, NB7 = "05_cross_attention", "06_transformer_lm", "07_attention_at_scale"

# assignment -> solution cell -> the names and calls of the reference's key lines: what the student must find.
ANSWER_CODE: dict[str, dict[str, tuple[str, ...]]] = {
    NB1: {"softmax": ("keepdims=True", "x - np.max(x", "x - x.max("),
          "sdpa": ("np.where(", "where(mask", "np.swapaxes(K", "-1e9)", "np.einsum("),
          "mha": ("np.swapaxes(", "np.moveaxis(", "np.expand_dims(", "mask[..., None", "mask[:, None",
                  "swap the n and num_heads", "reshape(*lead")},
    NB2: {"param_count": ("d_value * num_heads * key_dim", "num_heads * value_dim * output_dim",
                          "key_dim if value_dim is None", "d_query if output_dim is None"),
          "numpy_mha": ("keepdims=True", "bias[:, None, :]", "b[:, None, :]", "np.expand_dims(mask, -3)",
                        "mask[:, None]", "-1e9)", "/ np.sqrt(d)", "+ b_o")},
    NB3: {"padding_mask": ("[:, None, :]", "!= 0)[:, None", "np.expand_dims("),
          "causal_mask": ("np.tril(", "np.triu("),
          "combined_mask": ("mask(token_ids) & ", "with &", "np.logical_and("),
          "masked_attention": ("(embeddings, embeddings, attention_mask", "attention_mask=padding_mask",
                               "if causal else")},
    NB4: {"encoder": ("return_sequences", "return_state", "mask=mask", "ops.not_equal(source_ids"),
          "decoder": ("return_sequences", "return_state", "initial_state"),
          "loss": ("sparse_categorical_crossentropy", "from_logits", "per_token * mask", "ops.sum(mask)",
                   "ops.not_equal(labels")},
    NB5: {"scores": ("ops.einsum(", "ops.expand_dims(", "ops.matmul(", "[:, None]", "None, :", "btd,", "bsd->",
                     "bse->", "btsa,a"),
          "scaling": ('"dot": True', '"general": True', '"additive": False'),
          "cross_attention": ("ops.where(", "ops.softmax(", "-1e9", "units**0.5", "ops.sqrt(", "expand_dims(mask",
                              "bts,bsd->btd", "SCALED[self.score]"),
          "luong_decoder": ("initial_state=state", "ops.concatenate(", "self.W_c(", "self.attention(s", "self.logits("),
          "bahdanau_decoder": ("ops.expand_dims(state[0]", "context[:, 0]", "weights[:, 0]", "[y, context]",
                               "self.cell(ops.concatenate", "self.attention(ops.expand_dims"),
          "choose": ('choice = "Luong"', 'choice = "Bahdanau"', "hand in Luong", "hand in Bahdanau",
                     "whose attention follows the words"),
          "own_sentences": ("Mary lives in a big house.", "Tom has two cats and a dog."),
          "own_reading": ("np.argmax(w[row])", "sentence.split()[int(", "(translation.split() + [text.END])[row]",
                          "len(translation.split()) - 2")},
    NB6: {"positional_encoding": ("// 2", "% 2 ==", "np.where("),
          "decoder_block": ("use_causal_mask=True", "self.attention(h, h", "self.ffn(self.norm2(x))"),
          "temperature": ("np.argmax(", "z.max(axis=-1"),
          "filters": ("np.take_along_axis(", "np.cumsum(", "cumulative < p"),
          "sample": ("rng.choice(", "top_k_filter(z, top_k)")},
    NB7: {"fit_exponent": ("np.log(n), np.log(y)", "slope, _", "[slope, intercept]"),
          "flash_attention": ("acc * correction", "np.arange(start", "range(0, S, block)", "p @ V[start"),
          "decode_step": ("np.concatenate(", "k[None]", "naive_attention(q[None]"),
          "gqa": ("np.repeat", "np.tile"),
          "rope": ("0::2", "1::2", "np.arange(0, d, 2)"),
          "alibi": ("np.maximum(", "np.arange(1, num_heads + 1)", "np.arange(S - T, S)")},
}

# assignment -> question cell -> the key phrase of its answer, as the text would state it: it must not appear in the
# notebook before the question (lower case; the options themselves are not searched).
QUESTIONS: dict[str, dict[str, str]] = {
    NB1: {"q_scaling": "uniform", "q_memory": "536870912"},
    NB2: {"q_cross": "(4, 8, 7, 12)", "q_params": "394240", "q_heads": "same number of parameters"},
    NB3: {"q_causal": "2, 3, 4 and 5", "q_pairs": "55", "q_trap": "silently dropped"},
    NB4: {"q_state_size": "192", "q_bottleneck": "long sentences gain more"},
    NB5: {"q_scaling": "additive about the same", "q_step_by_step": "no longer depend on the attention",
          "q_position": "mostly keep the same word order", "q_choice": "luong's model, and not bahdanau's",
          "q_length": "without attention loses far more accuracy"},
    NB6: {"q_uniform": "log(len(vocab))", "q_pre_ln": "normalises x even"},
    NB7: {"q_flash": "one block holds all", "q_kv_memory": "2147483648", "q_kv_memory_gqa": "536870912"},
}
