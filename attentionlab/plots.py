"""Plots shared by the notebooks: attention heatmaps, the √d scaling demo, BLEU or accuracy by length, loss curves,
power laws."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np

from attentionlab.i18n import _

TITLE_WIDTH = 48  # characters per line of a heatmap's title: side-by-side maps of the notebooks' figures do not overlap


def attention_heatmap(weights, source_tokens, target_tokens, ax=None, title=None):
    """Heatmap of a (target × source) weight matrix with tokens on the axes; a long title (a translation) is wrapped."""
    weights = np.asarray(weights)
    if ax is None:
        ax = plt.subplots(figsize=(0.5 * len(source_tokens) + 2, 0.45 * len(target_tokens) + 1.5))[1]
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(source_tokens)), source_tokens, rotation=60, ha="right")
    ax.set_yticks(range(len(target_tokens)), target_tokens)
    ax.set_xlabel(_("attended to (keys)"))
    ax.set_ylabel(_("attending (queries)"))
    if title:
        ax.set_title("\n".join(textwrap.fill(line, TITLE_WIDTH) for line in title.splitlines()), fontsize="medium")
    ax.figure.colorbar(image, ax=ax, fraction=0.046)
    return ax


def scaling_demo(dims, var_raw, var_scaled, peak_raw, peak_scaled):
    """Two panels: variance of q·k against d, and the largest softmax weight against d."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.loglog(dims, var_raw, "o-", label="q·k")
    left.loglog(dims, var_scaled, "s-", label="q·k / √d")
    left.set(xlabel=_("d (dimension of queries and keys)"), ylabel=_("variance of the score"),
             title=_("Scores grow with d unless scaled"))
    right.semilogx(dims, peak_raw, "o-", label="softmax(q·k)")
    right.semilogx(dims, peak_scaled, "s-", label="softmax(q·k / √d)")
    right.set(xlabel="d", ylabel=_("mean largest weight"), ylim=(0, 1.05),
              title=_("Unscaled softmax saturates (one-hot)"))
    for ax in (left, right):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def bleu_by_length(buckets: dict):
    """Grouped bars: {model name: {length bucket: BLEU}}."""
    names = list(buckets)
    labels = list(next(iter(buckets.values())))
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(8, 3.8))
    for i, name in enumerate(names):
        ax.bar(np.arange(len(labels)) + i * width, [buckets[name].get(b, 0.0) for b in labels], width, label=name)
    ax.set_xticks(np.arange(len(labels)) + width * (len(names) - 1) / 2, labels)
    ax.set(xlabel=_("source length (words)"), ylabel="BLEU", title=_("BLEU by source length"))
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def accuracy_by_length(accuracy: dict, ax=None):
    """Lines of accuracy (%) against length group, one per model: {model name: {length group: share right}}."""
    if ax is None:
        ax = plt.subplots(figsize=(6, 3.8))[1]
    for name, groups in accuracy.items():
        ax.plot(list(groups), [100 * v for v in groups.values()], "o-", label=name)
    ax.set(xlabel=_("sequence length (symbols)"), ylabel=_("symbols right (%)"), ylim=(0, 102),
           title=_("Accuracy by sequence length"))
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def loss_curves(runs: dict):
    """Training (dashed) and validation (solid) loss per epoch, one colour per model, a star on the best epoch (the
    weights a model keeps after early stopping): {name: seq2seq.train(...)}."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for i, (name, run) in enumerate(runs.items()):
        epochs = np.arange(1, len(run["loss"]) + 1)
        ax.plot(epochs, run["loss"], "--", color=f"C{i}")
        ax.plot(epochs, run["val_loss"], "o-", color=f"C{i}", label=name)
        if "best_epoch" in run:
            ax.plot(run["best_epoch"], run["val_loss"][run["best_epoch"] - 1], "*", color=f"C{i}", markersize=14)
    ax.set(xlabel=_("epoch"), ylabel=_("cross-entropy per target token"),
           title=_("Loss (dashed: training, solid: validation, star: best epoch)"))
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def power_laws(n, series: dict, ylabel: str, title: str, ax=None):
    """Log–log plot of {label: values} against n, one line each: a power law n^p is a straight line of slope p."""
    if ax is None:
        ax = plt.subplots(figsize=(5.5, 3.8))[1]
    for label, values in series.items():
        ax.loglog(n, values, "o-", label=label)
    ax.set(xlabel=_("sequence length n"), ylabel=ylabel, title=title)
    ax.set_xticks(n, [str(v) for v in n])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    return ax
