"""A controlled experiment on the bottleneck: reverse sequences of random symbols, short to long, with and without
attention.

In real sentences many things change with length (rare words, grammar, word order); here only the length does. Both
models are built from one decoder class, the notebook's Luong decoder: the model without attention gets the same decoder
with its attention replaced by :class:`NoAttention`, so it reads the source only through the encoder's final state.
Under `make calibrate` the notebook's run records its figures (attentionlab.report, key RECORD_KEY), which the
calibration collects into synthetic.json.
"""
from __future__ import annotations

import json
import os
import string
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops
from rapidfuzz.distance import Levenshtein

from attentionlab import report, seq2seq
from attentionlab.text import Vocab

PATH = Path(__file__).with_name("synthetic.json")
NAMES = ("no attention", "attention")
RECORD_KEY = "controlled experiment"  # its figures among a calibration run's (attentionlab.report)


@dataclass(frozen=True)
class Setup:
    """The task and the models: small enough that both models train in up to two minutes on two CPU cores (about 40 s
    when nothing else runs)."""

    symbols: str = string.ascii_lowercase[:12]  # the task's "words": 12 letters, drawn at random
    shortest: int = 5  # sequence lengths, in symbols, drawn uniformly between these two
    longest: int = 30
    groups: tuple = ((5, 10), (11, 15), (16, 20), (21, 25), (26, 30))  # length groups of the evaluation, ends included
    train: int = 6000  # sequences per split
    val: int = 500
    test: int = 1000
    embedding_dim: int = 16
    units: int = 64
    recipe: seq2seq.Recipe = seq2seq.Recipe(batch_size=64, learning_rate=1e-2, max_epochs=10, patience=3)


SETUP = Setup()


@dataclass(frozen=True)
class Task:
    """Pairs (source, target) of space-separated symbols, split like the translation corpus."""

    train: list
    val: list
    test: list


def sequence(rng: np.random.Generator, setup: Setup = SETUP) -> str:
    """Random symbols, as many as drawn uniformly from shortest to longest (both included), joined by spaces."""
    return " ".join(rng.choice(list(setup.symbols), size=rng.integers(setup.shortest, setup.longest + 1)))


def reversal_task(seed: int = 0, setup: Setup = SETUP) -> Task:
    """The task: write the source backwards. Target symbol t is source symbol S + 1 - t, so every target symbol has
    exactly one source position to look at, and the first one to write is the last one the encoder read. No sequence
    is in two splits (nor twice in one): the models are scored on sequences they never saw."""
    rng, seen, splits = np.random.default_rng(seed), set(), []
    for size in (setup.train, setup.val, setup.test):
        split = []
        while len(split) < size:
            source = sequence(rng, setup)
            if source not in seen:
                seen.add(source)
                split.append((source, " ".join(reversed(source.split()))))
        splits.append(split)
    return Task(*splits)


class NoAttention(layers.Layer):
    """Stands in for a decoder's attention: a context of zeros, so the decoder reads the source only through the state
    it starts from. Returns (context (B, T, d), weights (B, T, S)), both zeros."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True  # no weights to make: the decoder that holds it is built without a warning

    def call(self, query, keys, mask):
        weights = ops.zeros_like(ops.einsum("btd,bsd->bts", query, keys))  # (B, T, S)
        return ops.zeros_like(query), weights


def build(decoder_class, vocab: Vocab, attention: bool, seed: int = 0, setup: Setup = SETUP) -> seq2seq.Seq2Seq:
    """notebook 4's encoder and ``decoder_class(vocab_size, embedding_dim, units, score=...)`` (Luong's decoder), its
    attention kept (general score) or replaced by NoAttention (then built with the dot score, which has no weights to
    leave unused)."""
    keras.utils.set_random_seed(seed)
    encoder = seq2seq.Encoder(len(vocab), setup.embedding_dim, setup.units)
    decoder = decoder_class(len(vocab), setup.embedding_dim, setup.units, score="general" if attention else "dot")
    if not attention:
        decoder.attention.built = True  # the replaced layer stays tracked, never called; with the dot score, no weights
        decoder.attention = NoAttention()
    return seq2seq.Seq2Seq(encoder, decoder, vocab, vocab)


def accuracy(targets: list[str], outputs: list[str]) -> float:
    """1 - symbol error rate: the fewest symbols to insert, delete or replace to turn each output into its target
    (Levenshtein distance), per target symbol. A skipped symbol costs one, not every symbol after it."""
    edits = sum(Levenshtein.distance(t.split(), o.split()) for t, o in zip(targets, outputs))
    return max(0.0, 1 - edits / sum(len(t.split()) for t in targets))


def accuracy_by_length(model: seq2seq.Seq2Seq, pairs, setup: Setup = SETUP) -> dict[str, float]:
    """The model's accuracy on ``pairs`` (greedy decoding) per length group: {"5-10": 0.99, ...}."""
    outputs = model.translate([source for source, _ in pairs], max_len=setup.longest + 2)
    found = {}
    for lo, hi in setup.groups:
        chosen = [i for i, (_, target) in enumerate(pairs) if lo <= len(target.split()) <= hi]
        found[f"{lo}-{hi}"] = accuracy([pairs[i][1] for i in chosen], [outputs[i] for i in chosen])
    return found


def experiment(decoder_class, seed: int = 0, setup: Setup = SETUP) -> tuple[dict, dict]:
    """Train both models on the reversal task with ``seed``: ({name: model}, {name: figures}), figures holding the
    accuracy by length on the test split, the training time and epochs."""
    task = reversal_task(seed, setup)
    vocab = Vocab(source for source, _ in task.train)
    models, figures = {}, {}
    for name in NAMES:
        models[name] = build(decoder_class, vocab, attention=name == "attention", seed=seed, setup=setup)
        run = seq2seq.train(models[name], task, setup.recipe, seed=seed)
        figures[name] = {"accuracy": accuracy_by_length(models[name], task.test, setup),
                         "train_seconds": run["train_seconds"], "epochs": len(run["val_loss"]),
                         "best_epoch": run["best_epoch"], "params": models[name].count_params()}
    if os.environ.get(report.RECORD):
        report.save({RECORD_KEY: figures})
    return models, figures


def config(setup: Setup = SETUP) -> dict:
    """The setup as data, kept in the record: a record of another setup is stale."""
    return json.loads(json.dumps(asdict(setup)))


def load(path: Path = PATH) -> dict:
    """The calibration record: {"config": ..., "seeds": {seed: {model: figures}}}."""
    if not path.is_file():
        raise FileNotFoundError(f"No record of the controlled experiment at {path}: the instructor runs "
                                "`make calibrate`.")
    return json.loads(path.read_text())
