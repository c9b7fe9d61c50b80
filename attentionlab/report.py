"""The figures of trained translators on unseen pairs, printed for the notebooks and kept as data for calibration.

`make calibrate` executes the instructor's notebooks with ATTENTIONLAB_RECORD set to a file: :func:`evaluate`
then also measures the test split (as the grader does) and writes both there, so calibration reads data,
never a notebook's printed text.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from attentionlab import alignment, data, metrics
from attentionlab.i18n import _

RECORD = "ATTENTIONLAB_RECORD"
RUN_KEYS = ("initial_val_loss", "loss", "val_loss", "best_epoch", "train_seconds", "epoch_seconds", "tokens_per_second")
# Notebook 5's example sentence (section 8): a held-out sentence whose Spanish reorders words. The record keeps each
# model's translation of it, so the claim that the trained model gets it right is checked on every seed.
SHOWCASE = "my father died ten years ago ."


def agreement(model, pairs) -> dict | None:
    """How the model's teacher-forced attention agrees with the IBM Model 2 alignment of ``pairs``
    (attentionlab.alignment); None for a model without attention."""
    weights = model.forced_attention(pairs)
    return None if weights is None else alignment.agreement(alignment.aligner().word_links(pairs), weights)


def figures(model, run: dict, pairs) -> dict:
    """BLEU (overall and by source length), alignment, size and training figures of one model on ``pairs``."""
    sources, references = metrics.group_references(pairs)
    hypotheses = model.translate(sources)
    bleu = metrics.corpus_bleu(hypotheses, references)
    return {"bleu": bleu.score, "signature": bleu.signature, "hypotheses": hypotheses,
            "bleu_by_length": metrics.bleu_by_length(sources, hypotheses, references),
            "alignment": agreement(model, pairs), "params": model.count_params(),
            "showcase": {"sentence": SHOWCASE, "translation": model.translate([SHOWCASE])[0]},
            **{key: run[key] for key in RUN_KEYS if key in run}}


def evaluate(models: dict, runs: dict, pairs) -> dict:
    """{name: figures} of each model on ``pairs`` (BLEU grouped by source sentence); prints one line per model."""
    results = {name: figures(model, runs[name], pairs) for name, model in models.items()}
    for name, r in results.items():
        print(_("{name}: BLEU {bleu:.1f}, {params:,} parameters, trained in {seconds:.0f} s", name=name, bleu=r["bleu"],
                params=r["params"], seconds=r["train_seconds"]))
    if os.environ.get(RECORD):
        test = data.load_corpus().test
        save({name: {**figures(model, runs[name], test), "val": _scores(results[name])}
              for name, model in models.items()})
    return results


def _scores(figures: dict) -> dict:
    return {key: figures[key] for key in ("bleu", "bleu_by_length", "alignment")}


def save(results: dict) -> None:
    """Add ``results`` (with the test translations, for the calibration's paired bootstrap) to the file named by
    ATTENTIONLAB_RECORD."""
    path = Path(os.environ[RECORD])
    record = json.loads(path.read_text()) if path.is_file() else {}
    record.update(results)
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
