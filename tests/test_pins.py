"""requirements.txt and environment.yml carry the same pins, and the environment has them."""
import re
from importlib.metadata import version
from pathlib import Path

from packaging.markers import Marker

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^\s*(?:-\s*)?([A-Za-z0-9_.-]+)==([\w.]+)\s*(?:;\s*([^#]*?))?\s*(?:#.*)?$")  # name==version; marker


def pinned(path) -> list[tuple[str, str, str]]:
    """(name, version, environment marker or "") of every pin."""
    return [(m[1], m[2], m[3] or "") for line in path.read_text().splitlines() if (m := PIN.match(line))]


def pins(path) -> dict[str, str]:
    """name -> version of the pins that apply on this machine."""
    return {name: version for name, version, marker in pinned(path) if not marker or Marker(marker).evaluate()}


def test_pip_and_conda_pins_agree():
    pip_pins, conda_pins = pinned(ROOT / "requirements.txt"), pinned(ROOT / "environment.yml")
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
