"""The frozen no-attention baseline that notebook 5's attention model must beat.

`make calibrate` writes attentionlab/baseline.json by executing the instructor's
notebook 4 (and 5) for several seeds; the grader reads it and never retrains the baseline.
"""
from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

from attentionlab import data

PATH = Path(__file__).with_name("baseline.json")
MARGIN = 5.0  # BLEU points the attention model must gain over the baseline
# Share of the linked words of the test split whose strongest weight (teacher forcing) falls on the English word IBM
# Model 2 links them to (attentionlab.alignment): notebook 5, section 9 gives the figures that set it.
ALIGNMENT_BAR = 0.65
PACKAGES = ("tensorflow-cpu", "keras", "numpy", "sacrebleu", "nltk")  # nltk: the word alignment of notebook 5


def environment() -> dict:
    """What a calibration depends on: data checksum, subset, package versions."""
    return {"zip_sha256": data.ZIP_SHA256, "subset": vars(data.Subset()),
            "packages": {name: version(name) for name in PACKAGES}}


def load(path: Path = PATH) -> dict:
    """The calibration record; a clear error when it is missing."""
    if not path.is_file():
        raise FileNotFoundError(f"No calibrated baseline at {path}: the instructor runs `make calibrate`.")
    return json.loads(path.read_text())


def check_environment(record: dict) -> None:
    """Raise if the record was calibrated on other data, subset or package versions."""
    now = environment()
    changed = [key for key in now if record["environment"].get(key) != now[key]]
    if changed:
        raise RuntimeError(f"The frozen baseline was calibrated with a different {', '.join(changed)} "
                           f"({record['environment']} vs {now}): the instructor must rerun `make calibrate`.")
