"""The course in one place: its layout, assignments, folders, per-submission limits, and an nbgrader API configured
from grader/nbgrader_config.py."""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

from attentionlab.i18n import LANGUAGES, language_of

GiB = 1 << 30
ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "grader" / "nbgrader_config.py"
SOLUTIONS = ROOT / "solutions"
NOTEBOOKS = ROOT / "notebooks"
SOURCES = ROOT / "build" / "source"  # nbgrader's source folder: solutions/ linked, the other editions generated
KERNEL = "attentionlab"
# Environment variables the instructor's side reads (the kernel's own are attentionlab's: data.ENV_ZIP, ENV_CACHE,
# seq2seq.QUIET and SMOKE, report.RECORD).
QUIET = "ATTENTIONLAB_QUIET"  # set while grading: notebooks keep their output small
WORKDIR = "ATTENTIONLAB_GRADER_DIR"  # if set, the gradebook and submissions live there (tests)
EXCHANGE = "ATTENTIONLAB_EXCHANGE"  # where nbgrader's exchange is; on a hub, a folder every user reaches
CHECK_SEED = "ATTENTIONLAB_CHECK_SEED"  # fixes the hidden checks' inputs, to reproduce one grading run
SANDBOX = "ATTENTIONLAB_SANDBOX"  # "off": grade without bubblewrap, under the limits only
SANDBOX_UIDS = "ATTENTIONLAB_SANDBOX_UID"  # the first of the sandboxes' user ids
THREADS = "ATTENTIONLAB_THREADS"  # CPU threads one graded kernel may use (unset: every core)
HUB_ENV, HUB_STATE = "ATTENTIONLAB_HUB_ENV", "ATTENTIONLAB_HUB_STATE"  # the hub's Python, its database and exchange
HUB_PASSWORD, HUB_URL = "ATTENTIONLAB_HUB_PASSWORD", "ATTENTIONLAB_HUB_URL"
NEEDS_DATA = ("04_seq2seq", "05_cross_attention", "06_transformer_lm")  # their kernels read the corpus
MEASURES_ALIGNMENT = ("05_cross_attention",)  # its kernel compares attention with IBM Model 2's word alignment


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox; wall time is enforced by the grader, the rest by the kernel."""

    wall_seconds: float = 600
    cpu_seconds: int = 3600
    memory_bytes: int = 8 * GiB
    processes: int = 512
    file_bytes: int = 256 << 20
    disk_bytes: int = 1 * GiB  # each of home/, /tmp and out/ is a memory file system of this size
    output_bytes: int = 2 << 20  # notebook outputs kept per submission

    def scaled(self, factor: float) -> "Limits":
        """Time limits multiplied by ``factor`` (slow machines)."""
        return replace(self, wall_seconds=self.wall_seconds * factor, cpu_seconds=int(self.cpu_seconds * factor))


# Per submission; the training notebooks take 3, 6 and 3 minutes on a 2-core CPU, up to twice that on a slow day.
LIMITS = {"01_attention_numpy": Limits(wall_seconds=300), "02_keras_mha": Limits(wall_seconds=600),
          "03_masks": Limits(wall_seconds=600), "04_seq2seq": Limits(wall_seconds=1800),
          "05_cross_attention": Limits(wall_seconds=3000), "06_transformer_lm": Limits(wall_seconds=1800),
          "07_attention_at_scale": Limits(wall_seconds=600)}


def assignments() -> list[str]:
    """Assignment ids (folders of solutions/), in course order."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and not p.name.startswith("."))


def edition(assignment: str, lang: str) -> str:
    """The assignment id of ``assignment``'s edition in ``lang`` (01_attention_numpy_es)."""
    return assignment if lang == LANGUAGES[0] else f"{assignment}_{lang}"


def editions() -> list[str]:
    """Every assignment id students can fetch: each assignment in each language, in course order."""
    return [edition(a, lang) for a in assignments() for lang in LANGUAGES]


def base(assignment: str) -> str:
    """The assignment an edition translates (01_attention_numpy for 01_attention_numpy_es)."""
    lang = language_of(assignment)
    return assignment.removesuffix(f"_{lang}") if lang != LANGUAGES[0] else assignment


def language(assignment: str) -> str:
    """The language of an edition."""
    return language_of(assignment)


def notebook_of(assignment: str, folder: Path = SOLUTIONS) -> Path:
    """The single notebook of an assignment."""
    (path,) = (folder / assignment).glob("*.ipynb")
    return path


def folder(step: str) -> Path:
    """The course's folder of an nbgrader step: ``submitted``, ``autograded`` or ``feedback``."""
    return ROOT / getattr(config().CourseDirectory, f"{step}_directory")


def limits_for(assignment: str) -> Limits:
    """The sandbox limits of one submission of ``assignment``."""
    return LIMITS.get(base(assignment), Limits())


def data_for(assignment: str) -> list[Path]:
    """The corpus without its test split, its parsed subset and, for notebook 5, its word alignment model, for
    assignments that need them (DataError if the corpus is unavailable). Graded kernels train and validate as the
    notebooks do; the test translations stay with the grader. The subset is parsed and the alignment trained here
    once, not in every kernel.
    """
    from attentionlab import alignment, data

    if base(assignment) not in NEEDS_DATA:
        return []
    held_out = data.held_out_copy(data.fetch(), data.cache_dir())
    train = data.parsed(held_out).train
    files = [held_out, data.parsed_file(held_out)]
    if base(assignment) in MEASURES_ALIGNMENT:  # the word alignment of its training split, trained here once
        alignment.aligner(train)
        files += [path for path in [alignment.cache_file(train)] if path.is_file()]
    return files


def config(**overrides):
    """The course's nbgrader Config, with CourseDirectory overrides (e.g. release_directory)."""
    bindir = str(Path(sys.executable).parent)  # nbgrader's Gradebook runs `alembic` from PATH
    if bindir not in os.environ["PATH"].split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ["PATH"]
    loader = PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent))
    cfg = loader.load_config()  # WORKDIR, when set, is applied there
    for key, value in overrides.items():
        cfg.CourseDirectory[key] = value
    return cfg


def api(cfg=None, **overrides):
    """An NbGraderAPI on the course: the config ``cfg``, or the course's with :func:`config`'s overrides."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cfg = cfg or config(**overrides)
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)

# Keras' fit prints this as each epoch begins: the execution of instructor notebooks and the self-check show it.
EPOCH = re.compile(r"Epoch (\d+)/(\d+)")
