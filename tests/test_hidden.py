"""The hidden checks themselves: right on reference code, and their references right."""
import numpy as np
import pytest

from grader.hidden import checks_for, verdict
from grader.hidden import numpy_attention as h
from kernel_objects import Variable, lookup_translator


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
    from grader.grading.preprocessors import is_test

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

    for switches, fix in [(dict(scale=1.0), "√d"), (dict(axis=-2), "over the keys"),
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
        with pytest.raises(AssertionError, match="by keyword"):
            check(positional)


class Answer:
    """A notebook variable as a hidden check sees it (grader.hidden.remote.Remote.value); NotImplemented: never set."""

    def __init__(self, value, name="answer"):
        self._value, self.name = value, name

    def value(self):
        from grader.hidden.remote import StudentError

        if self._value is NotImplemented:
            raise StudentError(f"NameError: name {self.name!r} is not defined in your notebook")
        return self._value

    def __repr__(self):
        return self.name


def question_checks():
    """(check, right answers in several forms, a wrong answer, the right answer as the student would write it)."""
    from grader.hidden import keras_mha as k, masks as m, seq2seq as s

    return [
        (h.q_scaling, ["d", " D ", "d\n"], "c", "d"),
        (h.q_memory, [536870912, 5.36870912e8, np.array(536870912), 2**29], 2**26, "536870912"),
        (k.q_cross, ["c", " C"], "a", "c"),
        (k.q_params, [394240, 394240.0], 393216, "394240"),
        (k.q_heads, ["b", "B"], "c", "b"),
        (m.q_causal, ["c", "C "], "d", "c"),
        (m.q_pairs, [55, 55.0], 45, "55"),
        (m.q_trap, ["b", " B"], "c", "b"),
        (s.q_state_size, [192, 192.0, np.int64(192)], 96, "192"),
        (s.q_bottleneck, ["c", " C"], "a", "c"),
    ]


@pytest.mark.parametrize("check, rights, wrong, shown", question_checks(), ids=lambda x: getattr(x, "__name__", ""))
def test_questions_accept_reasonable_forms_and_guide_without_the_answer(check, rights, wrong, shown):
    for right in rights:
        assert check(Answer(right)) is None
    with pytest.raises(AssertionError, match="Reread") as failure:
        check(Answer(wrong))
    message = str(failure.value).replace(f"= {wrong!r}", "")
    assert (shown not in message) if len(shown) > 1 else not {f"'{shown}'", f'"{shown}"'} & set(message.split())
    with pytest.raises(AssertionError, match="Not answered yet"):
        check(Answer(NotImplemented))


def test_questions_check_the_answer_form():
    with pytest.raises(AssertionError, match="one letter among a, b, c, d"):
        h.q_scaling(Answer("e"))
    with pytest.raises(AssertionError, match="positive number"):
        h.q_memory(Answer("536870912"))


def test_memory_answer_is_the_size_of_real_attention_weights():
    Q, K, V = h._qkv(np.random.default_rng(0), (2, 3), T=4, S=6)
    weights = h._attention(Q, K, V)[1].astype("float32")
    assert weights.nbytes == h.attention_weights_bytes(batch=2, num_heads=3, T=4, S=6, dtype="float32")


def test_cross_attention_reference_matches_keras_layers():
    """The grader's NumPy attention equals Keras' Attention (dot, general) and AdditiveAttention, masked."""
    import keras

    from grader.hidden import cross_attention as x

    rng = np.random.default_rng(0)
    query, keys = rng.standard_normal((2, 3, 8)), rng.standard_normal((2, 5, 8))
    mask = np.array([[True] * 3 + [False] * 2, [True] * 5])
    W, W1, W2 = (rng.standard_normal((8, 8)) for _ in range(3))
    v = rng.standard_normal(8)
    for score, params, inputs, layer in [
            ("dot", [], [query / np.sqrt(8), keys], keras.layers.Attention()),
            ("general", [W], [query @ W / np.sqrt(8), keys], keras.layers.Attention()),
            ("additive", [W1, W2, v], [query @ W2, keys, keys @ W1], keras.layers.AdditiveAttention())]:
        if score == "additive":
            layer.build([np.shape(i) for i in inputs])
            layer.set_weights([v])  # Keras sums scale · tanh(q + k): v plays the scale
        context, weights = layer(inputs, mask=[None, mask], return_attention_scores=True)
        ours = x.attend(x.true_scores(score, params, query, keys), keys, mask)
        np.testing.assert_allclose(ours[1], keras.ops.convert_to_numpy(weights), atol=1e-5, err_msg=score)
        np.testing.assert_allclose(ours[0], keras.ops.convert_to_numpy(context), atol=1e-5, err_msg=score)



@pytest.mark.parametrize("attention", ["links", "diagonal", "diagonal, one ahead", "uniform"])
def test_alignment_check_passes_attention_on_the_linked_words_only(attention):
    """The verdict on the real test split: attention on the IBM links passes; attention that follows position alone
    fails with the hint of the TRAINED_MISTAKES choice (handing in Bahdanau's model)."""
    from attentionlab import alignment
    from grader.catalogue import mistakes
    from grader.hidden import cross_attention as x, seq2seq

    (choose,) = [m for m in mistakes.TRAINED_MISTAKES if m.fails == ("test_alignment",)]
    corpus = seq2seq.corpus()
    pairs = corpus.test
    if attention == "links":
        links = alignment.aligner(corpus.train).word_links(pairs)
        weights = [np.eye(len(en.split()))[[dict(found).get(t, 0) for t in range(len(es.split()) + 1)]]
                   for (en, es), found in zip(pairs, links)]
        assert x.judge_alignment(pairs, weights, corpus.train).startswith("Alignment: 100% of")
    else:
        with pytest.raises(AssertionError, match=choose.hint):
            x.judge_alignment(pairs, alignment.content_blind(pairs)[attention], corpus.train)


# ---------------------------------------------------------------- notebooks 4 and 5: the grader's own decoding

NB5_SENTENCES = ["tom saw mary in boston .", "i have 3 books .", "where is the big red house ?", "mary"]


@pytest.fixture(scope="module")
def nb5():
    """Namespaces of the reference answers of notebooks 5 ("reference") and 4 ("nb4"), and of other decoders and
    encoders of the catalogue (grader.catalogue.mistakes), by name."""
    import keras
    from keras import layers, ops

    from attentionlab import seq2seq, text
    from grader.catalogue import mistakes, submissions

    def namespace(assignment, *edits):
        found = {"np": np, "keras": keras, "layers": layers, "ops": ops, "seq2seq": seq2seq, "text": text}
        answers = submissions.answers_with(*edits) if edits else submissions.solution_sources(assignment)
        cells = ("encoder", "decoder") if assignment == mistakes.NB4 else (
            "scaling", "scores", "cross_attention", "luong_decoder", "bahdanau_decoder")
        for grade_id in cells:
            exec(answers[grade_id], found)
        return found

    edits = {e.name: e for e in mistakes.FAST_ALTERNATIVES + mistakes.FAST_MISTAKES}
    return {"reference": namespace(mistakes.NB5), "nb4": namespace(mistakes.NB4),
            **{name: namespace(edits[name].assignment, edits[name])
               for name in ("luong-state-first", "bahdanau-context-first", "encoder-no-mask",
                            "general-unscaled-declared", "additive-scaled-declared")}}


def seq2seq_model(namespace, name, src_vocab, tgt_vocab, embedding_dim=6, units=8, seed=1):
    """notebook 5's attention_model(name), or notebook 4's model ("no attention"), at other sizes, with random weights
    large enough to decode peaked."""
    import keras

    from attentionlab import checks, seq2seq

    keras.utils.set_random_seed(seed)
    if name == "no attention":
        encoder = namespace["Encoder"](len(src_vocab), embedding_dim, units)
        decoder = namespace["Decoder"](len(tgt_vocab), embedding_dim, units)
    elif name == "Luong":
        encoder = seq2seq.Encoder(len(src_vocab), embedding_dim, units)
        decoder = namespace["LuongDecoder"](len(tgt_vocab), embedding_dim, units, score="general")
    else:
        encoder = seq2seq.BiEncoder(len(src_vocab), embedding_dim, units)
        decoder = namespace["BahdanauDecoder"](len(tgt_vocab), embedding_dim, units)
    model = seq2seq.Seq2Seq(encoder, decoder, src_vocab, tgt_vocab)
    model.translate(["tom saw"])  # builds the weights
    checks.randomise_weights(model, seed=seed, scale=1.0)
    return model


@pytest.mark.parametrize("name, decoders", [("Luong", "reference"), ("Luong", "luong-state-first"),
                                            ("Luong", "general-unscaled-declared"),
                                            ("Bahdanau", "reference"), ("Bahdanau", "bahdanau-context-first"),
                                            ("Bahdanau", "additive-scaled-declared"),
                                            ("no attention", "nb4"), ("no attention", "encoder-no-mask")])
def test_numpy_decoding_is_keras_translate(nb5, name, decoders):
    """The grader's greedy decoding gives Keras' translations and attention, and its teacher-forced attention Keras',
    in the one reading of the weights that matches the decoder's join orders (notebook 4: the encoder's mask)."""
    from attentionlab import text
    from grader.hidden import forward

    pairs = [(s, s.replace("the", "la")) for s in NB5_SENTENCES] + [("a b c d e f", "g h i j k l m n")]
    src_vocab, tgt_vocab = text.Vocab(s for s, _ in pairs), text.Vocab(t for _, t in pairs)
    model = seq2seq_model(nb5[decoders], name, src_vocab, tgt_vocab)
    texts, attention = model.translate(NB5_SENTENCES, return_attention=True)
    forced = model.forced_attention(pairs)  # teacher forcing: the alignment check's weights
    assert (forced is None) == (name == "no attention")
    matching = []
    for reading in forward.readings(name, model.get_weights(), src_vocab, tgt_vocab):
        ours, weights, _ = reading.translate(NB5_SENTENCES, src_vocab, tgt_vocab)
        if ours == texts:
            assert all(w.shape == np.shape(a) for w, a in zip(weights, attention))
            for w, a in zip(weights, attention):
                np.testing.assert_allclose(w, a, atol=1e-5)
            for w, a in zip(reading.forced_attention(pairs, src_vocab, tgt_vocab), forced or []):
                assert w.shape == a.shape
                np.testing.assert_allclose(w, a, atol=1e-4)
            matching.append(reading.reading)
    assert len(matching) == 1 and len(set(texts)) > 1, (matching, texts)
    for other in set(forward.READINGS) - {name}:
        assert forward.readings(other, model.get_weights(), src_vocab, tgt_vocab) == []


@pytest.fixture(scope="module")
def course_models(nb5):
    """Untrained Luong and notebook-4 models on the course's vocabularies (small sizes): what the hidden checks read."""
    from attentionlab import text
    from grader.hidden import seq2seq

    corpus = seq2seq.corpus()
    vocabs = text.Vocab(en for en, _ in corpus.train), text.Vocab(es for _, es in corpus.train)
    return {"Luong": seq2seq_model(nb5["reference"], "Luong", *vocabs, embedding_dim=4, units=8, seed=2),
            "no attention": seq2seq_model(nb5["nb4"], "no attention", *vocabs, embedding_dim=4, units=8, seed=2),
            "corpus": corpus}


def replacing(translate, fake, replaced):
    """``translate``, whose output on the sentences ``replaced`` picks is ``fake``'s."""
    def wrapped(sources, return_attention=False):
        texts, weights = (list(x) for x in translate(sources, return_attention=True))
        for i, s in enumerate(sources):
            if replaced(s):
                (texts[i],), (weights[i],) = fake([s], return_attention=True)
        return (texts, weights) if return_attention else texts

    return wrapped


def nb5_verdicts(translate, model, choice="Luong"):
    from grader.hidden import cross_attention as x

    names = {"translate": translate, "models": Variable({choice: model}), "choice": Variable(choice)}
    return [verdict(check.check, names) for check in (x.bleu_gate, x.alignment)]


def test_nb5_checks_score_the_handed_in_model_not_its_translate(course_models):
    """An untrained model fails on its own merits; a lookup, or the model with some of its output replaced, fails
    because its translations are not the model's."""
    from grader.hidden import cross_attention as x

    model, corpus = course_models["Luong"], course_models["corpus"]
    (bleu_passed, bleu), (aligned, alignment) = nb5_verdicts(model.translate, model)
    assert not bleu_passed and "does not beat the no-attention baseline" in bleu
    assert not aligned and "of the linked words of the test split" in alignment
    lookup = lookup_translator(corpus)
    names = {"tom", "mary", "3"}
    for attack in (lookup, replacing(model.translate, lookup, lambda s: bool(names & set(s.split()))),
                   replacing(model.translate, lambda s, return_attention: ([model.translate(s)[0]], [np.eye(3)]),
                             lambda s: "tom" in s)):
        assert nb5_verdicts(attack, model) == [(False, x.NOT_THE_MODEL)] * 2


def test_nb5_checks_name_the_handed_in_model(course_models):
    from grader.hidden import cross_attention as x

    model = course_models["Luong"]
    for passed, message in nb5_verdicts(model.translate, model, choice="Transformer"):
        assert not passed and '"Luong" or "Bahdanau"' in message
    for passed, message in nb5_verdicts(model.translate, model, choice="Bahdanau"):
        assert not passed and "models[" in message
    names = {"translate": model.translate, "models": Variable({"Luong": [1, 2]}), "choice": Variable("Luong")}
    assert not verdict(x.alignment.check, names)[0]
    assert "Keep `models`" in verdict(x.alignment.check, names)[1]


def _decode_step(x_t, cache, W_q, W_k, W_v):
    from grader.hidden import at_scale as s

    cache = {"K": np.vstack([cache["K"], x_t @ W_k]), "V": np.vstack([cache["V"], x_t @ W_v])}
    return s.attention((x_t @ W_q)[None], cache["K"], cache["V"])[0], cache


def test_at_scale_references_are_right():
    from grader.hidden import at_scale as s

    rng = np.random.default_rng(0)
    Q, K, V = rng.standard_normal((3, 10, 4)) * 3
    for causal in (False, True):
        np.testing.assert_allclose(s.tiled(Q, K, V, 3, causal), s.attention(Q, K, V, causal), atol=1e-12)
    x = rng.standard_normal((2, 5, 8))
    positions = np.arange(5) * 7
    theta = 10000.0 ** (-np.arange(0, 8, 2) / 8)
    z = (x[..., 0::2] + 1j * x[..., 1::2]) * np.exp(1j * positions[:, None] * theta)
    np.testing.assert_allclose(s.reference_rope(x, positions), np.stack([z.real, z.imag], -1).reshape(x.shape))
    np.testing.assert_allclose(s.reference_alibi(8, 3, 3)[:, 2, 0], -2 * 2.0 ** -np.arange(1, 9))
    assert s.kv_cache_bytes(**s.LLAMA_7B) == 2 * 2**30
    assert s.kv_cache_bytes(**dict(s.LLAMA_7B, kv_heads=8)) == 512 * 2**20


def test_at_scale_checks_pass_on_the_references():
    from grader.hidden import at_scale as s

    def flash(Q, K, V, block=64, causal=False):
        return s.tiled(Q, K, V, block, causal)

    def gqa(Q, K, V):
        return s.attention(Q, np.repeat(K, Q.shape[1] // K.shape[1], 1), np.repeat(V, Q.shape[1] // K.shape[1], 1))

    s.fit_exponent_values(lambda n, y: np.polyfit(np.log(n), np.log(y), 1)[0])
    for check in (s.flash_values, s.flash_causal):  # flash_memory needs a kernel to measure: test_hostile_models.py
        check(flash)
    s.decode_values(_decode_step)
    s.gqa_values(gqa)
    s.rope_values(s.reference_rope)
    s.rope_relative(s.reference_rope)
    s.alibi_values(s.reference_alibi)


@pytest.mark.parametrize("check, wrong, hint", [
    ("test_flash", dict(rescale_sum=False), "running sum l is not rescaled"),
    ("test_flash", dict(rescale_acc=False), "accumulator is not rescaled"),
    ("test_flash_causal", dict(global_cols=False), "inside its block"),
])
def test_at_scale_flash_checks_name_the_mistake(check, wrong, hint):
    from grader.hidden import at_scale as s

    def flash(Q, K, V, block=64, causal=False):
        return s.tiled(Q, K, V, block, causal, **wrong)

    passed, message = verdict(checks_for("07_attention_at_scale")[check], {"flash_attention": flash})
    assert not passed and hint in message


def test_at_scale_checks_name_the_pairing_and_the_sign():
    from grader.hidden import at_scale as s

    checks = checks_for("07_attention_at_scale")
    passed, message = verdict(checks["test_rope"], {"rope": lambda x, p: s.reference_rope(x, p, half=True)})
    assert not passed and "(x_i, x_i+d/2)" in message
    passed, message = verdict(checks["test_alibi"], {"alibi_bias": lambda *a: s.reference_alibi(*a, sign=1.0)})
    assert not passed and "rewards far keys" in message


def test_nb4_bleu_floor_scores_the_handed_in_model_not_its_translate(course_models):
    from grader.hidden import seq2seq as s

    model, check = course_models["no attention"], s.bleu_floor.check
    passed, message = verdict(check, {"translate": model.translate, "model": Variable(model)})
    assert not passed and "below the floor" in message
    lookup = lookup_translator(course_models["corpus"])
    assert verdict(check, {"translate": lookup, "model": Variable(model)}) == (False, s.NOT_THE_MODEL)
    assert "Keep `model`" in verdict(check, {"translate": lookup, "model": Variable("a model")})[1]
    assert "`model` does not have the weights" in verdict(check, {"translate": lookup,
                                                                  "model": Variable(course_models["Luong"])})[1]
