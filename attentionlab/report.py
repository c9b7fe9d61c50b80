"""The figures of trained translators on held-out pairs, as a table for the notebooks and as data for calibration.

`make calibrate` executes the instructor's notebooks with ATTENTIONLAB_RECORD set to a file: :func:`evaluate`
then also writes its figures there, so calibration reads data, never a notebook's printed text.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from attentionlab import metrics

RECORD = "ATTENTIONLAB_RECORD"
RUN_KEYS = ("initial_val_loss", "loss", "val_loss", "train_seconds", "epoch_seconds", "tokens_per_second")


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
    sources, references = metrics.group_references(pairs)
    results = {name: figures(model, runs[name], sources, references) for name, model in models.items()}
    for name, r in results.items():
        print(f"{name}: BLEU {r['bleu']:.1f}, {r['params']:,} parameters, trained in {r['train_seconds']:.0f} s")
    save(results)
    return results


def save(results: dict) -> None:
    """Add ``results`` (without the translations) to the file named by ATTENTIONLAB_RECORD, if it is set."""
    path = os.environ.get(RECORD)
    if not path:
        return
    path = Path(path)
    record = json.loads(path.read_text()) if path.is_file() else {}
    record.update({name: {k: v for k, v in r.items() if k != "hypotheses"} for name, r in results.items()})
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
