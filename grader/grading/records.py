"""The CSV files the instructor reads (grades.csv, refused.csv): read whole, written whole at once."""
from __future__ import annotations

import csv
from pathlib import Path


def read(path: Path, *key: str) -> dict[tuple, dict]:
    """The rows of the CSV file at ``path`` by the values of the columns ``key`` ({} if there is no file)."""
    if not path.is_file():
        return {}
    with path.open(newline="") as fh:
        return {tuple(r[k] for k in key): r for r in csv.DictReader(fh)}


def write(path: Path, fields: tuple[str, ...], rows: dict[tuple, dict]) -> None:
    """Replace the file at ``path`` by ``rows``, sorted by key; a reader never sees half a file."""
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fields)
        writer.writeheader()
        writer.writerows(rows[k] for k in sorted(rows))
    tmp.replace(path)
