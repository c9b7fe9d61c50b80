"""The figures of trained translators on unseen pairs, printed for the notebooks and kept as data for calibration.

`make calibrate` executes the instructor's notebooks with ATTENTIONLAB_RECORD set to a file: :func:`evaluate`
then also measures the test split (as the grader does) and writes both there, so calibration reads data,
never a notebook's printed text.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from attentionlab import data, metrics

RECORD = "ATTENTIONLAB_RECORD"
RUN_KEYS = ("initial_val_loss", "loss", "val_loss", "best_epoch", "train_seconds", "epoch_seconds", "tokens_per_second")


def figures(model, run: dict, sources, references) -> dict:
    """BLEU (overall and by source length), alignment, size and training figures of one model."""
    hypotheses, attention = model.translate(sources, return_attention=True)
    bleu = metrics.corpus_bleu(hypotheses, references)
    return {"bleu": bleu.score, "signature": bleu.signature, "hypotheses": hypotheses,
            "bleu_by_length": metrics.bleu_by_length(sources, hypotheses, references),
            "alignment": metrics.alignment(sources, hypotheses, attention), "params": model.count_params(),
            **{key: run[key] for key in RUN_KEYS if key in run}}


def evaluate(models: dict, runs: dict, pairs) -> dict:
    """{name: figures} of each model on ``pairs`` (grouped by source sentence); prints one line per model."""
    results = {name: figures(model, runs[name], *metrics.group_references(pairs)) for name, model in models.items()}
    for name, r in results.items():
        print(f"{name}: BLEU {r['bleu']:.1f}, {r['params']:,} parameters, trained in {r['train_seconds']:.0f} s")
    if os.environ.get(RECORD):
        test = metrics.group_references(data.load_corpus().test)
        save({name: {**figures(model, runs[name], *test), "val": _scores(results[name])}
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
