"""Measurement: the figures the course and its guides quote (docs/figures.md).

calibrate (train the frozen baseline, record it in attentionlab/baseline.json), benchmark (time per epoch, tokens/s),
throughput (submissions graded per hour on 1, 2 and Dask workers), cluster (a local Dask cluster).
"""
