"""requirements.txt and environment.yml carry the same pins, and the environment has them."""
import re
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^\s*(?:-\s*)?([A-Za-z0-9_.-]+)==([\w.]+)\s*$")


def pins(path):
    return dict(m.groups() for line in path.read_text().splitlines() if (m := PIN.match(line)))


def test_pip_and_conda_pins_agree():
    pip_pins, conda_pins = pins(ROOT / "requirements.txt"), pins(ROOT / "environment.yml")
    assert len(pip_pins) >= 9
    assert pip_pins == conda_pins


def test_required_packages_are_pinned():
    required = {"numpy", "tensorflow-cpu", "keras", "matplotlib", "nbgrader", "sacrebleu", "jupyterlab", "pytest",
                "dask", "distributed"}
    assert required <= set(pins(ROOT / "requirements.txt"))


def test_installed_versions_match_pins():
    wrong = {name: (pinned, version(name)) for name, pinned in pins(ROOT / "requirements.txt").items()
             if version(name) != pinned}
    assert not wrong, f"installed versions differ from the pins (pinned, installed): {wrong}"


def test_conda_python_is_311():
    assert re.search(r"^\s*-\s*python=3\.11\s*$", (ROOT / "environment.yml").read_text(), re.M)
