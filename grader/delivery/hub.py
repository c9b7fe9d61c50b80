"""A local JupyterHub for the course: one instructor, two students, nbgrader's exchange, sandboxed grading.

`make hub` (root) creates the system accounts, a Python environment every account can run (the course's
packages, installed from this checkout), the instructor's copy of the course in their home, and the exchange;
it closes the instructor's files of this checkout to other users, then starts JupyterHub with
hub/jupyterhub_config.py. A real deployment (e.g. The Littlest JupyterHub) does the same with its own accounts.
"""
from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from grader.delivery import exchange
from grader.course import HUB_ENV, HUB_PASSWORD, HUB_STATE, HUB_URL, ROOT

HUB = ROOT / "hub"
ENV = Path(os.environ.get(HUB_ENV, "/opt/attentionlab"))  # the Python every account runs
STATE = Path(os.environ.get(HUB_STATE, "/srv/attentionlab"))  # the hub's database, the exchange
EXCHANGE = STATE / "exchange"
INSTRUCTOR = "al-instructor"
STUDENTS = ("al-student-a", "al-student-b")
PASSWORD = os.environ.get(HUB_PASSWORD, "attention-lab")  # a local demo: set your own
PRIVATE = ("solutions", "grader", "tests", ".git")  # what students must not read in this checkout
PROXY = HUB / "node_modules" / ".bin" / "configurable-http-proxy"


def course_copy(user: str = INSTRUCTOR) -> Path:
    """The instructor's copy of the course, in their home."""
    return Path(pwd.getpwnam(user).pw_dir) / "attentionlab"


def run(*args: str, **kwargs) -> None:
    """A set-up command; its output only if it fails."""
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def accounts() -> None:
    """The instructor's and students' system accounts, private homes, the demo password."""
    for user in (INSTRUCTOR, *STUDENTS):
        if subprocess.run(["id", user], capture_output=True).returncode:
            run("useradd", "--create-home", "--shell", "/bin/bash", user)
        home = Path(pwd.getpwnam(user).pw_dir)
        home.mkdir(mode=0o700, exist_ok=True)  # an account made without one (tests/test_exchange.py)
        shutil.chown(home, user, user)
        home.chmod(0o700)
    run("chpasswd", input="".join(f"{u}:{PASSWORD}\n" for u in (INSTRUCTOR, *STUDENTS)))


def reachable(path: Path) -> bool:
    """Whether every account can enter ``path`` and the folders above it."""
    return all(stat.S_IMODE(p.stat().st_mode) & stat.S_IXOTH for p in [path, *path.parents])


def shared_env() -> Path:
    """The course's packages in ENV, from a Python every account can run; rebuilt when the pins change."""
    pins = hashlib.sha256((ROOT / "requirements.txt").read_bytes() + (ROOT / "pyproject.toml").read_bytes())
    stamp = ENV / ".installed"
    if stamp.is_file() and stamp.read_text() == pins.hexdigest():
        return ENV
    base = Path(sys.base_prefix).resolve() / "bin" / "python3"
    python = str(base) if reachable(base.parent) else "/usr/bin/python3"
    print(f"installing the course's packages for every account in {ENV} (a few minutes, once)", flush=True)
    run(python, "-m", "venv", "--clear", str(ENV))
    pip = [str(ENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    run(*pip, "-r", str(ROOT / "requirements.txt"))
    # a copy of attentionlab, with its kernelspec (the quiet kernel): nothing of this checkout is needed at run time
    run(*pip, "--no-deps", str(ROOT))
    stamp.write_text(pins.hexdigest())
    return ENV


def instructor_course() -> Path:
    """The instructor's clone of this checkout's committed course (updated if it exists), owned by them."""
    copy = course_copy()
    if (copy / ".git").is_dir():
        run("git", "-c", f"safe.directory={copy}", "-C", str(copy), "pull", "--quiet", "--ff-only", str(ROOT), "HEAD")
    else:
        run("git", "clone", "--quiet", str(ROOT), str(copy))
    # nbgrader's source folder (git-ignored): solutions/ linked, the Spanish editions written from the catalogues
    run(str(ENV / "bin" / "python"), "-c", "from grader.delivery.translate import write_sources; write_sources()",
        cwd=str(copy))
    run("chown", "-R", f"{INSTRUCTOR}:{INSTRUCTOR}", str(copy))
    return copy


def close_checkout() -> None:
    """This checkout's solutions, grader, tests and history: readable by root only from now on."""
    for name in PRIVATE:
        path = ROOT / name
        path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o007)


def prepare() -> None:
    """Everything the hub needs, idempotent; RuntimeError naming what is missing."""
    if os.geteuid() != 0:
        raise RuntimeError("make hub creates system accounts and starts servers as them: run it as root (sudo make hub)")
    if not PROXY.exists():
        if not shutil.which("npm"):
            raise RuntimeError("JupyterHub's proxy comes from npm: install Node.js and npm (apt-get install npm)")
        run("npm", "ci", "--no-audit", "--no-fund", cwd=HUB)
    accounts()
    shared_env()
    instructor_course()
    STATE.mkdir(parents=True, exist_ok=True)
    exchange.create(EXCHANGE)
    close_checkout()


def start() -> None:
    """Prepare, then replace this process by JupyterHub."""
    prepare()
    print(f"JupyterHub on {os.environ.get(HUB_URL, 'http://127.0.0.1:8000')}: log in as "
          f"{INSTRUCTOR} or {', '.join(STUDENTS)} (password: {PASSWORD!r})", flush=True)
    os.chdir(STATE)
    hub = shutil.which("jupyterhub") or str(Path(sys.executable).with_name("jupyterhub"))
    os.execv(hub, [hub, "-f", str(HUB / "jupyterhub_config.py")])
