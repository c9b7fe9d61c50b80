"""Grading throughput: a class graded on 1 and 2 local workers and on a 2-worker Dask cluster, in submissions/hour.

Each run grades the same class in a fresh gradebook (reference, blank, the catalogue's answers and mistakes,
repeated up to the class size), so the figures compare set-ups, not luck; a projection for a large class follows.
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from itertools import cycle, islice

from grader.catalogue import mistakes, submissions
from grader.grading import autograde
from grader.measure.cluster import local_cluster
from grader.course import WORKDIR

CLASSES = {"01_attention_numpy": 20, "05_cross_attention": 4}  # the class sizes of the figures
SETUPS = ("1 worker", "2 workers", "Dask, 2 workers")


def class_of(assignment: str, size: int) -> dict:
    """{student: notebook}: the reference, a blank notebook and the catalogue's edits, cycled up to ``size``."""
    answers = submissions.solution_sources(assignment)
    kinds = [("reference", lambda: submissions.student_notebook(assignment, answers)),
             ("blank", lambda: submissions.student_notebook(assignment, {}))]
    kinds += [(e.student, lambda e=e: submissions.with_edits(e)) for e in mistakes.for_assignment(assignment)]
    return {f"{i:03d}-{name}": make() for i, (name, make) in enumerate(islice(cycle(kinds), size))}


def grade_once(assignment: str, notebooks: dict, setup: str) -> dict:
    """Grade ``notebooks`` as a class in a fresh gradebook with one set-up; its wall time and per-submission times."""
    old = os.environ.get(WORKDIR)
    with tempfile.TemporaryDirectory(prefix="attentionlab-throughput-") as workdir:
        os.environ[WORKDIR] = workdir
        try:
            for student, nb in notebooks.items():
                submissions.submit(nb, assignment, student)
            autograde.ensure_in_gradebook(assignment)
            start = time.monotonic()
            if setup.startswith("Dask"):
                with local_cluster(2) as address:
                    start = time.monotonic()  # the cluster's start-up is not grading
                    results = autograde.grade_class(assignment, scheduler=address, regrade=True)
            else:
                results = autograde.grade_class(assignment, workers=int(setup[0]), regrade=True)
            wall = time.monotonic() - start
        finally:
            os.environ.pop(WORKDIR) if old is None else os.environ.update({WORKDIR: old})
    return {"assignment": assignment, "setup": setup, "n": len(results), "wall": wall,
            "per_hour": 3600 * len(results) / wall, "errors": sum(bool(r.error) for r in results),
            "worker_s": statistics.mean(r.seconds for r in results)}


def projection(row: dict, students: int = 300, machines=(1, 2, 10, 50)) -> list[str]:
    """Hours for ``students`` submissions on K 2-core machines grading one submission each, from a 1-worker row.

    The coordinator records submissions one at a time: its share of the serial wall time bounds any cluster.
    """
    coordinator = max(row["wall"] / row["n"] - row["worker_s"], 0.0)
    lines = [f"projection for {students} submissions of {row['assignment']} "
             f"({row['worker_s']:.0f} s each on a worker, {coordinator:.1f} s each to record):"]
    for k in machines:
        hours = students * max(row["worker_s"] / k, coordinator) / 3600
        lines.append(f"  {k:>3} machine(s): {hours:6.2f} h")
    return lines


def report(classes: dict = CLASSES) -> str:
    """Measure every class with every set-up; the table and the projection as text."""
    rows = [grade_once(a, class_of(a, n), setup) for a, n in classes.items() for setup in SETUPS]
    lines = [f"{'assignment':<20} {'set-up':<16} {'n':>3} {'wall s':>8} {'per hour':>9} {'s/submission':>13} errors"]
    lines += [f"{r['assignment']:<20} {r['setup']:<16} {r['n']:>3} {r['wall']:8.0f} {r['per_hour']:9.0f} "
              f"{r['worker_s']:13.1f} {r['errors']:>6}" for r in rows]
    serial = [r for r in rows if r["setup"] == SETUPS[0]]
    return "\n".join(lines + ["", *projection(serial[-1])])
