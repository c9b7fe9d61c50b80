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
    NB1: {"softmax": ("keepdims=True",),
          "sdpa": ("np.where(", "np.swapaxes(", "-1e9)"),
          "mha": ("np.swapaxes(", "np.moveaxis(", "np.expand_dims(", "swap the n and num_heads")},
    NB2: {},
    NB3: {},
    NB4: {},
    NB5: {},
    NB6: {},
    NB7: {},
}

# assignment -> question cell -> the key phrase of its answer, as the text would state it: it must not appear in the
# notebook before the question (lower case; the options themselves are not searched).
QUESTIONS: dict[str, dict[str, str]] = {
    NB1: {},
    NB2: {},
    NB3: {},
    NB4: {},
    NB5: {},
    NB6: {},
    NB7: {},
}
