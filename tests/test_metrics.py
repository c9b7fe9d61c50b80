"""BLEU helpers: sacreBLEU underneath, multi-reference grouping, length buckets."""
import pytest
import sacrebleu

from attentionlab import metrics


def test_group_references_keeps_every_translation():
    sources, refs = metrics.group_references([("a .", "x ."), ("b .", "y ."), ("a .", "z .")])
    assert sources == ["a .", "b ."]
    assert refs == [["x .", "z ."], ["y ."]]


def test_single_reference_matches_sacrebleu():
    hyps = ["el gato está en la mesa .", "tengo hambre ."]
    refs = ["el gato está sobre la mesa .", "tengo mucha hambre ."]
    ours = metrics.corpus_bleu(hyps, [[r] for r in refs])
    assert ours.score == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs], tokenize="none").score)
    assert "tok:none" in ours.signature and "version:2.6.0" in ours.signature and "lower-cased" in ours.signature


def test_inverted_marks_are_tokens_of_their_own():
    """"¿ dónde" shares the word "dónde" with "dónde": 13a on re-joined text would score "¿dónde" as another word."""
    perfect = metrics.corpus_bleu(["¿ dónde está tom ?"], [["¿ dónde está tom ?"]]).score
    without_mark = metrics.corpus_bleu(["dónde está tom ?"], [["¿ dónde está tom ?"]]).score
    assert perfect == pytest.approx(100.0) and without_mark > 50


def test_extra_reference_can_only_help():
    hyps = ["ahora tengo hambre y sed ."]
    one = metrics.corpus_bleu(hyps, [["ahora tengo mucha hambre y sed ."]]).score
    two = metrics.corpus_bleu(hyps, [["ahora tengo mucha hambre y sed .", "ahora tengo hambre y sed ."]]).score
    assert two == pytest.approx(100.0) and one < 100.0


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError):
        metrics.corpus_bleu(["a"], [])


def test_evaluate_and_buckets():
    pairs = [("one two three four .", "uno dos tres cuatro ."), ("one two three four five six .", "a b c d e f .")]
    identity = {"one two three four .": "uno dos tres cuatro .", "one two three four five six .": "x y z"}
    score = metrics.evaluate(lambda xs: [identity[x] for x in xs], pairs)
    assert 0 < score.score < 100
    buckets = metrics.bleu_by_length(list(identity), list(identity.values()), [["uno dos tres cuatro ."], ["a b c d e f ."]])
    assert buckets["4-5"] == pytest.approx(100.0) and buckets["6-7"] == pytest.approx(0.0)


def test_tokenized_text_is_scored_without_a_warning(capfd):
    """A graded cell that writes to stderr worries students: sacreBLEU must not warn that the text is tokenized."""
    metrics.corpus_bleu(["hola , tom ."] * 120, [["hola , tom ."]] * 120)
    assert capfd.readouterr().err == ""


def test_paired_bootstrap_gives_intervals_and_a_p_value_against_the_baseline():
    references = [["el gato está aquí .", "el gato está acá ."], ["tengo hambre ."], ["¿ dónde está tom ?"]] * 40
    baseline = ["el perro está aquí .", "tengo sed .", "¿ dónde está mary ?"] * 40
    better = ["el gato está aquí .", "tengo hambre .", "¿ dónde está mary ?"] * 40
    found = metrics.bootstrap({"better": better, "baseline": baseline}, references, "baseline", samples=200)
    assert found["baseline"]["p"] is None and found["better"]["p"] < 0.05
    assert found["better"]["bleu"] == pytest.approx(metrics.corpus_bleu(better, references).score)
    assert all(0 < f["ci95"] < 20 for f in found.values())
