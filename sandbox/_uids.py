"""Slot uid ranges (root mode): one range per live Executor, unique across threads and across processes.

An Executor running as root runs each slot's candidates (and its C++ compiler) under uids of its own. Two live
Executors must never share one: a candidate of one could read the other's scratch (its checker's answer.txt),
and one's close() kills every process of its uids, so it would kill the other's running candidates.

A range is held by a lock file: one file per range in a root-only directory (/run/alphagen-sandbox, or
alphagen-sandbox-uids in the system temp dir where /run is missing), locked with flock(LOCK_EX | LOCK_NB) for
the Executor's life. The kernel releases the lock when the holder dies, even by SIGKILL, so a crashed
Executor's range becomes free again; whatever it left running under those uids is killed before the range is
used again. A release unlinks the file while still holding the lock, so the directory stays small; a taker
checks that the file it locked is still the one under that name (otherwise it locked an unlinked file, which
no longer protects anything) and moves on.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import signal
import stat
import tempfile

import psutil

RANGE_SIZE = 1024
"""uids per range: every slot of the largest Executor (1000 workers) plus its compiler."""
FIRST_UID = 0x7000_0000
LAST_UID = 0x7FFE_0000
"""Ranges lie in [FIRST_UID, LAST_UID): above the container ranges that systemd hands out (524288 ..
0x6FFFFFFF) and below its 'foreign' range (0x7FFE0000) and the signed-32-bit boundary. Ranges listed in
/etc/subuid or /etc/subgid (rootless containers) are skipped as well."""
RANGES = (LAST_UID - FIRST_UID) // RANGE_SIZE
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_LOCATIONS = (("/run", "alphagen-sandbox"), (None, "alphagen-sandbox-uids"))


class UidRange:
    """uids [first, first + RANGE_SIZE), held until release() (or until this process dies)."""

    def __init__(self, first: int, dir_fd: int, name: str, lock_fd: int) -> None:
        self.first = first
        self._dir_fd = dir_fd
        self._name = name
        self._lock_fd = lock_fd

    def release(self) -> None:
        """Kill what still runs under the range, then give it back. Idempotent; never raises for an OSError."""
        if self._lock_fd < 0:
            return
        kill_uids(self.first, self.first + RANGE_SIZE)
        try:
            os.unlink(self._name, dir_fd=self._dir_fd)  # while locked: nobody else holds this file now
        except OSError:
            pass
        for fd in (self._lock_fd, self._dir_fd):
            os.close(fd)
        self._lock_fd = self._dir_fd = -1


def allocate(needed: int) -> UidRange:
    """Lock a free range of RANGE_SIZE uids (needed of them will be used) and kill any process still running
    under it (a dead holder's strays). Raises RuntimeError when no range can be locked."""
    if not 1 <= needed <= RANGE_SIZE:
        raise ValueError(f"needed must be in 1..{RANGE_SIZE}, got {needed}")
    dir_fd = _open_lock_dir()
    try:
        reserved = _reserved_ranges()
        # A random start: concurrent Executors rarely contend for the same file.
        start = secrets.randbelow(RANGES)
        for step in range(RANGES):
            index = (start + step) % RANGES
            first = FIRST_UID + index * RANGE_SIZE
            if any(lo < first + RANGE_SIZE and first < hi for lo, hi in reserved):
                continue
            lock_fd = _try_lock(dir_fd, f"{index}.lock")
            if lock_fd < 0:
                continue
            kill_uids(first, first + RANGE_SIZE)
            return UidRange(first, dir_fd, f"{index}.lock", lock_fd)
    except BaseException:
        os.close(dir_fd)
        raise
    os.close(dir_fd)
    raise RuntimeError("no free slot uid range: every range is locked by a live Executor")


def _try_lock(dir_fd: int, name: str) -> int:
    """The locked file's fd, or -1 when another Executor holds it (or it was released under us)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(name, flags, 0o600, dir_fd=dir_fd)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return -1
        raise
    # The previous holder unlinks the file before it unlocks: make sure we hold the file the name still has.
    try:
        current, held = os.stat(name, dir_fd=dir_fd, follow_symlinks=False), os.fstat(fd)
        same = (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino)
    except FileNotFoundError:
        same = False
    if not same:
        os.close(fd)
        return -1
    return fd


def _open_lock_dir() -> int:
    """The lock directory, created root-owned 0700; refused when it is anything else (never followed when it
    is a symlink): whoever could write there could steal or block ranges."""
    problems = []
    for parent, name in _LOCATIONS:
        parent = parent or tempfile.gettempdir()
        try:
            parent_fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            problems.append(f"{parent}: {exc.strerror}")
            continue
        try:
            try:
                os.mkdir(name, 0o700, dir_fd=parent_fd)
            except FileExistsError:
                pass
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
        except OSError as exc:
            problems.append(f"{os.path.join(parent, name)}: {exc.strerror}")
            continue
        finally:
            os.close(parent_fd)
        info = os.fstat(fd)
        if info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) != 0o700:
            os.close(fd)
            raise RuntimeError(
                f"uid lock directory {os.path.join(parent, name)} must be owned by uid {os.geteuid()} with mode "
                f"0700, got uid {info.st_uid} mode {stat.S_IMODE(info.st_mode):o}"
            )
        return fd
    raise RuntimeError("no place for the uid lock directory: " + "; ".join(problems))


def _reserved_ranges() -> list[tuple[int, int]]:
    """uid ranges handed to rootless containers (/etc/subuid, /etc/subgid): never ours to use or to kill."""
    ranges = []
    for path in ("/etc/subuid", "/etc/subgid"):
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in lines:
            fields = line.split(":")
            if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
                ranges.append((int(fields[1]), int(fields[1]) + int(fields[2])))
    return ranges


def kill_uids(low: int, high: int) -> None:
    """SIGKILL every process whose real, effective or saved uid lies in [low, high), until none is left."""
    for _ in range(10):
        victims = []
        for proc in psutil.process_iter(["uids"]):
            ids = proc.info["uids"]
            if ids and any(low <= uid < high for uid in ids):
                victims.append(proc)
        if not victims:
            return
        for victim in victims:
            try:
                victim.send_signal(signal.SIGKILL)
            except psutil.Error:
                pass
        psutil.wait_procs(victims, timeout=1.0)
