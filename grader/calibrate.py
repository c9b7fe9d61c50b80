"""Calibrate the frozen baseline: execute the instructor's notebooks 4 and 5 for several seeds.

Seed 0 of notebook 4 becomes attentionlab/baseline.json (with the data checksum,
subset and package versions); every seed's figures are kept in it as well.
"""
from __future__ import annotations

import json
import os
import time

import nbformat

from attentionlab import baseline
from grader.course import notebook_of
from grader.execute import execute

NB4, NB5 = "04_seq2seq", "05_cross_attention"
PROBE = {
    NB4: """import json as _json
_src, _refs = metrics.group_references(corpus.test)
_hyp = translate(_src)
_bleu = metrics.corpus_bleu(_hyp, _refs)
print("CALIBRATION " + _json.dumps({"bleu": _bleu.score, "signature": _bleu.signature,
    "bleu_by_length": metrics.bleu_by_length(_src, _hyp, _refs), "params": model.count_params(),
    **{k: run[k] for k in ("train_seconds", "epoch_seconds", "tokens_per_second")}}))""",
    NB5: """import json as _json
print("CALIBRATION " + _json.dumps({name: {"bleu": bleu[name].score, "params": models[name].count_params(),
    **{k: runs[name][k] for k in ("train_seconds", "epoch_seconds", "tokens_per_second")}} for name in models}))""",
}


def run_notebook(assignment: str, seed: int) -> tuple[dict, float]:
    """Execute the instructor notebook with ATTENTIONLAB_SEED=seed; return its probe's figures and its run time."""
    os.environ["ATTENTIONLAB_SEED"] = str(seed)
    os.environ["ATTENTIONLAB_QUIET"] = "1"
    nb = nbformat.read(notebook_of(assignment), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE[assignment]))
    start = time.perf_counter()
    executed, _ = execute(notebook_of(assignment), notebook=nb)
    text = "".join(o.get("text", "") for o in executed.cells[-1].outputs)
    return json.loads(text.split("CALIBRATION ", 1)[1]), time.perf_counter() - start


def calibrate(seeds=(0, 1, 2), log=print) -> dict:
    """Baseline from seed 0 (written at once), then notebook 5 and the other seeds; returns the record."""
    record = None
    for seed in seeds:
        nb4, nb4_seconds = run_notebook(NB4, seed)
        log(f"seed {seed}: baseline BLEU {nb4['bleu']:.1f}, trained in {nb4['train_seconds']:.0f} s, notebook {nb4_seconds:.0f} s")
        if record is None:
            record = {"bleu": nb4["bleu"], "seed": seed, "signature": nb4["signature"],
                      "bleu_by_length": nb4["bleu_by_length"], "margin": baseline.MARGIN,
                      "environment": baseline.environment(), "seeds": {}, "notebook_seconds": {}}
            baseline.PATH.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        nb5, nb5_seconds = run_notebook(NB5, seed)
        log("          " + ", ".join(f"{n}: BLEU {f['bleu']:.1f} in {f['train_seconds']:.0f} s" for n, f in nb5.items()))
        record["seeds"][str(seed)] = {"no attention": nb4, **nb5}
        record["notebook_seconds"][str(seed)] = {NB4: nb4_seconds, NB5: nb5_seconds}
        baseline.PATH.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return record
