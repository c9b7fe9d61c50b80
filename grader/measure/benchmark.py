"""Training speed against the machine's matrix-multiply peak.

Per model, from the calibration record (attentionlab/baseline.json, written by
`make calibrate`): median seconds per epoch, target tokens per second, and a rough
training rate of 6 FLOPs per parameter per target token (forward + backward), compared
with the float32 matmul rate this machine reaches through TensorFlow. The rate is an
upper bound: it counts the embedding tables (lookups, about a third of the parameters)
as if they were matrix products.
"""
from __future__ import annotations

import statistics
import time

from attentionlab import baseline


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    """Best float32 GFLOP/s of an n×n matmul through TensorFlow on all cores."""
    import tensorflow as tf

    a, b = tf.random.normal((n, n)), tf.random.normal((n, n))
    (a @ b).numpy()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        (a @ b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def rows(record: dict, peak: float) -> list[dict]:
    """One row per (seed, model) of the calibration record."""
    out = []
    for seed, models in record["seeds"].items():
        for name, fig in models.items():
            gflops = 6 * fig["params"] * fig["tokens_per_second"] / 1e9
            out.append({"seed": seed, "model": name, "epoch_s": statistics.median(fig["epoch_seconds"]),
                        "train_s": fig["train_seconds"], "tokens_per_s": fig["tokens_per_second"],
                        "gflops": gflops, "peak_pct": 100 * gflops / peak, "bleu": fig["bleu"]})
    return out


def report() -> str:
    """The benchmark table as text."""
    peak = matmul_gflops()
    lines = [f"float32 matmul peak (2048×2048, TensorFlow, all cores): {peak:.0f} GFLOP/s", "",
             "(~GFLOP/s = 6 × parameters × tokens/s: an upper bound, embeddings counted as matmuls)", "",
             f"{'seed':>4}  {'model':<22} {'s/epoch':>8} {'train s':>8} {'tok/s':>8} {'~GFLOP/s':>9} {'% peak':>7} {'BLEU':>6}"]
    for r in rows(baseline.load(), peak):
        lines.append(f"{r['seed']:>4}  {r['model']:<22} {r['epoch_s']:8.1f} {r['train_s']:8.0f} {r['tokens_per_s']:8.0f} "
                     f"{r['gflops']:9.1f} {r['peak_pct']:7.1f} {r['bleu']:6.1f}")
    return "\n".join(lines)
