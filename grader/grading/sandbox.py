"""A bubblewrap sandbox for one submission's kernel: no network, read-only environment, private folder, limits.

Inside, the kernel sees the Python environment, the ``attentionlab`` package and the corpus, all read-only,
and its own folder tree; nothing of ``grader/``, ``solutions/``, the gradebook or other students. It runs as
an unprivileged user (so that the process limit holds) in its own PID namespace: when the sandbox ends,
every process it started ends with it. Without bubblewrap (mode ``unsandboxed``) only the limits apply.

Folder tree, at the same path inside and out (the kernel's sockets live in it)::

    root/            the grader's, not writable by the sandbox
      home/          the student's folder: its files, in a private memory file system; the kernel's working directory
      in/            requests of the hidden checks, read-only inside
      out/           the kernel's replies and sockets, writable inside: a memory file system of its own, bounded
      kernel.log     the kernel's stderr (at most limits.file_bytes: the file size limit holds for it too)

Every place the kernel can write (home/, /tmp, out/) is a file system of ``limits.disk_bytes``: a submission that
fills one fills only its own, never the grader's disk. out/ is mounted by the grader, which needs root for that;
graded as another user it stays a folder on the grader's disk, bounded per file only.
"""
from __future__ import annotations

import logging
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from attentionlab.data import ENV_CACHE, ENV_SHA256, ENV_ZIP, sha256
from grader.course import QUIET, SANDBOX, SANDBOX_UIDS, THREADS, Limits

ISOLATED, UNSANDBOXED = "bwrap", "unsandboxed"
# When grading as root, each running sandbox gets its own user id, from SANDBOX_UID on (a range Linux distributions
# and systemd leave unused): the process limit counts a user's processes across sandboxes, so with one shared user a
# fork bomb could stop a neighbour's kernel from starting threads.
SANDBOX_UID = int(os.environ.get(SANDBOX_UIDS, 0x70000000))
SANDBOX_USERS = 64  # sandboxes that may run at once on one machine
UID_LOCKS = Path(tempfile.gettempdir()) / "attentionlab-sandbox-uids"
ENV_PASSED = ("LANG", "LC_ALL", "TF_CPP_MIN_LOG_LEVEL", "ATTENTIONLAB_SEED", "ATTENTIONLAB_QUIET",
              "ATTENTIONLAB_TRAIN_BATCHES")
log = logging.getLogger(__name__)
# CPU threads one graded kernel may use (unset: TensorFlow's and the BLAS libraries' defaults, every core). Set by
# the grader when it runs submissions side by side: TensorFlow's default thread pools, one per kernel, then fight over
# the cores (two Luong trainings side by side: 35 s an epoch each with the defaults, 26 s with one thread each).


def mode() -> str:
    """``bwrap`` when bubblewrap is installed (and ATTENTIONLAB_SANDBOX is not ``off``), else ``unsandboxed``."""
    return ISOLATED if shutil.which("bwrap") and os.environ.get(SANDBOX) != "off" else UNSANDBOXED


def limited() -> bool:
    """Whether the kernel's resource limits apply: util-linux's prlimit is installed (not on macOS, where a
    self-check of one's own notebook runs without them; the grader's wall-time limit always holds)."""
    return shutil.which("prlimit") is not None


def thread_env(threads: int) -> dict[str, str]:
    """Environment variables that hold TensorFlow, OpenMP and the BLAS libraries to ``threads`` threads (read when
    they start, so set them before the kernel or a library starts)."""
    n = str(threads)
    return {"TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": n,
            "OPENBLAS_NUM_THREADS": n, "MKL_NUM_THREADS": n}


def share_cores(jobs: int) -> None:
    """In a process that grades one of ``jobs`` submissions at a time side by side: give each kernel (and this
    process's own TensorFlow, which runs the hidden checks) its share of the cores this process may use."""
    threads = max(1, int(os.environ.get(THREADS) or os.cpu_count() or 1) // jobs)
    os.environ.update({THREADS: str(threads), **thread_env(threads)})


def readonly_paths() -> list[Path]:
    """What a kernel needs to read: the Python installation, the virtual environment, the attentionlab package."""
    import attentionlab

    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.base_prefix)),
             Path(attentionlab.__file__).resolve().parent}
    return sorted(p for p in paths if p.exists())


def _ancestors(path: Path) -> list[Path]:
    return [p for p in reversed(path.parents) if p != Path("/")]


class Sandbox:
    """The folder tree and the command line of one submission's sandbox."""

    def __init__(self, limits: Limits = Limits(), data: list[Path] = (), env: dict[str, str] | None = None):
        self.limits, self.data = limits, [Path(p).resolve() for p in data]
        self.mode = mode()
        self.root = Path(tempfile.mkdtemp(prefix="attentionlab-sandbox-")).resolve()
        self.home, self.inbox, self.outbox = self.root / "home", self.root / "in", self.root / "out"
        for folder in (self.home, self.inbox, self.outbox):
            folder.mkdir()
        self.bounded = os.geteuid() == 0 and _mount_tmpfs(self.outbox, limits.disk_bytes)
        self.log = self.root / "kernel.log"
        self.env = {"HOME": str(self.home), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
                    QUIET: "1",  # training prints one line per epoch, not progress bars, into the feedback
                    "MPLBACKEND": "agg", "MPLCONFIGDIR": str(self.home / ".matplotlib"),
                    "KERAS_HOME": str(self.home / ".keras"), "PYTHONDONTWRITEBYTECODE": "1",
                    **{k: os.environ[k] for k in ENV_PASSED if k in os.environ}, **(env or {})}
        if os.environ.get(THREADS):
            self.env.update(thread_env(int(os.environ[THREADS])))
        if self.data:  # the grader's held-out copy of the corpus, its checksum, and the folder of its parsed subset
            self.env.update({ENV_ZIP: str(self.data[0]), ENV_SHA256: sha256(self.data[0]),
                             ENV_CACHE: str(self.data[0].parent)})
        # the unprivileged user the kernel runs as when the grader is root (None: the grader's own user)
        self.uid, self._uid_lock = claim_uid() if os.geteuid() == 0 and self.mode == ISOLATED else (None, None)

    def give_to_sandbox(self) -> None:
        """Let the sandbox user write out/ and the files of home/ (and nothing else of root/)."""
        if self.uid is None:
            return
        for folder in (self.home, self.outbox):
            for path in [folder, *folder.rglob("*")]:
                os.chown(path, self.uid, self.uid, follow_symlinks=False)

    def _rlimits(self) -> list[str]:
        if not limited():
            return []
        lim = self.limits
        return ["prlimit", f"--cpu={lim.cpu_seconds}", f"--as={lim.memory_bytes}", f"--fsize={lim.file_bytes}",
                f"--nproc={self._nproc()}", "--core=0", "--"]

    def _nproc(self) -> int:
        """The process limit counts every process and thread of the user: add the ones the user already has (none
        for a sandbox user, unless a sandbox of a crashed grader still runs)."""
        uid = os.getuid() if self.uid is None else self.uid
        return self.limits.processes + sum(_tasks(p) for p in Path("/proc").iterdir() if p.name.isdigit()
                                           and _owner(p) == uid)

    def _mounts(self) -> list[str]:
        size = str(self.limits.disk_bytes)
        args = ["--perms", "01777", "--size", size, "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]
        made = {Path("/tmp")}
        binds = [(p, "--ro-bind") for p in [*readonly_paths(), *self.data]]
        binds += [(self.home, "--tmpfs"), *((p, "--bind") for p in sorted(self.home.iterdir())),
                  (self.inbox, "--ro-bind"), (self.outbox, "--bind")]
        for path, how in binds:
            for parent in _ancestors(path):
                if parent not in made and not (Path("/usr") in [parent, *parent.parents]):
                    args += ["--perms", "0755", "--dir", str(parent)]
                    made.add(parent)
            made.add(path)
            args += ["--perms", "01777", "--size", size, "--tmpfs", str(path)] if how == "--tmpfs" else [how, str(path), str(path)]
        system = ["--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
                  "--symlink", "usr/lib64", "/lib64", "--perms", "0755", "--dir", "/etc",  # bubblewrap's own is 0700
                  "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
                  "--ro-bind-try", "/etc/localtime", "/etc/localtime", "--ro-bind-try", "/etc/ssl", "/etc/ssl",
                  "--ro-bind-try", "/etc/fonts", "/etc/fonts"]  # fontconfig's configuration (matplotlib's text)
        return system + args

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the sandbox (or, unsandboxed, under the limits only)."""
        if self.mode == UNSANDBOXED:
            return self._rlimits() + argv
        user = []
        if self.uid is not None:
            user = ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--", "setpriv", f"--reuid={self.uid}",
                    f"--regid={self.uid}", "--clear-groups", "--no-new-privs"]
        env = [arg for key, value in self.env.items() for arg in ("--setenv", key, value)]
        return (["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                 "--die-with-parent", "--new-session", "--clearenv", *env, *self._mounts(),
                 "--chdir", str(self.home), "--hostname", "sandbox"]
                + (user or ["--"]) + self._rlimits() + argv)

    def cleanup(self) -> None:
        """Remove the folder tree, whatever the kernel left in it; the user id is released even if that fails."""
        try:
            if self.bounded:
                subprocess.run(["umount", "--lazy", str(self.outbox)], capture_output=True, check=False)
                self.bounded = False
            remove_tree(self.root)
        except Exception:  # noqa: BLE001 - nothing a submission leaves may stop the grading of the others
            log.exception("could not remove the sandbox folder %s", self.root)
        finally:
            if self._uid_lock is not None:  # every process of the sandbox has ended: its user id is free again
                os.close(self._uid_lock)
                self._uid_lock = None


def _mount_tmpfs(folder: Path, size: int) -> bool:
    """Mount a memory file system of ``size`` bytes on ``folder`` (root only); whether it worked."""
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755,nosuid,nodev", "tmpfs", str(folder)],
                          capture_output=True, check=False)
    if done.returncode and not _MOUNT_FAILED:  # said once per process: the grading log stays readable
        _MOUNT_FAILED.append(True)
        log.warning("out/ stays on the grader's disk: mount failed: %s", done.stderr.decode(errors="replace").strip())
    return done.returncode == 0


_MOUNT_FAILED: list[bool] = []


def remove_tree(root: Path) -> None:
    """Remove ``root`` and everything in it, at any depth, without recursion or long paths: each folder found is
    first moved up to be a direct child of ``root`` (shutil.rmtree recurses, and a deep tree outruns both Python's
    recursion limit and the system's path length)."""
    if not root.is_dir() or root.is_symlink():
        root.unlink(missing_ok=True)
        return
    top = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        pending, moved, tag = [entry.name for entry in os.scandir(top)], 0, secrets.token_hex(4)
        while pending:
            name = pending.pop()
            if not stat.S_ISDIR(os.stat(name, dir_fd=top, follow_symlinks=False).st_mode):
                os.unlink(name, dir_fd=top)  # a file, a link, a pipe
                continue
            os.chmod(name, 0o700, dir_fd=top)  # a folder closed by its owner (graded as the grader's own user)
            folder = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=top)
            try:
                for entry in os.scandir(folder):
                    if entry.is_dir(follow_symlinks=False):
                        moved += 1
                        pending.append(f".up-{tag}-{moved}")
                        os.rename(entry.name, pending[-1], src_dir_fd=folder, dst_dir_fd=top)
                    else:
                        os.unlink(entry.name, dir_fd=folder)
            finally:
                os.close(folder)
            os.rmdir(name, dir_fd=top)
    finally:
        os.close(top)
    os.rmdir(root)


def claim_uid() -> tuple[int, int]:
    """A user id no other running sandbox on this machine has, and the lock (a file descriptor) that holds it."""
    import fcntl  # Unix only; the grader runs elsewhere too (a self-check, unsandboxed)

    UID_LOCKS.mkdir(mode=0o700, exist_ok=True)
    if UID_LOCKS.lstat().st_uid != os.geteuid():
        raise RuntimeError(f"{UID_LOCKS} belongs to another user: remove it.")
    for uid in range(SANDBOX_UID, SANDBOX_UID + SANDBOX_USERS):
        fd = os.open(UID_LOCKS / str(uid), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return uid, fd
        except BlockingIOError:
            os.close(fd)
    raise RuntimeError(f"{SANDBOX_USERS} sandboxes are already running on this machine: grade with fewer workers.")


def _owner(proc: Path) -> int | None:
    try:
        return proc.stat().st_uid
    except OSError:
        return None


def _tasks(proc: Path) -> int:
    """Threads of a process (each counts against the process limit)."""
    try:
        return sum(1 for _ in (proc / "task").iterdir())
    except OSError:
        return 0


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel inside a :class:`Sandbox`, talking over Unix sockets in out/."""

    def __init__(self, sandbox: Sandbox, **kwargs):
        super().__init__(transport="ipc", ip=str(sandbox.outbox / "kernel"),
                         connection_file=str(sandbox.inbox / "kernel.json"), **kwargs)
        self.sandbox = sandbox

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        self.sandbox.give_to_sandbox()
        os.chmod(self.connection_file, 0o644)  # the sandbox user reads it; the key only signs this kernel's messages
        env = dict(kw.get("env") or {})
        self.sandbox.env.update({k: v for k, v in env.items() if k in self.kernel_spec.env})
        kw.update(env=self.sandbox.env if self.sandbox.mode == UNSANDBOXED else {"PATH": os.environ["PATH"]},
                  cwd=str(self.sandbox.home))
        with self.sandbox.log.open("ab") as log:
            kw["stdout"] = kw["stderr"] = log
            await super()._async_launch_kernel(self.sandbox.command(kernel_cmd), **kw)
