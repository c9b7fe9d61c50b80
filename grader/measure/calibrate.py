"""Calibrate the frozen baseline: execute the instructor's notebooks 4 and 5 for several seeds.

The notebooks evaluate their models with attentionlab.report, which also writes its figures to the file
named by ATTENTIONLAB_RECORD: calibration reads that data, never the notebooks' printed text. Seed 0 of
notebook 4 becomes attentionlab/baseline.json (with the data checksum, subset and package versions);
every seed's figures are kept in it as well. Notebook 5's controlled experiment (attentionlab.synthetic) records its
figures the same way, with the reference's own Luong decoder: they go to attentionlab/synthetic.json.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from attentionlab import alignment, baseline, data, metrics, report, seq2seq, synthetic
from grader.course import notebook_of
from grader.delivery.execute import execute

NB4, NB5 = "04_seq2seq", "05_cross_attention"
BASELINE = "no attention"  # notebook 4's model, as its report names it


def run_notebook(assignment: str, seed: int) -> tuple[dict, float]:
    """Execute the instructor notebook with ATTENTIONLAB_SEED=seed: ({model: figures}, run time in seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "record.json"
        os.environ.update({"ATTENTIONLAB_SEED": str(seed), "ATTENTIONLAB_QUIET": "1", report.RECORD: str(record)})
        start = time.perf_counter()
        try:
            execute(notebook_of(assignment))
        finally:
            del os.environ[report.RECORD]
        return json.loads(record.read_text()), time.perf_counter() - start


def _agreement(figures: dict | None) -> str:
    if figures is None:
        return "no attention"
    return (f"alignment {figures['strict']:.0%} strict, {figures['near']:.0%} ±1, {figures['ahead']:.0%} ahead, "
            f"mass {figures['mass']:.2f} ({figures['words']} words)")


def _line(name: str, figures: dict) -> str:
    return (f"{name}: test BLEU {figures['bleu']:.1f} (validation {figures['val']['bleu']:.1f}), "
            f"{_agreement(figures['alignment'])}, {figures['showcase']['translation']!r}, best epoch "
            f"{figures['best_epoch']} of {len(figures['val_loss'])}, trained in {figures['train_seconds']:.0f} s")


def content_blind() -> dict:
    """{split: {content-blind attention: its agreement with the word alignment}}: what position alone scores."""
    corpus = data.load_corpus()
    return {split: alignment.blind_figures(getattr(corpus, split)) for split in ("val", "test")}


def with_intervals(models: dict) -> dict:
    """The models' figures of one seed, each with its test BLEU's 95% interval and p-value against the baseline (paired
    bootstrap on the same test sentences), the translations dropped."""
    _, references = metrics.group_references(data.load_corpus().test)
    found = metrics.bootstrap({name: m["hypotheses"] for name, m in models.items()}, references, BASELINE)
    return {name: {**{k: v for k, v in m.items() if k != "hypotheses"}, "bootstrap": found[name]}
            for name, m in models.items()}


def calibrate(seeds=(0, 1, 2), log=print) -> dict:
    """Baseline from the first seed (written at once), then notebook 5 and the other seeds, each with notebook 5's
    controlled experiment; returns the baseline's record."""
    record, experiment = None, new_experiment_record()
    for seed in seeds:
        nb4, nb4_seconds = run_notebook(NB4, seed)
        base = nb4[BASELINE]
        log(f"seed {seed}: {_line(BASELINE, base)}; notebook {nb4_seconds:.0f} s")
        if record is None:
            record = {"bleu": base["bleu"], "seed": seed, "signature": base["signature"],
                      "bleu_by_length": base["bleu_by_length"], "val": base["val"], "margin": baseline.MARGIN,
                      "environment": baseline.environment(), "content_blind": content_blind(), "seeds": {},
                      "notebook_seconds": {}}
            for split, found in record["content_blind"].items():
                log(f"        content-blind ({split}): " +
                    "; ".join(f"{name}: {_agreement(f)}" for name, f in found.items()))
            baseline.PATH.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        nb5, nb5_seconds = run_notebook(NB5, seed)
        add_experiment(experiment, seed, nb5.pop(synthetic.RECORD_KEY), log)
        log("        " + "; ".join(_line(name, figures) for name, figures in nb5.items()) +
            f"; notebook {nb5_seconds:.0f} s")
        record["seeds"][str(seed)] = with_intervals({**nb4, **nb5})
        record["notebook_seconds"][str(seed)] = {NB4: nb4_seconds, NB5: nb5_seconds}
        baseline.PATH.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return record


def new_experiment_record() -> dict:
    """An empty record of the controlled experiment, with its setup and the packages."""
    return {"config": synthetic.config(), "environment": baseline.environment()["packages"], "seeds": {},
            "load_average": {}}  # the machine's, after each seed: the training times depend on it


def add_experiment(record: dict, seed: int, figures: dict, log=print, path: Path = synthetic.PATH) -> None:
    """Keep one seed's figures of the controlled experiment and write the record to ``path``."""
    record["seeds"][str(seed)], record["load_average"][str(seed)] = figures, os.getloadavg()[0]
    path.write_text(json.dumps(record, indent=2) + "\n")
    log(f"        controlled experiment: " + "; ".join(
        f"{name} " + " ".join(f"{group} {value:.0%}" for group, value in found["accuracy"].items()) +
        f" (trained in {found['train_seconds']:.0f} s)" for name, found in figures.items()) +
        f"; load average {record['load_average'][str(seed)]:.1f} on {os.cpu_count()} cores")
