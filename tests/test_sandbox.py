"""The sandbox itself: what a process inside can see, reach, change and leave behind."""
import os
import socket
import subprocess
import sys
import time

import pytest

from grader.course import ROOT, THREADS, Limits
from grader.grading.sandbox import ISOLATED, SANDBOX_UID, SANDBOX_USERS, Sandbox, mode, share_cores


def run(code: str, limits: Limits = Limits(), data=()) -> str:
    """Run Python ``code`` in a fresh sandbox; return what it printed."""
    assert mode() == ISOLATED, "bubblewrap is missing: `make install` installs it (apt-get install bubblewrap)"
    sandbox = Sandbox(limits, data=data)
    try:
        sandbox.give_to_sandbox()
        done = subprocess.run(sandbox.command([sys.executable, "-c", code]), capture_output=True, text=True,
                              timeout=120)
        return done.stdout + done.stderr
    finally:
        sandbox.cleanup()


def test_grader_solutions_and_gradebook_are_invisible():
    paths = [ROOT / "grader", ROOT / "solutions", ROOT / "tests", ROOT / "attentionlab"]
    out = run(f"import os; print([os.path.exists(p) for p in {[str(p) for p in paths]!r}])")
    assert out.strip() == "[False, False, False, True]"
    assert "No module named 'grader'" in run("import grader")


def test_graded_kernels_get_the_corpus_without_its_test_split():
    from attentionlab import data
    from grader.course import data_for

    full = data.fetch()
    out = run(f"import os; from attentionlab import data; c = data.load_corpus()\n"
              f"print(len(c.train), len(c.val), len(c.test), os.path.exists({str(full)!r}))",
              data=data_for("05_cross_attention"))
    corpus = data.load_corpus()
    assert out.split()[-4:] == [str(len(corpus.train)), str(len(corpus.val)), "0", "False"], out
    assert corpus.test


def test_graded_kernels_read_the_subset_the_grader_parsed(tmp_path, monkeypatch):
    from attentionlab.data import ENV_CACHE
    from grader.course import data_for

    monkeypatch.setenv(ENV_CACHE, str(tmp_path))  # the grader's cache folder, wherever it is
    held_out, kept, *_ = data_for("05_cross_attention")
    assert kept.parent == tmp_path
    out = run("from attentionlab import data\n"
              "def no_parsing(path):\n    raise AssertionError('parsed again in the kernel')\n"
              "data.read_pairs = no_parsing\nprint(data.load_corpus())", data=[held_out, kept])
    assert out.startswith("Corpus(train=") and "test=0" in out, out


def test_no_network_not_even_the_graders_loopback():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        out = run(f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
                  "    print('connected')\nexcept OSError as e:\n    print('blocked', e)")
    assert out.startswith("blocked"), out


def test_environment_is_read_only_and_home_is_private():
    out = run("import os, sys, attentionlab\n"
              "for d in (sys.prefix, os.path.dirname(attentionlab.__file__)):\n"
              "    try:\n        open(os.path.join(d, 'pwned'), 'w')\n        print('wrote', d)\n"
              "    except OSError as e:\n        print('refused', e.errno)\n"
              "open('mine.txt', 'w').write('ok'); print(open('mine.txt').read())")
    assert out.split("\n")[:3] == ["refused 30", "refused 30", "ok"], out  # 30: read-only file system


AS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="as a normal user the sandbox runs as that user")


@AS_ROOT
def test_runs_as_an_unprivileged_user_of_its_own_when_grading_as_root():
    uid, gid = map(int, run("import os; print(os.getuid(), os.getgid())").split())
    assert uid == gid and SANDBOX_UID <= uid < SANDBOX_UID + SANDBOX_USERS
    first, second = Sandbox(), Sandbox()
    second.cleanup()
    third = Sandbox()
    try:
        assert first.uid != second.uid and third.uid == second.uid  # a user id is free again after cleanup
    finally:
        first.cleanup(), third.cleanup()


def start(sandbox: Sandbox, code: str) -> subprocess.Popen:
    """Python ``code`` running in ``sandbox``, its output readable line by line."""
    sandbox.give_to_sandbox()
    return subprocess.Popen(sandbox.command([sys.executable, "-u", "-c", code]), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


@AS_ROOT
def test_a_fork_bomb_cannot_take_a_running_neighbours_processes():
    """Two submissions graded at once: the one that forks until refused must not leave the other without threads."""
    neighbour, bomb = Sandbox(Limits(processes=40)), Sandbox(Limits(processes=40))
    go = neighbour.inbox / "go"
    honest = start(neighbour, f"import os, threading, time\nprint('ready')\n"
                              f"while not os.path.exists({str(go)!r}):\n    time.sleep(0.05)\n"
                              "try:\n    for _ in range(20):\n        threading.Thread(target=time.sleep, args=(2,)).start()\n"
                              "    print('20 threads')\nexcept RuntimeError as e:\n    print('refused', e)")
    forks = start(bomb, "import os, time\nn = 0\nwhile n < 500:\n    try:\n        pid = os.fork()\n"
                        "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(30); os._exit(0)\n"
                        "    n += 1\nprint(n)\ntime.sleep(30)")
    try:
        assert honest.stdout.readline().strip() == "ready"
        assert 0 < int(forks.stdout.readline()) < 40  # the bomb used up its own limit
        go.touch()
        assert honest.communicate(timeout=60)[0].strip() == "20 threads"
    finally:
        for process in (honest, forks):
            process.kill()
            process.wait()
        neighbour.cleanup(), bomb.cleanup()


def test_process_and_memory_limits_hold():
    out = run("import os, time\nn = 0\nfor _ in range(200):\n    try:\n        pid = os.fork()\n"
              "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(5); os._exit(0)\n    n += 1\n"
              "print(n)\ntry:\n    bytearray(3 << 30); print('allocated')\nexcept MemoryError:\n    print('MemoryError')",
              Limits(processes=30, memory_bytes=2 << 30))
    forked, memory = out.split()[:2]
    assert int(forked) < 30 and memory == "MemoryError", out


def test_nothing_keeps_running_after_the_sandbox_ends(running):
    marker = f"{time.time_ns() % 10**6 + 1000}"
    run(f"import subprocess, os\nsubprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
        f"if os.fork() == 0:\n    os.setsid()\n    os.execvp('sleep', ['sleep', '{marker}'])")
    time.sleep(0.5)
    assert not running(f"sleep {marker}")



def test_disk_use_is_bounded():
    out = run("import os\nfor d in ('.', '/tmp'):\n    try:\n        with open(os.path.join(d, 'big'), 'wb') as f:\n"
              "            f.write(bytes(64 << 20))\n        print('wrote')\n    except OSError as e:\n        print(e.errno)",
              Limits(disk_bytes=16 << 20))
    assert out.split() == ["28", "28"], out  # 28: no space left on device


def test_kernels_graded_side_by_side_get_their_share_of_the_cores(monkeypatch):
    monkeypatch.setattr(os, "environ", {**os.environ, THREADS: "4"})
    share_cores(2)  # two at a time on a budget of four threads
    assert os.environ[THREADS] == os.environ["TF_NUM_INTRAOP_THREADS"] == os.environ["OMP_NUM_THREADS"] == "2"
    out = run("import os; print(*(os.environ.get(k) for k in ('TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS', "
              "'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS')))")
    assert out.split() == ["2", "1", "2", "2"], out
    share_cores(8)  # more at a time than threads: one each
    assert run("import os; print(os.environ['TF_NUM_INTRAOP_THREADS'])").strip() == "1"


def test_a_kernel_graded_alone_keeps_every_core(monkeypatch):
    monkeypatch.delenv(THREADS, raising=False)
    assert run("import os; print(os.environ.get('TF_NUM_INTRAOP_THREADS'))").strip() == "None"


@AS_ROOT
def test_out_is_a_bounded_file_system_of_its_own_not_the_graders_disk():
    sandbox = Sandbox(Limits(disk_bytes=16 << 20))
    try:
        sandbox.give_to_sandbox()
        code = (f"import os\ntotal = 0\ntry:\n    for i in range(8):\n"
                f"        with open(os.path.join({str(sandbox.outbox)!r}, f'big{{i}}'), 'wb') as f:\n"
                f"            f.write(bytes(8 << 20))\n        total += 8 << 20\nexcept OSError as e:\n"
                f"    print(e.errno)\nprint(total >> 20)")
        done = subprocess.run(sandbox.command([sys.executable, "-c", code]), capture_output=True, text=True,
                              timeout=120)
        assert done.stdout.split() == ["28", "16"], done.stdout + done.stderr  # the third 8 MiB file did not fit
        assert os.statvfs(sandbox.outbox).f_blocks * os.statvfs(sandbox.outbox).f_frsize == 16 << 20
    finally:
        sandbox.cleanup()
    assert not sandbox.root.exists()


def test_cleanup_removes_any_tree_and_always_frees_the_user_id(monkeypatch):
    from grader.grading import sandbox as module

    sandbox = Sandbox()
    here = os.getcwd()
    try:
        os.chdir(sandbox.outbox)
        for _ in range(3000):  # deeper than Python's recursion limit, longer than the system's path length
            os.mkdir("d")
            os.chdir("d")
        os.mkfifo("pipe")
        os.symlink("/etc/passwd", "link")
        os.chmod(".", 0)
    finally:
        os.chdir(here)
    sandbox.cleanup()
    assert not sandbox.root.exists() and sandbox._uid_lock is None
    broken = Sandbox()
    monkeypatch.setattr(module, "remove_tree", lambda root: (_ for _ in ()).throw(RecursionError("deep")))
    broken.cleanup()  # does not raise
    assert broken._uid_lock is None
    monkeypatch.undo()
    module.remove_tree(broken.root)


def test_fontconfig_finds_its_configuration():
    # without /etc/fonts (or with bubblewrap's own /etc, mode 0700) every plotting notebook's first output was
    # "Fontconfig error: Cannot load default config file", in every student's feedback
    out = run("import subprocess\nprint(subprocess.run(['fc-match', 'sans'], capture_output=True, text=True).stderr)")
    assert "Fontconfig error" not in out and out.strip() == "", out


def test_without_prlimit_an_unsandboxed_kernel_still_starts(monkeypatch):
    """macOS has no util-linux: a self-check there runs the kernel as it is (the wall time still holds)."""
    from grader.grading import sandbox as sandboxing

    which = sandboxing.shutil.which
    monkeypatch.setenv("ATTENTIONLAB_SANDBOX", "off")
    monkeypatch.setattr(sandboxing.shutil, "which", lambda name: None if name == "prlimit" else which(name))
    for limits in (False, True):
        box = Sandbox()
        try:
            assert box.mode == "unsandboxed" and box.command(["python", "-V"])[0] == ("prlimit" if limits else "python")
        finally:
            box.cleanup()
        monkeypatch.setattr(sandboxing.shutil, "which", which)
