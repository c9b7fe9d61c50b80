"""Submissions read from the exchange's inbound folder, trusting nothing in it.

Every account can write to the inbound folder, so a folder's name proves nothing: nbgrader's collect believes the
student and the date a name gives (its owner check only logs a warning) and copies the folder with the
instructor's rights, following links. Here a folder is a student's submission only if it and everything in it
belong to that student's Unix account (:func:`account`), are plain files and folders, hold at most MAX_BYTES and
are not dated in the future. The files grading needs are read from descriptors opened without following links
and checked again once open, so nothing can be swapped for a link between the check and the copy.
"""
from __future__ import annotations

import datetime
import errno
import os
import pwd
import re
import stat
from dataclasses import dataclass

from nbgrader.utils import parse_utc

MAX_BYTES = 100 * 2**20  # one submission's folder (nbgrader's own bound is 100 MB); larger ones are never read
MAX_ENTRIES = 1000  # files and folders in one submission
SKEW = datetime.timedelta(minutes=2)  # how far a student's server clock may run ahead of the instructor's
KEPT = ("timestamp.txt", "submission_secret.txt")  # what nbgrader's submit writes beside the notebook
NAME = re.compile(r"(?P<student>[^+]+)\+(?P<assignment>[^+]+)\+(?P<stamp>[^+]+)(\+[^+]*)?")  # nbgrader's submit
OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC  # a FIFO does not block the open
KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
         (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))  # what a submission must not hold


class Refused(Exception):
    """A folder of the inbound that is not its student's submission; the message says why."""


@dataclass
class Submission:
    """The files grading needs from a student's newest acceptable folder."""

    student: str
    folder: str
    files: dict[str, bytes]  # file name -> content: the notebook (if handed in), timestamp.txt, submission_secret.txt


@dataclass
class Refusal:
    """A folder left in the inbound, uncopied, and why."""

    folder: str
    student: str
    reason: str


def account(student: str) -> str:
    """The Unix account that must own a student's submissions: on a hub, the student id is the account name."""
    return student


def shown(name: str) -> str:
    """A name from the inbound as printable ASCII (no terminal escapes, no undecodable bytes)."""
    return ascii(name)[1:-1]


def now() -> datetime.datetime:
    """The time in UTC, naive like nbgrader's parsed timestamps."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def owner_uid(student: str) -> int | None:
    """The uid of ``student``'s account (None if there is no such account)."""
    name = account(student)
    try:
        return pwd.getpwnam(name).pw_uid if not name.startswith(".") else None
    except KeyError:
        return None


def user_name(uid: int) -> str:
    """The account name of ``uid`` (the uid itself if it has none)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def kind(info: os.stat_result) -> str | None:
    """What ``info`` is if it is not a plain file or folder; None if it is one."""
    if stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode):
        return None
    return next((name for test, name in KINDS if test(info.st_mode)), "not a plain file or folder")


def check(info: os.stat_result, where: str, uid: int, student: str) -> None:
    """Refused unless ``info`` is a plain file or folder of ``uid``'s."""
    if kind(info):
        raise Refused(f"{shown(where)} is {kind(info)}")
    if info.st_uid != uid:
        raise Refused(f"{shown(where)} belongs to {user_name(info.st_uid)}, not to {shown(account(student))}")


def unreadable(exc: OSError) -> None:
    """os.fwalk skips folders it cannot list: refuse them instead, as what they hold is unchecked."""
    raise Refused(f"{shown(exc.filename or 'a folder')} cannot be listed: {exc.strerror}")


def check_tree(top: int, uid: int, student: str) -> None:
    """Refused unless every entry under the open folder ``top`` is a plain file or folder of ``uid``'s and the
    files hold at most MAX_BYTES; sizes come from lstat, so nothing is read."""
    entries, size = 0, 0
    for folder, dirs, files, fd in os.fwalk(".", dir_fd=top, follow_symlinks=False, onerror=unreadable):
        for name in dirs + files:
            where = os.path.normpath(os.path.join(folder, name))
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            check(info, where, uid, student)
            entries, size = entries + 1, size + (info.st_size if stat.S_ISREG(info.st_mode) else 0)
            if entries > MAX_ENTRIES:
                raise Refused(f"it holds more than {MAX_ENTRIES} files and folders")
            if size > MAX_BYTES:
                raise Refused(f"it holds more than {MAX_BYTES / 2**20:g} MiB")


def read_file(top: int, name: str, uid: int, student: str, budget: int) -> bytes | None:
    """The content of file ``name`` of the open folder ``top``, read from a descriptor opened without following
    links and checked once open (None if there is no such file)."""
    try:
        fd = os.open(name, OPEN, dir_fd=top)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Refused(f"{shown(name)} is a symbolic link" if exc.errno == errno.ELOOP else
                      f"{shown(name)} cannot be opened: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        check(info, name, uid, student)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(f"{shown(name)} is a folder, not a file")
        content = fh.read(budget + 1)
    if len(content) > budget:
        raise Refused(f"it holds more than {MAX_BYTES / 2**20:g} MiB")
    return content


def parsed(text: str) -> datetime.datetime | None:
    """A date as nbgrader reads it (UTC), None if it is not one."""
    try:
        return parse_utc(text.strip())
    except Exception:  # dateutil has many ways to reject a hostile string; none may stop the collect
        return None


def stamp_of(name: str) -> datetime.datetime | None:
    """The date in a folder's name, None if it has none."""
    return parsed(NAME.fullmatch(name)["stamp"])


def check_stamp(stamp: datetime.datetime, files: dict[str, bytes]) -> None:
    """Refused unless the folder's timestamp.txt gives the date of its name (nbgrader's submit writes both)."""
    if "timestamp.txt" not in files:
        raise Refused("it has no timestamp.txt (nbgrader's submit writes one)")
    if parsed(files["timestamp.txt"].decode(errors="replace")) != stamp:
        raise Refused("its timestamp.txt does not give the date of its name")


def read(inbound: int, folder: str, student: str, notebook: str, moment: datetime.datetime) -> Submission:
    """The files grading needs from ``folder`` of the open inbound, or Refused saying why it is not ``student``'s
    submission."""
    uid = owner_uid(student)
    if uid is None:
        raise Refused(f"there is no Unix account {shown(account(student))} for student {shown(student)}")
    stamp = stamp_of(folder)
    if stamp is None:
        raise Refused("its name has no date nbgrader can read")
    if stamp > moment + SKEW:
        raise Refused(f"it is dated {stamp:%Y-%m-%d %H:%M:%S} UTC, in the future")
    info = os.stat(folder, dir_fd=inbound, follow_symlinks=False)
    if not stat.S_ISDIR(info.st_mode):
        raise Refused(f"it is {kind(info) or 'a file, not a folder'}")
    try:  # checked again once open: it may have been swapped for a link since
        top = os.open(folder, OPEN | os.O_DIRECTORY, dir_fd=inbound)
    except OSError as exc:
        raise Refused(f"it cannot be opened as a folder: {exc.strerror}") from None
    try:
        check(os.fstat(top), "its folder", uid, student)
        check_tree(top, uid, student)
        files, budget = {}, MAX_BYTES
        for name in (notebook, *KEPT):
            content = read_file(top, name, uid, student, budget)
            if content is not None:
                files[name], budget = content, budget - len(content)
    finally:
        os.close(top)
    check_stamp(stamp, files)
    return Submission(student, folder, files)


def open_inbound(path: str) -> int:
    """The inbound folder, opened only if it is the instructor's own folder (not a link, nor a student's)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    owner = os.fstat(fd).st_uid
    if owner != os.geteuid():
        os.close(fd)
        raise PermissionError(f"{path} belongs to {user_name(owner)}, not to you: a student may have replaced it")
    return fd


def newest(path: str, assignment: str, notebook: str) -> tuple[dict[str, Submission], list[Refusal]]:
    """Each student's newest acceptable submission of ``assignment`` in the inbound folder ``path`` (folders are
    tried newest first, by the date in their names), and the newer folders refused on the way."""
    inbound, moment = open_inbound(path), now()
    try:
        folders: dict[str, list[str]] = {}
        for name in os.listdir(inbound):
            match = NAME.fullmatch(name)
            if match and match["assignment"] == assignment:
                folders.setdefault(match["student"], []).append(name)
        found, refused = {}, []
        for student, names in sorted(folders.items()):
            for name in sorted(names, key=lambda n: (stamp_of(n) or datetime.datetime.max, n), reverse=True):
                try:
                    found[student] = read(inbound, name, student, notebook, moment)
                    break
                except (Refused, OSError) as exc:
                    refused.append(Refusal(name, student, str(exc)))
        return found, refused
    finally:
        os.close(inbound)
